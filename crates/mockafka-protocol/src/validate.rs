//! Schema-driven validation of message bytes before kafka-protocol decodes them.
//!
//! kafka-protocol's array decoders pre-allocate from the element count read off the wire, so
//! a 14-byte frame claiming 2^29 elements would abort the process (no `catch_unwind` stops
//! an allocation failure). Every frame is therefore walked here first, field by field,
//! against the message's [`schema`] for its version. The walk rejects:
//! - an array whose count times the minimum wire size of one element exceeds the bytes
//!   that remain (checked before the elements are walked, so the walk is linear in the
//!   frame's length);
//! - a string or byte field longer than what remains;
//! - a negative length other than the null marker, and the null marker where the field is
//!   not nullable;
//! - a varint longer than five bytes or wider than 32 bits;
//! - a tagged-field section whose fields do not fit, a known tagged field whose content is
//!   not exactly its declared size, or a tag that the message defines only in other
//!   versions. Unknown tags are skipped by size; as in Kafka, tag order is not checked.
//!
//! Once a frame passes, every length kafka-protocol reads from it is bounded by the bytes
//! it actually holds. Bytes after a complete message are allowed, as Kafka allows them.

pub mod schema;

use kafka_protocol::messages::ApiKey;
use std::fmt;

use schema::{Field, Schema, Ty};

/// Why a message failed validation: what was wrong and at which byte of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The message being validated.
    pub message: &'static str,
    /// The field being read when the problem was found (innermost; "" before the first).
    pub field: &'static str,
    /// Offset from the start of the validated bytes at which the problem was found.
    pub offset: usize,
    /// What was wrong.
    pub reason: &'static str,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(
                f,
                "{} at byte {}: {}",
                self.message, self.offset, self.reason
            )
        } else {
            write!(
                f,
                "{}.{} at byte {}: {}",
                self.message, self.field, self.offset, self.reason
            )
        }
    }
}

impl std::error::Error for ValidationError {}

/// Validates a request header of `header_version` at the start of `frame`.
///
/// # Errors
/// When the header does not fit the bytes, or `header_version` is not 0, 1 or 2.
pub fn request_header(header_version: i16, frame: &[u8]) -> Result<(), ValidationError> {
    if !(0..=2).contains(&header_version) {
        return Err(unknown_version(&schema::REQUEST_HEADER));
    }
    walk(&schema::REQUEST_HEADER, header_version, frame).map(drop)
}

/// Validates a response header of `header_version` at the start of `frame`.
///
/// # Errors
/// When the header does not fit the bytes, or `header_version` is not 0 or 1.
pub fn response_header(header_version: i16, frame: &[u8]) -> Result<(), ValidationError> {
    if !(0..=1).contains(&header_version) {
        return Err(unknown_version(&schema::RESPONSE_HEADER));
    }
    walk(&schema::RESPONSE_HEADER, header_version, frame).map(drop)
}

/// Validates a request body of `key` at `version`.
///
/// # Errors
/// When the body does not match the schema, or `key` is not served.
pub fn request(key: ApiKey, version: i16, body: &[u8]) -> Result<(), ValidationError> {
    request_len(key, version, body).map(drop)
}

/// Validates a request body of `key` at `version` and returns its length (the bytes after
/// it are trailing).
///
/// # Errors
/// As [`request`].
pub fn request_len(key: ApiKey, version: i16, body: &[u8]) -> Result<usize, ValidationError> {
    let schema = schema::request_schema(key).ok_or(NO_SCHEMA)?;
    walk(schema, version, body)
}

/// Validates a response body of `key` at `version`.
///
/// # Errors
/// When the body does not match the schema, or `key` is not served.
pub fn response(key: ApiKey, version: i16, body: &[u8]) -> Result<(), ValidationError> {
    response_len(key, version, body).map(drop)
}

/// Validates a response body of `key` at `version` and returns its length.
///
/// # Errors
/// As [`response`].
pub fn response_len(key: ApiKey, version: i16, body: &[u8]) -> Result<usize, ValidationError> {
    let schema = schema::response_schema(key).ok_or(NO_SCHEMA)?;
    walk(schema, version, body)
}

