//! DescribeConfigs (API key 32), versions 1-4.
//!
//! Topic resources (type 2): every topic config, its value and source
//! (DYNAMIC_TOPIC_CONFIG when set on the topic, STATIC_BROKER_CONFIG for
//! `max.message.bytes` when the broker's `message.max.bytes` was changed, DEFAULT_CONFIG
//! otherwise); UNKNOWN_TOPIC_OR_PARTITION for an unknown topic, INVALID_TOPIC_EXCEPTION for
//! an illegal name. Broker resources (type 4): the broker's configs, for the receiving
//! broker's id or "" (the cluster default); another id gets INVALID_REQUEST, as Kafka's
//! `ConfigHelper` answers. `configuration_keys` filters (null or empty: all; unknown keys are left out);
//! `include_synonyms` adds the config itself as its one synonym; v3+ carries config types.
//!
//! Differences from Kafka: the broker config list is the subset mockafka models (Kafka
//! lists a few hundred); synonyms do not list broker-level fallbacks; BROKER_LOGGER (8)
//! and other resource types get INVALID_REQUEST. Documentation strings are null.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::ResponseError;

use super::str_bytes;
use crate::config::DEFAULT_MESSAGE_MAX_BYTES;
use crate::dispatch::RequestCtx;
use crate::topics::{validate_topic_name, TOPIC_CONFIG_DEFAULTS};

const TOPIC: i8 = 2;
const BROKER: i8 = 4;

const DYNAMIC_TOPIC_CONFIG: i8 = 1;
const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;

const TYPE_BOOLEAN: i8 = 1;
const TYPE_STRING: i8 = 2;
const TYPE_INT: i8 = 3;
const TYPE_LONG: i8 = 5;
const TYPE_DOUBLE: i8 = 6;
const TYPE_LIST: i8 = 7;

/// One described config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigEntry {
    pub(crate) name: &'static str,
    pub(crate) value: String,
    pub(crate) source: i8,
    pub(crate) config_type: i8,
    pub(crate) read_only: bool,
}

fn config_type(name: &str) -> i8 {
    match name {
        "preallocate"
        | "unclean.leader.election.enable"
        | "auto.create.topics.enable"
        | "delete.topic.enable" => TYPE_BOOLEAN,
        "message.timestamp.type" | "compression.type" | "log.message.timestamp.type" => TYPE_STRING,
        "cleanup.policy" | "log.cleanup.policy" => TYPE_LIST,
        "min.cleanable.dirty.ratio" => TYPE_DOUBLE,
        "max.message.bytes"
        | "min.insync.replicas"
        | "index.interval.bytes"
        | "segment.bytes"
        | "segment.index.bytes"
        | "message.max.bytes"
        | "num.partitions"
        | "broker.id"
        | "default.replication.factor"
        | "offsets.topic.num.partitions" => TYPE_INT,
        _ => TYPE_LONG,
    }
}

/// Every config of a topic with `set` configs, as DescribeConfigs and CreateTopics v5+
/// report them.
pub(crate) fn topic_configs(
    set: &BTreeMap<String, String>,
    message_max_bytes: i32,
) -> Vec<ConfigEntry> {
    TOPIC_CONFIG_DEFAULTS
        .iter()
        .map(|&(name, default)| {
            let (value, source) = match set.get(name) {
                Some(v) => (v.clone(), DYNAMIC_TOPIC_CONFIG),
                None if name == "max.message.bytes" => (
                    message_max_bytes.to_string(),
                    if message_max_bytes == DEFAULT_MESSAGE_MAX_BYTES {
                        DEFAULT_CONFIG
                    } else {
                        STATIC_BROKER_CONFIG
                    },
                ),
                None => (default.to_owned(), DEFAULT_CONFIG),
            };
            ConfigEntry {
                name,
                value,
                source,
                config_type: config_type(name),
                read_only: false,
            }
        })
        .collect()
}

