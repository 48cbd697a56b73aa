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
const fn f(ty: Ty) -> Field {
    Field {
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
        f(I16),                  // request_api_key
        f(I16),                  // request_api_version
        f(I32),                  // correlation_id
        f(Str16).from(1).null(), // client_id
    ],
);

/// Response header, versions 0-1 (flexible from 1).
pub const RESPONSE_HEADER: Schema = schema("ResponseHeader", 1, &[f(I32)]);

// ---------------------------------------------------------------- Produce (0)

const PRODUCE_REQ_PARTITION: &[Field] = &[
    f(I32),            // index
    f(Records).null(), // records
];
const PRODUCE_REQ_TOPIC: &[Field] = &[
    f(Str).until(12),                  // name
    f(Uuid).from(13),                  // topic_id
    f(Structs(PRODUCE_REQ_PARTITION)), // partition_data
];
const PRODUCE_REQ: Schema = schema(
    "ProduceRequest",
    9,
    &[
        f(Str).null(),                 // transactional_id
        f(I16),                        // acks
        f(I32),                        // timeout_ms
        f(Structs(PRODUCE_REQ_TOPIC)), // topic_data
    ],
);

const PRODUCE_RESP_RECORD_ERROR: &[Field] = &[
    f(I32).from(8),        // batch_index
    f(Str).from(8).null(), // batch_index_error_message
];
const PRODUCE_RESP_LEADER: &[Field] = &[
    f(I32).from(10), // leader_id
    f(I32).from(10), // leader_epoch
];
const PRODUCE_RESP_NODE: &[Field] = &[
    f(I32).from(10),        // node_id
    f(Str).from(10),        // host
    f(I32).from(10),        // port
    f(Str).from(10).null(), // rack
];
const PRODUCE_RESP_PARTITION: &[Field] = &[
    f(I32),                                         // index
    f(I16),                                         // error_code
    f(I64),                                         // base_offset
    f(I64),                                         // log_append_time_ms
    f(I64).from(5),                                 // log_start_offset
    f(Structs(PRODUCE_RESP_RECORD_ERROR)).from(8),  // record_errors
    f(Str).from(8).null(),                          // error_message
    f(Struct(PRODUCE_RESP_LEADER)).from(10).tag(0), // current_leader
];
const PRODUCE_RESP_TOPIC: &[Field] = &[
    f(Str).until(12),                   // name
    f(Uuid).from(13),                   // topic_id
    f(Structs(PRODUCE_RESP_PARTITION)), // partition_responses
];
const PRODUCE_RESP: Schema = schema(
    "ProduceResponse",
    9,
    &[
        f(Structs(PRODUCE_RESP_TOPIC)),                // responses
        f(I32),                                        // throttle_time_ms
        f(Structs(PRODUCE_RESP_NODE)).from(10).tag(0), // node_endpoints
    ],
);

// ---------------------------------------------------------------- Fetch (1)

const FETCH_REQ_PARTITION: &[Field] = &[
    f(I32),                  // partition
    f(I32).from(9),          // current_leader_epoch
    f(I64),                  // fetch_offset
    f(I32).from(12),         // last_fetched_epoch
    f(I64).from(5),          // log_start_offset
    f(I32),                  // partition_max_bytes
    f(Uuid).from(17).tag(0), // replica_directory_id
    f(I64).from(18).tag(1),  // high_watermark
];
const FETCH_REQ_TOPIC: &[Field] = &[
    f(Str).until(12),                // topic
    f(Uuid).from(13),                // topic_id
    f(Structs(FETCH_REQ_PARTITION)), // partitions
];
const FETCH_REQ_FORGOTTEN: &[Field] = &[
    f(Str).within(7, 12), // topic
    f(Uuid).from(13),     // topic_id
    f(I32s).from(7),      // partitions
];
const FETCH_REQ_REPLICA_STATE: &[Field] = &[
    f(I32).from(15), // replica_id
    f(I64).from(15), // replica_epoch
];
const FETCH_REQ: Schema = schema(
    "FetchRequest",
    12,
    &[
        f(Str).null().tag(0),                               // cluster_id
        f(I32).until(14),                                   // replica_id
        f(Struct(FETCH_REQ_REPLICA_STATE)).from(15).tag(1), // replica_state
        f(I32),                                             // max_wait_ms
        f(I32),                                             // min_bytes
        f(I32),                                             // max_bytes
        f(I8),                                              // isolation_level
        f(I32).from(7),                                     // session_id
        f(I32).from(7),                                     // session_epoch
        f(Structs(FETCH_REQ_TOPIC)),                        // topics
        f(Structs(FETCH_REQ_FORGOTTEN)).from(7),            // forgotten_topics_data
        f(Str).from(11),                                    // rack_id
    ],
);

