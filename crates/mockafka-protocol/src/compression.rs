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
