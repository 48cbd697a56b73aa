//! ApiVersions (API key 18), versions 0-4.
//!
//! Answers from the one version table, [`mockafka_protocol::versions::SERVED`]. A request
//! at a version above 4 gets UNSUPPORTED_VERSION with the supported ranges, encoded as v0
//! (what every client can read), as Kafka does. From v3, a client software name or version
//! not matching Kafka's pattern gets INVALID_REQUEST (and no ranges).
//!
//! Differences from Kafka: no supported or finalized features are advertised (Kafka lists
//! `metadata.version` and friends, which only KRaft controllers and KIP-848 clients read).

use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::ResponseError;
use mockafka_protocol::response::encode_response;
use mockafka_protocol::versions::SERVED;

use crate::dispatch::{Reply, RequestCtx};

fn served_ranges() -> Vec<ApiVersion> {
    SERVED
        .iter()
        .map(|r| {
            ApiVersion::default()
                .with_api_key(r.key as i16)
                .with_min_version(r.min)
                .with_max_version(r.max)
        })
        .collect()
}

/// Kafka's rule for `client_software_name` and `_version` (v3+):
/// `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`.
fn valid_software_field(s: &str) -> bool {
    let b = s.as_bytes();
    let inner = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.';
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() && b.iter().all(inner)
        }
        _ => false,
    }
}

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: ApiVersionsRequest) -> ApiVersionsResponse {
    let invalid = ctx.version >= 3
        && !(valid_software_field(&req.client_software_name)
            && valid_software_field(&req.client_software_version));
    if invalid {
        // Kafka's error response: the code alone, no ranges.
        return ApiVersionsResponse::default()
            .with_error_code(ResponseError::InvalidRequest.code());
    }
    ApiVersionsResponse::default().with_api_keys(served_ranges())
}

/// The answer to an ApiVersions request at a version not served: UNSUPPORTED_VERSION and
/// the ranges served, encoded as v0.
pub(crate) fn unsupported_version_reply(correlation_id: i32) -> Reply {
    let body = ApiVersionsResponse::default()
        .with_error_code(ResponseError::UnsupportedVersion.code())
        .with_api_keys(served_ranges());
    match encode_response(ApiKey::ApiVersions, 0, correlation_id, &body) {
        Ok(frame) => Reply::Frame(frame),
        Err(_) => Reply::Close,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_names_follow_kafkas_pattern() {
        for ok in [
            "kafka-python",
            "a",
            "librdkafka",
            "3.0.12",
            "apache-kafka-java",
        ] {
            assert!(valid_software_field(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "has space", "x_y", "ü"] {
            assert!(!valid_software_field(bad), "{bad}");
        }
    }
}
