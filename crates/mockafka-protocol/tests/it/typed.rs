//! Typed round trips of the key messages (Produce, Fetch, Metadata, JoinGroup,
//! OffsetCommit): messages built with kafka-protocol's types from arbitrary values, with
//! every field the version has set (nullable ones both null and not, arrays non-empty at
//! every level, tagged fields where the version has them), encoded by kafka-protocol,
//! accepted by the validator, and decoded back to the same message and the same bytes.

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic, ForgottenTopic};
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, EpochEndOffset, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse,
    TopicProduceResponse,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use mockafka_protocol::frame::split_frame;
use mockafka_protocol::request::{decode_request, encode_request, Request};
use mockafka_protocol::response::{decode_response, encode_response};
use proptest::prelude::*;
use std::fmt::Debug;

use crate::wire::Rng;

/// Arbitrary field values, drawn from a proptest seed.
struct Vals(Rng);

impl Vals {
    fn i8(&mut self) -> i8 {
        self.0.next() as i8
    }
    fn i16(&mut self) -> i16 {
        self.0.next() as i16
    }
    fn i32(&mut self) -> i32 {
        self.0.next() as i32
    }
    fn i64(&mut self) -> i64 {
        self.0.next() as i64
    }
    fn bool(&mut self) -> bool {
        self.0.chance(2)
    }
    fn str(&mut self) -> StrBytes {
        let len = self.0.below(12) as usize;
        let s: String = (0..len)
            .map(|_| char::from(b' ' + self.0.below(95) as u8))
            .collect();
        StrBytes::from_string(s)
    }
    fn opt_str(&mut self) -> Option<StrBytes> {
        (!self.0.chance(3)).then(|| self.str())
    }
    fn bytes(&mut self) -> Bytes {
        let len = self.0.below(40) as usize;
        (0..len)
            .map(|_| self.0.next() as u8)
            .collect::<Vec<u8>>()
            .into()
    }
    fn topic(&mut self) -> TopicName {
        TopicName(self.str())
    }
    fn vec<T>(&mut self, mut f: impl FnMut(&mut Self) -> T) -> Vec<T> {
        let n = 1 + self.0.below(3) as usize;
        (0..n).map(|_| f(self)).collect()
    }
    /// A topic whose id is a random non-nil UUID (kafka-protocol does not re-export the
    /// `uuid` crate, so its own decoder builds the value; read it as `.topic_id`).
    fn uuid(&mut self) -> MetadataRequestTopic {
        let mut raw = Vec::with_capacity(18);
        raw.extend_from_slice(&self.0.next().to_be_bytes());
        raw.extend_from_slice(&(self.0.next() | 1).to_be_bytes());
        raw.extend_from_slice(&[0, 0]); // null name, no tagged fields
        MetadataRequestTopic::decode(&mut Bytes::from(raw), 10).expect("valid")
    }
}

fn check_request<R>(m: R, version: i16, extract: fn(Request) -> Option<R>) -> Result<(), String>
where
    R: kafka_protocol::protocol::Request + PartialEq + Debug,
{
    let header = RequestHeader::default()
        .with_request_api_version(version)
        .with_correlation_id(77)
        .with_client_id(Some(StrBytes::from_static_str("typed")));
    let mut bytes = encode_request(&header, &m).map_err(|e| e.to_string())?;
    let original = bytes.clone();
    let frame = split_frame(&mut bytes, 1 << 24).unwrap().unwrap();
    let d = decode_request(frame).map_err(|e| format!("decode_request: {e}"))?;
    let got = extract(d.body).ok_or("wrong variant")?;
    let again = encode_request(&d.header, &got).map_err(|e| e.to_string())?;
    if again != original {
        return Err("re-encoded bytes differ".into());
    }
    if got != m {
        return Err(format!("decoded differs:\n{got:?}\n{m:?}"));
    }
    Ok(())
}

