//! Fetch (API key 1), versions 4-12.
//!
//! Reads as Kafka's `ReplicaManager.readFromLocalLog` does: partitions in request order,
//! each up to `min(partition_max_bytes, what remains of max_bytes)`; the first partition
//! that has data returns at least one whole batch however large; a fetch offset inside a
//! batch returns that whole batch. Errors per partition: UNKNOWN_TOPIC_OR_PARTITION,
//! NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH /
//! UNKNOWN_LEADER_EPOCH (v9+), OFFSET_OUT_OF_RANGE; `last_fetched_epoch` (v12) yields a
//! diverging epoch. When fewer than `min_bytes` are available and no partition failed, the
//! request waits up to `max_wait_ms`, woken by appends and leader changes, then reads again.
//!
//! Fetch sessions (KIP-227, v7+), as Kafka's `FetchManager`: epoch -1 is sessionless (a
//! session id given is closed); epoch 0 is a full fetch that creates a session when the
//! cache (1000 per broker) has room, else answers session id 0; a later epoch is an
//! incremental fetch of the session's partitions (those listed are added or updated, the
//! forgotten ones removed) answering only partitions with records, a changed high
//! watermark or log start offset, or an error. Unknown session: FETCH_SESSION_ID_NOT_FOUND;
//! wrong epoch: INVALID_FETCH_SESSION_EPOCH. See `fetch_session.rs`.
//!
//! Differences from Kafka: only whole batches are returned (Kafka may end a response with
//! a truncated batch, which clients discard; a later partition whose first batch does not
//! fit gets no records here instead of a partial one). Session eviction when the cache is
//! full is simplified to: the least recently used session idle for 2 minutes, else the
//! smallest session smaller than the new one.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{
    EpochEndOffset, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::{BrokerId, FetchRequest, FetchResponse, TopicName};
use kafka_protocol::ResponseError;
use tokio::sync::futures::Notified;
use tokio::time::Instant;

use super::str_bytes;
use crate::dispatch::RequestCtx;
use crate::fetch_session::{PartitionAnswer, PartitionRequest, SessionContext};
use crate::topics::Partition;

/// Kafka's isolation level READ_UNCOMMITTED.
pub(crate) const READ_UNCOMMITTED: i8 = 0;
/// Kafka's isolation level READ_COMMITTED.
const READ_COMMITTED: i8 = 1;

/// One requested partition, resolved.
pub(crate) struct Target {
    pub(crate) topic: TopicName,
    pub(crate) request: PartitionRequest,
    pub(crate) partition: Option<Arc<Partition>>,
}

/// What one read of all partitions found, in target order.
pub(crate) struct Read {
    pub(crate) partitions: Vec<(TopicName, PartitionData)>,
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

pub(crate) fn read_all(
    ctx: &RequestCtx<'_>,
    targets: &[Target],
    max_bytes: usize,
    isolation_level: i8,
) -> Read {
    let mut out: Vec<(TopicName, PartitionData)> = Vec::with_capacity(targets.len());
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
                    // The current leader is only reported from v16 (KIP-951), which is
                    // not served.
                    error = true;
                    error_partition(index, code)
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
                        let limit = usize::try_from(t.request.max_bytes)
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
        out.push((t.topic.clone(), data));
    }
    Read {
        partitions: out,
        bytes: total,
        error,
    }
}

/// Groups partitions by topic, keeping their order.
fn by_topic(
    partitions: impl IntoIterator<Item = (TopicName, PartitionData)>,
) -> Vec<FetchableTopicResponse> {
    let mut out: Vec<FetchableTopicResponse> = Vec::new();
    for (topic, data) in partitions {
        match out.last_mut() {
            Some(last) if last.topic == topic => last.partitions.push(data),
            _ => out.push(
                FetchableTopicResponse::default()
                    .with_topic(topic)
                    .with_partitions(vec![data]),
            ),
        }
    }
    out
}

