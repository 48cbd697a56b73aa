//! The owned model of a batch: [`RecordBatch`], its [`Record`]s and their headers, and the
//! encoder and decoder between it and the wire.

use bytes::{BufMut, Bytes, BytesMut};

use super::{
    verify_crc, BatchError, BatchHeader, Batches, TimestampType, ATTRIBUTES_OFFSET,
    BATCH_HEADER_LEN, CONTROL_BIT, CRC_OFFSET, LOG_OVERHEAD, MAGIC_V2, TIMESTAMP_TYPE_BIT,
    TRANSACTIONAL_BIT,
};
use crate::compression::{self, Compression};

/// Bounds on what decoding one batch may allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest records section after decompression, in bytes (default 64 MiB). A batch whose
    /// records would decompress to more fails with [`BatchError::TooLarge`].
    pub max_uncompressed_bytes: usize,
    /// Largest record count (default 1 Mi records, about 100 MiB of decoded `Record`s).
    pub max_records: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_uncompressed_bytes: 64 << 20,
            max_records: 1 << 20,
        }
    }
}

/// A record batch (magic v2), decoded.
///
/// [`RecordBatch::encode`] writes the fields as given; [`RecordBatch::new`] fills in the base
/// offset and timestamps from the records the way a producer does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBatch {
    /// Offset of the first record (the broker assigns it on append).
    pub base_offset: i64,
    /// Leader epoch of the broker that appended the batch (-1 from a producer).
    pub partition_leader_epoch: i32,
    /// How the records are compressed on the wire.
    pub compression: Compression,
    /// Whether record timestamps are create times or the broker's log-append time.
    pub timestamp_type: TimestampType,
    /// The batch belongs to a transaction.
    pub transactional: bool,
    /// The batch holds a control record (a transaction marker).
    pub control: bool,
    /// Idempotent/transactional producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence number of the first record, or -1.
    pub base_sequence: i32,
    /// Timestamp the record timestamps are stored relative to.
    pub base_timestamp: i64,
    /// Largest record timestamp (create time), or the log-append time.
    pub max_timestamp: i64,
    /// The records, in offset order.
    pub records: Vec<Record>,
}

impl Default for RecordBatch {
    fn default() -> Self {
        RecordBatch {
            base_offset: 0,
            partition_leader_epoch: -1,
            compression: Compression::None,
            timestamp_type: TimestampType::CreateTime,
            transactional: false,
            control: false,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            base_timestamp: -1,
            max_timestamp: -1,
            records: Vec::new(),
        }
    }
}

/// One record, with its offset and timestamp made absolute.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// Absolute offset (the batch's base offset plus the record's delta).
    pub offset: i64,
    /// Absolute timestamp in milliseconds. For a log-append-time batch this is the batch's
    /// max timestamp, as Kafka's clients report it.
    pub timestamp: i64,
    /// The key, or `None` for a null key.
    pub key: Option<Bytes>,
    /// The value, or `None` for a null value (a tombstone).
    pub value: Option<Bytes>,
    /// Headers in wire order; a key may repeat.
    pub headers: Vec<RecordHeader>,
}

/// A record header. Kafka allows several headers with the same key; order is kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordHeader {
    /// Header key (UTF-8, never null).
    pub key: String,
    /// Header value, or `None` for null.
    pub value: Option<Bytes>,
}

impl RecordBatch {
    /// A batch of `records` as a producer builds it: the base offset is the first record's
    /// offset, the base timestamp the first record's timestamp and the max timestamp the
    /// largest one (-1 for no records); no compression, no producer id.
    pub fn new(records: Vec<Record>) -> RecordBatch {
        let first = records.first();
        RecordBatch {
            base_offset: first.map_or(0, |r| r.offset),
            base_timestamp: first.map_or(-1, |r| r.timestamp),
            max_timestamp: records.iter().map(|r| r.timestamp).max().unwrap_or(-1),
            records,
            ..RecordBatch::default()
        }
    }

    /// The offset of the last record, or of the base offset for an empty batch.
    pub fn last_offset(&self) -> i64 {
        self.records.last().map_or(self.base_offset, |r| r.offset)
    }