const FETCH_RESP_ABORTED: &[Field] = &[
    f(I64), // producer_id
    f(I64), // first_offset
];
const FETCH_RESP_EPOCH_END: &[Field] = &[
    f(I32).from(12), // epoch
    f(I64).from(12), // end_offset
];
const FETCH_RESP_LEADER: &[Field] = &[
    f(I32).from(12), // leader_id
    f(I32).from(12), // leader_epoch
];
const FETCH_RESP_SNAPSHOT: &[Field] = &[
    f(I64), // end_offset
    f(I32), // epoch
];
const FETCH_RESP_NODE: &[Field] = &[
    f(I32).from(16),        // node_id
    f(Str).from(16),        // host
    f(I32).from(16),        // port
    f(Str).from(16).null(), // rack
];
const FETCH_RESP_PARTITION: &[Field] = &[
    f(I32),                                 // partition_index
    f(I16),                                 // error_code
    f(I64),                                 // high_watermark
    f(I64),                                 // last_stable_offset
    f(I64).from(5),                         // log_start_offset
    f(Struct(FETCH_RESP_EPOCH_END)).tag(0), // diverging_epoch
    f(Struct(FETCH_RESP_LEADER)).tag(1),    // current_leader
    f(Struct(FETCH_RESP_SNAPSHOT)).tag(2),  // snapshot_id
    f(Structs(FETCH_RESP_ABORTED)).null(),  // aborted_transactions
    f(I32).from(11),                        // preferred_read_replica
    f(Records).null(),                      // records
];
const FETCH_RESP_TOPIC: &[Field] = &[
    f(Str).until(12),                 // topic
    f(Uuid).from(13),                 // topic_id
    f(Structs(FETCH_RESP_PARTITION)), // partitions
];
const FETCH_RESP: Schema = schema(
    "FetchResponse",
    12,
    &[
        f(I32),                                      // throttle_time_ms
        f(I16).from(7),                              // error_code
        f(I32).from(7),                              // session_id
        f(Structs(FETCH_RESP_TOPIC)),                // responses
        f(Structs(FETCH_RESP_NODE)).from(16).tag(0), // node_endpoints
    ],
);

// ---------------------------------------------------------------- ListOffsets (2)

const LIST_OFFSETS_REQ_PARTITION: &[Field] = &[
    f(I32),         // partition_index
    f(I32).from(4), // current_leader_epoch
    f(I64),         // timestamp
];
const LIST_OFFSETS_REQ_TOPIC: &[Field] = &[
    f(Str),                                 // name
    f(Structs(LIST_OFFSETS_REQ_PARTITION)), // partitions
];
const LIST_OFFSETS_REQ: Schema = schema(
    "ListOffsetsRequest",
    6,
    &[
        f(I32),                             // replica_id
        f(I8).from(2),                      // isolation_level
        f(Structs(LIST_OFFSETS_REQ_TOPIC)), // topics
        f(I32).from(10),                    // timeout_ms
    ],
);
const LIST_OFFSETS_RESP_PARTITION: &[Field] = &[
    f(I32),         // partition_index
    f(I16),         // error_code
    f(I64),         // timestamp
    f(I64),         // offset
    f(I32).from(4), // leader_epoch
];
const LIST_OFFSETS_RESP_TOPIC: &[Field] = &[
    f(Str),                                  // name
    f(Structs(LIST_OFFSETS_RESP_PARTITION)), // partitions
];
const LIST_OFFSETS_RESP: Schema = schema(
    "ListOffsetsResponse",
    6,
    &[
        f(I32).from(2),                      // throttle_time_ms
        f(Structs(LIST_OFFSETS_RESP_TOPIC)), // topics
    ],
);

// ---------------------------------------------------------------- Metadata (3)

