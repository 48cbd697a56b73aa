//! Record batches (magic v2), the unit in which Kafka stores and ships records.
//!
//! Layout of a batch (all integers big-endian):
//!
//! ```text
//! offset  field                  type
//!  0      baseOffset             i64
//!  8      batchLength            i32   bytes after this field
//! 12      partitionLeaderEpoch   i32
//! 16      magic                  i8    always 2 here
//! 17      crc                    u32   CRC-32C of bytes 21..end
//! 21      attributes             i16   bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control
//! 23      lastOffsetDelta        i32
//! 27      baseTimestamp          i64
//! 35      maxTimestamp           i64
//! 43      producerId             i64
//! 51      producerEpoch          i16
//! 53      baseSequence           i32
//! 57      recordCount            i32
//! 61      records (compressed as a whole when a codec is set)
//! ```
//!
//! Two levels of access:
//! - the borrowed view the broker needs: [`BatchHeader::parse`] reads the fixed header without
//!   decompressing, [`batches`] splits a records field into batches, [`verify_crc`] checks the
//!   checksum, and [`set_base_offset`], [`set_partition_leader_epoch`] and
//!   [`set_log_append_time`] patch a stored batch in place;
//! - the owned model: [`RecordBatch::decode`] and [`RecordBatch::encode`], with every codec.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use mockafka_protocol::batch::{self, Compression, DecodeLimits, Record, RecordBatch};
//!
//! let record = Record {
//!     offset: 0,
//!     timestamp: 1_700_000_000_000,
//!     key: Some(Bytes::from_static(b"k")),
//!     value: Some(Bytes::from_static(b"v")),
//!     headers: vec![],
//! };
//! let batch = RecordBatch { compression: Compression::Lz4, ..RecordBatch::new(vec![record]) };
//! let mut wire = BytesMut::new();
//! batch.encode(&mut wire).unwrap();
//!
//! // what the broker does on append: no decompression, the CRC stays valid
//! batch::set_base_offset(&mut wire, 42).unwrap();
//! let header = batch::BatchHeader::parse(&wire).unwrap();
//! assert_eq!(header.last_offset(), 42);
//! batch::verify_crc(&wire).unwrap();
//!
//! let decoded = RecordBatch::decode(&wire, &DecodeLimits::default()).unwrap();
//! assert_eq!(decoded.records[0].offset, 42);
//! assert_eq!(decoded.records[0].value.as_deref(), Some(&b"v"[..]));
//! ```

use std::fmt;

mod record;

pub use crate::compression::Compression;
pub use record::{decode_all, fuzz_decode, DecodeLimits, Record, RecordBatch, RecordHeader};

/// Length of the fixed header of a v2 batch, up to and including the record count.
pub const BATCH_HEADER_LEN: usize = 61;

/// Bytes before the `batchLength` field's coverage starts (baseOffset + batchLength).
pub(crate) const LOG_OVERHEAD: usize = 12;
/// The smallest legal `batchLength`: the header after the length field, with no records.
const MIN_BATCH_LENGTH: usize = BATCH_HEADER_LEN - LOG_OVERHEAD;

pub(crate) const BASE_OFFSET_OFFSET: usize = 0;
pub(crate) const BATCH_LENGTH_OFFSET: usize = 8;
pub(crate) const PARTITION_LEADER_EPOCH_OFFSET: usize = 12;
pub(crate) const MAGIC_OFFSET: usize = 16;
pub(crate) const CRC_OFFSET: usize = 17;
pub(crate) const ATTRIBUTES_OFFSET: usize = 21;
pub(crate) const LAST_OFFSET_DELTA_OFFSET: usize = 23;
pub(crate) const BASE_TIMESTAMP_OFFSET: usize = 27;
pub(crate) const MAX_TIMESTAMP_OFFSET: usize = 35;
pub(crate) const PRODUCER_ID_OFFSET: usize = 43;
pub(crate) const PRODUCER_EPOCH_OFFSET: usize = 51;
pub(crate) const BASE_SEQUENCE_OFFSET: usize = 53;
pub(crate) const RECORD_COUNT_OFFSET: usize = 57;