    /// Decodes one batch (the first [`BatchHeader::total_size`] bytes of `batch`): verifies
    /// the CRC, decompresses within `limits`, and checks that the records fill the records
    /// section exactly, match the header's count, and have increasing offsets within the
    /// header's last offset delta.
    ///
    /// # Errors
    /// Any [`BatchHeader::parse`] error, [`BatchError::CorruptCrc`],
    /// [`BatchError::UnsupportedCompression`], [`BatchError::Decompression`],
    /// [`BatchError::TooLarge`] or [`BatchError::InvalidRecord`].
    pub fn decode(batch: &[u8], limits: &DecodeLimits) -> Result<RecordBatch, BatchError> {
        verify_crc(batch)?;
        decode_unverified(batch, limits)
    }

    /// Appends the encoded batch to `out`: record offsets and timestamps are written as
    /// deltas from `base_offset` and `base_timestamp`, the last offset delta is the last
    /// record's, the records are compressed with `compression`, and the CRC is computed.
    /// Every other header field is written as given. In a log-append-time batch the record
    /// timestamps are not written (deltas 0): readers report `max_timestamp` for every record.
    ///
    /// # Errors
    /// [`BatchError::Encode`] if the record offsets do not increase from `base_offset`, a
    /// delta does not fit its wire type, or the batch exceeds 2 GiB. `out` is left as it was.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), BatchError> {
        let mut records = Vec::with_capacity(self.estimated_records_len());
        let mut previous_delta = None;
        for record in &self.records {
            let offset_delta = record
                .offset
                .checked_sub(self.base_offset)
                .and_then(|d| i32::try_from(d).ok())
                .filter(|&d| d >= 0 && previous_delta.is_none_or(|p| d > p))
                .ok_or_else(|| {
                    BatchError::Encode(format!(
                        "record offset {} does not increase from base offset {}",
                        record.offset, self.base_offset
                    ))
                })?;
            previous_delta = Some(offset_delta);
            // Readers of a log-append-time batch take every record's timestamp from the
            // max timestamp, so the record deltas carry nothing and are written as 0.
            let timestamp_delta = match self.timestamp_type {
                TimestampType::LogAppendTime => 0,
                TimestampType::CreateTime => record
                    .timestamp
                    .checked_sub(self.base_timestamp)
                    .ok_or_else(|| BatchError::Encode("timestamp delta overflows".into()))?,
            };
            encode_record(record, offset_delta, timestamp_delta, &mut records)?;
        }
        let record_count = i32::try_from(self.records.len())
            .map_err(|_| BatchError::Encode("too many records".into()))?;

        let compressed;
        let section: &[u8] = if self.compression == Compression::None {
            &records
        } else {
            let mut buf = Vec::with_capacity(records.len() / 2 + 64);
            compression::compress(self.compression, &records, &mut buf);
            compressed = buf;
            &compressed
        };
        let batch_length = BATCH_HEADER_LEN
            .checked_add(section.len())
            .and_then(|n| n.checked_sub(LOG_OVERHEAD))
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| BatchError::Encode("batch exceeds 2 GiB".into()))?;

        let mut attributes = i16::from(self.compression.id());
        if self.timestamp_type == TimestampType::LogAppendTime {
            attributes |= TIMESTAMP_TYPE_BIT;
        }
        if self.transactional {
            attributes |= TRANSACTIONAL_BIT;
        }
        if self.control {
            attributes |= CONTROL_BIT;
        }

        let start = out.len();
        out.reserve(BATCH_HEADER_LEN + section.len());
        out.put_i64(self.base_offset);
        out.put_i32(batch_length);
        out.put_i32(self.partition_leader_epoch);
        out.put_i8(MAGIC_V2);
        out.put_u32(0); // CRC, patched below
        out.put_i16(attributes);
        out.put_i32(previous_delta.unwrap_or(0));
        out.put_i64(self.base_timestamp);
        out.put_i64(self.max_timestamp);
        out.put_i64(self.producer_id);
        out.put_i16(self.producer_epoch);
        out.put_i32(self.base_sequence);
        out.put_i32(record_count);
        out.put_slice(section);
        debug_assert_eq!(out.len() - start, BATCH_HEADER_LEN + section.len());
        let crc = crc32c::crc32c(&out[start + ATTRIBUTES_OFFSET..]);
        out[start + CRC_OFFSET..start + CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
        Ok(())
    }

    fn estimated_records_len(&self) -> usize {
        self.records
            .iter()
            .map(|r| {
                let headers: usize = r
                    .headers
                    .iter()
                    .map(|h| h.key.len() + h.value.as_ref().map_or(0, Bytes::len) + 10)
                    .sum();
                r.key.as_ref().map_or(0, Bytes::len)
                    + r.value.as_ref().map_or(0, Bytes::len)
                    + headers
                    + 21
            })
            .fold(0usize, usize::saturating_add)
    }
}