/// The `reason` of [`crate::ProtocolError::Malformed`] when kafka-protocol's decoder ended a
/// message somewhere other than where its schema here says it ends. That would be a bug in
/// a schema; decoding reports it as an error, and the fuzz entry points panic on it so that
/// fuzzing finds it.
pub const DISAGREEMENT: &str = "the decoder and the schema disagree on where the message ends";

/// Panics if `result` is the [`DISAGREEMENT`] error: the fuzz targets' oracle.
pub(crate) fn assert_agreement<T>(result: &Result<T, crate::ProtocolError>) {
    if let Err(crate::ProtocolError::Malformed {
        reason,
        key,
        version,
    }) = result
    {
        assert!(
            reason != DISAGREEMENT,
            "schema of api key {key} v{version} disagrees with kafka-protocol"
        );
    }
}

/// Walks `bytes` as a message of `schema` at `version` and returns how many bytes the
/// message occupies (anything after that is trailing and ignored).
///
/// # Errors
/// As [`request`].
pub fn message_len(schema: &Schema, version: i16, bytes: &[u8]) -> Result<usize, ValidationError> {
    walk(schema, version, bytes)
}

const NO_SCHEMA: ValidationError = ValidationError {
    message: "message",
    field: "",
    offset: 0,
    reason: "no schema for this api key",
};

fn unknown_version(schema: &Schema) -> ValidationError {
    ValidationError {
        message: schema.name,
        field: "",
        offset: 0,
        reason: "unknown header version",
    }
}

fn walk(schema: &Schema, version: i16, bytes: &[u8]) -> Result<usize, ValidationError> {
    let mut w = Walker {
        buf: bytes,
        pos: 0,
        version,
        flexible: version >= schema.flexible,
        message: schema.name,
        field: "",
    };
    w.fields(schema.fields)?;
    Ok(w.pos)
}

/// A cursor over the bytes being validated.
struct Walker<'a> {
    buf: &'a [u8],
    pos: usize,
    version: i16,
    flexible: bool,
    message: &'static str,
    /// The field being read, for errors.
    field: &'static str,
}

