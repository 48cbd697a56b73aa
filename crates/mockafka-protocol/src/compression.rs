//! Compression codecs for record batches. STUB: to be filled in.
