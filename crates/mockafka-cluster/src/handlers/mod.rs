//! One file per API: translate wire types to a domain call and back.

pub(crate) mod api_versions;
pub(crate) mod create_partitions;
pub(crate) mod create_topics;
pub(crate) mod delete_records;
pub(crate) mod delete_topics;
pub(crate) mod describe_cluster;
pub(crate) mod describe_configs;
pub(crate) mod fetch;
pub(crate) mod init_producer_id;
pub(crate) mod list_offsets;
pub(crate) mod metadata;
pub(crate) mod no_coordinator;
pub(crate) mod offset_for_leader_epoch;
pub(crate) mod produce;

use kafka_protocol::protocol::StrBytes;

/// A `StrBytes` holding a copy of `s`.
pub(crate) fn str_bytes(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_owned())
}