const METADATA_REQ_TOPIC: &[Field] = &[
    f(Uuid).from(10), // topic_id
    f(Str).null(),    // name
];
const METADATA_REQ: Schema = schema(
    "MetadataRequest",
    9,
    &[
        f(Structs(METADATA_REQ_TOPIC)).null_from(1), // topics
        f(Bool).from(4),                             // allow_auto_topic_creation
        f(Bool).within(8, 10),                       // include_cluster_authorized_operations
        f(Bool).from(8),                             // include_topic_authorized_operations
    ],
);
const METADATA_RESP_BROKER: &[Field] = &[
    f(I32),                // node_id
    f(Str),                // host
    f(I32),                // port
    f(Str).from(1).null(), // rack
];
const METADATA_RESP_PARTITION: &[Field] = &[
    f(I16),          // error_code
    f(I32),          // partition_index
    f(I32),          // leader_id
    f(I32).from(7),  // leader_epoch
    f(I32s),         // replica_nodes
    f(I32s),         // isr_nodes
    f(I32s).from(5), // offline_replicas
];
const METADATA_RESP_TOPIC: &[Field] = &[
    f(I16),                              // error_code
    f(Str).null(),                       // name
    f(Uuid).from(10),                    // topic_id
    f(Bool).from(1),                     // is_internal
    f(Structs(METADATA_RESP_PARTITION)), // partitions
    f(I32).from(8),                      // topic_authorized_operations
];
const METADATA_RESP: Schema = schema(
    "MetadataResponse",
    9,
    &[
        f(I32).from(3),                   // throttle_time_ms
        f(Structs(METADATA_RESP_BROKER)), // brokers
        f(Str).from(2).null(),            // cluster_id
        f(I32).from(1),                   // controller_id
        f(Structs(METADATA_RESP_TOPIC)),  // topics
        f(I32).within(8, 10),             // cluster_authorized_operations
        f(I16).from(13),                  // error_code
    ],
);

// ---------------------------------------------------------------- OffsetCommit (8)

const OFFSET_COMMIT_REQ_PARTITION: &[Field] = &[
    f(I32),         // partition_index
    f(I64),         // committed_offset
    f(I32).from(6), // committed_leader_epoch
    f(Str).null(),  // committed_metadata
];
const OFFSET_COMMIT_REQ_TOPIC: &[Field] = &[
    f(Str),                                  // name
    f(Structs(OFFSET_COMMIT_REQ_PARTITION)), // partitions
];
const OFFSET_COMMIT_REQ: Schema = schema(
    "OffsetCommitRequest",
    8,
    &[
        f(Str),                              // group_id
        f(I32),                              // generation_id_or_member_epoch
        f(Str),                              // member_id
        f(Str).from(7).null(),               // group_instance_id
        f(I64).until(4),                     // retention_time_ms
        f(Structs(OFFSET_COMMIT_REQ_TOPIC)), // topics
    ],
);
const OFFSET_COMMIT_RESP_PARTITION: &[Field] = &[
    f(I32), // partition_index
    f(I16), // error_code
];
const OFFSET_COMMIT_RESP_TOPIC: &[Field] = &[
    f(Str).until(9),                          // name
    f(Uuid).from(10),                         // topic_id
    f(Structs(OFFSET_COMMIT_RESP_PARTITION)), // partitions
];
const OFFSET_COMMIT_RESP: Schema = schema(
    "OffsetCommitResponse",
    8,
    &[
        f(I32).from(3),                       // throttle_time_ms
        f(Structs(OFFSET_COMMIT_RESP_TOPIC)), // topics
    ],
);

// ---------------------------------------------------------------- OffsetFetch (9)

const OFFSET_FETCH_REQ_TOPIC: &[Field] = &[
    f(Str).until(7),  // name
    f(I32s).until(7), // partition_indexes
];
const OFFSET_FETCH_REQ_GROUP_TOPIC: &[Field] = &[
    f(Str).from(8),  // name
    f(I32s).from(8), // partition_indexes
];
const OFFSET_FETCH_REQ_GROUP: &[Field] = &[
    f(Str).from(8),                                          // group_id
    f(Str).from(9).null(),                                   // member_id
    f(I32).from(9),                                          // member_epoch
    f(Structs(OFFSET_FETCH_REQ_GROUP_TOPIC)).from(8).null(), // topics
];
const OFFSET_FETCH_REQ: Schema = schema(
    "OffsetFetchRequest",
    6,
    &[
        f(Str).until(7),                                    // group_id
        f(Structs(OFFSET_FETCH_REQ_TOPIC)).until(7).null(), // topics
        f(Structs(OFFSET_FETCH_REQ_GROUP)).from(8),         // groups
        f(Bool).from(7),                                    // require_stable
    ],
);
const OFFSET_FETCH_RESP_PARTITION: &[Field] = &[
    f(I32).until(7),        // partition_index
    f(I64).until(7),        // committed_offset
    f(I32).within(5, 7),    // committed_leader_epoch
    f(Str).until(7).null(), // metadata
    f(I16).until(7),        // error_code
];
const OFFSET_FETCH_RESP_TOPIC: &[Field] = &[
    f(Str).until(7),                                  // name
    f(Structs(OFFSET_FETCH_RESP_PARTITION)).until(7), // partitions
];
const OFFSET_FETCH_RESP_GROUP_PARTITION: &[Field] = &[
    f(I32).from(8),        // partition_index
    f(I64).from(8),        // committed_offset
    f(I32).from(8),        // committed_leader_epoch
    f(Str).from(8).null(), // metadata
    f(I16).from(8),        // error_code
];
const OFFSET_FETCH_RESP_GROUP_TOPIC: &[Field] = &[
    f(Str).within(8, 9),                                   // name
    f(Uuid).from(10),                                      // topic_id
    f(Structs(OFFSET_FETCH_RESP_GROUP_PARTITION)).from(8), // partitions
];
const OFFSET_FETCH_RESP_GROUP: &[Field] = &[
    f(Str).from(8),                                    // group_id
    f(Structs(OFFSET_FETCH_RESP_GROUP_TOPIC)).from(8), // topics
    f(I16).from(8),                                    // error_code
];
const OFFSET_FETCH_RESP: Schema = schema(
    "OffsetFetchResponse",
    6,
    &[
        f(I32).from(3),                               // throttle_time_ms
        f(Structs(OFFSET_FETCH_RESP_TOPIC)).until(7), // topics
        f(I16).within(2, 7),                          // error_code
        f(Structs(OFFSET_FETCH_RESP_GROUP)).from(8),  // groups
    ],
);

