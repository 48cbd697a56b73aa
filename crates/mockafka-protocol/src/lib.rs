//! # mockafka-protocol
//!
//! The Kafka wire protocol as mockafka speaks it: framing, request decoding, response
//! encoding, the table of API versions served, and record batches (magic v2) with all five
//! compression codecs.
//!
//! Every function here is total: no input, however malformed, panics, aborts or hangs.
//! Message types come from [`kafka_protocol`]; before any of its decoders sees a frame,
//! [`validate`] walks the frame against the message's wire schema ([`validate::schema`], one
//! per request and response of every API served) and rejects any array or string whose
//! length exceeds the bytes that remain, so that no decoder pre-allocates from a length read
//! off the wire.
//!
//! ```
//! use mockafka_protocol::{frame, request::{decode_request, Request}};
//! use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, RequestHeader};
//!
//! let header = RequestHeader::default()
//!     .with_request_api_key(ApiKey::ApiVersions as i16)
//!     .with_request_api_version(3)
//!     .with_correlation_id(7);
//! let body = ApiVersionsRequest::default();
//! let mut bytes = mockafka_protocol::request::encode_request(&header, &body).unwrap();
//! let frame = frame::split_frame(&mut bytes, frame::DEFAULT_MAX_FRAME_SIZE).unwrap().unwrap();
//! let decoded = decode_request(frame).unwrap();
//! assert_eq!(decoded.header.correlation_id, 7);
//! assert!(matches!(decoded.body, Request::ApiVersions(_)));
//! ```

pub mod batch;
pub mod compression;
pub mod error;
pub mod frame;
pub mod request;
pub mod response;
pub mod validate;
pub mod versions;

pub use error::ProtocolError;
pub use kafka_protocol;
