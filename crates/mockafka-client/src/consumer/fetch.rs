//! Fetching: one Fetch in flight per leader, started by a poll, answered into the
//! partitions' buffers.
//!
//! A partition is fetched only when it is assigned, not paused, has a position and an
//! empty buffer, so a consumer never holds more than one response's worth of records per
//! partition; records are fetched while the application handles the previous ones. An
//! answer is applied only if the partition's position and version are still what the
//! request was built from (a seek or rebalance in between drops it).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{FetchRequest, FetchResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use mockafka_protocol::batch;
use mockafka_protocol::batch::{DecodeLimits, RecordBatch};

use super::{duration_ms, offsets, Buffered, Inner, IsolationLevel, OffsetReset};
use crate::admin::TopicPartition;
use crate::error::ClientError;

/// Takes up to `max` buffered records, rotating over partitions, and advances their
/// positions. Surfaces a partition's pending error or a fatal group error first.
pub(crate) fn drain(
    inner: &Inner,
    max: usize,
) -> Result<Vec<(TopicPartition, Buffered)>, ClientError> {
    let mut st = inner.lock();
    if let Some(e) = st.fatal.take() {
        return Err(e);
    }
    for p in st.assignment.values_mut() {
        if let Some(e) = p.error.take() {
            return Err(e);
        }
    }
    let n = st.assignment.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let start = st.rotate % n;
    st.rotate = st.rotate.wrapping_add(1);
    let mut out = Vec::new();
    let keys: Vec<TopicPartition> = st.assignment.keys().cloned().collect();
    for i in 0..n {
        if out.len() >= max {
            break;
        }
        let Some(tp) = keys.get((start + i) % n) else {
            continue;
        };
        let Some(p) = st.assignment.get_mut(tp) else {
            continue;
        };
        if p.paused {
            continue;
        }
        while out.len() < max {
            let Some(b) = p.buffer.pop_front() else { break };
            p.position = Some(b.record.offset.saturating_add(1));
            p.last_epoch = (b.leader_epoch >= 0).then_some(b.leader_epoch);
            out.push((tp.clone(), b));
        }
    }
    Ok(out)
}

/// Gives back records that could not be handed out: each partition's position goes back
/// to its first given-back record and its buffer is dropped (it is fetched again).
pub(crate) fn rewind(inner: &Inner, records: &[(TopicPartition, Buffered)]) {
    let mut firsts: BTreeMap<&TopicPartition, i64> = BTreeMap::new();
    for (tp, b) in records {
        firsts.entry(tp).or_insert(b.record.offset);
    }
    let mut st = inner.lock();
    for (tp, offset) in firsts {
        if let Some(p) = st.assignment.get_mut(tp) {
            p.position = Some(offset);
            p.buffer.clear();
            p.version += 1;
        }
    }
}

/// What one fetch asked for a partition, to check the answer against.
#[derive(Debug, Clone)]
struct Asked {
    offset: i64,
    version: u64,
}