// ---------------------------------------------------------------- FindCoordinator (10)

const FIND_COORDINATOR_REQ: Schema = schema(
    "FindCoordinatorRequest",
    3,
    &[
        f(Str).until(3), // key
        f(I8).from(1),   // key_type
        f(Strs).from(4), // coordinator_keys
    ],
);
const FIND_COORDINATOR_RESP_COORDINATOR: &[Field] = &[
    f(Str).from(4),        // key
    f(I32).from(4),        // node_id
    f(Str).from(4),        // host
    f(I32).from(4),        // port
    f(I16).from(4),        // error_code
    f(Str).from(4).null(), // error_message
];
const FIND_COORDINATOR_RESP: Schema = schema(
    "FindCoordinatorResponse",
    3,
    &[
        f(I32).from(1),                                        // throttle_time_ms
        f(I16).until(3),                                       // error_code
        f(Str).within(1, 3).null(),                            // error_message
        f(I32).until(3),                                       // node_id
        f(Str).until(3),                                       // host
        f(I32).until(3),                                       // port
        f(Structs(FIND_COORDINATOR_RESP_COORDINATOR)).from(4), // coordinators
    ],
);

// ---------------------------------------------------------------- JoinGroup (11)

const JOIN_GROUP_REQ_PROTOCOL: &[Field] = &[
    f(Str),   // name
    f(Bytes), // metadata
];
const JOIN_GROUP_REQ: Schema = schema(
    "JoinGroupRequest",
    6,
    &[
        f(Str),                              // group_id
        f(I32),                              // session_timeout_ms
        f(I32).from(1),                      // rebalance_timeout_ms
        f(Str),                              // member_id
        f(Str).from(5).null(),               // group_instance_id
        f(Str),                              // protocol_type
        f(Structs(JOIN_GROUP_REQ_PROTOCOL)), // protocols
        f(Str).from(8).null(),               // reason
    ],
);
const JOIN_GROUP_RESP_MEMBER: &[Field] = &[
    f(Str),                // member_id
    f(Str).from(5).null(), // group_instance_id
    f(Bytes),              // metadata
];
const JOIN_GROUP_RESP: Schema = schema(
    "JoinGroupResponse",
    6,
    &[
        f(I32).from(2),                     // throttle_time_ms
        f(I16),                             // error_code
        f(I32),                             // generation_id
        f(Str).from(7).null(),              // protocol_type
        f(Str).null(),                      // protocol_name
        f(Str),                             // leader
        f(Bool).from(9),                    // skip_assignment
        f(Str),                             // member_id
        f(Structs(JOIN_GROUP_RESP_MEMBER)), // members
    ],
);

// ---------------------------------------------------------------- Heartbeat (12)

const HEARTBEAT_REQ: Schema = schema(
    "HeartbeatRequest",
    4,
    &[
        f(Str),                // group_id
        f(I32),                // generation_id
        f(Str),                // member_id
        f(Str).from(3).null(), // group_instance_id
    ],
);
const HEARTBEAT_RESP: Schema = schema(
    "HeartbeatResponse",
    4,
    &[
        f(I32).from(1), // throttle_time_ms
        f(I16),         // error_code
    ],
);

// ---------------------------------------------------------------- LeaveGroup (13)