fn answer_of(d: &PartitionData) -> PartitionAnswer {
    PartitionAnswer {
        has_records: d.records.as_ref().is_some_and(|r| !r.is_empty()),
        error: d.error_code != 0,
        diverging: d.diverging_epoch.epoch >= 0,
        high_watermark: d.high_watermark,
        log_start_offset: d.log_start_offset,
    }
}

/// Counts a parked fetch while alive (also when the wait is cancelled).
struct Parked<'a>(&'a AtomicUsize);

impl<'a> Parked<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
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
    let requests: Vec<PartitionRequest> = req
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| PartitionRequest {
                topic: t.topic.to_string(),
                partition: p.partition,
                fetch_offset: p.fetch_offset,
                max_bytes: p.partition_max_bytes,
                current_leader_epoch: p.current_leader_epoch,
                last_fetched_epoch: p.last_fetched_epoch,
            })
        })
        .collect();
    // tokio's clock, so a paused test runtime also pauses session eviction.
    let session_now = Instant::now().into_std();
    let context = if ctx.version >= 7 {
        let forgotten: Vec<(String, i32)> = req
            .forgotten_topics_data
            .iter()
            .flat_map(|t| t.partitions.iter().map(|&p| (t.topic.to_string(), p)))
            .collect();
        ctx.shared().fetch_sessions().context(
            ctx.broker_id,
            req.session_id,
            req.session_epoch,
            &requests,
            &forgotten,
            session_now,
        )
    } else {
        SessionContext::Sessionless
    };
    let to_read = match &context {
        SessionContext::Error(code) => {
            return FetchResponse::default()
                .with_error_code(code.code())
                .with_session_id(0);
        }
        SessionContext::Incremental { partitions, .. } => partitions.clone(),
        SessionContext::Sessionless | SessionContext::Full => requests,
    };
    let targets: Vec<Target> = {
        let topics = ctx.topics();
        to_read
            .into_iter()
            .map(|request| {
                let partition = topics
                    .get(&request.topic)
                    .and_then(|t| t.partition(request.partition))
                    .cloned();
                Target {
                    topic: TopicName(str_bytes(&request.topic)),
                    request,
                    partition,
                }
            })
            .collect()
    };
    let max_bytes = usize::try_from(req.max_bytes).unwrap_or(0);
    let min_bytes = usize::try_from(req.min_bytes).unwrap_or(0);
    let max_wait = u64::try_from(req.max_wait_ms).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_millis(max_wait);
    let mut expired = false;
    let read = loop {
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
            break read;
        }
        let _parked = Parked::new(&ctx.shared().parked_fetches);
        if tokio::time::timeout_at(deadline, any_notified(&mut waits))
            .await
            .is_err()
        {
            expired = true;
        }
    };
    match context {
        SessionContext::Full => {
            let answered: Vec<(PartitionRequest, PartitionAnswer)> = targets
                .iter()
                .zip(&read.partitions)
                .map(|(t, (_, d))| (t.request.clone(), answer_of(d)))
                .collect();
            let id = ctx
                .shared()
                .fetch_sessions()
                .create(ctx.broker_id, &answered, session_now);
            FetchResponse::default()
                .with_session_id(id)
                .with_responses(by_topic(read.partitions))
        }
        SessionContext::Incremental { id, .. } => {
            let answers: Vec<PartitionAnswer> =
                read.partitions.iter().map(|(_, d)| answer_of(d)).collect();
            let keep = ctx
                .shared()
                .fetch_sessions()
                .select(ctx.broker_id, id, &answers);
            let kept = read
                .partitions
                .into_iter()
                .zip(keep)
                .filter_map(|(p, k)| k.then_some(p));
            FetchResponse::default()
                .with_session_id(id)
                .with_responses(by_topic(kept))
        }
        _ => FetchResponse::default()
            .with_session_id(0)
            .with_responses(by_topic(read.partitions)),
    }
}