/// Starts position look-ups for partitions without a position, and a Fetch to each
/// leader with fetchable partitions and none in flight.
pub(crate) fn start_fetches(inner: &Arc<Inner>) {
    let mut to_resolve = Vec::new();
    let mut by_leader: HashMap<i32, Vec<(TopicPartition, Asked)>> = HashMap::new();
    let mut unknown_leader = Vec::new();
    {
        let mut st = inner.lock();
        for (tp, p) in st.assignment.iter_mut() {
            if p.paused || p.fetching || p.resolving || p.error.is_some() {
                continue;
            }
            let Some(pos) = p.position else {
                p.resolving = true;
                to_resolve.push(tp.clone());
                continue;
            };
            if !p.buffer.is_empty() {
                continue;
            }
            let leader = inner.pool.with_metadata(|md| {
                md.topics
                    .get(&tp.topic)
                    .and_then(|t| {
                        usize::try_from(tp.partition)
                            .ok()
                            .and_then(|i| t.partitions.get(i))
                    })
                    .map(|m| m.leader)
                    .filter(|l| *l >= 0)
            });
            match leader {
                Some(l) => {
                    p.fetching = true;
                    by_leader.entry(l).or_default().push((
                        tp.clone(),
                        Asked {
                            offset: pos,
                            version: p.version,
                        },
                    ));
                }
                None => unknown_leader.push(tp.clone()),
            }
        }
    }
    if !to_resolve.is_empty() {
        let inner = inner.clone();
        tokio::spawn(async move {
            if let Err(e) = offsets::resolve(&inner, &to_resolve).await {
                tracing::debug!(error = %e, "position look-up failed");
                tokio::time::sleep(inner.cfg.retry_backoff).await;
            }
            inner.changed.notify_waiters();
        });
    }
    if !unknown_leader.is_empty() {
        // Mark them as fetching while metadata is refreshed, so one refresh serves them.
        {
            let mut st = inner.lock();
            for tp in &unknown_leader {
                if let Some(p) = st.assignment.get_mut(tp) {
                    p.fetching = true;
                }
            }
        }
        let inner = inner.clone();
        tokio::spawn(async move {
            let topics = topics_of(&unknown_leader);
            if let Err(e) = inner.pool.refresh(Some(&topics), false).await {
                tracing::debug!(error = %e, "metadata refresh failed");
            }
            tokio::time::sleep(inner.cfg.retry_backoff).await;
            clear_fetching(&inner, unknown_leader.iter());
            inner.changed.notify_waiters();
        });
    }
    for (leader, parts) in by_leader {
        let inner = inner.clone();
        tokio::spawn(async move {
            let failed = match fetch_from(&inner, leader, &parts).await {
                Ok(()) => false,
                Err(e) => {
                    tracing::debug!(broker = leader, error = %e, "fetch failed");
                    for (tp, _) in &parts {
                        inner.pool.invalidate_leader(&tp.topic, tp.partition);
                    }
                    let topics = topics_of(parts.iter().map(|(tp, _)| tp));
                    let _ = inner.pool.refresh(Some(&topics), false).await;
                    true
                }
            };
            if failed {
                tokio::time::sleep(inner.cfg.retry_backoff).await;
            }
            clear_fetching(&inner, parts.iter().map(|(tp, _)| tp));
            inner.changed.notify_waiters();
        });
    }
}

fn topics_of<'a>(tps: impl IntoIterator<Item = &'a TopicPartition>) -> Vec<String> {
    let mut t: Vec<String> = tps.into_iter().map(|tp| tp.topic.clone()).collect();
    t.sort();
    t.dedup();
    t
}

fn clear_fetching<'a>(inner: &Inner, tps: impl Iterator<Item = &'a TopicPartition>) {
    let mut st = inner.lock();
    for tp in tps {
        if let Some(p) = st.assignment.get_mut(tp) {
            p.fetching = false;
        }
    }
}

/// One Fetch to `leader`; applies what it returns. Partition-level errors are handled
/// here; the error returned is a request-level one.
async fn fetch_from(
    inner: &Inner,
    leader: i32,
    parts: &[(TopicPartition, Asked)],
) -> Result<(), ClientError> {
    let cfg = &inner.cfg;
    let mut topics: Vec<FetchTopic> = Vec::new();
    for (tp, asked) in parts {
        let p = FetchPartition::default()
            .with_partition(tp.partition)
            .with_current_leader_epoch(-1)
            .with_fetch_offset(asked.offset)
            .with_last_fetched_epoch(-1)
            .with_log_start_offset(-1)
            .with_partition_max_bytes(cfg.max_partition_fetch_bytes);
        match topics.iter_mut().find(|t| t.topic.0.as_str() == tp.topic) {
            Some(t) => t.partitions.push(p),
            None => topics.push(
                FetchTopic::default()
                    .with_topic(TopicName(StrBytes::from_string(tp.topic.clone())))
                    .with_partitions(vec![p]),
            ),
        }
    }
    let req = FetchRequest::default()
        .with_replica_id((-1).into())
        .with_max_wait_ms(duration_ms(cfg.fetch_max_wait))
        .with_min_bytes(cfg.fetch_min_bytes)
        .with_max_bytes(cfg.fetch_max_bytes)
        .with_isolation_level(cfg.isolation_level.wire())
        .with_session_id(0)
        .with_session_epoch(-1)
        .with_topics(topics);
    let conn = inner.pool.broker(leader).await?;
    let resp = conn.call(&req).await?;
    if let Some(code) = ResponseError::try_from_code(resp.error_code) {
        return Err(ClientError::broker(code, crate::error::Target::Cluster));
    }
    apply(inner, parts, resp);
    Ok(())
}

