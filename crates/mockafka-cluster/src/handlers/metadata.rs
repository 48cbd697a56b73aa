//! Metadata (API key 3), versions 0-12.
//!
//! Brokers listed are the live ones; the controller is the live broker with the lowest
//! id. Unknown topics are created when `auto.create.topics.enable` is on and the request
//! allows it (`allow_auto_topic_creation`, v4+; always before v4), with the cluster's
//! default partition count.
//!
//! Differences from Kafka: an auto-created topic is answered with its partitions in the
//! same response (Kafka answers LEADER_NOT_AVAILABLE until its controller has created it,
//! and the client asks again). Replicas are all brokers and the ISR the live ones, since
//! every broker holds every partition.

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::str_bytes;
use crate::dispatch::RequestCtx;
use crate::topics::{validate_topic_name, Topic};

/// "Not requested" for authorized operations.
pub(crate) const OPS_NOT_REQUESTED: i32 = i32::MIN;
/// Every topic operation allowed (no ACLs): READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE,
/// DESCRIBE_CONFIGS, ALTER_CONFIGS.
const TOPIC_OPS: i32 =
    (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
/// Every cluster operation allowed: CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS,
/// ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE.
pub(crate) const CLUSTER_OPS: i32 =
    (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

/// The metadata of one partition list, as every broker reports it.
pub(crate) fn partitions(
    topic: &Topic,
    all: &[i32],
    live: &[i32],
) -> Vec<MetadataResponsePartition> {
    topic
        .partitions
        .iter()
        .map(|p| {
            let state = p.lock();
            let leader = state.leader;
            let error = if leader < 0 {
                ResponseError::LeaderNotAvailable.code()
            } else {
                0
            };
            // Replicas: the preferred leader (the one chosen at creation) first, then the
            // others in id order; fixed however leadership moves, as an assignment is.
            let preferred = state.preferred_leader;
            let mut replicas: Vec<i32> = Vec::with_capacity(all.len());
            if all.contains(&preferred) {
                replicas.push(preferred);
            }
            replicas.extend(all.iter().copied().filter(|&b| b != preferred));
            let isr = replicas
                .iter()
                .copied()
                .filter(|b| live.contains(b))
                .map(BrokerId)
                .collect();
            let offline = replicas
                .iter()
                .copied()
                .filter(|b| !live.contains(b))
                .map(BrokerId)
                .collect();
            MetadataResponsePartition::default()
                .with_error_code(error)
                .with_partition_index(p.index)
                .with_leader_id(BrokerId(leader))
                .with_leader_epoch(state.leader_epoch)
                .with_replica_nodes(replicas.into_iter().map(BrokerId).collect())
                .with_isr_nodes(isr)
                .with_offline_replicas(offline)
        })
        .collect()
}

fn known_topic(topic: &Topic, all: &[i32], live: &[i32], ops: i32) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_error_code(0)
        .with_name(Some(TopicName(str_bytes(&topic.name))))
        .with_topic_id(topic.id)
        .with_is_internal(false)
        .with_partitions(partitions(topic, all, live))
        .with_topic_authorized_operations(ops)
}

fn error_topic(name: Option<TopicName>, id: Uuid, code: ResponseError) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_error_code(code.code())
        .with_name(name)
        .with_topic_id(id)
        .with_topic_authorized_operations(OPS_NOT_REQUESTED)
}

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: MetadataRequest) -> MetadataResponse {
    let shared = ctx.shared();
    let brokers = ctx.live_brokers();
    let live: Vec<i32> = brokers.iter().map(|b| b.id).collect();
    let count = i32::try_from(shared.broker_count()).unwrap_or(i32::MAX);
    let all: Vec<i32> = (0..count).collect();
    let topic_ops = if ctx.version >= 8 && req.include_topic_authorized_operations {
        TOPIC_OPS
    } else {
        OPS_NOT_REQUESTED
    };
    let cluster_ops = if ctx.version >= 8 && req.include_cluster_authorized_operations {
        CLUSTER_OPS
    } else {
        OPS_NOT_REQUESTED
    };
    let allow_create =
        shared.config.auto_create_topics && (ctx.version < 4 || req.allow_auto_topic_creation);

    // v0 sends an empty list to mean "all topics"; later versions send null.
    let requested = match req.topics {
        Some(list) if !(ctx.version == 0 && list.is_empty()) => Some(list),
        _ => None,
    };
    let topics = match requested {
        None => ctx
            .topics()
            .iter()
            .map(|t| known_topic(t, &all, &live, topic_ops))
            .collect(),
        Some(list) => {
            let mut out: Vec<MetadataResponseTopic> = Vec::with_capacity(list.len());
            let mut seen: Vec<(Option<TopicName>, Uuid)> = Vec::with_capacity(list.len());
            for t in list {
                let key = (t.name.clone(), t.topic_id);
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                let entry = match t.name {
                    None => match ctx.topics().by_id(t.topic_id) {
                        Some(topic) => known_topic(topic, &all, &live, topic_ops),
                        None => error_topic(None, t.topic_id, ResponseError::UnknownTopicId),
                    },
                    Some(name) => {
                        let existing = ctx
                            .topics()
                            .get(&name)
                            .map(|topic| known_topic(topic, &all, &live, topic_ops));
                        match existing {
                            Some(found) => found,
                            None if !allow_create => error_topic(
                                Some(name),
                                Uuid::nil(),
                                ResponseError::UnknownTopicOrPartition,
                            ),
                            None => match validate_topic_name(&name).and_then(|()| {
                                shared
                                    .create_topic(
                                        &name,
                                        shared.config.default_partitions,
                                        Default::default(),
                                        false,
                                    )
                                    .or_else(|e| match e {
                                        // Created meanwhile by another request.
                                        ResponseError::TopicAlreadyExists => Ok(()),
                                        e => Err(e),
                                    })
                            }) {
                                Ok(()) => match ctx.topics().get(&name) {
                                    Some(topic) => known_topic(topic, &all, &live, topic_ops),
                                    None => error_topic(
                                        Some(name),
                                        Uuid::nil(),
                                        ResponseError::UnknownTopicOrPartition,
                                    ),
                                },
                                Err(code) => error_topic(Some(name), Uuid::nil(), code),
                            },
                        }
                    }
                };
                out.push(entry);
            }
            out
        }
    };

    MetadataResponse::default()
        .with_brokers(
            brokers
                .iter()
                .map(|b| {
                    MetadataResponseBroker::default()
                        .with_node_id(BrokerId(b.id))
                        .with_host(str_bytes(&b.host))
                        .with_port(i32::from(b.port))
                        .with_rack(None)
                })
                .collect(),
        )
        .with_cluster_id(Some(str_bytes(&shared.config.cluster_id)))
        .with_controller_id(BrokerId(shared.controller_id()))
        .with_topics(topics)
        .with_cluster_authorized_operations(cluster_ops)
}
