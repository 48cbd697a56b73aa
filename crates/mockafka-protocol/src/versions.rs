//! The one table of API versions that mockafka serves and its client speaks.
//!
//! ApiVersions answers from it, dispatch checks every request against it, and the client
//! picks, per API, the highest version both it and the broker support.
//!
//! Ranges are those of a Kafka 3.x broker, capped where a newer version would need a
//! feature mockafka does not model (KIP-848 consumer groups, transactions v2, share groups).
//! librdkafka falls back to the old message format unless Fetch v4+ is advertised, and sends
//! LZ4 uncompressed unless FindCoordinator is advertised; both are.

use kafka_protocol::messages::ApiKey;

/// One row of the version table: an API and the versions served, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiRange {
    /// The API.
    pub key: ApiKey,
    /// Lowest version served.
    pub min: i16,
    /// Highest version served.
    pub max: i16,
}

const fn row(key: ApiKey, min: i16, max: i16) -> ApiRange {
    ApiRange { key, min, max }
}

/// Every API served, in API key order.
pub const SERVED: &[ApiRange] = &[
    row(ApiKey::Produce, 3, 11),
    row(ApiKey::Fetch, 4, 12),
    row(ApiKey::ListOffsets, 1, 7),
    row(ApiKey::Metadata, 0, 12),
    row(ApiKey::OffsetCommit, 2, 8),
    row(ApiKey::OffsetFetch, 1, 8),
    row(ApiKey::FindCoordinator, 0, 4),
    row(ApiKey::JoinGroup, 0, 9),
    row(ApiKey::Heartbeat, 0, 4),
    row(ApiKey::LeaveGroup, 0, 5),
    row(ApiKey::SyncGroup, 0, 5),
    row(ApiKey::DescribeGroups, 0, 5),
    row(ApiKey::ListGroups, 0, 4),
    row(ApiKey::ApiVersions, 0, 4),
    row(ApiKey::CreateTopics, 2, 7),
    row(ApiKey::DeleteTopics, 1, 6),
    row(ApiKey::DeleteRecords, 0, 2),
    row(ApiKey::InitProducerId, 0, 4),
    row(ApiKey::OffsetForLeaderEpoch, 2, 4),
    row(ApiKey::DescribeConfigs, 1, 4),
    row(ApiKey::CreatePartitions, 0, 3),
    row(ApiKey::DeleteGroups, 0, 2),
    row(ApiKey::OffsetDelete, 0, 0),
    row(ApiKey::DescribeCluster, 0, 1),
];

/// The served range of `key`, if it is served at all.
pub fn served(key: ApiKey) -> Option<ApiRange> {
    SERVED.iter().copied().find(|r| r.key == key)
}

/// Whether `version` of `key` is served.
pub fn is_served(key: ApiKey, version: i16) -> bool {
    served(key).is_some_and(|r| (r.min..=r.max).contains(&version))
}

/// The version to use with a broker that serves `broker_min..=broker_max` of `key`: the
/// highest version both sides speak, or `None` if the ranges do not meet.
pub fn negotiate(key: ApiKey, broker_min: i16, broker_max: i16) -> Option<i16> {
    let ours = served(key)?;
    let max = ours.max.min(broker_max);
    (max >= ours.min.max(broker_min)).then_some(max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::*;
    use kafka_protocol::protocol::Message;

    fn library_range(key: ApiKey) -> (i16, i16) {
        let r = key.valid_versions();
        (r.min, r.max)
    }

    #[test]
    fn every_served_range_lies_within_the_library() {
        for r in SERVED {
            let (lo, hi) = library_range(r.key);
            assert!(
                lo <= r.min && r.max <= hi,
                "{:?} {r:?} vs {lo}..{hi}",
                r.key
            );
            assert!(r.min <= r.max);
        }
        let _ = ProduceRequest::VERSIONS;
    }

    #[test]
    fn table_is_sorted_and_unique() {
        for w in SERVED.windows(2) {
            assert!((w[0].key as i16) < (w[1].key as i16));
        }
    }

    #[test]
    fn negotiation_picks_the_highest_common_version() {
        assert_eq!(negotiate(ApiKey::Fetch, 0, 16), Some(12));
        assert_eq!(negotiate(ApiKey::Fetch, 0, 7), Some(7));
        assert_eq!(negotiate(ApiKey::Fetch, 0, 3), None);
        assert_eq!(negotiate(ApiKey::SaslHandshake, 0, 1), None);
    }
}
