//! The protocol crate's one error type.

use std::fmt;

/// What went wrong while framing, decoding or encoding a Kafka message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A size prefix was negative or zero.
    InvalidFrameSize {
        /// The size as read.
        size: i32,
    },
    /// A size prefix exceeded the configured maximum (checked before allocating).
    FrameTooLarge {
        /// The size as read.
        size: usize,
        /// The configured maximum.
        max: usize,
    },
    /// A frame was too short to hold a request or response header.
    Truncated,
    /// The API key is not one Kafka defines.
    UnknownApiKey {
        /// The key as read.
        key: i16,
    },
    /// The API key is known but not served by mockafka (or the version is outside the range
    /// served). The broker answers ApiVersions with UNSUPPORTED_VERSION and closes the
    /// connection for any other API.
    UnsupportedVersion {
        /// The API key.
        key: i16,
        /// The version asked for.
        version: i16,
        /// The correlation id, so that the broker can answer.
        correlation_id: i32,
    },
    /// The bytes do not decode as the message its header names.
    Malformed {
        /// The API key.
        key: i16,
        /// The API version.
        version: i16,
        /// What the decoder said.
        reason: String,
    },
    /// A message could not be encoded (a value does not fit its wire type in that version).
    Encode {
        /// The API key.
        key: i16,
        /// The API version.
        version: i16,
        /// What the encoder said.
        reason: String,
    },
    /// A record batch is invalid.
    Batch(crate::batch::BatchError),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidFrameSize { size } => write!(f, "invalid frame size {size}"),
            Self::FrameTooLarge { size, max } => {
                write!(f, "frame of {size} bytes exceeds the maximum of {max}")
            }
            Self::Truncated => f.write_str("frame too short for a header"),
            Self::UnknownApiKey { key } => write!(f, "unknown api key {key}"),
            Self::UnsupportedVersion { key, version, .. } => {
                write!(f, "unsupported version {version} of api key {key}")
            }
            Self::Malformed {
                key,
                version,
                reason,
            } => write!(f, "malformed message (api key {key} v{version}): {reason}"),
            Self::Encode {
                key,
                version,
                reason,
            } => write!(f, "cannot encode api key {key} v{version}: {reason}"),
            Self::Batch(e) => write!(f, "invalid record batch: {e}"),
        }
    }
}

impl std::error::Error for ProtocolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Batch(e) => Some(e),
            _ => None,
        }
    }
}

impl From<crate::batch::BatchError> for ProtocolError {
    fn from(e: crate::batch::BatchError) -> Self {
        Self::Batch(e)
    }
}