/// The only record format (magic byte) mockafka reads and writes.
pub const MAGIC_V2: i8 = 2;

pub(crate) const COMPRESSION_MASK: i16 = 0x07;
pub(crate) const TIMESTAMP_TYPE_BIT: i16 = 0x08;
pub(crate) const TRANSACTIONAL_BIT: i16 = 0x10;
pub(crate) const CONTROL_BIT: i16 = 0x20;

/// Why a record batch is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchError {
    /// Fewer bytes than the batch claims, or a batch length too small for its header.
    Truncated,
    /// The magic byte is not 2 (the message formats v0 and v1 are not supported).
    UnsupportedMagic(i8),
    /// The CRC-32C stored in the batch does not match its contents.
    CorruptCrc {
        /// The checksum stored in the batch.
        expected: u32,
        /// The checksum of the bytes as received.
        actual: u32,
    },
    /// The codec bits name no codec (5, 6 or 7).
    UnsupportedCompression(u8),
    /// The compressed records do not decompress (or could not be compressed).
    Decompression(String),
    /// Decompressed records, or the record count, exceed the configured limit.
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A record, or the records section as a whole, is malformed.
    InvalidRecord(String),
    /// A batch could not be encoded (a value does not fit its wire type).
    Encode(String),
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("truncated"),
            Self::UnsupportedMagic(m) => write!(f, "unsupported magic {m}"),
            Self::CorruptCrc { expected, actual } => {
                write!(
                    f,
                    "crc mismatch: stored {expected:#010x}, computed {actual:#010x}"
                )
            }
            Self::UnsupportedCompression(c) => write!(f, "unsupported compression codec {c}"),
            Self::Decompression(why) => write!(f, "decompression failed: {why}"),
            Self::TooLarge { limit } => write!(f, "exceeds the limit of {limit}"),
            Self::InvalidRecord(why) => write!(f, "invalid record: {why}"),
            Self::Encode(why) => write!(f, "cannot encode batch: {why}"),
        }
    }
}

impl std::error::Error for BatchError {}

/// How record timestamps were assigned (attribute bit 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimestampType {
    /// The producer set each record's timestamp.
    #[default]
    CreateTime,
    /// The broker stamped the batch when it appended it; every record's timestamp is the
    /// batch's max timestamp.
    LogAppendTime,
}

/// The fixed 61-byte header of a v2 record batch, read without touching the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Bytes after the batch length field.
    pub batch_length: i32,
    /// Leader epoch of the broker that appended the batch.
    pub partition_leader_epoch: i32,
    /// Record format; always 2 once parsed.
    pub magic: i8,
    /// CRC-32C of the bytes from the attributes to the end of the batch.
    pub crc: u32,
    /// Codec, timestamp type, transactional and control flags.
    pub attributes: i16,
    /// Offset of the last record relative to `base_offset`.
    pub last_offset_delta: i32,
    /// Timestamp of the first record (record timestamps are deltas from it).
    pub base_timestamp: i64,
    /// Largest record timestamp, or the log-append time.
    pub max_timestamp: i64,
    /// Idempotent/transactional producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record, or -1.
    pub base_sequence: i32,
    /// Number of records as claimed by the header.
    pub record_count: i32,
}