fn check_response<R>(key: ApiKey, m: R, version: i16) -> Result<(), String>
where
    R: Encodable + Decodable + HeaderVersion + PartialEq + Debug,
{
    let mut bytes = encode_response(key, version, 5, &m).map_err(|e| e.to_string())?;
    let original = bytes.clone();
    let frame = split_frame(&mut bytes, 1 << 24).unwrap().unwrap();
    let (h, got) = decode_response::<R>(key, version, frame).map_err(|e| e.to_string())?;
    if h.correlation_id != 5 {
        return Err("correlation id".into());
    }
    let again = encode_response(key, version, 5, &got).map_err(|e| e.to_string())?;
    if again != original {
        return Err("re-encoded bytes differ".into());
    }
    if got != m {
        return Err(format!("decoded differs:\n{got:?}\n{m:?}"));
    }
    Ok(())
}

fn produce_request(v: &mut Vals, _version: i16) -> ProduceRequest {
    ProduceRequest::default()
        .with_transactional_id(v.opt_str().map(TransactionalId))
        .with_acks(v.i16())
        .with_timeout_ms(v.i32())
        .with_topic_data(v.vec(|v| {
            TopicProduceData::default()
                .with_name(v.topic())
                .with_partition_data(v.vec(|v| {
                    let records = (!v.0.chance(4)).then(|| v.bytes());
                    PartitionProduceData::default()
                        .with_index(v.i32())
                        .with_records(records)
                }))
        }))
}

fn produce_response(v: &mut Vals, version: i16) -> ProduceResponse {
    let mut m = ProduceResponse::default()
        .with_throttle_time_ms(v.i32())
        .with_responses(v.vec(|v| {
            TopicProduceResponse::default()
                .with_name(v.topic())
                .with_partition_responses(v.vec(|v| {
                    let mut p = PartitionProduceResponse::default()
                        .with_index(v.i32())
                        .with_error_code(v.i16())
                        .with_base_offset(v.i64())
                        .with_log_append_time_ms(v.i64());
                    if version >= 5 {
                        p.log_start_offset = v.i64();
                    }
                    if version >= 8 {
                        p.record_errors = v.vec(|v| {
                            BatchIndexAndErrorMessage::default()
                                .with_batch_index(v.i32())
                                .with_batch_index_error_message(v.opt_str())
                        });
                        p.error_message = v.opt_str();
                    }
                    if version >= 10 && v.bool() {
                        p.current_leader = LeaderIdAndEpoch::default()
                            .with_leader_id(BrokerId(v.i32()))
                            .with_leader_epoch(v.i32());
                    }
                    p
                }))
        }));
    if version >= 10 {
        m.node_endpoints = v.vec(|v| {
            NodeEndpoint::default()
                .with_node_id(BrokerId(v.i32()))
                .with_host(v.str())
                .with_port(v.i32())
                .with_rack(v.opt_str())
        });
    }
    m
}

fn fetch_request(v: &mut Vals, version: i16) -> FetchRequest {
    let mut m = FetchRequest::default()
        .with_replica_id(BrokerId(v.i32()))
        .with_max_wait_ms(v.i32())
        .with_min_bytes(v.i32())
        .with_max_bytes(v.i32())
        .with_isolation_level(v.i8())
        .with_topics(v.vec(|v| {
            FetchTopic::default()
                .with_topic(v.topic())
                .with_partitions(v.vec(|v| {
                    let mut p = FetchPartition::default()
                        .with_partition(v.i32())
                        .with_fetch_offset(v.i64())
                        .with_partition_max_bytes(v.i32());
                    if version >= 9 {
                        p.current_leader_epoch = v.i32();
                    }
                    if version >= 12 {
                        p.last_fetched_epoch = v.i32();
                    }
                    if version >= 5 {
                        p.log_start_offset = v.i64();
                    }
                    p
                }))
        }));
    if version >= 7 {
        m.session_id = v.i32();
        m.session_epoch = v.i32();
        m.forgotten_topics_data = v.vec(|v| {
            ForgottenTopic::default()
                .with_topic(v.topic())
                .with_partitions(v.vec(|v| v.i32()))
        });
    }
    if version >= 11 {
        m.rack_id = v.str();
    }
    if version >= 12 {
        m.cluster_id = v.opt_str();
    }
    m
}

