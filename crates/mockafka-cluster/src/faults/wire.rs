//! What a fault needs to know about requests and responses on the wire: the topics and
//! groups a request names (for matching), an error answer built from a request (the code
//! where that API carries it: per partition for Produce, Fetch, ListOffsets and the other
//! partition APIs, per topic or group where the API has no partition level, top-level for
//! the group APIs), the error code a response carries (for the request log) and
//! `throttle_time_ms`.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion};
use mockafka_protocol::request::Request;
use mockafka_protocol::response::encode_response;
use uuid::Uuid;

use crate::topics::Topics;

/// The topic-partitions a request names (`None`: every partition of the topic, or a
/// topic-level API). Topic ids (Fetch v13+) are resolved to names through `topics`.
pub(crate) fn topics_of(req: &Request, topics: &Topics) -> Vec<(String, Option<i32>)> {
    let name = |n: &TopicName, id: Uuid| -> String {
        if n.0.is_empty() && !id.is_nil() {
            topics
                .by_id(id)
                .map(|t| t.name.to_string())
                .unwrap_or_default()
        } else {
            n.0.to_string()
        }
    };
    let mut out = Vec::new();
    match req {
        Request::Produce(r) => {
            for t in &r.topic_data {
                for p in &t.partition_data {
                    out.push((name(&t.name, t.topic_id), Some(p.index)));
                }
            }
        }
        Request::Fetch(r) => {
            for t in &r.topics {
                for p in &t.partitions {
                    out.push((name(&t.topic, t.topic_id), Some(p.partition)));
                }
            }
        }
        Request::ListOffsets(r) => {
            for t in &r.topics {
                for p in &t.partitions {
                    out.push((t.name.0.to_string(), Some(p.partition_index)));
                }
            }
        }
        Request::Metadata(r) => {
            for t in r.topics.iter().flatten() {
                if let Some(n) = &t.name {
                    out.push((n.0.to_string(), None));
                }
            }
        }
        Request::OffsetCommit(r) => {
            for t in &r.topics {
                for p in &t.partitions {
                    out.push((name(&t.name, t.topic_id), Some(p.partition_index)));
                }
            }
        }
        Request::OffsetFetch(r) => {
            for t in r.topics.iter().flatten() {
                for &p in &t.partition_indexes {
                    out.push((t.name.0.to_string(), Some(p)));
                }
            }
            for g in &r.groups {
                for t in g.topics.iter().flatten() {
                    for &p in &t.partition_indexes {
                        out.push((name(&t.name, t.topic_id), Some(p)));
                    }
                }
            }
        }
        Request::OffsetDelete(r) => {
            for t in &r.topics {
                for p in &t.partitions {
                    out.push((t.name.0.to_string(), Some(p.partition_index)));
                }
            }
        }
        Request::DeleteRecords(r) => {
            for t in &r.topics {
                for p in &t.partitions {
                    out.push((t.name.0.to_string(), Some(p.partition_index)));
                }
            }
        }
        Request::OffsetForLeaderEpoch(r) => {
            for t in &r.topics {
                for p in &t.partitions {
                    out.push((t.topic.0.to_string(), Some(p.partition)));
                }
            }
        }
        Request::CreateTopics(r) => {
            out.extend(r.topics.iter().map(|t| (t.name.0.to_string(), None)))
        }
        Request::CreatePartitions(r) => {
            out.extend(r.topics.iter().map(|t| (t.name.0.to_string(), None)));
        }
        Request::DeleteTopics(r) => {
            out.extend(r.topic_names.iter().map(|t| (t.0.to_string(), None)));
            out.extend(r.topics.iter().map(|t| {
                (
                    t.name.as_ref().map_or_else(
                        || name(&TopicName::default(), t.topic_id),
                        |n| n.0.to_string(),
                    ),
                    None,
                )
            }));
        }
        _ => {}
    }
    out
}

