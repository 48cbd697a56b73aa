//! The wire schemas of every message mockafka serves, as data, for [`crate::validate`].
//!
//! One [`Schema`] per request and response of every API in [`crate::versions::SERVED`],
//! plus the request and response headers. A schema lists its fields in wire order; each
//! [`Field`] carries its [`Ty`], the versions in which it exists, the versions in which it
//! may be null and, for tagged fields, its tag. In a message's flexible versions strings,
//! bytes and arrays use compact (varint) lengths and every struct ends with a tagged-field
//! section.
//!
//! The field version conditions are those of Kafka's message definitions (as implemented by
//! kafka-protocol's decoders, which they are checked against by the round-trip tests).
//! Nullability follows kafka-protocol's field types: where it holds an `Option`, the null
//! marker is accepted.

use kafka_protocol::messages::ApiKey;

/// Version meaning "from this version on" or "never".
const NEVER: i16 = i16::MAX;

/// The wire type of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ty {
    /// One byte.
    Bool,
    /// `int8`.
    I8,
    /// `int16`.
    I16,
    /// `int32`.
    I32,
    /// `int64`.
    I64,
    /// 16 bytes.
    Uuid,
    /// A string: `int16` length, or a compact (varint length + 1) one in flexible versions.
    Str,
    /// A string with an `int16` length in every version (the request header's client id).
    Str16,
    /// Bytes: `int32` length, or compact in flexible versions.
    Bytes,
    /// A record set: bytes to the validator (its batches are checked where they are used).
    Records,
    /// An array of `int32`.
    I32s,
    /// An array of strings.
    Strs,
    /// A nested struct (only as a tagged field here).
    Struct(&'static [Field]),
    /// An array of structs.
    Structs(&'static [Field]),
}

/// One field of a struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Field {
    /// The field's name (as in Kafka's message definitions, in snake case).
    pub name: &'static str,
    /// The field's wire type.
    pub ty: Ty,
    /// First version in which the field exists.
    pub min: i16,
    /// Last version in which the field exists.
    pub max: i16,
    /// First version in which the field may be null (`i16::MAX`: never).
    pub null_from: i16,
    /// The tag of a tagged field (present only in the tagged-field section of flexible
    /// versions), or `None` for a field in the fixed part.
    pub tag: Option<u32>,
}

impl Field {
    /// Whether the field exists in `version`.
    pub fn exists(&self, version: i16) -> bool {
        (self.min..=self.max).contains(&version)
    }

    /// Whether the field may be null in `version`.
    pub fn nullable(&self, version: i16) -> bool {
        version >= self.null_from
    }

    const fn from(self, min: i16) -> Self {
        Self { min, ..self }
    }

    const fn until(self, max: i16) -> Self {
        Self { max, ..self }
    }

    const fn within(self, min: i16, max: i16) -> Self {
        Self { min, max, ..self }
    }

    const fn null(self) -> Self {
        Self {
            null_from: 0,
            ..self
        }
    }

    const fn null_from(self, null_from: i16) -> Self {
        Self { null_from, ..self }
    }

    const fn tag(self, tag: u32) -> Self {
        Self {
            tag: Some(tag),
            ..self
        }
    }
}

/// A field of type `ty` that exists in every version, not nullable, not tagged.
const fn f(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        min: 0,
        max: NEVER,
        null_from: NEVER,
        tag: None,
    }
}

/// The schema of one message (a request or response body, or a header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Schema {
    /// The message's name, for error messages.
    pub name: &'static str,
    /// The first flexible version (`i16::MAX`: never flexible).
    pub flexible: i16,
    /// The top-level fields in wire order.
    pub fields: &'static [Field],
}

const fn schema(name: &'static str, flexible: i16, fields: &'static [Field]) -> Schema {
    Schema {
        name,
        flexible,
        fields,
    }
}

use Ty::*;

// ---------------------------------------------------------------- headers

/// Request header, versions 0-2 (flexible from 2; the client id never becomes compact).
pub const REQUEST_HEADER: Schema = schema(
    "RequestHeader",
    2,
    &[
        f("request_api_key", I16),
        f("request_api_version", I16),
        f("correlation_id", I32),
        f("client_id", Str16).from(1).null(),
    ],
);

/// Response header, versions 0-1 (flexible from 1).
pub const RESPONSE_HEADER: Schema = schema("ResponseHeader", 1, &[f("correlation_id", I32)]);

// ---------------------------------------------------------------- Produce (0)

const PRODUCE_REQ_PARTITION: &[Field] = &[f("index", I32), f("records", Records).null()];
const PRODUCE_REQ_TOPIC: &[Field] = &[
    f("name", Str).until(12),
    f("topic_id", Uuid).from(13),
    f("partition_data", Structs(PRODUCE_REQ_PARTITION)),
];
const PRODUCE_REQ: Schema = schema(
    "ProduceRequest",
    9,
    &[
        f("transactional_id", Str).null(),
        f("acks", I16),
        f("timeout_ms", I32),
        f("topic_data", Structs(PRODUCE_REQ_TOPIC)),
    ],
);

