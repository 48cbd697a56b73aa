//! Fetch (API key 1), versions 4-12.
//!
//! Reads as Kafka's `ReplicaManager.readFromLocalLog` does: partitions in request order,
//! each up to `min(partition_max_bytes, what remains of max_bytes)`; the first partition
//! that has data returns at least one whole batch however large; a fetch offset inside a
//! batch returns that whole batch. Errors per partition: UNKNOWN_TOPIC_OR_PARTITION,
//! NOT_LEADER_OR_FOLLOWER (with the current leader, v12), FENCED_LEADER_EPOCH /
//! UNKNOWN_LEADER_EPOCH (v9+), OFFSET_OUT_OF_RANGE; `last_fetched_epoch` (v12) yields a
//! diverging epoch. When fewer than `min_bytes` are available and no partition failed, the
//! request waits up to `max_wait_ms`, woken by appends and leader changes, then reads again.
//!
//! Fetch sessions (KIP-227): the broker never creates one (as Kafka with
//! `max.incremental.fetch.session.cache.slots=0`): a full fetch (epoch 0 or -1) is answered
//! sessionless with session id 0, so clients go on sending full fetches; any other session
//! id or epoch gets FETCH_SESSION_ID_NOT_FOUND.
//!
//! Differences from Kafka: only whole batches are returned (Kafka may end a response with
//! a truncated batch, which clients discard; a later partition whose first batch does not
//! fit gets no records here instead of a partial one). No incremental fetch sessions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::FetchPartition;
use kafka_protocol::messages::fetch_response::{
    EpochEndOffset, FetchableTopicResponse, LeaderIdAndEpoch, PartitionData,
};
use kafka_protocol::messages::{BrokerId, FetchRequest, FetchResponse, TopicName};
use kafka_protocol::ResponseError;
use tokio::sync::futures::Notified;
use tokio::time::Instant;

use crate::dispatch::RequestCtx;
use crate::topics::Partition;

/// Kafka's isolation level READ_COMMITTED.
const READ_COMMITTED: i8 = 1;

/// One requested partition, resolved.
struct Target {
    topic: TopicName,
    request: FetchPartition,
    partition: Option<Arc<Partition>>,
}

/// What one read of all partitions found.
struct Read {
    topics: Vec<FetchableTopicResponse>,
    bytes: usize,
    error: bool,
}

fn error_partition(index: i32, code: ResponseError) -> PartitionData {
    PartitionData::default()
        .with_partition_index(index)
        .with_error_code(code.code())
        .with_high_watermark(-1)
        .with_last_stable_offset(-1)
        .with_log_start_offset(-1)
        .with_preferred_read_replica(BrokerId(-1))
        .with_records(Some(Bytes::new()))
}