fn fetch_response(v: &mut Vals, version: i16) -> FetchResponse {
    let mut m = FetchResponse::default()
        .with_throttle_time_ms(v.i32())
        .with_responses(v.vec(|v| {
            FetchableTopicResponse::default()
                .with_topic(v.topic())
                .with_partitions(v.vec(|v| {
                    let aborted = (!v.0.chance(3)).then(|| {
                        v.vec(|v| {
                            AbortedTransaction::default()
                                .with_producer_id(ProducerId(v.i64()))
                                .with_first_offset(v.i64())
                        })
                    });
                    let records = (!v.0.chance(4)).then(|| v.bytes());
                    let mut p = PartitionData::default()
                        .with_partition_index(v.i32())
                        .with_error_code(v.i16())
                        .with_high_watermark(v.i64())
                        .with_last_stable_offset(v.i64())
                        .with_aborted_transactions(aborted)
                        .with_records(records);
                    if version >= 5 {
                        p.log_start_offset = v.i64();
                    }
                    if version >= 11 {
                        p.preferred_read_replica = BrokerId(v.i32());
                    }
                    if version >= 12 && v.bool() {
                        p.diverging_epoch = EpochEndOffset::default()
                            .with_epoch(v.i32())
                            .with_end_offset(v.i64());
                    }
                    p
                }))
        }));
    if version >= 7 {
        m.error_code = v.i16();
        m.session_id = v.i32();
    }
    m
}

fn metadata_request(v: &mut Vals, version: i16) -> MetadataRequest {
    let topics = (version == 0 || !v.0.chance(4)).then(|| {
        v.vec(|v| {
            let mut t = MetadataRequestTopic::default().with_name(Some(v.topic()));
            if version >= 10 {
                t.topic_id = v.uuid().topic_id;
                if v.bool() {
                    t.name = None;
                }
            }
            t
        })
    });
    let mut m = MetadataRequest::default().with_topics(topics);
    if version >= 4 {
        m.allow_auto_topic_creation = v.bool();
    }
    if (8..=10).contains(&version) {
        m.include_cluster_authorized_operations = v.bool();
    }
    if version >= 8 {
        m.include_topic_authorized_operations = v.bool();
    }
    m
}

fn metadata_response(v: &mut Vals, version: i16) -> MetadataResponse {
    let mut m = MetadataResponse::default()
        .with_brokers(v.vec(|v| {
            let mut b = MetadataResponseBroker::default()
                .with_node_id(BrokerId(v.i32()))
                .with_host(v.str())
                .with_port(v.i32());
            if version >= 1 {
                b.rack = v.opt_str();
            }
            b
        }))
        .with_topics(v.vec(|v| {
            let mut t = MetadataResponseTopic::default()
                .with_error_code(v.i16())
                .with_name(Some(v.topic()))
                .with_partitions(v.vec(|v| {
                    let mut p = MetadataResponsePartition::default()
                        .with_error_code(v.i16())
                        .with_partition_index(v.i32())
                        .with_leader_id(BrokerId(v.i32()))
                        .with_replica_nodes(v.vec(|v| BrokerId(v.i32())))
                        .with_isr_nodes(v.vec(|v| BrokerId(v.i32())));
                    if version >= 7 {
                        p.leader_epoch = v.i32();
                    }
                    if version >= 5 {
                        p.offline_replicas = v.vec(|v| BrokerId(v.i32()));
                    }
                    p
                }));
            if version >= 10 {
                t.topic_id = v.uuid().topic_id;
            }
            if version >= 1 {
                t.is_internal = v.bool();
            }
            if version >= 8 {
                t.topic_authorized_operations = v.i32();
            }
            t
        }));
    if version >= 3 {
        m.throttle_time_ms = v.i32();
    }
    if version >= 2 {
        m.cluster_id = v.opt_str();
    }
    if version >= 1 {
        m.controller_id = BrokerId(v.i32());
    }
    if (8..=10).contains(&version) {
        m.cluster_authorized_operations = v.i32();
    }
    m
}