/// Whether `error` means the partition's leader moved: refresh metadata and retry.
fn leader_moved(code: ResponseError) -> bool {
    matches!(
        code,
        ResponseError::NotLeaderOrFollower
            | ResponseError::UnknownTopicOrPartition
            | ResponseError::FencedLeaderEpoch
            | ResponseError::UnknownLeaderEpoch
            | ResponseError::LeaderNotAvailable
            | ResponseError::KafkaStorageError
            | ResponseError::ReplicaNotAvailable
            | ResponseError::OffsetNotAvailable
    )
}

fn apply(inner: &Inner, parts: &[(TopicPartition, Asked)], resp: FetchResponse) {
    let asked: HashMap<&TopicPartition, &Asked> = parts.iter().map(|(tp, a)| (tp, a)).collect();
    let read_committed = inner.cfg.isolation_level == IsolationLevel::ReadCommitted;
    let mut moved = Vec::new();
    for t in resp.responses {
        let topic = t.topic.0.to_string();
        for pd in t.partitions {
            let tp = TopicPartition::new(topic.clone(), pd.partition_index);
            let Some(a) = asked.get(&tp) else { continue };
            if let Some(code) = ResponseError::try_from_code(pd.error_code) {
                if code == ResponseError::OffsetOutOfRange {
                    out_of_range(inner, &tp, a);
                } else if leader_moved(code) || code.is_retriable() {
                    moved.push(tp);
                } else {
                    let mut st = inner.lock();
                    if let Some(p) = st.assignment.get_mut(&tp) {
                        if p.version == a.version {
                            p.error = Some(ClientError::partition(code, &tp.topic, tp.partition));
                        }
                    }
                }
                continue;
            }
            let Some(records) = pd.records else { continue };
            let mut aborted: Vec<(i64, i64)> = if read_committed {
                pd.aborted_transactions
                    .unwrap_or_default()
                    .iter()
                    .map(|t| (t.producer_id.0, t.first_offset))
                    .collect()
            } else {
                Vec::new()
            };
            aborted.sort_by_key(|(_, first)| *first);
            let decoded = decode(
                &records,
                a.offset,
                read_committed,
                &mut aborted,
                DECODE_BUDGET,
            );
            let mut st = inner.lock();
            let Some(p) = st.assignment.get_mut(&tp) else {
                continue;
            };
            if p.version != a.version || p.position != Some(a.offset) || !p.buffer.is_empty() {
                continue;
            }
            match decoded {
                Ok((recs, next)) => {
                    if recs.is_empty() && next > a.offset {
                        // Only control batches or aborted transactions: skip past them.
                        p.position = Some(next);
                    }
                    p.buffer.extend(recs);
                }
                Err(e) => {
                    p.error = Some(ClientError::Protocol {
                        broker: format!("leader of {}-{}", tp.topic, tp.partition),
                        source: e.into(),
                    });
                }
            }
        }
    }
    for tp in moved {
        inner.pool.invalidate_leader(&tp.topic, tp.partition);
    }
}

/// OFFSET_OUT_OF_RANGE: apply the reset policy (with `None`, an error naming the
/// partition for the next poll).
fn out_of_range(inner: &Inner, tp: &TopicPartition, a: &Asked) {
    let mut st = inner.lock();
    let Some(p) = st.assignment.get_mut(tp) else {
        return;
    };
    if p.version != a.version || p.position != Some(a.offset) {
        return;
    }
    tracing::debug!(topic = %tp.topic, partition = tp.partition, offset = a.offset, "offset out of range");
    if inner.cfg.auto_offset_reset == OffsetReset::None {
        p.error = Some(
            ClientError::partition(ResponseError::OffsetOutOfRange, &tp.topic, tp.partition)
                .with_message(Some(&format!("offset {} is out of range", a.offset))),
        );
        return;
    }
    p.position = None;
    p.reset_needed = true;
    p.buffer.clear();
    p.version += 1;
}