const PRODUCE_RESP_RECORD_ERROR: &[Field] = &[
    f("batch_index", I32).from(8),
    f("batch_index_error_message", Str).from(8).null(),
];
const PRODUCE_RESP_LEADER: &[Field] = &[
    f("leader_id", I32).from(10),
    f("leader_epoch", I32).from(10),
];
const PRODUCE_RESP_NODE: &[Field] = &[
    f("node_id", I32).from(10),
    f("host", Str).from(10),
    f("port", I32).from(10),
    f("rack", Str).from(10).null(),
];
const PRODUCE_RESP_PARTITION: &[Field] = &[
    f("index", I32),
    f("error_code", I16),
    f("base_offset", I64),
    f("log_append_time_ms", I64),
    f("log_start_offset", I64).from(5),
    f("record_errors", Structs(PRODUCE_RESP_RECORD_ERROR)).from(8),
    f("error_message", Str).from(8).null(),
    f("current_leader", Struct(PRODUCE_RESP_LEADER))
        .from(10)
        .tag(0),
];
const PRODUCE_RESP_TOPIC: &[Field] = &[
    f("name", Str).until(12),
    f("topic_id", Uuid).from(13),
    f("partition_responses", Structs(PRODUCE_RESP_PARTITION)),
];
const PRODUCE_RESP: Schema = schema(
    "ProduceResponse",
    9,
    &[
        f("responses", Structs(PRODUCE_RESP_TOPIC)),
        f("throttle_time_ms", I32),
        f("node_endpoints", Structs(PRODUCE_RESP_NODE))
            .from(10)
            .tag(0),
    ],
);

// ---------------------------------------------------------------- Fetch (1)

const FETCH_REQ_PARTITION: &[Field] = &[
    f("partition", I32),
    f("current_leader_epoch", I32).from(9),
    f("fetch_offset", I64),
    f("last_fetched_epoch", I32).from(12),
    f("log_start_offset", I64).from(5),
    f("partition_max_bytes", I32),
    f("replica_directory_id", Uuid).from(17).tag(0),
    f("high_watermark", I64).from(18).tag(1),
];
const FETCH_REQ_TOPIC: &[Field] = &[
    f("topic", Str).until(12),
    f("topic_id", Uuid).from(13),
    f("partitions", Structs(FETCH_REQ_PARTITION)),
];
const FETCH_REQ_FORGOTTEN: &[Field] = &[
    f("topic", Str).within(7, 12),
    f("topic_id", Uuid).from(13),
    f("partitions", I32s).from(7),
];
const FETCH_REQ_REPLICA_STATE: &[Field] = &[
    f("replica_id", I32).from(15),
    f("replica_epoch", I64).from(15),
];
const FETCH_REQ: Schema = schema(
    "FetchRequest",
    12,
    &[
        f("cluster_id", Str).null().tag(0),
        f("replica_id", I32).until(14),
        f("replica_state", Struct(FETCH_REQ_REPLICA_STATE))
            .from(15)
            .tag(1),
        f("max_wait_ms", I32),
        f("min_bytes", I32),
        f("max_bytes", I32),
        f("isolation_level", I8),
        f("session_id", I32).from(7),
        f("session_epoch", I32).from(7),
        f("topics", Structs(FETCH_REQ_TOPIC)),
        f("forgotten_topics_data", Structs(FETCH_REQ_FORGOTTEN)).from(7),
        f("rack_id", Str).from(11),
    ],
);

const FETCH_RESP_ABORTED: &[Field] = &[f("producer_id", I64), f("first_offset", I64)];
const FETCH_RESP_EPOCH_END: &[Field] = &[f("epoch", I32).from(12), f("end_offset", I64).from(12)];
const FETCH_RESP_LEADER: &[Field] = &[
    f("leader_id", I32).from(12),
    f("leader_epoch", I32).from(12),
];
const FETCH_RESP_SNAPSHOT: &[Field] = &[f("end_offset", I64), f("epoch", I32)];
const FETCH_RESP_NODE: &[Field] = &[
    f("node_id", I32).from(16),
    f("host", Str).from(16),
    f("port", I32).from(16),
    f("rack", Str).from(16).null(),
];
const FETCH_RESP_PARTITION: &[Field] = &[
    f("partition_index", I32),
    f("error_code", I16),
    f("high_watermark", I64),
    f("last_stable_offset", I64),
    f("log_start_offset", I64).from(5),
    f("diverging_epoch", Struct(FETCH_RESP_EPOCH_END)).tag(0),
    f("current_leader", Struct(FETCH_RESP_LEADER)).tag(1),
    f("snapshot_id", Struct(FETCH_RESP_SNAPSHOT)).tag(2),
    f("aborted_transactions", Structs(FETCH_RESP_ABORTED)).null(),
    f("preferred_read_replica", I32).from(11),
    f("records", Records).null(),
];
const FETCH_RESP_TOPIC: &[Field] = &[
    f("topic", Str).until(12),
    f("topic_id", Uuid).from(13),
    f("partitions", Structs(FETCH_RESP_PARTITION)),
];
const FETCH_RESP: Schema = schema(
    "FetchResponse",
    12,
    &[
        f("throttle_time_ms", I32),
        f("error_code", I16).from(7),
        f("session_id", I32).from(7),
        f("responses", Structs(FETCH_RESP_TOPIC)),
        f("node_endpoints", Structs(FETCH_RESP_NODE))
            .from(16)
            .tag(0),
    ],
);

// ---------------------------------------------------------------- ListOffsets (2)