impl Walker<'_> {
    fn err(&self, reason: &'static str) -> ValidationError {
        ValidationError {
            message: self.message,
            field: self.field,
            offset: self.pos,
            reason,
        }
    }

    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn skip(&mut self, n: usize, what: &'static str) -> Result<(), ValidationError> {
        if n > self.remaining() {
            return Err(self.err(what));
        }
        self.pos += n;
        Ok(())
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], ValidationError> {
        let end = self
            .pos
            .checked_add(N)
            .ok_or_else(|| self.err("truncated"))?;
        let bytes = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.err("truncated"))?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        self.pos = end;
        Ok(out)
    }

    fn i16(&mut self) -> Result<i16, ValidationError> {
        self.take::<2>().map(i16::from_be_bytes)
    }

    fn i32(&mut self) -> Result<i32, ValidationError> {
        self.take::<4>().map(i32::from_be_bytes)
    }

    /// An unsigned varint of at most 32 bits (five bytes), as Kafka writes them.
    fn uvarint(&mut self) -> Result<u32, ValidationError> {
        let mut value: u32 = 0;
        for i in 0..5u32 {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| self.err("truncated"))?;
            self.pos += 1;
            if i == 4 && b > 0x0f {
                return Err(self.err("varint wider than 32 bits"));
            }
            value |= u32::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(self.err("varint longer than five bytes"))
    }

    fn uvarint_usize(&mut self) -> Result<usize, ValidationError> {
        let v = self.uvarint()?;
        usize::try_from(v).map_err(|_| self.err("length does not fit memory"))
    }

    /// Reads a length prefix: `None` for null. Compact in flexible versions (varint of
    /// length + 1, 0 = null); otherwise `int16` (strings) or `int32` (bytes, arrays), with
    /// -1 = null.
    fn length(&mut self, short: bool, compact: bool) -> Result<Option<usize>, ValidationError> {
        let start = self.pos;
        let len = if compact {
            match self.uvarint()? {
                0 => None,
                n => Some(usize::try_from(n - 1).map_err(|_| self.err("length too large"))?),
            }
        } else {
            let n = if short {
                i32::from(self.i16()?)
            } else {
                self.i32()?
            };
            match n {
                -1 => None,
                n => match usize::try_from(n) {
                    Ok(n) => Some(n),
                    Err(_) => {
                        self.pos = start;
                        return Err(self.err("negative length"));
                    }
                },
            }
        };
        Ok(len)
    }

    fn fields(&mut self, fields: &[Field]) -> Result<(), ValidationError> {
        for field in fields {
            if field.tag.is_none() && field.exists(self.version) {
                self.value(field, field.ty)?;
            }
        }
        if self.flexible {
            self.tagged_fields(fields)?;
        }
        Ok(())
    }

    fn tagged_fields(&mut self, fields: &[Field]) -> Result<(), ValidationError> {
        self.field = "tagged fields";
        let count = self.uvarint_usize()?;
        if count == 0 {
            return Ok(());
        }
        // Each tagged field takes at least two bytes: its tag and its size.
        if count.checked_mul(2).is_none_or(|n| n > self.remaining()) {
            return Err(self.err("more tagged fields than bytes"));
        }
        for _ in 0..count {
            let tag = self.uvarint()?;
            let size = self.uvarint_usize()?;
            if size > self.remaining() {
                return Err(self.err("tagged field longer than the bytes that remain"));
            }
            let end = self.pos + size;
            let mut known = fields.iter().filter(|f| f.tag == Some(tag));
            let in_version = known.clone().find(|f| f.exists(self.version));
            if in_version.is_none() && known.next().is_some() {
                // kafka-protocol refuses a tag it knows in other versions only.
                return Err(self.err("tagged field not valid in this version"));
            }
            match in_version {
                Some(field) => {
                    // kafka-protocol decodes a known tag from the stream, not from its
                    // declared size: the two must agree exactly.
                    let outer = self.buf;
                    self.buf = outer.get(..end).ok_or_else(|| self.err("truncated"))?;
                    let result = self.value(field, field.ty);
                    self.buf = outer;
                    result?;
                    if self.pos != end {
                        return Err(self.err("tagged field shorter than its declared size"));
                    }
                }
                None => self.pos = end,
            }
        }
        Ok(())
    }

    fn value(&mut self, field: &Field, ty: Ty) -> Result<(), ValidationError> {
        self.field = field.name;
        let nullable = field.nullable(self.version);
        match ty {
            Ty::Bool | Ty::I8 => self.skip(1, "truncated"),
            Ty::I16 => self.skip(2, "truncated"),
            Ty::I32 => self.skip(4, "truncated"),
            Ty::I64 => self.skip(8, "truncated"),
            Ty::Uuid => self.skip(16, "truncated"),
            Ty::Str | Ty::Str16 => {
                let compact = self.flexible && ty == Ty::Str;
                self.bytes(
                    true,
                    compact,
                    nullable,
                    "string longer than the bytes that remain",
                )
            }
            Ty::Bytes | Ty::Records => self.bytes(
                false,
                self.flexible,
                nullable,
                "bytes longer than the bytes that remain",
            ),
            Ty::Struct(fields) => self.fields(fields),
            Ty::I32s => self.array(nullable, 4, |w| w.skip(4, "truncated")),
            Ty::Strs => {
                let min = if self.flexible { 1 } else { 2 };
                let element = string_element(field.name);
                self.array(nullable, min, |w| w.value(&element, Ty::Str))
            }
            Ty::Structs(fields) => {
                let min = min_size(fields, self.version, self.flexible);
                self.array(nullable, min, |w| w.fields(fields))
            }
        }
    }

    fn bytes(
        &mut self,
        short: bool,
        compact: bool,
        nullable: bool,
        too_long: &'static str,
    ) -> Result<(), ValidationError> {
        let start = self.pos;
        match self.length(short, compact)? {
            Some(n) => self.skip(n, too_long),
            None if nullable => Ok(()),
            None => {
                self.pos = start;
                Err(self.err("null in a field that is not nullable"))
            }
        }
    }

    fn array(
        &mut self,
        nullable: bool,
        min_element: usize,
        mut element: impl FnMut(&mut Self) -> Result<(), ValidationError>,
    ) -> Result<(), ValidationError> {
        let start = self.pos;
        let count = match self.length(false, self.flexible)? {
            Some(n) => n,
            None if nullable => return Ok(()),
            None => {
                self.pos = start;
                return Err(self.err("null in a field that is not nullable"));
            }
        };
        // An element of no wire size still costs the decoder memory: count it as one byte.
        let needed = count.checked_mul(min_element.max(1));
        if needed.is_none_or(|n| n > self.remaining()) {
            self.pos = start;
            return Err(self.err("array count exceeds the bytes that remain"));
        }
        for _ in 0..count {
            element(self)?;
        }
        Ok(())
    }
}