const LEAVE_GROUP_REQ_MEMBER: &[Field] = &[
    f(Str).from(3),        // member_id
    f(Str).from(3).null(), // group_instance_id
    f(Str).from(5).null(), // reason
];
const LEAVE_GROUP_REQ: Schema = schema(
    "LeaveGroupRequest",
    4,
    &[
        f(Str),                                     // group_id
        f(Str).until(2),                            // member_id
        f(Structs(LEAVE_GROUP_REQ_MEMBER)).from(3), // members
    ],
);
const LEAVE_GROUP_RESP_MEMBER: &[Field] = &[
    f(Str).from(3),        // member_id
    f(Str).from(3).null(), // group_instance_id
    f(I16).from(3),        // error_code
];
const LEAVE_GROUP_RESP: Schema = schema(
    "LeaveGroupResponse",
    4,
    &[
        f(I32).from(1),                              // throttle_time_ms
        f(I16),                                      // error_code
        f(Structs(LEAVE_GROUP_RESP_MEMBER)).from(3), // members
    ],
);

// ---------------------------------------------------------------- SyncGroup (14)

const SYNC_GROUP_REQ_ASSIGNMENT: &[Field] = &[
    f(Str),   // member_id
    f(Bytes), // assignment
];
const SYNC_GROUP_REQ: Schema = schema(
    "SyncGroupRequest",
    4,
    &[
        f(Str),                                // group_id
        f(I32),                                // generation_id
        f(Str),                                // member_id
        f(Str).from(3).null(),                 // group_instance_id
        f(Str).from(5).null(),                 // protocol_type
        f(Str).from(5).null(),                 // protocol_name
        f(Structs(SYNC_GROUP_REQ_ASSIGNMENT)), // assignments
    ],
);
const SYNC_GROUP_RESP: Schema = schema(
    "SyncGroupResponse",
    4,
    &[
        f(I32).from(1),        // throttle_time_ms
        f(I16),                // error_code
        f(Str).from(5).null(), // protocol_type
        f(Str).from(5).null(), // protocol_name
        f(Bytes),              // assignment
    ],
);

// ---------------------------------------------------------------- DescribeGroups (15)

const DESCRIBE_GROUPS_REQ: Schema = schema(
    "DescribeGroupsRequest",
    5,
    &[
        f(Strs),         // groups
        f(Bool).from(3), // include_authorized_operations
    ],
);
const DESCRIBE_GROUPS_RESP_MEMBER: &[Field] = &[
    f(Str),                // member_id
    f(Str).from(4).null(), // group_instance_id
    f(Str),                // client_id
    f(Str),                // client_host
    f(Bytes),              // member_metadata
    f(Bytes),              // member_assignment
];
const DESCRIBE_GROUPS_RESP_GROUP: &[Field] = &[
    f(I16),                                  // error_code
    f(Str).from(6).null(),                   // error_message
    f(Str),                                  // group_id
    f(Str),                                  // group_state
    f(Str),                                  // protocol_type
    f(Str),                                  // protocol_data
    f(Structs(DESCRIBE_GROUPS_RESP_MEMBER)), // members
    f(I32).from(3),                          // authorized_operations
];
const DESCRIBE_GROUPS_RESP: Schema = schema(
    "DescribeGroupsResponse",
    5,
    &[
        f(I32).from(1),                         // throttle_time_ms
        f(Structs(DESCRIBE_GROUPS_RESP_GROUP)), // groups
    ],
);

// ---------------------------------------------------------------- ListGroups (16)

const LIST_GROUPS_REQ: Schema = schema(
    "ListGroupsRequest",
    3,
    &[
        f(Strs).from(4), // states_filter
        f(Strs).from(5), // types_filter
    ],
);
const LIST_GROUPS_RESP_GROUP: &[Field] = &[
    f(Str),         // group_id
    f(Str),         // protocol_type
    f(Str).from(4), // group_state
    f(Str).from(5), // group_type
];
const LIST_GROUPS_RESP: Schema = schema(
    "ListGroupsResponse",
    3,
    &[
        f(I32).from(1),                     // throttle_time_ms
        f(I16),                             // error_code
        f(Structs(LIST_GROUPS_RESP_GROUP)), // groups
    ],
);

// ---------------------------------------------------------------- ApiVersions (18)

