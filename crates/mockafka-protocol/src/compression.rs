//! Compression codecs for record batches: none, gzip, snappy, lz4 and zstd, each written the
//! way the Java client writes it and read in every form Kafka clients produce.

use crate::batch::{BatchError, COMPRESSION_MASK};

/// The codec of a record batch (attribute bits 0-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Records are stored as they are (codec 0).
    #[default]
    None,
    /// gzip (codec 1).
    Gzip,
    /// snappy in xerial framing (codec 2).
    Snappy,
    /// LZ4 frame format (codec 3).
    Lz4,
    /// Zstandard (codec 4).
    Zstd,
}

impl Compression {
    /// Every codec, in codec-id order.
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// The codec id stored in attribute bits 0-2.
    pub fn id(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Gzip => 1,
            Self::Snappy => 2,
            Self::Lz4 => 3,
            Self::Zstd => 4,
        }
    }

    /// The codec with the given id.
    ///
    /// # Errors
    /// [`BatchError::UnsupportedCompression`] for ids other than 0-4.
    pub fn from_id(id: u8) -> Result<Compression, BatchError> {
        match id {
            0 => Ok(Self::None),
            1 => Ok(Self::Gzip),
            2 => Ok(Self::Snappy),
            3 => Ok(Self::Lz4),
            4 => Ok(Self::Zstd),
            other => Err(BatchError::UnsupportedCompression(other)),
        }
    }

    /// The codec named by a batch's attributes.
    ///
    /// # Errors
    /// [`BatchError::UnsupportedCompression`] for the undefined values 5-7.
    pub fn from_attributes(attributes: i16) -> Result<Compression, BatchError> {
        let bits = u8::try_from(attributes & COMPRESSION_MASK).unwrap_or(u8::MAX);
        Self::from_id(bits)
    }

    /// Kafka's name for the codec (`compression.type`).
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Gzip => "gzip",
            Self::Snappy => "snappy",
            Self::Lz4 => "lz4",
            Self::Zstd => "zstd",
        }
    }
}

/// Compresses `input` with `codec`, appending the compressed bytes to `out`, in the form the
/// Java client writes:
/// - gzip: one gzip member (flate2, default level);
/// - snappy: xerial framing (16-byte header, then `[i32 length][raw snappy block]` per
///   32 KiB of input);
/// - lz4: one LZ4 frame with independent 64 KiB blocks, no content size, no checksums;
/// - zstd: one Zstandard frame (ruzstd, its fastest level, with a content checksum).
pub fn compress(codec: Compression, input: &[u8], out: &mut Vec<u8>) {
    match codec {
        Compression::None => out.extend_from_slice(input),
        Compression::Gzip => gzip::compress(input, out),
        Compression::Snappy => snappy::compress(input, out),
        Compression::Lz4 => lz4::compress(input, out),
        Compression::Zstd => zstd::compress(input, out),
    }
}

/// Decompresses `input`, refusing to produce more than `limit` bytes: a decompression bomb
/// stops with [`BatchError::TooLarge`] after at most `limit` bytes of output, and memory use
/// stays proportional to `limit`, not to what the input claims.
///
/// Snappy accepts both xerial framing and a plain raw snappy block; lz4 accepts independent
/// and linked blocks, with or without content size and checksums; gzip accepts several
/// concatenated members; zstd accepts several concatenated frames and skippable frames, but
/// refuses a frame whose window exceeds the larger of `limit` and 8 MiB (see the zstd module).
///
/// # Errors
/// [`BatchError::TooLarge`] past `limit`; [`BatchError::Decompression`] for malformed input.
pub fn decompress(codec: Compression, input: &[u8], limit: usize) -> Result<Vec<u8>, BatchError> {
    let mut out = Vec::new();
    match codec {
        Compression::None => {
            if input.len() > limit {
                return Err(BatchError::TooLarge { limit });
            }
            out.extend_from_slice(input);
        }
        Compression::Gzip => gzip::decompress(input, limit, &mut out)?,
        Compression::Snappy => snappy::decompress(input, limit, &mut out)?,
        Compression::Lz4 => lz4::decompress(input, limit, &mut out)?,
        Compression::Zstd => zstd::decompress(input, limit, &mut out)?,
    }
    Ok(out)
}