fn read_all(
    ctx: &RequestCtx<'_>,
    targets: &[Target],
    max_bytes: usize,
    isolation_level: i8,
) -> Read {
    let mut out: Vec<FetchableTopicResponse> = Vec::new();
    let mut remaining = max_bytes;
    let mut min_one = true;
    let mut total = 0usize;
    let mut error = false;
    for t in targets {
        let index = t.request.partition;
        let data = match &t.partition {
            None => {
                error = true;
                error_partition(index, ResponseError::UnknownTopicOrPartition)
            }
            Some(p) => {
                let state = p.lock();
                let fail = if state.deleted {
                    Some(ResponseError::UnknownTopicOrPartition)
                } else if state.leader != ctx.broker_id {
                    Some(ResponseError::NotLeaderOrFollower)
                } else if ctx.version >= 9 {
                    state
                        .check_leader_epoch(t.request.current_leader_epoch)
                        .err()
                } else {
                    None
                };
                if let Some(code) = fail {
                    error = true;
                    let mut d = error_partition(index, code);
                    if code == ResponseError::NotLeaderOrFollower && state.leader >= 0 {
                        d = d.with_current_leader(
                            LeaderIdAndEpoch::default()
                                .with_leader_id(BrokerId(state.leader))
                                .with_leader_epoch(state.leader_epoch),
                        );
                    }
                    d
                } else {
                    let log = &state.log;
                    let hw = log.high_watermark();
                    let base = PartitionData::default()
                        .with_partition_index(index)
                        .with_high_watermark(hw)
                        .with_last_stable_offset(hw)
                        .with_log_start_offset(log.log_start_offset())
                        .with_preferred_read_replica(BrokerId(-1))
                        .with_aborted_transactions(
                            (isolation_level == READ_COMMITTED).then(Vec::new),
                        );
                    let last_fetched = t.request.last_fetched_epoch;
                    let diverging = (ctx.version >= 12 && last_fetched >= 0)
                        .then(|| log.end_offset_for_epoch(last_fetched))
                        .filter(|&(e, end)| e < last_fetched || end < t.request.fetch_offset);
                    if let Some((epoch, end_offset)) = diverging {
                        error = true;
                        base.with_diverging_epoch(
                            EpochEndOffset::default()
                                .with_epoch(epoch)
                                .with_end_offset(end_offset),
                        )
                        .with_records(Some(Bytes::new()))
                    } else {
                        let limit = usize::try_from(t.request.partition_max_bytes)
                            .unwrap_or(0)
                            .min(remaining);
                        match log.read(t.request.fetch_offset, limit, min_one) {
                            Ok(read) => {
                                if read.bytes > 0 {
                                    min_one = false;
                                }
                                remaining = remaining.saturating_sub(read.bytes);
                                total = total.saturating_add(read.bytes);
                                base.with_records(Some(read.into_records()))
                            }
                            Err(code) => {
                                error = true;
                                base.with_error_code(code.code())
                                    .with_records(Some(Bytes::new()))
                            }
                        }
                    }
                }
            }
        };
        match out.last_mut() {
            Some(last) if last.topic == t.topic => last.partitions.push(data),
            _ => out.push(
                FetchableTopicResponse::default()
                    .with_topic(t.topic.clone())
                    .with_partitions(vec![data]),
            ),
        }
    }
    Read {
        topics: out,
        bytes: total,
        error,
    }
}

/// Resolves until any of `waits` is notified.
async fn any_notified(waits: &mut [Pin<Box<Notified<'_>>>]) {
    std::future::poll_fn(|cx| {
        for w in waits.iter_mut() {
            if w.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    })
    .await;
}

pub(crate) async fn handle(ctx: &RequestCtx<'_>, req: FetchRequest) -> FetchResponse {
    if ctx.version >= 7 {
        let full = req.session_epoch == 0 || req.session_epoch == -1;
        if req.session_id != 0 || !full {
            return FetchResponse::default()
                .with_error_code(ResponseError::FetchSessionIdNotFound.code())
                .with_session_id(0);
        }
    }
    let targets: Vec<Target> = {
        let topics = ctx.topics();
        req.topics
            .into_iter()
            .flat_map(|t| {
                let topic = t.topic;
                let found = topics.get(&topic);
                t.partitions
                    .into_iter()
                    .map(|request| Target {
                        topic: topic.clone(),
                        partition: found.and_then(|f| f.partition(request.partition)).cloned(),
                        request,
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let max_bytes = usize::try_from(req.max_bytes).unwrap_or(0);
    let min_bytes = usize::try_from(req.min_bytes).unwrap_or(0);
    let max_wait = u64::try_from(req.max_wait_ms).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_millis(max_wait);
    let mut expired = false;
    loop {
        // Register for wake-ups before reading, so an append between the read and the
        // wait is not missed.
        let mut waits: Vec<Pin<Box<Notified<'_>>>> = targets
            .iter()
            .filter_map(|t| t.partition.as_ref())
            .map(|p| Box::pin(p.changed.notified()))
            .collect();
        let read = read_all(ctx, &targets, max_bytes, req.isolation_level);
        let done =
            expired || max_wait == 0 || targets.is_empty() || read.bytes >= min_bytes || read.error;
        if done {
            return FetchResponse::default()
                .with_session_id(0)
                .with_responses(read.topics);
        }
        if tokio::time::timeout_at(deadline, any_notified(&mut waits))
            .await
            .is_err()
        {
            expired = true;
        }
    }
}
