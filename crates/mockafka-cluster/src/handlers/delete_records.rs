//! DeleteRecords (API key 21), versions 0-2.
//!
//! Moves a partition's log start offset to the offset given (-1: the high watermark) and
//! drops the batches wholly before it; answers the new low watermark. Errors per
//! partition: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, OFFSET_OUT_OF_RANGE (an
//! offset below 0 other than -1, or past the high watermark). An offset at or before the
//! current log start changes nothing.
//!
//! Differences from Kafka: none.

use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};
use kafka_protocol::ResponseError;

use crate::dispatch::RequestCtx;

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: DeleteRecordsRequest) -> DeleteRecordsResponse {
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let result = DeleteRecordsPartitionResult::default()
                        .with_partition_index(p.partition_index)
                        .with_low_watermark(-1);
                    let partition = match ctx.topics().partition(&t.name, p.partition_index) {
                        Ok(p) => p,
                        Err(code) => return result.with_error_code(code.code()),
                    };
                    let mut state = partition.lock();
                    if state.deleted {
                        return result
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    }
                    if state.leader != ctx.broker_id {
                        return result.with_error_code(ResponseError::NotLeaderOrFollower.code());
                    }
                    let target = if p.offset == -1 {
                        state.log.high_watermark()
                    } else {
                        p.offset
                    };
                    match state.log.delete_before(target) {
                        Ok(low) => {
                            drop(state);
                            partition.changed.notify_waiters();
                            result.with_low_watermark(low)
                        }
                        Err(code) => result.with_error_code(code.code()),
                    }
                })
                .collect();
            DeleteRecordsTopicResult::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    DeleteRecordsResponse::default().with_topics(topics)
}