/// The groups a request names.
pub(crate) fn groups_of(req: &Request) -> Vec<String> {
    match req {
        Request::JoinGroup(r) => vec![r.group_id.0.to_string()],
        Request::SyncGroup(r) => vec![r.group_id.0.to_string()],
        Request::Heartbeat(r) => vec![r.group_id.0.to_string()],
        Request::LeaveGroup(r) => vec![r.group_id.0.to_string()],
        Request::OffsetCommit(r) => vec![r.group_id.0.to_string()],
        Request::OffsetDelete(r) => vec![r.group_id.0.to_string()],
        Request::OffsetFetch(r) => {
            let mut v: Vec<String> = r.groups.iter().map(|g| g.group_id.0.to_string()).collect();
            if !r.group_id.0.is_empty() {
                v.push(r.group_id.0.to_string());
            }
            v
        }
        Request::FindCoordinator(r) if r.key_type == 0 => {
            let mut v: Vec<String> = r.coordinator_keys.iter().map(ToString::to_string).collect();
            if !r.key.is_empty() {
                v.push(r.key.to_string());
            }
            v
        }
        Request::DescribeGroups(r) => r.groups.iter().map(|g| g.0.to_string()).collect(),
        Request::DeleteGroups(r) => r.groups_names.iter().map(|g| g.0.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// The answer to `req` with `code` everywhere that API carries an error code, nothing
/// applied. `None` when the response does not encode (the caller closes the connection).
pub(crate) fn error_response(
    req: &Request,
    version: i16,
    correlation_id: i32,
    code: i16,
) -> Option<BytesMut> {
    let c = correlation_id;
    let key = req.api_key();
    let out = match req {
        Request::Produce(r) => {
            let topics = r
                .topic_data
                .iter()
                .map(|t| {
                    produce_response::TopicProduceResponse::default()
                        .with_name(t.name.clone())
                        .with_topic_id(t.topic_id)
                        .with_partition_responses(
                            t.partition_data
                                .iter()
                                .map(|p| {
                                    produce_response::PartitionProduceResponse::default()
                                        .with_index(p.index)
                                        .with_error_code(code)
                                        .with_base_offset(-1)
                                        .with_log_append_time_ms(-1)
                                        .with_log_start_offset(-1)
                                })
                                .collect(),
                        )
                })
                .collect();
            encode_response(
                key,
                version,
                c,
                &ProduceResponse::default().with_responses(topics),
            )
        }
        Request::Fetch(r) => {
            let topics = r
                .topics
                .iter()
                .map(|t| {
                    fetch_response::FetchableTopicResponse::default()
                        .with_topic(t.topic.clone())
                        .with_topic_id(t.topic_id)
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    fetch_response::PartitionData::default()
                                        .with_partition_index(p.partition)
                                        .with_error_code(code)
                                        .with_high_watermark(-1)
                                        .with_last_stable_offset(-1)
                                        .with_log_start_offset(-1)
                                        .with_records(Some(Bytes::new()))
                                })
                                .collect(),
                        )
                })
                .collect();
            // A session error would be top-level; a partition error keeps the session.
            encode_response(
                key,
                version,
                c,
                &FetchResponse::default()
                    .with_session_id(r.session_id)
                    .with_responses(topics),
            )
        }
        Request::ListOffsets(r) => {
            let topics = r
                .topics
                .iter()
                .map(|t| {
                    list_offsets_response::ListOffsetsTopicResponse::default()
                        .with_name(t.name.clone())
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    list_offsets_response::ListOffsetsPartitionResponse::default()
                                        .with_partition_index(p.partition_index)
                                        .with_error_code(code)
                                        .with_timestamp(-1)
                                        .with_offset(-1)
                                        .with_leader_epoch(-1)
                                })
                                .collect(),
                        )
                })
                .collect();
            encode_response(
                key,
                version,
                c,
                &ListOffsetsResponse::default().with_topics(topics),
            )
        }
        Request::Metadata(r) => {
            let topics = r
                .topics
                .iter()
                .flatten()
                .map(|t| {
                    metadata_response::MetadataResponseTopic::default()
                        .with_name(t.name.clone())
                        .with_topic_id(t.topic_id)
                        .with_error_code(code)
                })
                .collect();
            encode_response(
                key,
                version,
                c,
                &MetadataResponse::default()
                    .with_controller_id(BrokerId(-1))
                    .with_topics(topics),
            )
        }
        Request::OffsetCommit(r) => {
            let topics = r
                .topics
                .iter()
                .map(|t| {
                    offset_commit_response::OffsetCommitResponseTopic::default()
                        .with_name(t.name.clone())
                        .with_topic_id(t.topic_id)
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    offset_commit_response::OffsetCommitResponsePartition::default()
                                        .with_partition_index(p.partition_index)
                                        .with_error_code(code)
                                })
                                .collect(),
                        )
                })
                .collect();
            encode_response(
                key,
                version,
                c,
                &OffsetCommitResponse::default().with_topics(topics),
            )
        }
        Request::OffsetFetch(r) => {
            let groups = r
                .groups
                .iter()
                .map(|g| {
                    offset_fetch_response::OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id.clone())
                        .with_error_code(code)
                })
                .collect();
            // v0-1 have no top-level code: the partitions carry it.
            let topics = r
                .topics
                .iter()
                .flatten()
                .map(|t| (t.name.clone(), t.partition_indexes.clone()))
                .map(|(name, parts)| {
                    offset_fetch_response::OffsetFetchResponseTopic::default()
                        .with_name(name)
                        .with_partitions(
                            parts
                                .into_iter()
                                .map(|p| {
                                    offset_fetch_response::OffsetFetchResponsePartition::default()
                                        .with_partition_index(p)
                                        .with_committed_offset(-1)
                                        .with_committed_leader_epoch(-1)
                                        .with_error_code(code)
                                })
                                .collect(),
                        )
                })
                .collect();
            let resp = if version >= 8 {
                OffsetFetchResponse::default().with_groups(groups)
            } else {
                OffsetFetchResponse::default()
                    .with_error_code(code)
                    .with_topics(topics)
            };
            encode_response(key, version, c, &resp)
        }
        Request::FindCoordinator(r) => {
            let coordinators = r
                .coordinator_keys
                .iter()
                .map(|k| {
                    find_coordinator_response::Coordinator::default()
                        .with_key(k.clone())
                        .with_node_id(BrokerId(-1))
                        .with_port(-1)
                        .with_error_code(code)
                })
                .collect();
            encode_response(
                key,
                version,
                c,
                &FindCoordinatorResponse::default()
                    .with_error_code(code)
                    .with_node_id(BrokerId(-1))
                    .with_port(-1)
                    .with_coordinators(coordinators),
            )
        }
        Request::JoinGroup(r) => encode_response(
            key,
            version,
            c,
            &JoinGroupResponse::default()
                .with_error_code(code)
                .with_generation_id(-1)
                .with_member_id(r.member_id.clone()),
        ),
        Request::SyncGroup(_) => encode_response(
            key,
            version,
            c,
            &SyncGroupResponse::default().with_error_code(code),
        ),
        Request::Heartbeat(_) => encode_response(
            key,
            version,
            c,
            &HeartbeatResponse::default().with_error_code(code),
        ),
        Request::LeaveGroup(_) => encode_response(
            key,
            version,
            c,
            &LeaveGroupResponse::default().with_error_code(code),
        ),
        Request::DescribeGroups(r) => {
            let groups = r
                .groups
                .iter()
                .map(|g| {
                    describe_groups_response::DescribedGroup::default()
                        .with_group_id(g.clone())
                        .with_error_code(code)
                })
                .collect();
            encode_response(
                key,
                version,
                c,
                &DescribeGroupsResponse::default().with_groups(groups),
            )
        }
        Request::ListGroups(_) => encode_response(
            key,
            version,
            c,
            &ListGroupsResponse::default().with_error_code(code),
        ),
        Request::DeleteGroups(r) => {
            let results = r
                .groups_names
                .iter()
                .map(|g| {
                    delete_groups_response::DeletableGroupResult::default()
                        .with_group_id(g.clone())
                        .with_error_code(code)
                })
                .collect();
            encode_response(
                key,
                version,
                c,
                &DeleteGroupsResponse::default().with_results(results),
            )
        }
        Request::OffsetDelete(_) => encode_response(
            key,
            version,
            c,
            &OffsetDeleteResponse::default().with_error_code(code),
        ),
        Request::ApiVersions(_) => encode_response(
            key,
            version,
            c,
            &ApiVersionsResponse::default().with_error_code(code),
        ),
        Request::InitProducerId(_) => encode_response(
            key,
            version,
            c,
            &InitProducerIdResponse::default()
                .with_error_code(code)
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1),
        ),
        Request::DescribeCluster(_) => encode_response(
            key,
            version,
            c,
            &DescribeClusterResponse::default()
                .with_error_code(code)
                .with_controller_id(BrokerId(-1)),
        ),
        Request::CreateTopics(r) => {
            let topics = r
                .topics
                .iter()
                .map(|t| {
                    create_topics_response::CreatableTopicResult::default()
                        .with_name(t.name.clone())
                        .with_error_code(code)
                        .with_num_partitions(-1)
                        .with_replication_factor(-1)
                })
                .collect();
            encode_response(
                key,
                version,
                c,
                &CreateTopicsResponse::default().with_topics(topics),
            )
        }
        Request::DeleteTopics(r) => {
            let mut results: Vec<delete_topics_response::DeletableTopicResult> = r
                .topic_names
                .iter()
                .map(|n| {
                    delete_topics_response::DeletableTopicResult::default()
                        .with_name(Some(n.clone()))
                        .with_error_code(code)
                })
                .collect();
            results.extend(r.topics.iter().map(|t| {
                delete_topics_response::DeletableTopicResult::default()
                    .with_name(t.name.clone())
                    .with_topic_id(t.topic_id)
                    .with_error_code(code)
            }));
            encode_response(
                key,
                version,
                c,
                &DeleteTopicsResponse::default().with_responses(results),
            )
        }
        Request::CreatePartitions(r) => {
            let results = r
                .topics
                .iter()
                .map(|t| {
                    create_partitions_response::CreatePartitionsTopicResult::default()
                        .with_name(t.name.clone())
                        .with_error_code(code)
                })
                .collect();
            encode_response(
                key,
                version,
                c,
                &CreatePartitionsResponse::default().with_results(results),
            )
        }
        Request::DeleteRecords(r) => {
            let topics = r
                .topics
                .iter()
                .map(|t| {
                    delete_records_response::DeleteRecordsTopicResult::default()
                        .with_name(t.name.clone())
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    delete_records_response::DeleteRecordsPartitionResult::default()
                                        .with_partition_index(p.partition_index)
                                        .with_low_watermark(-1)
                                        .with_error_code(code)
                                })
                                .collect(),
                        )
                })
                .collect();
            encode_response(
                key,
                version,
                c,
                &DeleteRecordsResponse::default().with_topics(topics),
            )
        }
        Request::OffsetForLeaderEpoch(r) => {
            let topics = r
                .topics
                .iter()
                .map(|t| {
                    offset_for_leader_epoch_response::OffsetForLeaderTopicResult::default()
                        .with_topic(t.topic.clone())
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    offset_for_leader_epoch_response::EpochEndOffset::default()
                                        .with_partition(p.partition)
                                        .with_error_code(code)
                                        .with_leader_epoch(-1)
                                        .with_end_offset(-1)
                                })
                                .collect(),
                        )
                })
                .collect();
            encode_response(
                key,
                version,
                c,
                &OffsetForLeaderEpochResponse::default().with_topics(topics),
            )
        }
        Request::DescribeConfigs(r) => {
            let results = r
                .resources
                .iter()
                .map(|res| {
                    describe_configs_response::DescribeConfigsResult::default()
                        .with_resource_type(res.resource_type)
                        .with_resource_name(res.resource_name.clone())
                        .with_error_code(code)
                })
                .collect();
            encode_response(
                key,
                version,
                c,
                &DescribeConfigsResponse::default().with_results(results),
            )
        }
        _ => return None,
    };
    out.ok()
}