const LIST_OFFSETS_REQ_PARTITION: &[Field] = &[
    f("partition_index", I32),
    f("current_leader_epoch", I32).from(4),
    f("timestamp", I64),
];
const LIST_OFFSETS_REQ_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Structs(LIST_OFFSETS_REQ_PARTITION)),
];
const LIST_OFFSETS_REQ: Schema = schema(
    "ListOffsetsRequest",
    6,
    &[
        f("replica_id", I32),
        f("isolation_level", I8).from(2),
        f("topics", Structs(LIST_OFFSETS_REQ_TOPIC)),
        f("timeout_ms", I32).from(10),
    ],
);
const LIST_OFFSETS_RESP_PARTITION: &[Field] = &[
    f("partition_index", I32),
    f("error_code", I16),
    f("timestamp", I64),
    f("offset", I64),
    f("leader_epoch", I32).from(4),
];
const LIST_OFFSETS_RESP_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Structs(LIST_OFFSETS_RESP_PARTITION)),
];
const LIST_OFFSETS_RESP: Schema = schema(
    "ListOffsetsResponse",
    6,
    &[
        f("throttle_time_ms", I32).from(2),
        f("topics", Structs(LIST_OFFSETS_RESP_TOPIC)),
    ],
);

// ---------------------------------------------------------------- Metadata (3)

const METADATA_REQ_TOPIC: &[Field] = &[f("topic_id", Uuid).from(10), f("name", Str).null()];
const METADATA_REQ: Schema = schema(
    "MetadataRequest",
    9,
    &[
        f("topics", Structs(METADATA_REQ_TOPIC)).null_from(1),
        f("allow_auto_topic_creation", Bool).from(4),
        f("include_cluster_authorized_operations", Bool).within(8, 10),
        f("include_topic_authorized_operations", Bool).from(8),
    ],
);
const METADATA_RESP_BROKER: &[Field] = &[
    f("node_id", I32),
    f("host", Str),
    f("port", I32),
    f("rack", Str).from(1).null(),
];
const METADATA_RESP_PARTITION: &[Field] = &[
    f("error_code", I16),
    f("partition_index", I32),
    f("leader_id", I32),
    f("leader_epoch", I32).from(7),
    f("replica_nodes", I32s),
    f("isr_nodes", I32s),
    f("offline_replicas", I32s).from(5),
];
const METADATA_RESP_TOPIC: &[Field] = &[
    f("error_code", I16),
    f("name", Str).null(),
    f("topic_id", Uuid).from(10),
    f("is_internal", Bool).from(1),
    f("partitions", Structs(METADATA_RESP_PARTITION)),
    f("topic_authorized_operations", I32).from(8),
];
const METADATA_RESP: Schema = schema(
    "MetadataResponse",
    9,
    &[
        f("throttle_time_ms", I32).from(3),
        f("brokers", Structs(METADATA_RESP_BROKER)),
        f("cluster_id", Str).from(2).null(),
        f("controller_id", I32).from(1),
        f("topics", Structs(METADATA_RESP_TOPIC)),
        f("cluster_authorized_operations", I32).within(8, 10),
        f("error_code", I16).from(13),
    ],
);

// ---------------------------------------------------------------- OffsetCommit (8)

const OFFSET_COMMIT_REQ_PARTITION: &[Field] = &[
    f("partition_index", I32),
    f("committed_offset", I64),
    f("committed_leader_epoch", I32).from(6),
    f("committed_metadata", Str).null(),
];
const OFFSET_COMMIT_REQ_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Structs(OFFSET_COMMIT_REQ_PARTITION)),
];
const OFFSET_COMMIT_REQ: Schema = schema(
    "OffsetCommitRequest",
    8,
    &[
        f("group_id", Str),
        f("generation_id_or_member_epoch", I32),
        f("member_id", Str),
        f("group_instance_id", Str).from(7).null(),
        f("retention_time_ms", I64).until(4),
        f("topics", Structs(OFFSET_COMMIT_REQ_TOPIC)),
    ],
);
const OFFSET_COMMIT_RESP_PARTITION: &[Field] = &[f("partition_index", I32), f("error_code", I16)];
const OFFSET_COMMIT_RESP_TOPIC: &[Field] = &[
    f("name", Str).until(9),
    f("topic_id", Uuid).from(10),
    f("partitions", Structs(OFFSET_COMMIT_RESP_PARTITION)),
];
const OFFSET_COMMIT_RESP: Schema = schema(
    "OffsetCommitResponse",
    8,
    &[
        f("throttle_time_ms", I32).from(3),
        f("topics", Structs(OFFSET_COMMIT_RESP_TOPIC)),
    ],
);

// ---------------------------------------------------------------- OffsetFetch (9)

const OFFSET_FETCH_REQ_TOPIC: &[Field] = &[
    f("name", Str).until(7),
    f("partition_indexes", I32s).until(7),
];
const OFFSET_FETCH_REQ_GROUP_TOPIC: &[Field] =
    &[f("name", Str).from(8), f("partition_indexes", I32s).from(8)];