fn join_group_request(v: &mut Vals, version: i16) -> JoinGroupRequest {
    let mut m = JoinGroupRequest::default()
        .with_group_id(GroupId(v.str()))
        .with_session_timeout_ms(v.i32())
        .with_member_id(v.str())
        .with_protocol_type(v.str())
        .with_protocols(v.vec(|v| {
            JoinGroupRequestProtocol::default()
                .with_name(v.str())
                .with_metadata(v.bytes())
        }));
    if version >= 1 {
        m.rebalance_timeout_ms = v.i32();
    }
    if version >= 5 {
        m.group_instance_id = v.opt_str();
    }
    if version >= 8 {
        m.reason = v.opt_str();
    }
    m
}

fn join_group_response(v: &mut Vals, version: i16) -> JoinGroupResponse {
    let mut m = JoinGroupResponse::default()
        .with_error_code(v.i16())
        .with_generation_id(v.i32())
        .with_protocol_name(Some(v.str()))
        .with_leader(v.str())
        .with_member_id(v.str())
        .with_members(v.vec(|v| {
            let mut member = JoinGroupResponseMember::default()
                .with_member_id(v.str())
                .with_metadata(v.bytes());
            if version >= 5 {
                member.group_instance_id = v.opt_str();
            }
            member
        }));
    if version >= 2 {
        m.throttle_time_ms = v.i32();
    }
    if version >= 7 {
        m.protocol_type = v.opt_str();
        m.protocol_name = v.opt_str();
    }
    if version >= 9 {
        m.skip_assignment = v.bool();
    }
    m
}

fn offset_commit_request(v: &mut Vals, version: i16) -> OffsetCommitRequest {
    let mut m = OffsetCommitRequest::default()
        .with_group_id(GroupId(v.str()))
        .with_generation_id_or_member_epoch(v.i32())
        .with_member_id(v.str())
        .with_topics(v.vec(|v| {
            OffsetCommitRequestTopic::default()
                .with_name(v.topic())
                .with_partitions(v.vec(|v| {
                    let mut p = OffsetCommitRequestPartition::default()
                        .with_partition_index(v.i32())
                        .with_committed_offset(v.i64())
                        .with_committed_metadata(v.opt_str());
                    if version >= 6 {
                        p.committed_leader_epoch = v.i32();
                    }
                    p
                }))
        }));
    if version >= 7 {
        m.group_instance_id = v.opt_str();
    }
    if version <= 4 {
        m.retention_time_ms = v.i64();
    }
    m
}

fn offset_commit_response(v: &mut Vals, version: i16) -> OffsetCommitResponse {
    let mut m = OffsetCommitResponse::default().with_topics(v.vec(|v| {
        OffsetCommitResponseTopic::default()
            .with_name(v.topic())
            .with_partitions(v.vec(|v| {
                OffsetCommitResponsePartition::default()
                    .with_partition_index(v.i32())
                    .with_error_code(v.i16())
            }))
    }));
    if version >= 3 {
        m.throttle_time_ms = v.i32();
    }
    m
}

fn range(key: ApiKey) -> std::ops::RangeInclusive<i16> {
    let r = mockafka_protocol::versions::served(key).expect("served");
    r.min..=r.max
}

macro_rules! typed {
    ($name:ident, $key:ident, $req:ident, $resp:ident) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            #[test]
            fn $name(seed in any::<u64>()) {
                for version in range(ApiKey::$key) {
                    let mut v = Vals(Rng::new(seed ^ (version as u64) << 56));
                    let m = $req(&mut v, version);
                    let r = check_request(m, version, |b| match b {
                        Request::$key(m) => Some(m),
                        _ => None,
                    });
                    prop_assert!(r.is_ok(), "request v{}: {:?}", version, r);
                    let m = $resp(&mut v, version);
                    let r = check_response(ApiKey::$key, m, version);
                    prop_assert!(r.is_ok(), "response v{}: {:?}", version, r);
                }
            }
        }
    };
}

typed!(
    produce_round_trips,
    Produce,
    produce_request,
    produce_response
);
typed!(fetch_round_trips, Fetch, fetch_request, fetch_response);
typed!(
    metadata_round_trips,
    Metadata,
    metadata_request,
    metadata_response
);
typed!(
    join_group_round_trips,
    JoinGroup,
    join_group_request,
    join_group_response
);
typed!(
    offset_commit_round_trips,
    OffsetCommit,
    offset_commit_request,
    offset_commit_response
);