const API_VERSIONS_REQ: Schema = schema(
    "ApiVersionsRequest",
    3,
    &[
        f(Str).from(3), // client_software_name
        f(Str).from(3), // client_software_version
    ],
);
const API_VERSIONS_RESP_KEY: &[Field] = &[
    f(I16), // api_key
    f(I16), // min_version
    f(I16), // max_version
];
const API_VERSIONS_RESP_SUPPORTED: &[Field] = &[
    f(Str).from(3), // name
    f(I16).from(3), // min_version
    f(I16).from(3), // max_version
];
const API_VERSIONS_RESP_FINALIZED: &[Field] = &[
    f(Str).from(3), // name
    f(I16).from(3), // max_version_level
    f(I16).from(3), // min_version_level
];
const API_VERSIONS_RESP: Schema = schema(
    "ApiVersionsResponse",
    3,
    &[
        f(I16),                                         // error_code
        f(Structs(API_VERSIONS_RESP_KEY)),              // api_keys
        f(I32).from(1),                                 // throttle_time_ms
        f(Structs(API_VERSIONS_RESP_SUPPORTED)).tag(0), // supported_features
        f(I64).tag(1),                                  // finalized_features_epoch
        f(Structs(API_VERSIONS_RESP_FINALIZED)).tag(2), // finalized_features
        f(Bool).tag(3),                                 // zk_migration_ready
    ],
);

// ---------------------------------------------------------------- CreateTopics (19)

const CREATE_TOPICS_REQ_ASSIGNMENT: &[Field] = &[
    f(I32),  // partition_index
    f(I32s), // broker_ids
];
const CREATE_TOPICS_REQ_CONFIG: &[Field] = &[
    f(Str),        // name
    f(Str).null(), // value
];
const CREATE_TOPICS_REQ_TOPIC: &[Field] = &[
    f(Str),                                   // name
    f(I32),                                   // num_partitions
    f(I16),                                   // replication_factor
    f(Structs(CREATE_TOPICS_REQ_ASSIGNMENT)), // assignments
    f(Structs(CREATE_TOPICS_REQ_CONFIG)),     // configs
];
const CREATE_TOPICS_REQ: Schema = schema(
    "CreateTopicsRequest",
    5,
    &[
        f(Structs(CREATE_TOPICS_REQ_TOPIC)), // topics
        f(I32),                              // timeout_ms
        f(Bool),                             // validate_only
    ],
);
const CREATE_TOPICS_RESP_CONFIG: &[Field] = &[
    f(Str).from(5),        // name
    f(Str).from(5).null(), // value
    f(Bool).from(5),       // read_only
    f(I8).from(5),         // config_source
    f(Bool).from(5),       // is_sensitive
];
const CREATE_TOPICS_RESP_TOPIC: &[Field] = &[
    f(Str),                                               // name
    f(Uuid).from(7),                                      // topic_id
    f(I16),                                               // error_code
    f(Str).null(),                                        // error_message
    f(I16).tag(0),                                        // topic_config_error_code
    f(I32).from(5),                                       // num_partitions
    f(I16).from(5),                                       // replication_factor
    f(Structs(CREATE_TOPICS_RESP_CONFIG)).from(5).null(), // configs
];
const CREATE_TOPICS_RESP: Schema = schema(
    "CreateTopicsResponse",
    5,
    &[
        f(I32),                               // throttle_time_ms
        f(Structs(CREATE_TOPICS_RESP_TOPIC)), // topics
    ],
);

// ---------------------------------------------------------------- DeleteTopics (20)

const DELETE_TOPICS_REQ_TOPIC: &[Field] = &[
    f(Str).from(6).null(), // name
    f(Uuid).from(6),       // topic_id
];
const DELETE_TOPICS_REQ: Schema = schema(
    "DeleteTopicsRequest",
    4,
    &[
        f(Structs(DELETE_TOPICS_REQ_TOPIC)).from(6), // topics
        f(Strs).until(5),                            // topic_names
        f(I32),                                      // timeout_ms
    ],
);
const DELETE_TOPICS_RESP_TOPIC: &[Field] = &[
    f(Str).null(),         // name
    f(Uuid).from(6),       // topic_id
    f(I16),                // error_code
    f(Str).from(5).null(), // error_message
];
const DELETE_TOPICS_RESP: Schema = schema(
    "DeleteTopicsResponse",
    4,
    &[
        f(I32),                               // throttle_time_ms
        f(Structs(DELETE_TOPICS_RESP_TOPIC)), // responses
    ],
);

// ---------------------------------------------------------------- DeleteRecords (21)