const OFFSET_FETCH_REQ_GROUP: &[Field] = &[
    f("group_id", Str).from(8),
    f("member_id", Str).from(9).null(),
    f("member_epoch", I32).from(9),
    f("topics", Structs(OFFSET_FETCH_REQ_GROUP_TOPIC))
        .from(8)
        .null(),
];
const OFFSET_FETCH_REQ: Schema = schema(
    "OffsetFetchRequest",
    6,
    &[
        f("group_id", Str).until(7),
        f("topics", Structs(OFFSET_FETCH_REQ_TOPIC)).until(7).null(),
        f("groups", Structs(OFFSET_FETCH_REQ_GROUP)).from(8),
        f("require_stable", Bool).from(7),
    ],
);
const OFFSET_FETCH_RESP_PARTITION: &[Field] = &[
    f("partition_index", I32).until(7),
    f("committed_offset", I64).until(7),
    f("committed_leader_epoch", I32).within(5, 7),
    f("metadata", Str).until(7).null(),
    f("error_code", I16).until(7),
];
const OFFSET_FETCH_RESP_TOPIC: &[Field] = &[
    f("name", Str).until(7),
    f("partitions", Structs(OFFSET_FETCH_RESP_PARTITION)).until(7),
];
const OFFSET_FETCH_RESP_GROUP_PARTITION: &[Field] = &[
    f("partition_index", I32).from(8),
    f("committed_offset", I64).from(8),
    f("committed_leader_epoch", I32).from(8),
    f("metadata", Str).from(8).null(),
    f("error_code", I16).from(8),
];
const OFFSET_FETCH_RESP_GROUP_TOPIC: &[Field] = &[
    f("name", Str).within(8, 9),
    f("topic_id", Uuid).from(10),
    f("partitions", Structs(OFFSET_FETCH_RESP_GROUP_PARTITION)).from(8),
];
const OFFSET_FETCH_RESP_GROUP: &[Field] = &[
    f("group_id", Str).from(8),
    f("topics", Structs(OFFSET_FETCH_RESP_GROUP_TOPIC)).from(8),
    f("error_code", I16).from(8),
];
const OFFSET_FETCH_RESP: Schema = schema(
    "OffsetFetchResponse",
    6,
    &[
        f("throttle_time_ms", I32).from(3),
        f("topics", Structs(OFFSET_FETCH_RESP_TOPIC)).until(7),
        f("error_code", I16).within(2, 7),
        f("groups", Structs(OFFSET_FETCH_RESP_GROUP)).from(8),
    ],
);

// ---------------------------------------------------------------- FindCoordinator (10)

const FIND_COORDINATOR_REQ: Schema = schema(
    "FindCoordinatorRequest",
    3,
    &[
        f("key", Str).until(3),
        f("key_type", I8).from(1),
        f("coordinator_keys", Strs).from(4),
    ],
);
const FIND_COORDINATOR_RESP_COORDINATOR: &[Field] = &[
    f("key", Str).from(4),
    f("node_id", I32).from(4),
    f("host", Str).from(4),
    f("port", I32).from(4),
    f("error_code", I16).from(4),
    f("error_message", Str).from(4).null(),
];
const FIND_COORDINATOR_RESP: Schema = schema(
    "FindCoordinatorResponse",
    3,
    &[
        f("throttle_time_ms", I32).from(1),
        f("error_code", I16).until(3),
        f("error_message", Str).within(1, 3).null(),
        f("node_id", I32).until(3),
        f("host", Str).until(3),
        f("port", I32).until(3),
        f("coordinators", Structs(FIND_COORDINATOR_RESP_COORDINATOR)).from(4),
    ],
);

// ---------------------------------------------------------------- JoinGroup (11)

const JOIN_GROUP_REQ_PROTOCOL: &[Field] = &[f("name", Str), f("metadata", Bytes)];
const JOIN_GROUP_REQ: Schema = schema(
    "JoinGroupRequest",
    6,
    &[
        f("group_id", Str),
        f("session_timeout_ms", I32),
        f("rebalance_timeout_ms", I32).from(1),
        f("member_id", Str),
        f("group_instance_id", Str).from(5).null(),
        f("protocol_type", Str),
        f("protocols", Structs(JOIN_GROUP_REQ_PROTOCOL)),
        f("reason", Str).from(8).null(),
    ],
);
const JOIN_GROUP_RESP_MEMBER: &[Field] = &[
    f("member_id", Str),
    f("group_instance_id", Str).from(5).null(),
    f("metadata", Bytes),
];
const JOIN_GROUP_RESP: Schema = schema(
    "JoinGroupResponse",
    6,
    &[
        f("throttle_time_ms", I32).from(2),
        f("error_code", I16),
        f("generation_id", I32),
        f("protocol_type", Str).from(7).null(),
        f("protocol_name", Str).null(),
        f("leader", Str),
        f("skip_assignment", Bool).from(9),
        f("member_id", Str),
        f("members", Structs(JOIN_GROUP_RESP_MEMBER)),
    ],
);

// ---------------------------------------------------------------- Heartbeat (12)

const HEARTBEAT_REQ: Schema = schema(
    "HeartbeatRequest",
    4,
    &[
        f("group_id", Str),
        f("generation_id", I32),
        f("member_id", Str),
        f("group_instance_id", Str).from(3).null(),
    ],
);
const HEARTBEAT_RESP: Schema = schema(
    "HeartbeatResponse",
    4,
    &[f("throttle_time_ms", I32).from(1), f("error_code", I16)],
);

// ---------------------------------------------------------------- LeaveGroup (13)

