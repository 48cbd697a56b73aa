//! Responses: encoding for the broker, decoding (validated) for clients.
//!
//! The response header version follows the request's API and version: v1 (with tagged
//! fields) for flexible versions, v0 otherwise, and always v0 for ApiVersions so that a
//! client can read the answer whatever version it asked for.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion};

use crate::{validate, versions, ProtocolError};

/// Writes the frame size into the first four bytes of `frame`.
pub(crate) fn patch_size(frame: &mut BytesMut) -> Result<(), ProtocolError> {
    let body = frame.len().saturating_sub(4);
    let size = i32::try_from(body).map_err(|_| ProtocolError::FrameTooLarge {
        size: body,
        max: i32::MAX as usize,
    })?;
    frame
        .get_mut(..4)
        .ok_or(ProtocolError::Truncated)?
        .copy_from_slice(&size.to_be_bytes());
    Ok(())
}

/// Encodes a response frame, size prefix included, for a request of `key` at `version`
/// with the given correlation id.
///
/// # Errors
/// [`ProtocolError::Encode`] when a value does not fit the version's wire format.
pub fn encode_response<R>(
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &R,
) -> Result<BytesMut, ProtocolError>
where
    R: Encodable + HeaderVersion,
{
    let err = |e: anyhow::Error| ProtocolError::Encode {
        key: key as i16,
        version,
        reason: e.to_string(),
    };
    let mut out = BytesMut::with_capacity(64);
    out.put_i32(0);
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut out, R::header_version(version))
        .map_err(err)?;
    body.encode(&mut out, version).map_err(err)?;
    patch_size(&mut out)?;
    Ok(out)
}

/// The correlation id of a response frame (bytes after the size prefix).
///
/// # Errors
/// [`ProtocolError::Truncated`] when the frame is shorter than four bytes.
pub fn correlation_id(frame: &[u8]) -> Result<i32, ProtocolError> {
    let p = frame.get(..4).ok_or(ProtocolError::Truncated)?;
    Ok(i32::from_be_bytes([p[0], p[1], p[2], p[3]]))
}

/// Decodes a response frame (bytes after the size prefix) to a request of `key` at
/// `version`, validating it against the schema first.
///
/// # Errors
/// [`ProtocolError::Truncated`] or [`ProtocolError::Malformed`].
pub fn decode_response<R>(
    key: ApiKey,
    version: i16,
    frame: Bytes,
) -> Result<(ResponseHeader, R), ProtocolError>
where
    R: Decodable + HeaderVersion,
{
    let malformed = |reason: String| ProtocolError::Malformed {
        key: key as i16,
        version,
        reason,
    };
    correlation_id(&frame)?;
    let header_version = R::header_version(version);
    validate::response_header(header_version, &frame).map_err(|e| malformed(e.to_string()))?;
    let mut buf = frame;
    let header =
        ResponseHeader::decode(&mut buf, header_version).map_err(|e| malformed(e.to_string()))?;
    let body_len =
        validate::response_len(key, version, &buf).map_err(|e| malformed(e.to_string()))?;
    let before = buf.len();
    let body = R::decode(&mut buf, version).map_err(|e| malformed(e.to_string()))?;
    if before - buf.len() != body_len {
        return Err(malformed(validate::DISAGREEMENT.to_owned()));
    }
    Ok((header, body))
}

/// Fuzz entry point: the first byte picks a served API (modulo the table's length), the
/// second a version within its served range, and the rest is decoded as that response's
/// frame (bytes after the size prefix). Panics only if the decoder and the schema disagree
/// on a message's length (see [`validate::DISAGREEMENT`]).
pub fn fuzz_decode(data: &[u8]) {
    let [api, version, frame @ ..] = data else {
        return;
    };
    let Some(range) = versions::SERVED.get(usize::from(*api) % versions::SERVED.len()) else {
        return;
    };
    let span = (range.max - range.min).saturating_add(1).max(1);
    let version = range.min + i16::from(*version) % span;
    if let Some(result) =
        crate::request::decode_response_dyn(range.key, version, Bytes::copy_from_slice(frame))
    {
        validate::assert_agreement(&result);
    }
}