fn broker_configs(ctx: &RequestCtx<'_>, broker: Option<i32>) -> Vec<ConfigEntry> {
    let c = &ctx.shared().config;
    let brokers = ctx.shared().broker_count();
    let entry = |name: &'static str, value: String, set: bool, read_only: bool| ConfigEntry {
        name,
        value,
        source: if set {
            STATIC_BROKER_CONFIG
        } else {
            DEFAULT_CONFIG
        },
        config_type: config_type(name),
        read_only,
    };
    let mut out = Vec::new();
    if let Some(id) = broker {
        out.push(entry("broker.id", id.to_string(), true, true));
    }
    out.extend([
        entry(
            "message.max.bytes",
            c.message_max_bytes.to_string(),
            c.message_max_bytes != DEFAULT_MESSAGE_MAX_BYTES,
            false,
        ),
        entry(
            "num.partitions",
            c.default_partitions.to_string(),
            c.default_partitions != 1,
            true,
        ),
        entry(
            "auto.create.topics.enable",
            c.auto_create_topics.to_string(),
            !c.auto_create_topics,
            true,
        ),
        entry(
            "default.replication.factor",
            brokers.to_string(),
            true,
            true,
        ),
        entry("delete.topic.enable", "true".to_owned(), false, true),
        entry("log.cleanup.policy", "delete".to_owned(), false, false),
        entry(
            "log.message.timestamp.type",
            "CreateTime".to_owned(),
            false,
            false,
        ),
        entry("log.retention.ms", "604800000".to_owned(), false, false),
        entry("offsets.topic.num.partitions", "50".to_owned(), false, true),
        entry(
            "socket.request.max.bytes",
            c.max_frame_size.to_string(),
            false,
            true,
        ),
    ]);
    out
}

fn resource_result(
    ctx: &RequestCtx<'_>,
    resource_type: i8,
    name: &str,
) -> Result<Vec<ConfigEntry>, ResponseError> {
    match resource_type {
        TOPIC => {
            validate_topic_name(name)?;
            let topics = ctx.topics();
            let topic = topics
                .get(name)
                .ok_or(ResponseError::UnknownTopicOrPartition)?;
            Ok(topic_configs(
                &topic.configs,
                ctx.shared().config.message_max_bytes,
            ))
        }
        BROKER => {
            if name.is_empty() {
                return Ok(broker_configs(ctx, None));
            }
            match name.parse::<i32>() {
                Ok(id) if id == ctx.broker_id => Ok(broker_configs(ctx, Some(id))),
                _ => Err(ResponseError::InvalidRequest),
            }
        }
        _ => Err(ResponseError::InvalidRequest),
    }
}

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: DescribeConfigsRequest) -> DescribeConfigsResponse {
    let results = req
        .resources
        .into_iter()
        .map(|r| {
            let result = DescribeConfigsResult::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name.clone());
            match resource_result(ctx, r.resource_type, &r.resource_name) {
                Err(code) => result.with_error_code(code.code()),
                Ok(entries) => {
                    let configs = entries
                        .into_iter()
                        .filter(|e| {
                            // Null or empty: every config, as Kafka's ConfigHelper does.
                            r.configuration_keys.as_ref().is_none_or(|keys| {
                                keys.is_empty() || keys.iter().any(|k| k.as_str() == e.name)
                            })
                        })
                        .map(|e| {
                            let synonyms = if req.include_synonyms {
                                vec![DescribeConfigsSynonym::default()
                                    .with_name(str_bytes(e.name))
                                    .with_value(Some(str_bytes(&e.value)))
                                    .with_source(e.source)]
                            } else {
                                Vec::new()
                            };
                            DescribeConfigsResourceResult::default()
                                .with_name(str_bytes(e.name))
                                .with_value(Some(str_bytes(&e.value)))
                                .with_read_only(e.read_only)
                                .with_config_source(e.source)
                                .with_is_sensitive(false)
                                .with_synonyms(synonyms)
                                .with_config_type(e.config_type)
                                .with_documentation(None)
                        })
                        .collect();
                    result.with_configs(configs)
                }
            }
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}