const LEAVE_GROUP_REQ_MEMBER: &[Field] = &[
    f("member_id", Str).from(3),
    f("group_instance_id", Str).from(3).null(),
    f("reason", Str).from(5).null(),
];
const LEAVE_GROUP_REQ: Schema = schema(
    "LeaveGroupRequest",
    4,
    &[
        f("group_id", Str),
        f("member_id", Str).until(2),
        f("members", Structs(LEAVE_GROUP_REQ_MEMBER)).from(3),
    ],
);
const LEAVE_GROUP_RESP_MEMBER: &[Field] = &[
    f("member_id", Str).from(3),
    f("group_instance_id", Str).from(3).null(),
    f("error_code", I16).from(3),
];
const LEAVE_GROUP_RESP: Schema = schema(
    "LeaveGroupResponse",
    4,
    &[
        f("throttle_time_ms", I32).from(1),
        f("error_code", I16),
        f("members", Structs(LEAVE_GROUP_RESP_MEMBER)).from(3),
    ],
);

// ---------------------------------------------------------------- SyncGroup (14)

const SYNC_GROUP_REQ_ASSIGNMENT: &[Field] = &[f("member_id", Str), f("assignment", Bytes)];
const SYNC_GROUP_REQ: Schema = schema(
    "SyncGroupRequest",
    4,
    &[
        f("group_id", Str),
        f("generation_id", I32),
        f("member_id", Str),
        f("group_instance_id", Str).from(3).null(),
        f("protocol_type", Str).from(5).null(),
        f("protocol_name", Str).from(5).null(),
        f("assignments", Structs(SYNC_GROUP_REQ_ASSIGNMENT)),
    ],
);
const SYNC_GROUP_RESP: Schema = schema(
    "SyncGroupResponse",
    4,
    &[
        f("throttle_time_ms", I32).from(1),
        f("error_code", I16),
        f("protocol_type", Str).from(5).null(),
        f("protocol_name", Str).from(5).null(),
        f("assignment", Bytes),
    ],
);

// ---------------------------------------------------------------- DescribeGroups (15)

const DESCRIBE_GROUPS_REQ: Schema = schema(
    "DescribeGroupsRequest",
    5,
    &[
        f("groups", Strs),
        f("include_authorized_operations", Bool).from(3),
    ],
);
const DESCRIBE_GROUPS_RESP_MEMBER: &[Field] = &[
    f("member_id", Str),
    f("group_instance_id", Str).from(4).null(),
    f("client_id", Str),
    f("client_host", Str),
    f("member_metadata", Bytes),
    f("member_assignment", Bytes),
];
const DESCRIBE_GROUPS_RESP_GROUP: &[Field] = &[
    f("error_code", I16),
    f("error_message", Str).from(6).null(),
    f("group_id", Str),
    f("group_state", Str),
    f("protocol_type", Str),
    f("protocol_data", Str),
    f("members", Structs(DESCRIBE_GROUPS_RESP_MEMBER)),
    f("authorized_operations", I32).from(3),
];
const DESCRIBE_GROUPS_RESP: Schema = schema(
    "DescribeGroupsResponse",
    5,
    &[
        f("throttle_time_ms", I32).from(1),
        f("groups", Structs(DESCRIBE_GROUPS_RESP_GROUP)),
    ],
);

// ---------------------------------------------------------------- ListGroups (16)

const LIST_GROUPS_REQ: Schema = schema(
    "ListGroupsRequest",
    3,
    &[
        f("states_filter", Strs).from(4),
        f("types_filter", Strs).from(5),
    ],
);
const LIST_GROUPS_RESP_GROUP: &[Field] = &[
    f("group_id", Str),
    f("protocol_type", Str),
    f("group_state", Str).from(4),
    f("group_type", Str).from(5),
];
const LIST_GROUPS_RESP: Schema = schema(
    "ListGroupsResponse",
    3,
    &[
        f("throttle_time_ms", I32).from(1),
        f("error_code", I16),
        f("groups", Structs(LIST_GROUPS_RESP_GROUP)),
    ],
);

// ---------------------------------------------------------------- ApiVersions (18)

const API_VERSIONS_REQ: Schema = schema(
    "ApiVersionsRequest",
    3,
    &[
        f("client_software_name", Str).from(3),
        f("client_software_version", Str).from(3),
    ],
);
const API_VERSIONS_RESP_KEY: &[Field] = &[
    f("api_key", I16),
    f("min_version", I16),
    f("max_version", I16),
];
const API_VERSIONS_RESP_SUPPORTED: &[Field] = &[
    f("name", Str).from(3),
    f("min_version", I16).from(3),
    f("max_version", I16).from(3),
];
const API_VERSIONS_RESP_FINALIZED: &[Field] = &[
    f("name", Str).from(3),
    f("max_version_level", I16).from(3),
    f("min_version_level", I16).from(3),
];
const API_VERSIONS_RESP: Schema = schema(
    "ApiVersionsResponse",
    3,
    &[
        f("error_code", I16),
        f("api_keys", Structs(API_VERSIONS_RESP_KEY)),
        f("throttle_time_ms", I32).from(1),
        f("supported_features", Structs(API_VERSIONS_RESP_SUPPORTED)).tag(0),
        f("finalized_features_epoch", I64).tag(1),
        f("finalized_features", Structs(API_VERSIONS_RESP_FINALIZED)).tag(2),
        f("zk_migration_ready", Bool).tag(3),
    ],
);

