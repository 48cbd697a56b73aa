//! ListOffsets (API key 2), versions 1-7.
//!
//! Timestamps: -2 earliest (the log start offset, with the epoch that covers it), -1
//! latest (the high watermark, which is also the last stable offset, with the latest
//! epoch), -3 max timestamp (v7: the first record carrying the largest timestamp), and
//! any other value: the first record whose timestamp is at least that value, or offset
//! and timestamp -1 when there is none. Errors per partition: UNKNOWN_TOPIC_OR_PARTITION,
//! INVALID_REQUEST for a partition listed twice, NOT_LEADER_OR_FOLLOWER (replica id -2,
//! Kafka's debugging id, may ask any broker), FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH
//! (v4+).
//!
//! Differences from Kafka: none.

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
use kafka_protocol::ResponseError;
use mockafka_protocol::batch::{DecodeLimits, RecordBatch};

use crate::dispatch::RequestCtx;
use crate::log::partition::{PartitionLog, UNDEFINED_EPOCH};

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
/// Kafka's replica id for debugging tools, which may read from any replica.
const DEBUGGING_REPLICA_ID: i32 = -2;

/// (timestamp, offset, leader epoch) for a search target.
pub(crate) fn lookup(log: &PartitionLog, target: i64) -> (i64, i64, i32) {
    match target {
        EARLIEST => (
            -1,
            log.log_start_offset(),
            log.epoch_for_offset(log.log_start_offset()),
        ),
        LATEST => (-1, log.high_watermark(), log.latest_epoch()),
        MAX_TIMESTAMP => {
            let mut best: Option<&crate::log::partition::StoredBatch> = None;
            for b in log.batches() {
                if best.is_none_or(|x| b.max_timestamp > x.max_timestamp) {
                    best = Some(b);
                }
            }
            let Some(b) = best else {
                return (-1, -1, UNDEFINED_EPOCH);
            };
            let found = RecordBatch::decode(&b.bytes, &DecodeLimits::default())
                .ok()
                .and_then(|decoded| {
                    decoded
                        .records
                        .iter()
                        .find(|r| r.timestamp == b.max_timestamp)
                        .map(|r| r.offset)
                });
            (
                b.max_timestamp,
                found.unwrap_or(b.last_offset),
                b.leader_epoch,
            )
        }
        t => {
            let start = log.log_start_offset();
            for b in log.batches_from(start).filter(|b| b.max_timestamp >= t) {
                let Ok(decoded) = RecordBatch::decode(&b.bytes, &DecodeLimits::default()) else {
                    continue;
                };
                if let Some(r) = decoded
                    .records
                    .iter()
                    .find(|r| r.timestamp >= t && r.offset >= start)
                {
                    return (r.timestamp, r.offset, b.leader_epoch);
                }
            }
            (-1, -1, UNDEFINED_EPOCH)
        }
    }
}

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: ListOffsetsRequest) -> ListOffsetsResponse {
    let mut seen: Vec<(String, i32)> = Vec::new();
    let mut duplicates: Vec<(String, i32)> = Vec::new();
    for t in &req.topics {
        for p in &t.partitions {
            let key = (t.name.to_string(), p.partition_index);
            if seen.contains(&key) {
                duplicates.push(key);
            } else {
                seen.push(key);
            }
        }
    }
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let name = t.name.to_string();
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let index = p.partition_index;
                    let resp = ListOffsetsPartitionResponse::default()
                        .with_partition_index(index)
                        .with_timestamp(-1)
                        .with_offset(-1)
                        .with_leader_epoch(-1);
                    if duplicates.contains(&(name.clone(), index)) {
                        return resp.with_error_code(ResponseError::InvalidRequest.code());
                    }
                    let partition = match ctx.topics().partition(&name, index) {
                        Ok(p) => p,
                        Err(code) => return resp.with_error_code(code.code()),
                    };
                    let state = partition.lock();
                    if state.deleted {
                        return resp.with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    }
                    if req.replica_id.0 != DEBUGGING_REPLICA_ID && state.leader != ctx.broker_id {
                        return resp.with_error_code(ResponseError::NotLeaderOrFollower.code());
                    }
                    if ctx.version >= 4 {
                        if let Err(code) = state.check_leader_epoch(p.current_leader_epoch) {
                            return resp.with_error_code(code.code());
                        }
                    }
                    let (timestamp, offset, epoch) = lookup(&state.log, p.timestamp);
                    // The leader epoch exists from v4 on.
                    let epoch = if ctx.version >= 4 { epoch } else { -1 };
                    resp.with_timestamp(timestamp)
                        .with_offset(offset)
                        .with_leader_epoch(epoch)
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}