/// Decodes every whole batch of a records field (as a Fetch response carries it), in order.
/// A trailing partial batch, which a broker may send when a fetch size limit cuts a batch,
/// ends the list silently, as in Kafka's consumer.
///
/// # Errors
/// The first error of [`RecordBatch::decode`] on a whole batch, or
/// [`BatchError::UnsupportedMagic`] for a batch in an older message format.
pub fn decode_all(records: &[u8], limits: &DecodeLimits) -> Result<Vec<RecordBatch>, BatchError> {
    let mut out = Vec::new();
    for item in super::batches(records) {
        match item {
            Ok((_, batch)) => out.push(RecordBatch::decode(batch, limits)?),
            Err(BatchError::Truncated) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Decodes a batch without checking its CRC (the fuzz target uses this to reach the
/// decompressors and the record parser with arbitrary bytes).
fn decode_unverified(batch: &[u8], limits: &DecodeLimits) -> Result<RecordBatch, BatchError> {
    let header = BatchHeader::parse(batch)?;
    let compression = header.compression()?;
    let record_count = usize::try_from(header.record_count)
        .map_err(|_| BatchError::InvalidRecord("negative record count".into()))?;
    if record_count > limits.max_records {
        return Err(BatchError::TooLarge {
            limit: limits.max_records,
        });
    }
    let section = batch
        .get(BATCH_HEADER_LEN..header.total_size())
        .ok_or(BatchError::Truncated)?;
    let section = if record_count == 0 {
        // As Kafka's own reader does: an empty batch (which compaction leaves behind to keep
        // producer state) has no records to read, whatever its codec bits say.
        Bytes::new()
    } else if compression == Compression::None {
        if section.len() > limits.max_uncompressed_bytes {
            return Err(BatchError::TooLarge {
                limit: limits.max_uncompressed_bytes,
            });
        }
        Bytes::copy_from_slice(section)
    } else {
        Bytes::from(compression::decompress(
            compression,
            section,
            limits.max_uncompressed_bytes,
        )?)
    };

    let timestamp_type = header.timestamp_type();
    let mut reader = Reader {
        buf: &section,
        pos: 0,
    };
    // Every record takes at least 7 bytes, so the count cannot claim more than that allows.
    let mut records = Vec::with_capacity(record_count.min(section.len() / 7));
    let mut previous_delta: Option<i32> = None;
    for _ in 0..record_count {
        let raw = decode_record(&mut reader, &section)?;
        if raw.offset_delta < 0
            || raw.offset_delta > header.last_offset_delta
            || previous_delta.is_some_and(|p| raw.offset_delta <= p)
        {
            return Err(BatchError::InvalidRecord(format!(
                "offset delta {} out of order (last offset delta {})",
                raw.offset_delta, header.last_offset_delta
            )));
        }
        previous_delta = Some(raw.offset_delta);
        let offset = header
            .base_offset
            .checked_add(i64::from(raw.offset_delta))
            .ok_or_else(|| BatchError::InvalidRecord("offset overflows".into()))?;
        let timestamp = match timestamp_type {
            TimestampType::LogAppendTime => header.max_timestamp,
            TimestampType::CreateTime => header
                .base_timestamp
                .checked_add(raw.timestamp_delta)
                .ok_or_else(|| BatchError::InvalidRecord("timestamp overflows".into()))?,
        };
        records.push(Record {
            offset,
            timestamp,
            key: raw.key,
            value: raw.value,
            headers: raw.headers,
        });
    }
    if reader.pos != section.len() {
        return Err(BatchError::InvalidRecord(format!(
            "{} bytes after the last of {record_count} records",
            section.len() - reader.pos
        )));
    }
    Ok(RecordBatch {
        base_offset: header.base_offset,
        partition_leader_epoch: header.partition_leader_epoch,
        compression,
        timestamp_type,
        transactional: header.is_transactional(),
        control: header.is_control(),
        producer_id: header.producer_id,
        producer_epoch: header.producer_epoch,
        base_sequence: header.base_sequence,
        base_timestamp: header.base_timestamp,
        max_timestamp: header.max_timestamp,
        records,
    })
}

/// A record as it sits on the wire, before its deltas are applied.
struct RawRecord {
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<Bytes>,
    value: Option<Bytes>,
    headers: Vec<RecordHeader>,
}

fn invalid(why: &str) -> BatchError {
    BatchError::InvalidRecord(why.to_owned())
}

fn decode_record(reader: &mut Reader<'_>, section: &Bytes) -> Result<RawRecord, BatchError> {
    let length = usize::try_from(reader.varint()?).map_err(|_| invalid("negative length"))?;
    let start = reader.pos;
    let end = start
        .checked_add(length)
        .filter(|&e| e <= reader.buf.len())
        .ok_or_else(|| invalid("record length past the end of the records"))?;
    let mut body = Reader {
        buf: reader
            .buf
            .get(..end)
            .ok_or_else(|| invalid("record length"))?,
        pos: start,
    };
    let _attributes = body.byte()?;
    let timestamp_delta = body.varlong()?;
    let offset_delta = body.varint()?;
    let key = body.nullable_bytes(section)?;
    let value = body.nullable_bytes(section)?;
    let header_count =
        usize::try_from(body.varint()?).map_err(|_| invalid("negative header count"))?;
    // A header takes at least 2 bytes.
    let mut headers = Vec::with_capacity(header_count.min(body.remaining() / 2));
    for _ in 0..header_count {
        let key_len =
            usize::try_from(body.varint()?).map_err(|_| invalid("null or negative header key"))?;
        let key = std::str::from_utf8(body.take(key_len)?)
            .map_err(|_| invalid("header key is not utf-8"))?
            .to_owned();
        let value = body.nullable_bytes(section)?;
        headers.push(RecordHeader { key, value });
    }
    if body.pos != end {
        return Err(BatchError::InvalidRecord(format!(
            "record length {length} but its fields take {}",
            body.pos - start
        )));
    }
    reader.pos = end;
    Ok(RawRecord {
        timestamp_delta,
        offset_delta,
        key,
        value,
        headers,
    })
}

fn encode_record(
    record: &Record,
    offset_delta: i32,
    timestamp_delta: i64,
    out: &mut Vec<u8>,
) -> Result<(), BatchError> {
    // The length prefix comes first: size the body, then write it straight into `out`.
    let mut body_len = 1 + varint_len(timestamp_delta) + varint_len(i64::from(offset_delta));
    body_len += nullable_len(record.key.as_deref())? + nullable_len(record.value.as_deref())?;
    body_len += varint_len(i64::from(checked_len(record.headers.len())?));
    for header in &record.headers {
        body_len += nullable_len(Some(header.key.as_bytes()))?;
        body_len += nullable_len(header.value.as_deref())?;
    }
    put_len(out, body_len)?;
    let start = out.len();
    out.reserve(body_len);
    out.push(0); // record attributes: unused
    put_varlong(out, timestamp_delta);
    put_varint(out, i64::from(offset_delta));
    put_nullable_bytes(out, record.key.as_deref())?;
    put_nullable_bytes(out, record.value.as_deref())?;
    put_len(out, record.headers.len())?;
    for header in &record.headers {
        put_len(out, header.key.len())?;
        out.extend_from_slice(header.key.as_bytes());
        put_nullable_bytes(out, header.value.as_deref())?;
    }
    debug_assert_eq!(out.len() - start, body_len);
    Ok(())
}

fn checked_len(len: usize) -> Result<i32, BatchError> {
    i32::try_from(len).map_err(|_| BatchError::Encode("length exceeds i32".into()))
}

/// Bytes a zigzag varint/varlong of `v` takes.
fn varint_len(v: i64) -> usize {
    let zigzag = u64::from_ne_bytes(((v << 1) ^ (v >> 63)).to_ne_bytes());
    let bits = 64 - zigzag.leading_zeros();
    // `bits` is at most 64, so this is at most 10
    usize::try_from(bits.div_ceil(7).max(1)).unwrap_or(10)
}

/// Bytes a nullable length-prefixed field takes.
fn nullable_len(bytes: Option<&[u8]>) -> Result<usize, BatchError> {
    Ok(match bytes {
        None => 1,
        Some(b) => varint_len(i64::from(checked_len(b.len())?)) + b.len(),
    })
}

fn put_len(out: &mut Vec<u8>, len: usize) -> Result<(), BatchError> {
    put_varint(out, i64::from(checked_len(len)?));
    Ok(())
}

fn put_nullable_bytes(out: &mut Vec<u8>, bytes: Option<&[u8]>) -> Result<(), BatchError> {
    match bytes {
        None => put_varint(out, -1),
        Some(b) => {
            put_len(out, b.len())?;
            out.extend_from_slice(b);
        }
    }
    Ok(())
}

/// Writes a zigzag varint; `v` must fit in i32 (checked by the callers' types).
fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_varlong(out, v);
}

/// Writes a zigzag varlong (the same unsigned LEB128 of the zigzag value; for values that fit
/// in i32 this is byte-identical to Kafka's 32-bit varint).
fn put_varlong(out: &mut Vec<u8>, v: i64) {
    let zigzag = (v << 1) ^ (v >> 63);
    let mut z = u64::from_ne_bytes(zigzag.to_ne_bytes());
    while z >= 0x80 {
        out.push(low7(z) | 0x80);
        z >>= 7;
    }
    out.push(low7(z));
}

fn low7(z: u64) -> u8 {
    u8::try_from(z & 0x7f).expect("seven bits fit in a byte")
}

/// A cursor over the records section.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn byte(&mut self) -> Result<u8, BatchError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| invalid("record truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    /// Unsigned LEB128 of at most `max_bytes` bytes whose value fits in `bits` bits.
    fn unsigned(&mut self, max_bytes: u32, bits: u32) -> Result<u64, BatchError> {
        let mut value = 0u64;
        for i in 0..max_bytes {
            let b = self.byte()?;
            let shift = 7 * i;
            let part = u64::from(b & 0x7f);
            if shift + 7 > bits && part >> (bits - shift) != 0 {
                return Err(invalid("varint overflows"));
            }
            value |= part << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(invalid("varint too long"))
    }

    fn varint(&mut self) -> Result<i32, BatchError> {
        let z = u32::try_from(self.unsigned(5, 32)?).map_err(|_| invalid("varint overflows"))?;
        let v = (z >> 1) ^ (z & 1).wrapping_neg();
        Ok(i32::from_ne_bytes(v.to_ne_bytes()))
    }

    fn varlong(&mut self) -> Result<i64, BatchError> {
        let z = self.unsigned(10, 64)?;
        let v = (z >> 1) ^ (z & 1).wrapping_neg();
        Ok(i64::from_ne_bytes(v.to_ne_bytes()))
    }

    fn take(&mut self, len: usize) -> Result<&[u8], BatchError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| invalid("field length past the end of the record"))?;
        let bytes = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| invalid("field"))?;
        self.pos = end;
        Ok(bytes)
    }

    /// A varint length (-1 = null) and that many bytes, as a zero-copy slice of `section`.
    fn nullable_bytes(&mut self, section: &Bytes) -> Result<Option<Bytes>, BatchError> {
        let len = self.varint()?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| invalid("negative length"))?;
        let start = self.pos;
        self.take(len)?;
        Ok(Some(section.slice(start..self.pos)))
    }
}