// ---------------------------------------------------------------- CreateTopics (19)

const CREATE_TOPICS_REQ_ASSIGNMENT: &[Field] = &[f("partition_index", I32), f("broker_ids", I32s)];
const CREATE_TOPICS_REQ_CONFIG: &[Field] = &[f("name", Str), f("value", Str).null()];
const CREATE_TOPICS_REQ_TOPIC: &[Field] = &[
    f("name", Str),
    f("num_partitions", I32),
    f("replication_factor", I16),
    f("assignments", Structs(CREATE_TOPICS_REQ_ASSIGNMENT)),
    f("configs", Structs(CREATE_TOPICS_REQ_CONFIG)),
];
const CREATE_TOPICS_REQ: Schema = schema(
    "CreateTopicsRequest",
    5,
    &[
        f("topics", Structs(CREATE_TOPICS_REQ_TOPIC)),
        f("timeout_ms", I32),
        f("validate_only", Bool),
    ],
);
const CREATE_TOPICS_RESP_CONFIG: &[Field] = &[
    f("name", Str).from(5),
    f("value", Str).from(5).null(),
    f("read_only", Bool).from(5),
    f("config_source", I8).from(5),
    f("is_sensitive", Bool).from(5),
];
const CREATE_TOPICS_RESP_TOPIC: &[Field] = &[
    f("name", Str),
    f("topic_id", Uuid).from(7),
    f("error_code", I16),
    f("error_message", Str).null(),
    f("topic_config_error_code", I16).tag(0),
    f("num_partitions", I32).from(5),
    f("replication_factor", I16).from(5),
    f("configs", Structs(CREATE_TOPICS_RESP_CONFIG))
        .from(5)
        .null(),
];
const CREATE_TOPICS_RESP: Schema = schema(
    "CreateTopicsResponse",
    5,
    &[
        f("throttle_time_ms", I32),
        f("topics", Structs(CREATE_TOPICS_RESP_TOPIC)),
    ],
);

// ---------------------------------------------------------------- DeleteTopics (20)

const DELETE_TOPICS_REQ_TOPIC: &[Field] =
    &[f("name", Str).from(6).null(), f("topic_id", Uuid).from(6)];
const DELETE_TOPICS_REQ: Schema = schema(
    "DeleteTopicsRequest",
    4,
    &[
        f("topics", Structs(DELETE_TOPICS_REQ_TOPIC)).from(6),
        f("topic_names", Strs).until(5),
        f("timeout_ms", I32),
    ],
);
const DELETE_TOPICS_RESP_TOPIC: &[Field] = &[
    f("name", Str).null(),
    f("topic_id", Uuid).from(6),
    f("error_code", I16),
    f("error_message", Str).from(5).null(),
];
const DELETE_TOPICS_RESP: Schema = schema(
    "DeleteTopicsResponse",
    4,
    &[
        f("throttle_time_ms", I32),
        f("responses", Structs(DELETE_TOPICS_RESP_TOPIC)),
    ],
);

// ---------------------------------------------------------------- DeleteRecords (21)

const DELETE_RECORDS_REQ_PARTITION: &[Field] = &[f("partition_index", I32), f("offset", I64)];
const DELETE_RECORDS_REQ_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Structs(DELETE_RECORDS_REQ_PARTITION)),
];
const DELETE_RECORDS_REQ: Schema = schema(
    "DeleteRecordsRequest",
    2,
    &[
        f("topics", Structs(DELETE_RECORDS_REQ_TOPIC)),
        f("timeout_ms", I32),
    ],
);
const DELETE_RECORDS_RESP_PARTITION: &[Field] = &[
    f("partition_index", I32),
    f("low_watermark", I64),
    f("error_code", I16),
];
const DELETE_RECORDS_RESP_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Structs(DELETE_RECORDS_RESP_PARTITION)),
];
const DELETE_RECORDS_RESP: Schema = schema(
    "DeleteRecordsResponse",
    2,
    &[
        f("throttle_time_ms", I32),
        f("topics", Structs(DELETE_RECORDS_RESP_TOPIC)),
    ],
);

// ---------------------------------------------------------------- InitProducerId (22)

const INIT_PRODUCER_ID_REQ: Schema = schema(
    "InitProducerIdRequest",
    2,
    &[
        f("transactional_id", Str).null(),
        f("transaction_timeout_ms", I32),
        f("producer_id", I64).from(3),
        f("producer_epoch", I16).from(3),
    ],
);
const INIT_PRODUCER_ID_RESP: Schema = schema(
    "InitProducerIdResponse",
    2,
    &[
        f("throttle_time_ms", I32),
        f("error_code", I16),
        f("producer_id", I64),
        f("producer_epoch", I16),
        f("ongoing_txn_producer_id", I64).from(6),
        f("ongoing_txn_producer_epoch", I16).from(6),
    ],
);

// ---------------------------------------------------------------- OffsetForLeaderEpoch (23)