/// Most bytes of records one partition's fetch response may decode to (256 MiB).
const DECODE_BUDGET: usize = 256 << 20;
/// What a decoded record costs beyond its key, value and headers, for the budget.
const RECORD_OVERHEAD: usize = 64;

/// Decodes a partition's records from `from` on: a trailing partial batch is dropped (a
/// fetch may end with one); control batches and, for read_committed, aborted
/// transactions' batches are skipped; records before `from` (inside a compressed batch
/// that starts earlier) are dropped. Also returns the offset after the last whole batch.
fn decode(
    records: &[u8],
    from: i64,
    read_committed: bool,
    aborted: &mut Vec<(i64, i64)>,
    budget: usize,
) -> Result<(Vec<Buffered>, i64), batch::BatchError> {
    let mut budget = budget;
    let mut next = from;
    let defaults = DecodeLimits::default();
    // What one partition's response may decode to, whatever its compression ratio: a
    // hostile broker's stack of small compression bombs stops here (the rest is fetched
    // again once these records are handed out).
    let mut out = Vec::new();
    // Producers whose current transaction is aborted, from the aborted list as it
    // reaches each batch's offset.
    let mut aborting: Vec<i64> = Vec::new();
    for item in batch::batches(records) {
        let (header, bytes) = match item {
            Ok(b) => b,
            Err(batch::BatchError::Truncated) => break,
            // Records before a corrupt batch are handed out; the next fetch, which starts
            // after them, reports the corruption.
            Err(_) if !out.is_empty() => break,
            Err(e) => return Err(e),
        };
        if header.last_offset() < from {
            continue;
        }
        next = next.max(header.last_offset().saturating_add(1));
        if read_committed {
            while let Some(&(pid, first)) = aborted.first() {
                if first > header.last_offset() {
                    break;
                }
                aborted.remove(0);
                aborting.push(pid);
            }
        }
        if budget == 0 {
            break;
        }
        let limits = DecodeLimits {
            max_uncompressed_bytes: defaults.max_uncompressed_bytes.min(budget),
            ..defaults
        };
        let b = match RecordBatch::decode(bytes, &limits) {
            Ok(b) => b,
            Err(_) if !out.is_empty() => break,
            Err(e) => return Err(e),
        };
        let size: usize = b
            .records
            .iter()
            .map(|r| {
                let headers: usize = r
                    .headers
                    .iter()
                    .map(|h| h.key.len() + h.value.as_ref().map_or(0, |v| v.len()))
                    .sum();
                RECORD_OVERHEAD
                    + r.key.as_ref().map_or(0, |k| k.len())
                    + r.value.as_ref().map_or(0, |v| v.len())
                    + headers
            })
            .sum();
        budget = budget.saturating_sub(size);
        if b.control {
            if read_committed && b.transactional {
                aborting.retain(|pid| *pid != b.producer_id);
            }
            continue;
        }
        if read_committed && b.transactional && aborting.contains(&b.producer_id) {
            continue;
        }
        let ts_type = b.timestamp_type;
        let epoch = b.partition_leader_epoch;
        for r in b.records {
            if r.offset < from {
                continue;
            }
            out.push(Buffered {
                record: r,
                timestamp_type: ts_type,
                leader_epoch: epoch,
            });
        }
    }
    Ok((out, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{Bytes, BytesMut};
    use mockafka_protocol::batch::Record;

    fn batch_bytes(base: i64, n: i64) -> BytesMut {
        let recs = (0..n)
            .map(|i| Record {
                offset: base + i,
                timestamp: 1000 + i,
                value: Some(Bytes::from(format!("v{}", base + i))),
                ..Record::default()
            })
            .collect();
        let mut out = BytesMut::new();
        RecordBatch::new(recs).encode(&mut out).unwrap();
        out
    }

    #[test]
    fn decode_skips_records_before_the_fetch_offset_and_a_partial_tail() {
        let mut all = batch_bytes(0, 5);
        all.extend_from_slice(&batch_bytes(5, 5));
        let full = all.len();
        all.extend_from_slice(&batch_bytes(10, 5)[..20]);
        let (got, next) = decode(&all, 3, false, &mut Vec::new(), DECODE_BUDGET).unwrap();
        assert_eq!(next, 10);
        let offsets: Vec<i64> = got.iter().map(|b| b.record.offset).collect();
        assert_eq!(offsets, (3..10).collect::<Vec<_>>());
        assert!(full < all.len());
    }

    fn txn_batch(base: i64, n: i64, pid: i64, control: bool) -> BytesMut {
        let recs = (0..n)
            .map(|i| Record {
                offset: base + i,
                timestamp: 1000,
                value: Some(Bytes::from_static(b"v")),
                ..Record::default()
            })
            .collect();
        let mut b = RecordBatch::new(recs);
        b.transactional = pid >= 0;
        b.producer_id = pid;
        b.control = control;
        let mut out = BytesMut::new();
        b.encode(&mut out).unwrap();
        out
    }

    #[test]
    fn read_committed_skips_aborted_transactions_and_control_batches() {
        let mut all = txn_batch(0, 2, 7, false);
        all.extend_from_slice(&txn_batch(2, 1, 7, true));
        all.extend_from_slice(&txn_batch(3, 2, 8, false));
        all.extend_from_slice(&txn_batch(5, 1, 8, true));
        all.extend_from_slice(&txn_batch(6, 1, -1, false));
        let offsets = |v: &[Buffered]| v.iter().map(|b| b.record.offset).collect::<Vec<_>>();
        let (got, next) = decode(&all, 0, true, &mut vec![(7, 0)], DECODE_BUDGET).unwrap();
        assert_eq!(offsets(&got), vec![3, 4, 6]);
        assert_eq!(next, 7);
        let (got, _) = decode(&all, 0, false, &mut Vec::new(), DECODE_BUDGET).unwrap();
        assert_eq!(offsets(&got), vec![0, 1, 3, 4, 6]);
        // Only a control batch: nothing to hand out, but the position moves past it.
        let (got, next) = decode(&all, 5, true, &mut Vec::new(), DECODE_BUDGET).unwrap();
        assert_eq!(offsets(&got), vec![6]);
        assert_eq!(next, 7);
        let (got, next) = decode(
            &txn_batch(5, 1, 8, true),
            5,
            true,
            &mut Vec::new(),
            DECODE_BUDGET,
        )
        .unwrap();
        assert!(got.is_empty());
        assert_eq!(next, 6);
    }

    #[test]
    fn decoding_stops_at_the_budget_however_well_batches_compress() {
        let mut all = BytesMut::new();
        for i in 0..6 {
            let mut b = RecordBatch::new(vec![Record {
                offset: i,
                value: Some(Bytes::from(vec![0u8; 4 << 20])),
                ..Record::default()
            }]);
            b.compression = mockafka_protocol::batch::Compression::Zstd;
            b.encode(&mut all).unwrap();
        }
        assert!(all.len() < 6 << 20, "the batches compress well");
        let (got, _) = decode(&all, 0, false, &mut Vec::new(), 10 << 20).unwrap();
        assert_eq!(
            got.len(),
            2,
            "4 MiB + 4 MiB fit in 10 MiB, a third does not"
        );
        // A first batch over the budget is an error, not an endless empty fetch.
        assert!(decode(&all, 0, false, &mut Vec::new(), 1 << 20).is_err());
    }

    #[test]
    fn decode_rejects_a_corrupt_batch() {
        let mut b = batch_bytes(0, 2);
        let last = b.len() - 1;
        b[last] ^= 0xff;
        // After a good batch, a corrupt one ends the decode; alone, it is an error.
        let mut good_then_bad = batch_bytes(0, 2);
        good_then_bad.extend_from_slice(&b);
        let (got, _) = decode(&good_then_bad, 0, false, &mut Vec::new(), DECODE_BUDGET).unwrap();
        assert_eq!(got.len(), 2);
        assert!(decode(&b, 0, false, &mut Vec::new(), DECODE_BUDGET).is_err());
    }
}
