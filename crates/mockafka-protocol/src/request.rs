//! Requests: header and body decoding for every API served, and request encoding for clients.
//!
//! Decoding runs in three steps, each total: the fixed header prefix (key, version,
//! correlation id) is read by hand and checked against [`crate::versions`]; the rest of the
//! header and the body are walked by [`crate::validate`] against the message's schema; only
//! then does kafka-protocol's decoder build the message.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable};

use crate::{validate, versions, ProtocolError};

/// Bytes of the fixed part of every request header: key, version, correlation id.
const FIXED_HEADER_LEN: usize = 8;

macro_rules! requests {
    ($($variant:ident($ty:ident)),* $(,)?) => {
        /// A decoded request body: one variant per API served. Closed on purpose: adding an
        /// API means a variant here, a row in [`crate::versions::SERVED`] and a handler.
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)]
        #[non_exhaustive]
        pub enum Request {
            $(
                #[doc = concat!("A `", stringify!($ty), "`.")]
                $variant($ty),
            )*
        }

        impl Request {
            /// The API key of this request.
            pub fn api_key(&self) -> ApiKey {
                match self {
                    $(Self::$variant(_) => ApiKey::$variant,)*
                }
            }
        }

        fn decode_body(key: ApiKey, version: i16, buf: &mut Bytes) -> Option<anyhow::Result<Request>> {
            Some(match key {
                $(ApiKey::$variant => $ty::decode(buf, version).map(Request::$variant),)*
                _ => return None,
            })
        }

        /// Decodes `frame` as the response of `key` at `version` with
        /// [`crate::response::decode_response`], discarding the body: the response decode path
        /// for a key known only at run time. `None` when `key` is not served.
        pub(crate) fn decode_response_dyn(
            key: ApiKey,
            version: i16,
            frame: Bytes,
        ) -> Option<Result<(), ProtocolError>> {
            Some(match key {
                $(ApiKey::$variant => crate::response::decode_response::<
                    <$ty as kafka_protocol::protocol::Request>::Response,
                >(key, version, frame)
                .map(drop),)*
                _ => return None,
            })
        }

        #[cfg(test)]
        pub(crate) const ALL_KEYS: &[ApiKey] = &[$(ApiKey::$variant),*];
    };
}

requests! {
    Produce(ProduceRequest),
    Fetch(FetchRequest),
    ListOffsets(ListOffsetsRequest),
    Metadata(MetadataRequest),
    OffsetCommit(OffsetCommitRequest),
    OffsetFetch(OffsetFetchRequest),
    FindCoordinator(FindCoordinatorRequest),
    JoinGroup(JoinGroupRequest),
    Heartbeat(HeartbeatRequest),
    LeaveGroup(LeaveGroupRequest),
    SyncGroup(SyncGroupRequest),
    DescribeGroups(DescribeGroupsRequest),
    ListGroups(ListGroupsRequest),
    ApiVersions(ApiVersionsRequest),
    CreateTopics(CreateTopicsRequest),
    DeleteTopics(DeleteTopicsRequest),
    DeleteRecords(DeleteRecordsRequest),
    InitProducerId(InitProducerIdRequest),
    OffsetForLeaderEpoch(OffsetForLeaderEpochRequest),
    DescribeConfigs(DescribeConfigsRequest),
    CreatePartitions(CreatePartitionsRequest),
    DeleteGroups(DeleteGroupsRequest),
    OffsetDelete(OffsetDeleteRequest),
    DescribeCluster(DescribeClusterRequest),
}

/// A decoded request: its header and body.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedRequest {
    /// The request header (key, version, correlation id, client id).
    pub header: RequestHeader,
    /// The API key, parsed.
    pub api_key: ApiKey,
    /// The body.
    pub body: Request,
}

impl DecodedRequest {
    /// The API version of the request.
    pub fn version(&self) -> i16 {
        self.header.request_api_version
    }
}

/// The fixed start of a request header, readable from any frame of 8 bytes or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderPrefix {
    /// API key as sent.
    pub api_key: i16,
    /// API version as sent.
    pub api_version: i16,
    /// Correlation id as sent.
    pub correlation_id: i32,
}

/// Reads the fixed header prefix of a request frame (body without its size prefix).
///
/// # Errors
/// [`ProtocolError::Truncated`] when the frame is shorter than 8 bytes.
pub fn header_prefix(frame: &[u8]) -> Result<HeaderPrefix, ProtocolError> {
    let p = frame
        .get(..FIXED_HEADER_LEN)
        .ok_or(ProtocolError::Truncated)?;
    Ok(HeaderPrefix {
        api_key: i16::from_be_bytes([p[0], p[1]]),
        api_version: i16::from_be_bytes([p[2], p[3]]),
        correlation_id: i32::from_be_bytes([p[4], p[5], p[6], p[7]]),
    })
}