impl BatchHeader {
    /// Reads the header at the start of `batch` without decompressing anything.
    ///
    /// `batch` may extend past the batch; only the first [`total_size`](Self::total_size)
    /// bytes belong to it.
    ///
    /// # Errors
    /// [`BatchError::UnsupportedMagic`] if the magic byte is not 2;
    /// [`BatchError::Truncated`] if `batch` is shorter than the header or than the batch
    /// length claims, or if the batch length is too small to hold the header.
    pub fn parse(batch: &[u8]) -> Result<BatchHeader, BatchError> {
        let magic = read_i8(batch, MAGIC_OFFSET)?;
        if magic != MAGIC_V2 {
            return Err(BatchError::UnsupportedMagic(magic));
        }
        let header = batch.get(..BATCH_HEADER_LEN).ok_or(BatchError::Truncated)?;
        let batch_length = read_i32(header, BATCH_LENGTH_OFFSET)?;
        let length = usize::try_from(batch_length).map_err(|_| BatchError::Truncated)?;
        if length < MIN_BATCH_LENGTH {
            return Err(BatchError::Truncated);
        }
        let total = length
            .checked_add(LOG_OVERHEAD)
            .ok_or(BatchError::Truncated)?;
        if total > batch.len() {
            return Err(BatchError::Truncated);
        }
        Ok(BatchHeader {
            base_offset: read_i64(header, BASE_OFFSET_OFFSET)?,
            batch_length,
            partition_leader_epoch: read_i32(header, PARTITION_LEADER_EPOCH_OFFSET)?,
            magic,
            crc: read_u32(header, CRC_OFFSET)?,
            attributes: read_i16(header, ATTRIBUTES_OFFSET)?,
            last_offset_delta: read_i32(header, LAST_OFFSET_DELTA_OFFSET)?,
            base_timestamp: read_i64(header, BASE_TIMESTAMP_OFFSET)?,
            max_timestamp: read_i64(header, MAX_TIMESTAMP_OFFSET)?,
            producer_id: read_i64(header, PRODUCER_ID_OFFSET)?,
            producer_epoch: read_i16(header, PRODUCER_EPOCH_OFFSET)?,
            base_sequence: read_i32(header, BASE_SEQUENCE_OFFSET)?,
            record_count: read_i32(header, RECORD_COUNT_OFFSET)?,
        })
    }

    /// Size of the whole batch in bytes: 12 + `batch_length`.
    pub fn total_size(&self) -> usize {
        // parse() guarantees batch_length >= 49, so the conversion cannot fail; a
        // hand-built header with a negative length counts as just the 12-byte prefix.
        usize::try_from(self.batch_length)
            .unwrap_or(0)
            .saturating_add(LOG_OVERHEAD)
    }

    /// The codec named by attribute bits 0-2.
    ///
    /// # Errors
    /// [`BatchError::UnsupportedCompression`] for the undefined values 5, 6 and 7.
    pub fn compression(&self) -> Result<Compression, BatchError> {
        Compression::from_attributes(self.attributes)
    }

    /// Attribute bit 3: create time or log-append time.
    pub fn timestamp_type(&self) -> TimestampType {
        if self.attributes & TIMESTAMP_TYPE_BIT != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
    }

    /// Attribute bit 4: the batch belongs to a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_BIT != 0
    }

    /// Attribute bit 5: the batch holds a control record (transaction marker).
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_BIT != 0
    }

    /// Offset of the last record: `base_offset + last_offset_delta` (saturating).
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .saturating_add(i64::from(self.last_offset_delta))
    }
}

/// Iterator over the batches of a records field; see [`batches`].
#[derive(Debug, Clone)]
pub struct Batches<'a> {
    rest: &'a [u8],
    failed: bool,
}

/// Splits a records field (as carried by Produce and Fetch) into its batches.
///
/// Yields each batch's header and its whole bytes. A trailing partial batch (which Fetch
/// responses may legally end with) or any malformed header yields one `Err` and ends the
/// iteration.
pub fn batches(records: &[u8]) -> Batches<'_> {
    Batches {
        rest: records,
        failed: false,
    }
}

