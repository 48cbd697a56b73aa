//! CreateTopics (API key 19), versions 2-7.
//!
//! Per topic: INVALID_REQUEST for a name listed twice or for assignments together with a
//! partition count or replication factor; INVALID_TOPIC_EXCEPTION; TOPIC_ALREADY_EXISTS;
//! INVALID_PARTITIONS (count below 1, -1 meaning the default); INVALID_REPLICATION_FACTOR
//! (below 1 or above the live brokers, -1 meaning the default);
//! INVALID_REPLICA_ASSIGNMENT (unknown brokers, partitions not numbered 0..n); INVALID_CONFIG
//! (unknown config, bad or null value). `validate_only` checks without creating. From v5
//! the result carries partitions, replication factor and every config with its source; from
//! v7 the topic id.
//!
//! Differences from Kafka: every broker holds every partition, so the replication factor
//! reported is the broker count whatever was asked (a valid factor is still checked). The
//! leader of an assigned partition is the first broker of its assignment.

use std::collections::BTreeMap;

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};
use kafka_protocol::ResponseError;

use super::describe_configs::topic_configs;
use super::str_bytes;
use crate::dispatch::RequestCtx;

fn leaders_from_assignment(
    t: &CreatableTopic,
    all: &[i32],
) -> Result<Option<Vec<i32>>, ResponseError> {
    if t.assignments.is_empty() {
        return Ok(None);
    }
    if t.num_partitions != -1 || t.replication_factor != -1 {
        return Err(ResponseError::InvalidRequest);
    }
    let mut leaders = Vec::with_capacity(t.assignments.len());
    for (i, a) in t.assignments.iter().enumerate() {
        let numbered = usize::try_from(a.partition_index).is_ok_and(|p| p == i);
        let first = a.broker_ids.first().map(|b| b.0);
        match first {
            Some(b) if numbered && a.broker_ids.iter().all(|x| all.contains(&x.0)) => {
                leaders.push(b)
            }
            _ => return Err(ResponseError::InvalidReplicaAssignment),
        }
    }
    Ok(Some(leaders))
}

fn create_one(
    ctx: &RequestCtx<'_>,
    t: &CreatableTopic,
    validate_only: bool,
) -> Result<(), ResponseError> {
    let shared = ctx.shared();
    let live = shared.live_ids();
    let count = i32::try_from(shared.broker_count()).unwrap_or(i32::MAX);
    let all: Vec<i32> = (0..count).collect();
    let mut configs = BTreeMap::new();
    for c in &t.configs {
        let value = c.value.as_ref().ok_or(ResponseError::InvalidConfig)?;
        configs.insert(c.name.to_string(), value.to_string());
    }
    let leaders = leaders_from_assignment(t, &all)?;
    let partitions = match t.num_partitions {
        -1 => shared.config.default_partitions,
        n => n,
    };
    let rf = t.replication_factor;
    let live_count = i16::try_from(live.len()).unwrap_or(i16::MAX);
    if leaders.is_none() && (rf == 0 || rf < -1 || rf > live_count) {
        return Err(ResponseError::InvalidReplicationFactor);
    }
    let mut topics = ctx.topics();
    match leaders {
        Some(leaders) => {
            let n = i32::try_from(leaders.len()).unwrap_or(i32::MAX);
            topics.check_create(&t.name, n, &configs)?;
            if !validate_only {
                topics.create_with_leaders(&t.name, leaders, configs)?;
            }
        }
        None => {
            topics.check_create(&t.name, partitions, &configs)?;
            if !validate_only {
                topics.create(&t.name, partitions, configs, &live)?;
            }
        }
    }
    Ok(())
}

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: CreateTopicsRequest) -> CreateTopicsResponse {
    let names: Vec<String> = req.topics.iter().map(|t| t.name.to_string()).collect();
    let brokers = i16::try_from(ctx.shared().broker_count()).unwrap_or(i16::MAX);
    let results = req
        .topics
        .iter()
        .map(|t| {
            let result = CreatableTopicResult::default().with_name(t.name.clone());
            let duplicate = names
                .iter()
                .filter(|n| n.as_str() == t.name.as_str())
                .count()
                > 1;
            let outcome = if duplicate {
                Err(ResponseError::InvalidRequest)
            } else {
                create_one(ctx, t, req.validate_only)
            };
            match outcome {
                Err(code) => result
                    .with_error_code(code.code())
                    .with_num_partitions(-1)
                    .with_replication_factor(-1),
                Ok(()) => {
                    let topics = ctx.topics();
                    let (id, partitions, configs) = match topics.get(&t.name) {
                        Some(created) if !req.validate_only => (
                            created.id,
                            i32::try_from(created.partitions.len()).unwrap_or(i32::MAX),
                            created.configs.clone(),
                        ),
                        _ => {
                            let n = if t.assignments.is_empty() {
                                match t.num_partitions {
                                    -1 => ctx.shared().config.default_partitions,
                                    n => n,
                                }
                            } else {
                                i32::try_from(t.assignments.len()).unwrap_or(i32::MAX)
                            };
                            let configs = t
                                .configs
                                .iter()
                                .filter_map(|c| {
                                    c.value
                                        .as_ref()
                                        .map(|v| (c.name.to_string(), v.to_string()))
                                })
                                .collect();
                            (uuid::Uuid::nil(), n, configs)
                        }
                    };
                    drop(topics);
                    let described = topic_configs(&configs, ctx.shared().config.message_max_bytes)
                        .into_iter()
                        .map(|c| {
                            CreatableTopicConfigs::default()
                                .with_name(str_bytes(c.name))
                                .with_value(Some(str_bytes(&c.value)))
                                .with_read_only(false)
                                .with_config_source(c.source)
                                .with_is_sensitive(false)
                        })
                        .collect();
                    result
                        .with_topic_id(id)
                        .with_num_partitions(partitions)
                        .with_replication_factor(brokers)
                        .with_configs(Some(described))
                }
            }
        })
        .collect();
    CreateTopicsResponse::default().with_topics(results)
}