const DELETE_RECORDS_REQ_PARTITION: &[Field] = &[
    f(I32), // partition_index
    f(I64), // offset
];
const DELETE_RECORDS_REQ_TOPIC: &[Field] = &[
    f(Str),                                   // name
    f(Structs(DELETE_RECORDS_REQ_PARTITION)), // partitions
];
const DELETE_RECORDS_REQ: Schema = schema(
    "DeleteRecordsRequest",
    2,
    &[
        f(Structs(DELETE_RECORDS_REQ_TOPIC)), // topics
        f(I32),                               // timeout_ms
    ],
);
const DELETE_RECORDS_RESP_PARTITION: &[Field] = &[
    f(I32), // partition_index
    f(I64), // low_watermark
    f(I16), // error_code
];
const DELETE_RECORDS_RESP_TOPIC: &[Field] = &[
    f(Str),                                    // name
    f(Structs(DELETE_RECORDS_RESP_PARTITION)), // partitions
];
const DELETE_RECORDS_RESP: Schema = schema(
    "DeleteRecordsResponse",
    2,
    &[
        f(I32),                                // throttle_time_ms
        f(Structs(DELETE_RECORDS_RESP_TOPIC)), // topics
    ],
);

// ---------------------------------------------------------------- InitProducerId (22)

const INIT_PRODUCER_ID_REQ: Schema = schema(
    "InitProducerIdRequest",
    2,
    &[
        f(Str).null(),  // transactional_id
        f(I32),         // transaction_timeout_ms
        f(I64).from(3), // producer_id
        f(I16).from(3), // producer_epoch
    ],
);
const INIT_PRODUCER_ID_RESP: Schema = schema(
    "InitProducerIdResponse",
    2,
    &[
        f(I32),         // throttle_time_ms
        f(I16),         // error_code
        f(I64),         // producer_id
        f(I16),         // producer_epoch
        f(I64).from(6), // ongoing_txn_producer_id
        f(I16).from(6), // ongoing_txn_producer_epoch
    ],
);

// ---------------------------------------------------------------- OffsetForLeaderEpoch (23)

const OFFSET_FOR_LEADER_EPOCH_REQ_PARTITION: &[Field] = &[
    f(I32), // partition
    f(I32), // current_leader_epoch
    f(I32), // leader_epoch
];
const OFFSET_FOR_LEADER_EPOCH_REQ_TOPIC: &[Field] = &[
    f(Str),                                            // topic
    f(Structs(OFFSET_FOR_LEADER_EPOCH_REQ_PARTITION)), // partitions
];
const OFFSET_FOR_LEADER_EPOCH_REQ: Schema = schema(
    "OffsetForLeaderEpochRequest",
    4,
    &[
        f(I32).from(3),                                // replica_id
        f(Structs(OFFSET_FOR_LEADER_EPOCH_REQ_TOPIC)), // topics
    ],
);
const OFFSET_FOR_LEADER_EPOCH_RESP_PARTITION: &[Field] = &[
    f(I16), // error_code
    f(I32), // partition
    f(I32), // leader_epoch
    f(I64), // end_offset
];
const OFFSET_FOR_LEADER_EPOCH_RESP_TOPIC: &[Field] = &[
    f(Str),                                             // topic
    f(Structs(OFFSET_FOR_LEADER_EPOCH_RESP_PARTITION)), // partitions
];
const OFFSET_FOR_LEADER_EPOCH_RESP: Schema = schema(
    "OffsetForLeaderEpochResponse",
    4,
    &[
        f(I32),                                         // throttle_time_ms
        f(Structs(OFFSET_FOR_LEADER_EPOCH_RESP_TOPIC)), // topics
    ],
);

// ---------------------------------------------------------------- DescribeConfigs (32)

const DESCRIBE_CONFIGS_REQ_RESOURCE: &[Field] = &[
    f(I8),          // resource_type
    f(Str),         // resource_name
    f(Strs).null(), // configuration_keys
];
const DESCRIBE_CONFIGS_REQ: Schema = schema(
    "DescribeConfigsRequest",
    4,
    &[
        f(Structs(DESCRIBE_CONFIGS_REQ_RESOURCE)), // resources
        f(Bool),                                   // include_synonyms
        f(Bool).from(3),                           // include_documentation
    ],
);
const DESCRIBE_CONFIGS_RESP_SYNONYM: &[Field] = &[
    f(Str),        // name
    f(Str).null(), // value
    f(I8),         // source
];
const DESCRIBE_CONFIGS_RESP_CONFIG: &[Field] = &[
    f(Str),                                    // name
    f(Str).null(),                             // value
    f(Bool),                                   // read_only
    f(I8),                                     // config_source
    f(Bool),                                   // is_sensitive
    f(Structs(DESCRIBE_CONFIGS_RESP_SYNONYM)), // synonyms
    f(I8).from(3),                             // config_type
    f(Str).from(3).null(),                     // documentation
];
const DESCRIBE_CONFIGS_RESP_RESULT: &[Field] = &[
    f(I16),                                   // error_code
    f(Str).null(),                            // error_message
    f(I8),                                    // resource_type
    f(Str),                                   // resource_name
    f(Structs(DESCRIBE_CONFIGS_RESP_CONFIG)), // configs
];
const DESCRIBE_CONFIGS_RESP: Schema = schema(
    "DescribeConfigsResponse",
    4,
    &[
        f(I32),                                   // throttle_time_ms
        f(Structs(DESCRIBE_CONFIGS_RESP_RESULT)), // results
    ],
);