const OFFSET_FOR_LEADER_EPOCH_REQ_PARTITION: &[Field] = &[
    f("partition", I32),
    f("current_leader_epoch", I32),
    f("leader_epoch", I32),
];
const OFFSET_FOR_LEADER_EPOCH_REQ_TOPIC: &[Field] = &[
    f("topic", Str),
    f("partitions", Structs(OFFSET_FOR_LEADER_EPOCH_REQ_PARTITION)),
];
const OFFSET_FOR_LEADER_EPOCH_REQ: Schema = schema(
    "OffsetForLeaderEpochRequest",
    4,
    &[
        f("replica_id", I32).from(3),
        f("topics", Structs(OFFSET_FOR_LEADER_EPOCH_REQ_TOPIC)),
    ],
);
const OFFSET_FOR_LEADER_EPOCH_RESP_PARTITION: &[Field] = &[
    f("error_code", I16),
    f("partition", I32),
    f("leader_epoch", I32),
    f("end_offset", I64),
];
const OFFSET_FOR_LEADER_EPOCH_RESP_TOPIC: &[Field] = &[
    f("topic", Str),
    f(
        "partitions",
        Structs(OFFSET_FOR_LEADER_EPOCH_RESP_PARTITION),
    ),
];
const OFFSET_FOR_LEADER_EPOCH_RESP: Schema = schema(
    "OffsetForLeaderEpochResponse",
    4,
    &[
        f("throttle_time_ms", I32),
        f("topics", Structs(OFFSET_FOR_LEADER_EPOCH_RESP_TOPIC)),
    ],
);

// ---------------------------------------------------------------- DescribeConfigs (32)

const DESCRIBE_CONFIGS_REQ_RESOURCE: &[Field] = &[
    f("resource_type", I8),
    f("resource_name", Str),
    f("configuration_keys", Strs).null(),
];
const DESCRIBE_CONFIGS_REQ: Schema = schema(
    "DescribeConfigsRequest",
    4,
    &[
        f("resources", Structs(DESCRIBE_CONFIGS_REQ_RESOURCE)),
        f("include_synonyms", Bool),
        f("include_documentation", Bool).from(3),
    ],
);
const DESCRIBE_CONFIGS_RESP_SYNONYM: &[Field] =
    &[f("name", Str), f("value", Str).null(), f("source", I8)];
const DESCRIBE_CONFIGS_RESP_CONFIG: &[Field] = &[
    f("name", Str),
    f("value", Str).null(),
    f("read_only", Bool),
    f("config_source", I8),
    f("is_sensitive", Bool),
    f("synonyms", Structs(DESCRIBE_CONFIGS_RESP_SYNONYM)),
    f("config_type", I8).from(3),
    f("documentation", Str).from(3).null(),
];
const DESCRIBE_CONFIGS_RESP_RESULT: &[Field] = &[
    f("error_code", I16),
    f("error_message", Str).null(),
    f("resource_type", I8),
    f("resource_name", Str),
    f("configs", Structs(DESCRIBE_CONFIGS_RESP_CONFIG)),
];
const DESCRIBE_CONFIGS_RESP: Schema = schema(
    "DescribeConfigsResponse",
    4,
    &[
        f("throttle_time_ms", I32),
        f("results", Structs(DESCRIBE_CONFIGS_RESP_RESULT)),
    ],
);

// ---------------------------------------------------------------- CreatePartitions (37)

const CREATE_PARTITIONS_REQ_ASSIGNMENT: &[Field] = &[f("broker_ids", I32s)];
const CREATE_PARTITIONS_REQ_TOPIC: &[Field] = &[
    f("name", Str),
    f("count", I32),
    f("assignments", Structs(CREATE_PARTITIONS_REQ_ASSIGNMENT)).null(),
];
const CREATE_PARTITIONS_REQ: Schema = schema(
    "CreatePartitionsRequest",
    2,
    &[
        f("topics", Structs(CREATE_PARTITIONS_REQ_TOPIC)),
        f("timeout_ms", I32),
        f("validate_only", Bool),
    ],
);
const CREATE_PARTITIONS_RESP_RESULT: &[Field] = &[
    f("name", Str),
    f("error_code", I16),
    f("error_message", Str).null(),
];
const CREATE_PARTITIONS_RESP: Schema = schema(
    "CreatePartitionsResponse",
    2,
    &[
        f("throttle_time_ms", I32),
        f("results", Structs(CREATE_PARTITIONS_RESP_RESULT)),
    ],
);

// ---------------------------------------------------------------- DeleteGroups (42)

const DELETE_GROUPS_REQ: Schema = schema("DeleteGroupsRequest", 2, &[f("groups_names", Strs)]);
const DELETE_GROUPS_RESP_RESULT: &[Field] = &[f("group_id", Str), f("error_code", I16)];
const DELETE_GROUPS_RESP: Schema = schema(
    "DeleteGroupsResponse",
    2,
    &[
        f("throttle_time_ms", I32),
        f("results", Structs(DELETE_GROUPS_RESP_RESULT)),
    ],
);

// ---------------------------------------------------------------- OffsetDelete (47)

