//! OffsetForLeaderEpoch (API key 23), versions 2-4.
//!
//! For each partition: the largest leader epoch at most the one asked for and the offset
//! where it ends (the log end offset for the current epoch), from the leader epoch cache
//! that records where each leader's epoch started. Errors: UNKNOWN_TOPIC_OR_PARTITION,
//! NOT_LEADER_OR_FOLLOWER (replica id -2 may ask any broker), FENCED_LEADER_EPOCH /
//! UNKNOWN_LEADER_EPOCH.
//!
//! Differences from Kafka: none.

use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};
use kafka_protocol::ResponseError;

use crate::dispatch::RequestCtx;

const DEBUGGING_REPLICA_ID: i32 = -2;

pub(crate) fn handle(
    ctx: &RequestCtx<'_>,
    req: OffsetForLeaderEpochRequest,
) -> OffsetForLeaderEpochResponse {
    let any_replica = ctx.version >= 3 && req.replica_id.0 == DEBUGGING_REPLICA_ID;
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let resp = EpochEndOffset::default()
                        .with_partition(p.partition)
                        .with_leader_epoch(-1)
                        .with_end_offset(-1);
                    let partition = match ctx.topics().partition(&t.topic, p.partition) {
                        Ok(p) => p,
                        Err(code) => return resp.with_error_code(code.code()),
                    };
                    let state = partition.lock();
                    if state.deleted {
                        return resp.with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    }
                    if !any_replica && state.leader != ctx.broker_id {
                        return resp.with_error_code(ResponseError::NotLeaderOrFollower.code());
                    }
                    if let Err(code) = state.check_leader_epoch(p.current_leader_epoch) {
                        return resp.with_error_code(code.code());
                    }
                    let (epoch, end) = state.log.end_offset_for_epoch(p.leader_epoch);
                    resp.with_leader_epoch(epoch).with_end_offset(end)
                })
                .collect();
            OffsetForLeaderTopicResult::default()
                .with_topic(t.topic)
                .with_partitions(partitions)
        })
        .collect();
    OffsetForLeaderEpochResponse::default().with_topics(topics)
}