// ---------------------------------------------------------------- CreatePartitions (37)

const CREATE_PARTITIONS_REQ_ASSIGNMENT: &[Field] = &[
    f(I32s), // broker_ids
];
const CREATE_PARTITIONS_REQ_TOPIC: &[Field] = &[
    f(Str),                                              // name
    f(I32),                                              // count
    f(Structs(CREATE_PARTITIONS_REQ_ASSIGNMENT)).null(), // assignments
];
const CREATE_PARTITIONS_REQ: Schema = schema(
    "CreatePartitionsRequest",
    2,
    &[
        f(Structs(CREATE_PARTITIONS_REQ_TOPIC)), // topics
        f(I32),                                  // timeout_ms
        f(Bool),                                 // validate_only
    ],
);
const CREATE_PARTITIONS_RESP_RESULT: &[Field] = &[
    f(Str),        // name
    f(I16),        // error_code
    f(Str).null(), // error_message
];
const CREATE_PARTITIONS_RESP: Schema = schema(
    "CreatePartitionsResponse",
    2,
    &[
        f(I32),                                    // throttle_time_ms
        f(Structs(CREATE_PARTITIONS_RESP_RESULT)), // results
    ],
);

// ---------------------------------------------------------------- DeleteGroups (42)

const DELETE_GROUPS_REQ: Schema = schema(
    "DeleteGroupsRequest",
    2,
    &[
        f(Strs), // groups_names
    ],
);
const DELETE_GROUPS_RESP_RESULT: &[Field] = &[
    f(Str), // group_id
    f(I16), // error_code
];
const DELETE_GROUPS_RESP: Schema = schema(
    "DeleteGroupsResponse",
    2,
    &[
        f(I32),                                // throttle_time_ms
        f(Structs(DELETE_GROUPS_RESP_RESULT)), // results
    ],
);

// ---------------------------------------------------------------- OffsetDelete (47)

const OFFSET_DELETE_REQ_PARTITION: &[Field] = &[
    f(I32), // partition_index
];
const OFFSET_DELETE_REQ_TOPIC: &[Field] = &[
    f(Str),                                  // name
    f(Structs(OFFSET_DELETE_REQ_PARTITION)), // partitions
];
const OFFSET_DELETE_REQ: Schema = schema(
    "OffsetDeleteRequest",
    NEVER,
    &[
        f(Str),                              // group_id
        f(Structs(OFFSET_DELETE_REQ_TOPIC)), // topics
    ],
);
const OFFSET_DELETE_RESP_PARTITION: &[Field] = &[
    f(I32), // partition_index
    f(I16), // error_code
];
const OFFSET_DELETE_RESP_TOPIC: &[Field] = &[
    f(Str),                                   // name
    f(Structs(OFFSET_DELETE_RESP_PARTITION)), // partitions
];
const OFFSET_DELETE_RESP: Schema = schema(
    "OffsetDeleteResponse",
    NEVER,
    &[
        f(I16),                               // error_code
        f(I32),                               // throttle_time_ms
        f(Structs(OFFSET_DELETE_RESP_TOPIC)), // topics
    ],
);

// ---------------------------------------------------------------- DescribeCluster (60)

const DESCRIBE_CLUSTER_REQ: Schema = schema(
    "DescribeClusterRequest",
    0,
    &[
        f(Bool),         // include_cluster_authorized_operations
        f(I8).from(1),   // endpoint_type
        f(Bool).from(2), // include_fenced_brokers
    ],
);
const DESCRIBE_CLUSTER_RESP_BROKER: &[Field] = &[
    f(I32),          // broker_id
    f(Str),          // host
    f(I32),          // port
    f(Str).null(),   // rack
    f(Bool).from(2), // is_fenced
];
const DESCRIBE_CLUSTER_RESP: Schema = schema(
    "DescribeClusterResponse",
    0,
    &[
        f(I32),                                   // throttle_time_ms
        f(I16),                                   // error_code
        f(Str).null(),                            // error_message
        f(I8).from(1),                            // endpoint_type
        f(Str),                                   // cluster_id
        f(I32),                                   // controller_id
        f(Structs(DESCRIBE_CLUSTER_RESP_BROKER)), // brokers
        f(I32),                                   // cluster_authorized_operations
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