const OFFSET_DELETE_REQ_PARTITION: &[Field] = &[f("partition_index", I32)];
const OFFSET_DELETE_REQ_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Structs(OFFSET_DELETE_REQ_PARTITION)),
];
const OFFSET_DELETE_REQ: Schema = schema(
    "OffsetDeleteRequest",
    NEVER,
    &[
        f("group_id", Str),
        f("topics", Structs(OFFSET_DELETE_REQ_TOPIC)),
    ],
);
const OFFSET_DELETE_RESP_PARTITION: &[Field] = &[f("partition_index", I32), f("error_code", I16)];
const OFFSET_DELETE_RESP_TOPIC: &[Field] = &[
    f("name", Str),
    f("partitions", Structs(OFFSET_DELETE_RESP_PARTITION)),
];
const OFFSET_DELETE_RESP: Schema = schema(
    "OffsetDeleteResponse",
    NEVER,
    &[
        f("error_code", I16),
        f("throttle_time_ms", I32),
        f("topics", Structs(OFFSET_DELETE_RESP_TOPIC)),
    ],
);

// ---------------------------------------------------------------- DescribeCluster (60)

const DESCRIBE_CLUSTER_REQ: Schema = schema(
    "DescribeClusterRequest",
    0,
    &[
        f("include_cluster_authorized_operations", Bool),
        f("endpoint_type", I8).from(1),
        f("include_fenced_brokers", Bool).from(2),
    ],
);
const DESCRIBE_CLUSTER_RESP_BROKER: &[Field] = &[
    f("broker_id", I32),
    f("host", Str),
    f("port", I32),
    f("rack", Str).null(),
    f("is_fenced", Bool).from(2),
];
const DESCRIBE_CLUSTER_RESP: Schema = schema(
    "DescribeClusterResponse",
    0,
    &[
        f("throttle_time_ms", I32),
        f("error_code", I16),
        f("error_message", Str).null(),
        f("endpoint_type", I8).from(1),
        f("cluster_id", Str),
        f("controller_id", I32),
        f("brokers", Structs(DESCRIBE_CLUSTER_RESP_BROKER)),
        f("cluster_authorized_operations", I32),
    ],
);

// ---------------------------------------------------------------- lookup

/// The request and response schemas of `key`, if mockafka serves it.
pub fn schemas(key: ApiKey) -> Option<(&'static Schema, &'static Schema)> {
    Some(match key {
        ApiKey::Produce => (&PRODUCE_REQ, &PRODUCE_RESP),
        ApiKey::Fetch => (&FETCH_REQ, &FETCH_RESP),
        ApiKey::ListOffsets => (&LIST_OFFSETS_REQ, &LIST_OFFSETS_RESP),
        ApiKey::Metadata => (&METADATA_REQ, &METADATA_RESP),
        ApiKey::OffsetCommit => (&OFFSET_COMMIT_REQ, &OFFSET_COMMIT_RESP),
        ApiKey::OffsetFetch => (&OFFSET_FETCH_REQ, &OFFSET_FETCH_RESP),
        ApiKey::FindCoordinator => (&FIND_COORDINATOR_REQ, &FIND_COORDINATOR_RESP),
        ApiKey::JoinGroup => (&JOIN_GROUP_REQ, &JOIN_GROUP_RESP),
        ApiKey::Heartbeat => (&HEARTBEAT_REQ, &HEARTBEAT_RESP),
        ApiKey::LeaveGroup => (&LEAVE_GROUP_REQ, &LEAVE_GROUP_RESP),
        ApiKey::SyncGroup => (&SYNC_GROUP_REQ, &SYNC_GROUP_RESP),
        ApiKey::DescribeGroups => (&DESCRIBE_GROUPS_REQ, &DESCRIBE_GROUPS_RESP),
        ApiKey::ListGroups => (&LIST_GROUPS_REQ, &LIST_GROUPS_RESP),
        ApiKey::ApiVersions => (&API_VERSIONS_REQ, &API_VERSIONS_RESP),
        ApiKey::CreateTopics => (&CREATE_TOPICS_REQ, &CREATE_TOPICS_RESP),
        ApiKey::DeleteTopics => (&DELETE_TOPICS_REQ, &DELETE_TOPICS_RESP),
        ApiKey::DeleteRecords => (&DELETE_RECORDS_REQ, &DELETE_RECORDS_RESP),
        ApiKey::InitProducerId => (&INIT_PRODUCER_ID_REQ, &INIT_PRODUCER_ID_RESP),
        ApiKey::OffsetForLeaderEpoch => {
            (&OFFSET_FOR_LEADER_EPOCH_REQ, &OFFSET_FOR_LEADER_EPOCH_RESP)
        }
        ApiKey::DescribeConfigs => (&DESCRIBE_CONFIGS_REQ, &DESCRIBE_CONFIGS_RESP),
        ApiKey::CreatePartitions => (&CREATE_PARTITIONS_REQ, &CREATE_PARTITIONS_RESP),
        ApiKey::DeleteGroups => (&DELETE_GROUPS_REQ, &DELETE_GROUPS_RESP),
        ApiKey::OffsetDelete => (&OFFSET_DELETE_REQ, &OFFSET_DELETE_RESP),
        ApiKey::DescribeCluster => (&DESCRIBE_CLUSTER_REQ, &DESCRIBE_CLUSTER_RESP),
        _ => return None,
    })
}

/// The request schema of `key`, if served.
pub fn request_schema(key: ApiKey) -> Option<&'static Schema> {
    schemas(key).map(|(req, _)| req)
}

/// The response schema of `key`, if served.
pub fn response_schema(key: ApiKey) -> Option<&'static Schema> {
    schemas(key).map(|(_, resp)| resp)
}