fn corrupt(codec: Compression, why: impl std::fmt::Display) -> BatchError {
    BatchError::Decompression(format!("{}: {why}", codec.name()))
}

/// Reads `reader` to its end into `out`, failing once more than `limit` bytes in total would
/// be held. The buffer never grows past `limit` bytes of capacity.
fn read_limited(
    codec: Compression,
    mut reader: impl std::io::Read,
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), BatchError> {
    let mut chunk = [0u8; 32 * 1024];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(corrupt(codec, e)),
        };
        let bytes = chunk
            .get(..n)
            .ok_or_else(|| corrupt(codec, "reader overran"))?;
        extend_limited(out, bytes, limit)?;
    }
}

/// Appends `bytes` to `out` if the result stays within `limit`, growing the capacity by
/// doubling but never past `limit`.
fn extend_limited(out: &mut Vec<u8>, bytes: &[u8], limit: usize) -> Result<(), BatchError> {
    let needed = out
        .len()
        .checked_add(bytes.len())
        .filter(|&n| n <= limit)
        .ok_or(BatchError::TooLarge { limit })?;
    reserve_limited(out, needed, limit);
    out.extend_from_slice(bytes);
    Ok(())
}

/// Makes room for `needed` bytes in total (`needed <= limit`), doubling but capped at `limit`.
fn reserve_limited(out: &mut Vec<u8>, needed: usize, limit: usize) {
    if out.capacity() < needed {
        let target = out.capacity().saturating_mul(2).max(needed).min(limit);
        out.reserve_exact(target.saturating_sub(out.len()));
    }
}

mod gzip {
    use super::{read_limited, BatchError, Compression};
    use std::io::Write;

    pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) {
        let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        encoder
            .write_all(input)
            .and_then(|()| encoder.try_finish())
            .expect("gzip into a Vec cannot fail");
    }

    pub(super) fn decompress(
        input: &[u8],
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), BatchError> {
        if input.is_empty() {
            return Err(super::corrupt(Compression::Gzip, "empty stream"));
        }
        let decoder = flate2::read::MultiGzDecoder::new(input);
        read_limited(Compression::Gzip, decoder, limit, out)
    }
}

mod snappy {
    use super::{corrupt, reserve_limited, BatchError, Compression};

    /// xerial's stream header: magic, then version 1 and minimum compatible version 1.
    const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
    const XERIAL_HEADER_LEN: usize = 16;
    /// Uncompressed bytes per xerial block, as the Java client's SnappyOutputStream uses.
    const XERIAL_BLOCK_SIZE: usize = 32 * 1024;

    pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&XERIAL_MAGIC);
        out.extend_from_slice(&1i32.to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
        let mut encoder = snap::raw::Encoder::new();
        for block in input.chunks(XERIAL_BLOCK_SIZE) {
            let len_at = out.len();
            out.extend_from_slice(&[0; 4]);
            let start = out.len();
            out.resize(start + snap::raw::max_compress_len(block.len()), 0);
            let written = encoder
                .compress(block, &mut out[start..])
                .expect("a 32 KiB block into a max_compress_len buffer cannot fail");
            out.truncate(start + written);
            let len = i32::try_from(written).expect("a compressed 32 KiB block fits in i32");
            out[len_at..start].copy_from_slice(&len.to_be_bytes());
        }
    }

    pub(super) fn decompress(
        input: &[u8],
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), BatchError> {
        let mut decoder = snap::raw::Decoder::new();
        match input.get(..XERIAL_MAGIC.len()) {
            Some(magic) if magic == XERIAL_MAGIC => {
                let mut rest = input
                    .get(XERIAL_HEADER_LEN..)
                    .ok_or_else(|| corrupt(Compression::Snappy, "truncated xerial header"))?;
                while !rest.is_empty() {
                    let (len, after) = rest
                        .split_first_chunk::<4>()
                        .ok_or_else(|| corrupt(Compression::Snappy, "truncated block length"))?;
                    let len = usize::try_from(i32::from_be_bytes(*len))
                        .map_err(|_| corrupt(Compression::Snappy, "negative block length"))?;
                    let (block, after) = after
                        .split_at_checked(len)
                        .ok_or_else(|| corrupt(Compression::Snappy, "truncated block"))?;
                    raw_block(&mut decoder, block, limit, out)?;
                    rest = after;
                }
                Ok(())
            }
            _ => raw_block(&mut decoder, input, limit, out),
        }
    }

    /// Decompresses one raw snappy block onto the end of `out`, checking the length it
    /// claims against `limit` before allocating.
    fn raw_block(
        decoder: &mut snap::raw::Decoder,
        block: &[u8],
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), BatchError> {
        let len = snap::raw::decompress_len(block).map_err(|e| corrupt(Compression::Snappy, e))?;
        let start = out.len();
        let end = start
            .checked_add(len)
            .filter(|&n| n <= limit)
            .ok_or(BatchError::TooLarge { limit })?;
        if len == 0 {
            // still validate the block (a bare length prefix) rather than skipping it
            return decoder
                .decompress(block, &mut [])
                .map(|_| ())
                .map_err(|e| corrupt(Compression::Snappy, e));
        }
        reserve_limited(out, end, limit);
        out.resize(end, 0);
        let result = match out.get_mut(start..) {
            Some(tail) => match decoder.decompress(block, tail) {
                Ok(n) if n == len => Ok(()),
                Ok(_) => Err(corrupt(Compression::Snappy, "short block")),
                Err(e) => Err(corrupt(Compression::Snappy, e)),
            },
            None => Err(corrupt(Compression::Snappy, "buffer too short")),
        };
        if result.is_err() {
            out.truncate(start);
        }
        result
    }
}

mod lz4 {
    use super::{read_limited, BatchError, Compression};
    use lz4_flex::frame::{BlockMode, BlockSize, FrameDecoder, FrameEncoder, FrameInfo};
    use std::io::Write;

    pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) {
        let info = FrameInfo::new()
            .block_size(BlockSize::Max64KB)
            .block_mode(BlockMode::Independent)
            .block_checksums(false)
            .content_checksum(false)
            .content_size(None);
        let mut encoder = FrameEncoder::with_frame_info(info, out);
        encoder
            .write_all(input)
            .expect("lz4 into a Vec cannot fail");
        encoder.finish().expect("lz4 into a Vec cannot fail");
    }

    pub(super) fn decompress(
        input: &[u8],
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), BatchError> {
        if input.is_empty() {
            return Err(super::corrupt(Compression::Lz4, "empty stream"));
        }
        read_limited(Compression::Lz4, FrameDecoder::new(input), limit, out)
    }
}

mod zstd {
    use super::{corrupt, read_limited, BatchError, Compression};
    use ruzstd::decoding::StreamingDecoder;
    use ruzstd::encoding::CompressionLevel;

    const FRAME_MAGIC: u32 = 0xFD2F_B528;
    const SKIPPABLE_MAGIC_MASK: u32 = 0xFFFF_FFF0;
    const SKIPPABLE_MAGIC: u32 = 0x184D_2A50;
    /// Windows up to this size are always accepted (zstd levels up to 19 use at most 8 MiB);
    /// larger ones only up to the caller's limit (so level 20-21 frames pass at the default
    /// 64 MiB limit, and level-22 streaming frames, with their 128 MiB window, need a limit
    /// of 128 MiB). Why check at all: the decoder keeps up to a window of output buffered
    /// before it hands any out, so an unchecked window would let one frame make it hold
    /// gigabytes whatever the limit; with this check a decode holds at most about twice the
    /// limit.
    const ALWAYS_ACCEPTED_WINDOW: u64 = 8 << 20;

    pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) {
        ruzstd::encoding::compress(input, out, CompressionLevel::Fastest);
    }

    pub(super) fn decompress(
        input: &[u8],
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), BatchError> {
        if input.is_empty() {
            return Err(corrupt(Compression::Zstd, "empty stream"));
        }
        let mut rest = input;
        while !rest.is_empty() {
            let (magic, after) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| corrupt(Compression::Zstd, "truncated frame magic"))?;
            let magic = u32::from_le_bytes(*magic);
            if magic & SKIPPABLE_MAGIC_MASK == SKIPPABLE_MAGIC {
                let (size, after) = after
                    .split_first_chunk::<4>()
                    .ok_or_else(|| corrupt(Compression::Zstd, "truncated skippable frame"))?;
                let size = usize::try_from(u32::from_le_bytes(*size))
                    .map_err(|_| corrupt(Compression::Zstd, "skippable frame too large"))?;
                rest = after
                    .get(size..)
                    .ok_or_else(|| corrupt(Compression::Zstd, "truncated skippable frame"))?;
                continue;
            }
            if magic != FRAME_MAGIC {
                return Err(corrupt(Compression::Zstd, "bad frame magic"));
            }
            check_frame_header(after, limit, out.len())?;
            let before = rest.len();
            let decoder =
                StreamingDecoder::new(&mut rest).map_err(|e| corrupt(Compression::Zstd, e))?;
            read_limited(Compression::Zstd, decoder, limit, out)?;
            if rest.len() == before {
                return Err(corrupt(Compression::Zstd, "frame consumed no input"));
            }
        }
        Ok(())
    }

    /// Checks the frame header (after the magic) before the decoder sees it: the window the
    /// decoder would buffer, and a declared content size beyond what the limit allows.
    fn check_frame_header(header: &[u8], limit: usize, already: usize) -> Result<(), BatchError> {
        let truncated = || corrupt(Compression::Zstd, "truncated frame header");
        let (&descriptor, rest) = header.split_first().ok_or_else(truncated)?;
        let single_segment = descriptor & 0x20 != 0;
        let dict_id_len = match descriptor & 0x03 {
            0 => 0,
            1 => 1,
            2 => 2,
            _ => 4,
        };
        let content_size_len = match descriptor >> 6 {
            0 if single_segment => 1,
            0 => 0,
            1 => 2,
            2 => 4,
            _ => 8,
        };
        let (window, rest) = if single_segment {
            (None, rest)
        } else {
            let (&w, rest) = rest.split_first().ok_or_else(truncated)?;
            let log = 10 + u32::from(w >> 3);
            let base = 1u64.checked_shl(log).unwrap_or(u64::MAX);
            let window = base.saturating_add((base / 8).saturating_mul(u64::from(w & 0x07)));
            (Some(window), rest)
        };
        let rest = rest.get(dict_id_len..).ok_or_else(truncated)?;
        let size_bytes = rest.get(..content_size_len).ok_or_else(truncated)?;
        let mut content_size = None;
        if content_size_len > 0 {
            let mut le = [0u8; 8];
            le.get_mut(..content_size_len)
                .ok_or_else(truncated)?
                .copy_from_slice(size_bytes);
            let mut size = u64::from_le_bytes(le);
            if content_size_len == 2 {
                size = size.saturating_add(256);
            }
            content_size = Some(size);
        }
        let limit64 = u64::try_from(limit).unwrap_or(u64::MAX);
        let already64 = u64::try_from(already).unwrap_or(u64::MAX);
        if let Some(size) = content_size {
            if size.saturating_add(already64) > limit64 {
                return Err(BatchError::TooLarge { limit });
            }
        }
        // In single-segment mode the window is the content size, checked just above.
        let window = window.or(content_size).unwrap_or(0);
        if window > ALWAYS_ACCEPTED_WINDOW.max(limit64) {
            return Err(corrupt(Compression::Zstd, "window size too large"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