/// The first non-zero of `codes`, or 0.
fn first(codes: impl IntoIterator<Item = i16>) -> i16 {
    codes.into_iter().find(|&c| c != 0).unwrap_or(0)
}

/// A response body the faults layer reads and edits after the handler encoded it.
trait Answer: Encodable + Decodable + HeaderVersion {
    /// The response's error code: top-level if set, else the first non-zero nested one.
    fn error_code(&self) -> i16;
    fn set_throttle(&mut self, ms: i32);
}

macro_rules! answers {
    ($($key:ident($ty:ty) => |$r:ident| $code:expr;)*) => {
        $(impl Answer for $ty {
            fn error_code(&self) -> i16 {
                let $r = self;
                $code
            }
            fn set_throttle(&mut self, ms: i32) {
                self.throttle_time_ms = ms;
            }
        })*

        /// Decodes an encoded response frame (size prefix included) of `key`.
        fn with_answer<T>(
            key: ApiKey,
            version: i16,
            frame: &Bytes,
            f: impl FnOnce(&mut dyn AnswerDyn) -> T,
        ) -> Option<T> {
            match key {
                $(ApiKey::$key => {
                    let mut a = decode::<$ty>(version, frame)?;
                    Some(f(&mut a))
                })*
                _ => None,
            }
        }
    };
}