/// Runs the batch parsers over arbitrary bytes. This is the body of the
/// `batch_decode` fuzz target: it splits `data` into batches, and for each one parses the
/// header, checks the CRC, decodes it fully (and once more ignoring the CRC, so that the
/// decompressors and the record parser see arbitrary input) with small limits (1 MiB, 10 000
/// records), and checks that whatever decodes re-encodes to the same batch.
///
/// # Panics
/// Only on a bug: if a decoded batch does not re-encode, or re-encodes to something that
/// decodes differently (the fuzzer's oracle). Malformed input is never a panic.
pub fn fuzz_decode(data: &[u8]) {
    let limits = DecodeLimits {
        max_uncompressed_bytes: 1 << 20,
        max_records: 10_000,
    };
    let split: Batches<'_> = super::batches(data);
    for item in split {
        let Ok((header, batch)) = item else { continue };
        let _ = header.compression();
        let _ = header.timestamp_type();
        let _ = header.last_offset();
        let checked = RecordBatch::decode(batch, &limits);
        let unchecked = decode_unverified(batch, &limits);
        if let Ok(decoded) = &checked {
            assert_eq!(Some(decoded), unchecked.as_ref().ok());
        }
        if let Ok(decoded) = unchecked {
            let mut again = BytesMut::new();
            decoded
                .encode(&mut again)
                .expect("a decoded batch re-encodes");
            let redecoded = RecordBatch::decode(&again, &limits).expect("re-encoded decodes");
            assert_eq!(redecoded, decoded);
        }
    }
}