/// Decodes one request frame (the bytes after the size prefix).
///
/// # Errors
/// - [`ProtocolError::Truncated`]: shorter than a header.
/// - [`ProtocolError::UnknownApiKey`]: a key Kafka does not define.
/// - [`ProtocolError::UnsupportedVersion`]: a key or version mockafka does not serve; it
///   carries the correlation id so that ApiVersions can be answered.
/// - [`ProtocolError::Malformed`]: the header or body does not match the schema.
pub fn decode_request(frame: Bytes) -> Result<DecodedRequest, ProtocolError> {
    let prefix = header_prefix(&frame)?;
    let key = prefix.api_key;
    let version = prefix.api_version;
    let api_key = ApiKey::try_from(key).map_err(|()| ProtocolError::UnknownApiKey { key })?;
    if !versions::is_served(api_key, version) {
        return Err(ProtocolError::UnsupportedVersion {
            key,
            version,
            correlation_id: prefix.correlation_id,
        });
    }
    let malformed = |reason: String| ProtocolError::Malformed {
        key,
        version,
        reason,
    };
    let header_version = api_key.request_header_version(version);
    validate::request_header(header_version, &frame).map_err(|e| malformed(e.to_string()))?;
    let mut buf = frame;
    let header =
        RequestHeader::decode(&mut buf, header_version).map_err(|e| malformed(e.to_string()))?;
    let body_len =
        validate::request_len(api_key, version, &buf).map_err(|e| malformed(e.to_string()))?;
    let before = buf.len();
    let body = match decode_body(api_key, version, &mut buf) {
        Some(Ok(_)) if before - buf.len() != body_len => {
            return Err(malformed(validate::DISAGREEMENT.to_owned()))
        }
        Some(Ok(body)) => body,
        Some(Err(e)) => return Err(malformed(e.to_string())),
        None => {
            return Err(ProtocolError::UnsupportedVersion {
                key,
                version,
                correlation_id: prefix.correlation_id,
            })
        }
    };
    Ok(DecodedRequest {
        header,
        api_key,
        body,
    })
}

/// Encodes a request frame, size prefix included, with the header version its API and
/// version imply. `header.request_api_key` must be the key of `R`.
///
/// # Errors
/// [`ProtocolError::Encode`] when a value does not fit the version's wire format.
pub fn encode_request<R>(header: &RequestHeader, body: &R) -> Result<BytesMut, ProtocolError>
where
    R: kafka_protocol::protocol::Request,
{
    let key = R::KEY;
    let version = header.request_api_version;
    let err = |e: anyhow::Error| ProtocolError::Encode {
        key,
        version,
        reason: e.to_string(),
    };
    let mut out = BytesMut::with_capacity(64);
    out.put_i32(0);
    let mut header = header.clone();
    header.request_api_key = key;
    header
        .encode(&mut out, R::header_version(version))
        .map_err(err)?;
    body.encode(&mut out, version).map_err(err)?;
    crate::response::patch_size(&mut out)?;
    Ok(out)
}

/// Fuzz entry point: decodes arbitrary bytes as a request frame. Panics only if the
/// decoder and the schema disagree on a message's length (see [`validate::DISAGREEMENT`]).
pub fn fuzz_decode(data: &[u8]) {
    validate::assert_agreement(&decode_request(Bytes::copy_from_slice(data)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::split_frame;
    use kafka_protocol::protocol::StrBytes;

    fn roundtrip<R: kafka_protocol::protocol::Request + PartialEq + std::fmt::Debug>(
        body: R,
        version: i16,
    ) -> DecodedRequest {
        let header = RequestHeader::default()
            .with_request_api_version(version)
            .with_correlation_id(42)
            .with_client_id(Some(StrBytes::from_static_str("t")));
        let mut frame = encode_request(&header, &body).unwrap();
        let frame = split_frame(&mut frame, 1 << 20).unwrap().unwrap();
        decode_request(frame).unwrap()
    }

    #[test]
    fn every_served_api_decodes_its_default_body_at_every_version() {
        for r in versions::SERVED {
            assert!(ALL_KEYS.contains(&r.key));
        }
        for v in 0..=4 {
            let d = roundtrip(ApiVersionsRequest::default(), v);
            assert_eq!(d.header.correlation_id, 42);
            assert_eq!(d.api_key, ApiKey::ApiVersions);
        }
        let d = roundtrip(MetadataRequest::default(), 12);
        assert!(matches!(d.body, Request::Metadata(_)));
    }

    #[test]
    fn short_frames_and_unknown_keys_are_errors() {
        for n in 0..8 {
            assert_eq!(
                decode_request(Bytes::from(vec![0u8; n])),
                Err(ProtocolError::Truncated)
            );
        }
        let frame = Bytes::from_static(&[0x7f, 0x7f, 0, 0, 0, 0, 0, 1]);
        assert_eq!(
            decode_request(frame),
            Err(ProtocolError::UnknownApiKey { key: 0x7f7f })
        );
        let frame = Bytes::from_static(&[0, 18, 0, 99, 0, 0, 0, 5]);
        assert_eq!(
            decode_request(frame),
            Err(ProtocolError::UnsupportedVersion {
                key: 18,
                version: 99,
                correlation_id: 5
            })
        );
    }
}