/// Object-safe view of [`Answer`].
trait AnswerDyn {
    fn code(&self) -> i16;
    fn throttle(&mut self, ms: i32);
    /// Encodes with the correlation id it was decoded with.
    fn encode_frame(&self, key: ApiKey, version: i16) -> Option<BytesMut>;
}

impl<T: Answer> AnswerDyn for (i32, T) {
    fn code(&self) -> i16 {
        self.1.error_code()
    }
    fn throttle(&mut self, ms: i32) {
        self.1.set_throttle(ms);
    }
    fn encode_frame(&self, key: ApiKey, version: i16) -> Option<BytesMut> {
        encode_response(key, version, self.0, &self.1).ok()
    }
}

/// Decodes without copying: record sets stay slices of `frame`.
fn decode<T: Answer>(version: i16, frame: &Bytes) -> Option<(i32, T)> {
    if frame.len() < 4 {
        return None;
    }
    let mut buf = frame.slice(4..);
    let header = ResponseHeader::decode(&mut buf, T::header_version(version)).ok()?;
    let body = T::decode(&mut buf, version).ok()?;
    Some((header.correlation_id, body))
}

answers! {
    Produce(ProduceResponse) => |r| first(r.responses.iter().flat_map(|t| t.partition_responses.iter().map(|p| p.error_code)));
    Fetch(FetchResponse) => |r| first(std::iter::once(r.error_code).chain(r.responses.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code))));
    ListOffsets(ListOffsetsResponse) => |r| first(r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code)));
    Metadata(MetadataResponse) => |r| first(std::iter::once(r.error_code).chain(r.topics.iter().map(|t| t.error_code)).chain(r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code))));
    OffsetCommit(OffsetCommitResponse) => |r| first(r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code)));
    OffsetFetch(OffsetFetchResponse) => |r| first(std::iter::once(r.error_code).chain(r.groups.iter().map(|g| g.error_code)).chain(r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code))).chain(r.groups.iter().flat_map(|g| g.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code)))));
    FindCoordinator(FindCoordinatorResponse) => |r| first(std::iter::once(r.error_code).chain(r.coordinators.iter().map(|c| c.error_code)));
    JoinGroup(JoinGroupResponse) => |r| r.error_code;
    SyncGroup(SyncGroupResponse) => |r| r.error_code;
    Heartbeat(HeartbeatResponse) => |r| r.error_code;
    LeaveGroup(LeaveGroupResponse) => |r| first(std::iter::once(r.error_code).chain(r.members.iter().map(|m| m.error_code)));
    DescribeGroups(DescribeGroupsResponse) => |r| first(r.groups.iter().map(|g| g.error_code));
    ListGroups(ListGroupsResponse) => |r| r.error_code;
    DeleteGroups(DeleteGroupsResponse) => |r| first(r.results.iter().map(|g| g.error_code));
    OffsetDelete(OffsetDeleteResponse) => |r| first(std::iter::once(r.error_code).chain(r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code))));
    ApiVersions(ApiVersionsResponse) => |r| r.error_code;
    InitProducerId(InitProducerIdResponse) => |r| r.error_code;
    DescribeCluster(DescribeClusterResponse) => |r| r.error_code;
    CreateTopics(CreateTopicsResponse) => |r| first(r.topics.iter().map(|t| t.error_code));
    DeleteTopics(DeleteTopicsResponse) => |r| first(r.responses.iter().map(|t| t.error_code));
    CreatePartitions(CreatePartitionsResponse) => |r| first(r.results.iter().map(|t| t.error_code));
    DeleteRecords(DeleteRecordsResponse) => |r| first(r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code)));
    OffsetForLeaderEpoch(OffsetForLeaderEpochResponse) => |r| first(r.topics.iter().flat_map(|t| t.partitions.iter().map(|p| p.error_code)));
    DescribeConfigs(DescribeConfigsResponse) => |r| first(r.results.iter().map(|t| t.error_code));
}

/// The error code an encoded response frame carries (0 when none), `None` if it does not
/// decode as `key`'s response.
pub(crate) fn answered_code(key: ApiKey, version: i16, frame: &Bytes) -> Option<i16> {
    with_answer(key, version, frame, |a| a.code())
}

/// The frame with `throttle_time_ms` set (re-encoded), `None` if it does not decode.
pub(crate) fn with_throttle(key: ApiKey, version: i16, frame: &Bytes, ms: i32) -> Option<BytesMut> {
    with_answer(key, version, frame, |a| {
        a.throttle(ms);
        a.encode_frame(key, version)
    })
    .flatten()
}