/// A non-nullable string element of the string array `name`.
const fn string_element(name: &'static str) -> Field {
    Field {
        name,
        ty: Ty::Str,
        min: 0,
        max: i16::MAX,
        null_from: i16::MAX,
        tag: None,
    }
}

/// The fewest bytes a struct of `fields` can occupy at `version`.
fn min_size(fields: &[Field], version: i16, flexible: bool) -> usize {
    let mut size = usize::from(flexible); // the tagged-field count
    for field in fields {
        if field.tag.is_some() || !field.exists(version) {
            continue;
        }
        size += match field.ty {
            Ty::Bool | Ty::I8 => 1,
            Ty::I16 => 2,
            Ty::I32 => 4,
            Ty::I64 => 8,
            Ty::Uuid => 16,
            Ty::Str16 => 2,
            Ty::Str if flexible => 1,
            Ty::Str => 2,
            Ty::Bytes | Ty::Records | Ty::I32s | Ty::Strs | Ty::Structs(_) if flexible => 1,
            Ty::Bytes | Ty::Records | Ty::I32s | Ty::Strs | Ty::Structs(_) => 4,
            Ty::Struct(inner) => min_size(inner, version, flexible),
        };
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_counts_are_rejected_before_walking() {
        // Metadata v1: topics array claiming 2^29 elements, in six bytes.
        let body = [0x20, 0, 0, 0, 0, 0];
        let e = request(ApiKey::Metadata, 1, &body).unwrap_err();
        assert_eq!(e.reason, "array count exceeds the bytes that remain");
        assert_eq!(e.offset, 0);
        assert_eq!(e.field, "topics");
        assert_eq!(
            e.to_string(),
            "MetadataRequest.topics at byte 0: array count exceeds the bytes that remain"
        );
        // Compact: varint 0xffffffff.
        let body = [0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0];
        let e = request(ApiKey::Metadata, 12, &body).unwrap_err();
        assert_eq!(e.reason, "array count exceeds the bytes that remain");
    }

    #[test]
    fn varints_wider_than_32_bits_are_rejected() {
        let body = [0xff, 0xff, 0xff, 0xff, 0x1f];
        let e = request(ApiKey::Metadata, 12, &body).unwrap_err();
        assert_eq!(e.reason, "varint wider than 32 bits");
        let body = [0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(
            request(ApiKey::Metadata, 12, &body).unwrap_err().reason,
            "varint wider than 32 bits"
        );
    }

    #[test]
    fn null_is_only_accepted_where_nullable() {
        // Metadata v0: topics may not be null; v1: may.
        assert!(request(ApiKey::Metadata, 0, &[0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(request(ApiKey::Metadata, 1, &[0xff, 0xff, 0xff, 0xff]).is_ok());
        // Heartbeat v0: group id null is invalid; negative lengths other than -1 too.
        assert!(request(ApiKey::Heartbeat, 0, &[0xff, 0xff]).is_err());
        let e = request(ApiKey::Heartbeat, 0, &[0xff, 0xfe]).unwrap_err();
        assert_eq!(e.reason, "negative length");
    }

    #[test]
    fn tagged_fields_must_fit_and_match_their_size() {
        // ApiVersions v3 response: error 0, no api keys, throttle 0, then tagged fields.
        let fixed = [0u8, 0, 1, 0, 0, 0, 0];
        let with = |tags: &[u8]| [&fixed[..], tags].concat();
        // Unknown tag 9 with three bytes: skipped.
        assert!(response(ApiKey::ApiVersions, 3, &with(&[1, 9, 3, 1, 2, 3])).is_ok());
        // Its size runs past the end.
        let e = response(ApiKey::ApiVersions, 3, &with(&[1, 9, 4, 1, 2, 3])).unwrap_err();
        assert_eq!(e.reason, "tagged field longer than the bytes that remain");
        // Known tag 1 (finalized features epoch, int64) declared as 4 bytes: its value
        // would run past them.
        let e = response(
            ApiKey::ApiVersions,
            3,
            &with(&[1, 1, 4, 0, 0, 0, 0, 0, 0, 0, 1]),
        )
        .unwrap_err();
        assert_eq!(e.reason, "truncated");
        // Declared as 9 bytes: one byte is left over inside it.
        let e = response(
            ApiKey::ApiVersions,
            3,
            &with(&[1, 1, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
        )
        .unwrap_err();
        assert_eq!(e.reason, "tagged field shorter than its declared size");
        assert!(response(
            ApiKey::ApiVersions,
            3,
            &with(&[1, 1, 8, 0, 0, 0, 0, 0, 0, 0, 1])
        )
        .is_ok());
        // Known tag 0 (supported features) holding a compact array that claims more
        // elements than its declared size holds, though the frame continues.
        let mut tags = vec![1, 0, 2, 0x7f, 0];
        tags.extend_from_slice(&[0; 300]);
        let e = response(ApiKey::ApiVersions, 3, &with(&tags)).unwrap_err();
        assert_eq!(e.reason, "array count exceeds the bytes that remain");
        // More tagged fields than bytes.
        let e = response(ApiKey::ApiVersions, 3, &with(&[0x7f, 0, 0])).unwrap_err();
        assert_eq!(e.reason, "more tagged fields than bytes");
        // Fetch v12 request partition tag 0 exists only from v17.
        let (req, _) = schema::schemas(ApiKey::Fetch).unwrap();
        let partition_tag = req.fields.iter().find_map(|f| match f.ty {
            Ty::Structs(topic) => topic.iter().find_map(|f| match f.ty {
                Ty::Structs(p) => p.iter().find(|f| f.tag == Some(0)).copied(),
                _ => None,
            }),
            _ => None,
        });
        assert_eq!(partition_tag.map(|f| f.min), Some(17));
    }

    #[test]
    fn a_tag_known_only_in_other_versions_is_refused() {
        // Fetch v12 request: replica id, max wait, min bytes, max bytes, isolation,
        // session id, session epoch, one topic "t" with one partition whose tagged section
        // carries tag 0 (replica directory id, v17+).
        let mut b = vec![0u8; 4 * 4 + 1 + 4 + 4];
        b.extend_from_slice(&[2, 2, b't', 2]); // topics: 1, name "t", partitions: 1
        b.extend_from_slice(&[0; 4 + 4 + 8 + 4 + 8 + 4]); // partition fields
        b.extend_from_slice(&[1, 0, 16]);
        b.extend_from_slice(&[7; 16]);
        b.extend_from_slice(&[0, 1, 1, 0]); // topic tags, forgotten: 0, rack "", tags
        let e = request(ApiKey::Fetch, 12, &b).unwrap_err();
        assert_eq!(e.reason, "tagged field not valid in this version");
    }

    #[test]
    fn min_sizes_count_every_fixed_field() {
        let (req, _) = schema::schemas(ApiKey::Heartbeat).unwrap();
        assert_eq!(min_size(req.fields, 0, false), 2 + 4 + 2);
        assert_eq!(min_size(req.fields, 3, false), 2 + 4 + 2 + 2);
        assert_eq!(min_size(req.fields, 4, true), 1 + 4 + 1 + 1 + 1);
    }

    #[test]
    fn every_served_api_has_schemas() {
        for r in crate::versions::SERVED {
            assert!(schema::schemas(r.key).is_some(), "{:?}", r.key);
        }
    }
}