impl<'a> Iterator for Batches<'a> {
    type Item = Result<(BatchHeader, &'a [u8]), BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.rest.is_empty() {
            return None;
        }
        let parsed = BatchHeader::parse(self.rest).and_then(|header| {
            let (batch, rest) = self
                .rest
                .split_at_checked(header.total_size())
                .ok_or(BatchError::Truncated)?;
            Ok((header, batch, rest))
        });
        match parsed {
            Ok((header, batch, rest)) => {
                self.rest = rest;
                Some(Ok((header, batch)))
            }
            Err(e) => {
                self.failed = true;
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

impl std::iter::FusedIterator for Batches<'_> {}

/// The CRC-32C of a batch's checksummed bytes (attributes to the end), after checking that
/// the header is well-formed.
fn computed_crc(batch: &[u8]) -> Result<(BatchHeader, u32), BatchError> {
    let header = BatchHeader::parse(batch)?;
    let covered = batch
        .get(ATTRIBUTES_OFFSET..header.total_size())
        .ok_or(BatchError::Truncated)?;
    Ok((header, crc32c::crc32c(covered)))
}

/// Checks the batch's CRC-32C against its contents.
///
/// # Errors
/// Any [`BatchHeader::parse`] error, or [`BatchError::CorruptCrc`].
pub fn verify_crc(batch: &[u8]) -> Result<(), BatchError> {
    let (header, actual) = computed_crc(batch)?;
    if header.crc == actual {
        Ok(())
    } else {
        Err(BatchError::CorruptCrc {
            expected: header.crc,
            actual,
        })
    }
}

/// Rewrites the base offset in place. The field lies before the CRC-covered bytes, so the
/// checksum stays valid.
///
/// # Errors
/// Any [`BatchHeader::parse`] error (the batch is left unchanged).
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) -> Result<(), BatchError> {
    BatchHeader::parse(batch)?;
    write_bytes(batch, BASE_OFFSET_OFFSET, &base_offset.to_be_bytes())
}

/// Rewrites the partition leader epoch in place (outside the CRC, which stays valid).
///
/// # Errors
/// Any [`BatchHeader::parse`] error (the batch is left unchanged).
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) -> Result<(), BatchError> {
    BatchHeader::parse(batch)?;
    write_bytes(batch, PARTITION_LEADER_EPOCH_OFFSET, &epoch.to_be_bytes())
}

/// Stamps the batch with a log-append time, as Kafka's broker does for topics with
/// `message.timestamp.type=LogAppendTime`: sets the timestamp-type bit and the max timestamp,
/// then recomputes the CRC. Records themselves are untouched; readers take every record's
/// timestamp from the max timestamp.
///
/// # Errors
/// Any [`BatchHeader::parse`] error (the batch is left unchanged).
pub fn set_log_append_time(batch: &mut [u8], timestamp: i64) -> Result<(), BatchError> {
    let header = BatchHeader::parse(batch)?;
    let attributes = header.attributes | TIMESTAMP_TYPE_BIT;
    write_bytes(batch, ATTRIBUTES_OFFSET, &attributes.to_be_bytes())?;
    write_bytes(batch, MAX_TIMESTAMP_OFFSET, &timestamp.to_be_bytes())?;
    let (_, crc) = computed_crc(batch)?;
    write_bytes(batch, CRC_OFFSET, &crc.to_be_bytes())
}

fn write_bytes(batch: &mut [u8], at: usize, bytes: &[u8]) -> Result<(), BatchError> {
    let end = at.checked_add(bytes.len()).ok_or(BatchError::Truncated)?;
    batch
        .get_mut(at..end)
        .ok_or(BatchError::Truncated)?
        .copy_from_slice(bytes);
    Ok(())
}

fn read_array<const N: usize>(buf: &[u8], at: usize) -> Result<[u8; N], BatchError> {
    let end = at.checked_add(N).ok_or(BatchError::Truncated)?;
    buf.get(at..end)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .ok_or(BatchError::Truncated)
}

fn read_i8(buf: &[u8], at: usize) -> Result<i8, BatchError> {
    read_array::<1>(buf, at).map(i8::from_be_bytes)
}

fn read_i16(buf: &[u8], at: usize) -> Result<i16, BatchError> {
    read_array::<2>(buf, at).map(i16::from_be_bytes)
}

fn read_i32(buf: &[u8], at: usize) -> Result<i32, BatchError> {
    read_array::<4>(buf, at).map(i32::from_be_bytes)
}

fn read_u32(buf: &[u8], at: usize) -> Result<u32, BatchError> {
    read_array::<4>(buf, at).map(u32::from_be_bytes)
}

fn read_i64(buf: &[u8], at: usize) -> Result<i64, BatchError> {
    read_array::<8>(buf, at).map(i64::from_be_bytes)
}

#[cfg(test)]
mod tests;
