//! The record accumulator: per-partition queues of batches, and the rules for when a batch
//! is ready, when it is retried and when it expires.
//!
//! Pure state: every method takes `now`, nothing here waits or does I/O, so that the rules
//! are unit-tested with chosen instants. The sender task ([`super::sender`]) drives it.
//!
//! Ordering: a partition has at most one batch in flight. A batch that fails with a
//! retriable error goes back to the front of its queue with the same sequence numbers, so
//! records are never reordered and, with idempotence, a retry the broker had already
//! appended is recognised as a duplicate. `max_in_flight` bounds requests per broker.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::record::{DeliverySlot, Header, RecordMetadata};
use crate::error::ClientError;

/// Bytes a batch costs beyond its records (the v2 batch header).
pub(crate) const BATCH_OVERHEAD: usize = 61;

/// A record's size estimate in a batch: Kafka's upper bound of the varint-framed record.
pub(crate) fn record_size(key: Option<&Bytes>, value: Option<&Bytes>, headers: &[Header]) -> usize {
    let h: usize = headers
        .iter()
        .map(|h| h.key.len() + h.value.as_ref().map_or(0, Bytes::len) + 10)
        .sum();
    21 + key.map_or(0, Bytes::len) + value.map_or(0, Bytes::len) + h
}

/// A topic-partition.
pub(crate) type Tp = (Arc<str>, i32);

/// One record waiting in a batch.
#[derive(Debug)]
pub(crate) struct PendingRecord {
    pub(crate) timestamp: i64,
    pub(crate) key: Option<Bytes>,
    pub(crate) value: Option<Bytes>,
    pub(crate) headers: Vec<Header>,
    pub(crate) slot: Arc<DeliverySlot>,
}

/// Idempotence identity of a batch: producer id, epoch and first sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sequence {
    pub(crate) producer_id: i64,
    pub(crate) producer_epoch: i16,
    pub(crate) base_sequence: i32,
}

/// A batch of records for one partition.
#[derive(Debug)]
pub(crate) struct Batch {
    /// Creation order across the producer; flush waits by it.
    pub(crate) id: u64,
    pub(crate) tp: Tp,
    pub(crate) records: Vec<PendingRecord>,
    /// Estimated encoded size.
    pub(crate) size: usize,
    pub(crate) created: Instant,
    /// Sends so far.
    pub(crate) attempts: u32,
    /// Not to be sent again before this instant (retry backoff).
    pub(crate) retry_at: Option<Instant>,
    /// Assigned when first drained with idempotence on; kept across retries.
    pub(crate) sequence: Option<Sequence>,
    /// The encoded batch, kept so that a retry sends the same bytes.
    pub(crate) encoded: Option<Bytes>,
    /// Buffer memory held by the records; released when the batch is done.
    pub(crate) permit: Option<OwnedSemaphorePermit>,
}

impl Batch {
    pub(crate) fn record_count(&self) -> i32 {
        i32::try_from(self.records.len()).unwrap_or(i32::MAX)
    }

    /// Completes every record: offsets from `base_offset` (or -1), timestamps from the
    /// broker's log append time when it gave one.
    pub(crate) fn succeed(self, base_offset: i64, log_append_time: i64) {
        for (i, r) in self.records.into_iter().enumerate() {
            let delta = i64::try_from(i).unwrap_or(i64::MAX);
            let offset = if base_offset >= 0 {
                base_offset.saturating_add(delta)
            } else {
                -1
            };
            let timestamp = if log_append_time >= 0 {
                log_append_time
            } else {
                r.timestamp
            };
            r.slot.complete(Ok(RecordMetadata {
                topic: self.tp.0.to_string(),
                partition: self.tp.1,
                offset,
                timestamp,
            }));
        }
    }

    pub(crate) fn fail(self, err: &ClientError) {
        for r in self.records {
            r.slot.complete(Err(err.clone()));
        }
    }
}

#[derive(Debug, Default)]
struct Queue {
    batches: VecDeque<Batch>,
    in_flight: bool,
    next_sequence: i32,
}

/// Limits and timings the accumulator applies.
#[derive(Debug, Clone)]
pub(crate) struct AccumConfig {
    pub(crate) batch_size: usize,
    pub(crate) linger: Duration,
    pub(crate) delivery_timeout: Duration,
    pub(crate) max_request_size: usize,
    pub(crate) max_in_flight: usize,
    pub(crate) retries: u32,
    pub(crate) retry_backoff: Duration,
    pub(crate) retry_backoff_max: Duration,
}

/// What the sender should do next.
#[derive(Debug, Default)]
pub(crate) struct Drained {
    /// Requests to send: a broker and one batch per partition.
    pub(crate) requests: Vec<(i32, Vec<Batch>)>,
    /// Some ready partition has no known leader.
    pub(crate) needs_metadata: bool,
    /// When to look again if nothing else happens.
    pub(crate) next_wakeup: Option<Instant>,
}

/// What happened to a batch that came back from a broker with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Queued again for a retry.
    Retried,
    /// Failed for good.
    Failed,
}

/// The accumulator.
#[derive(Debug)]
pub(crate) struct Accumulator {
    cfg: AccumConfig,
    queues: HashMap<Tp, Queue>,
    next_batch_id: u64,
    /// Ids of batches not yet completed, with how many batches carry the id (a batch split
    /// after MESSAGE_TOO_LARGE keeps its id); flush waits for all ids up to a mark.
    incomplete: BTreeMap<u64, usize>,
    /// Batches with ids up to here are ready whatever their linger.
    flush_through: Option<u64>,
    /// Requests in flight per broker.
    in_flight: HashMap<i32, usize>,
    /// Set by close (or the last producer handle's drop): everything is ready.
    pub(crate) closing: bool,
}

impl Accumulator {
    pub(crate) fn new(cfg: AccumConfig) -> Self {
        Self {
            cfg,
            queues: HashMap::new(),
            next_batch_id: 0,
            incomplete: BTreeMap::new(),
            flush_through: None,
            in_flight: HashMap::new(),
            closing: false,
        }
    }

    /// Appends a record. Returns true when the sender should look now (a batch filled up,
    /// or a new batch started its linger).
    pub(crate) fn append(
        &mut self,
        now: Instant,
        tp: Tp,
        record: PendingRecord,
        permit: OwnedSemaphorePermit,
    ) -> bool {
        let size = record_size(record.key.as_ref(), record.value.as_ref(), &record.headers);
        let batch_size = self.cfg.batch_size;
        let q = self.queues.entry(tp.clone()).or_default();
        if let Some(last) = q.batches.back_mut() {
            let open = last.sequence.is_none() && last.attempts == 0;
            if open && last.size + size <= batch_size.max(BATCH_OVERHEAD + size) {
                last.size += size;
                last.records.push(record);
                match &mut last.permit {
                    Some(p) => p.merge(permit),
                    None => last.permit = Some(permit),
                }
                return last.size >= batch_size;
            }
        }
        let id = self.next_batch_id;
        self.next_batch_id += 1;
        self.incomplete.insert(id, 1);
        q.batches.push_back(Batch {
            id,
            tp,
            records: vec![record],
            size: BATCH_OVERHEAD + size,
            created: now,
            attempts: 0,
            retry_at: None,
            sequence: None,
            encoded: None,
            permit: Some(permit),
        });
        true
    }

    /// Marks every batch created so far as ready; returns the mark flush waits for.
    pub(crate) fn begin_flush(&mut self) -> Option<u64> {
        let last = self.next_batch_id.checked_sub(1)?;
        self.flush_through = Some(self.flush_through.map_or(last, |f| f.max(last)));
        Some(last)
    }

    /// Whether every batch with id up to `mark` is complete.
    pub(crate) fn flushed(&self, mark: u64) -> bool {
        self.incomplete
            .first_key_value()
            .is_none_or(|(first, _)| *first > mark)
    }

    /// Splits a batch the broker found too large into one batch per record, queued at the
    /// front in order (Java's producer splits too, so that each record gets its own
    /// answer). Sequence numbers carry over record by record: nothing of the batch was
    /// appended. A single record cannot be split: it is handed back.
    pub(crate) fn split(&mut self, b: Batch) -> Option<Batch> {
        if b.records.len() < 2 {
            return Some(b);
        }
        let q = self.queues.entry(b.tp.clone()).or_default();
        q.in_flight = false;
        let n = b.records.len();
        if let Some(c) = self.incomplete.get_mut(&b.id) {
            *c += n - 1;
        }
        let mut permit = b.permit;
        let mut parts = Vec::with_capacity(n);
        let mut seq = b.sequence;
        for (i, r) in b.records.into_iter().enumerate() {
            let size = BATCH_OVERHEAD + record_size(r.key.as_ref(), r.value.as_ref(), &r.headers);
            parts.push(Batch {
                id: b.id,
                tp: b.tp.clone(),
                records: vec![r],
                size,
                created: b.created,
                attempts: b.attempts.saturating_add(1),
                retry_at: None,
                sequence: seq,
                encoded: None,
                // The memory goes back when the last part completes.
                permit: if i + 1 == n { permit.take() } else { None },
            });
            seq = seq.map(|s| Sequence {
                base_sequence: next_sequence(s.base_sequence, 1),
                ..s
            });
        }
        for part in parts.into_iter().rev() {
            q.batches.push_front(part);
        }
        None
    }

    /// Nothing queued and nothing in flight.
    pub(crate) fn is_empty(&self) -> bool {
        self.incomplete.is_empty()
    }

    /// Whether any request is in flight.
    pub(crate) fn any_in_flight(&self) -> bool {
        self.in_flight.values().any(|n| *n > 0)
    }

    /// Fails every queued batch older than the delivery timeout. Returns whether an
    /// expired batch had already been sent (its sequence numbers may be used up).
    pub(crate) fn expire(&mut self, now: Instant) -> bool {
        let timeout = self.cfg.delivery_timeout;
        let mut sent_one_expired = false;
        for q in self.queues.values_mut() {
            if q.in_flight {
                continue;
            }
            while let Some(front) = q.batches.front() {
                if now.duration_since(front.created) < timeout {
                    break;
                }
                let b = q.batches.pop_front().expect("front exists");
                sent_one_expired |= b.sequence.is_some();
                done(&mut self.incomplete, b.id);
                let err = ClientError::Timeout {
                    what: "record delivery".into(),
                    after: timeout,
                };
                tracing::debug!(topic = %b.tp.0, partition = b.tp.1, "batch expired");
                b.fail(&err);
            }
        }
        sent_one_expired
    }

    /// Fails every queued batch (the producer gave up: a fatal producer-id error).
    pub(crate) fn fail_all_queued(&mut self, err: &ClientError) {
        for q in self.queues.values_mut() {
            for b in q.batches.drain(..) {
                done(&mut self.incomplete, b.id);
                b.fail(err);
            }
        }
    }

    /// Forgets every sequence number: after a new producer id or epoch, queued batches are
    /// numbered again from 0 per partition. Only valid with nothing in flight.
    pub(crate) fn reset_sequences(&mut self) {
        for q in self.queues.values_mut() {
            q.next_sequence = 0;
            for b in &mut q.batches {
                b.sequence = None;
                b.encoded = None;
            }
        }
    }

    /// Picks the batches to send now. `leader` maps a partition to its leader's broker id.
    /// `pid` is the producer identity to stamp on new batches when idempotence is on.
    pub(crate) fn drain(
        &mut self,
        now: Instant,
        leader: impl Fn(&str, i32) -> Option<i32>,
        pid: Option<(i64, i16)>,
    ) -> Drained {
        let mut out = Drained::default();
        let mut by_broker: HashMap<i32, (usize, Vec<Batch>)> = HashMap::new();
        let wake = |at: Instant, out: &mut Drained| {
            out.next_wakeup = Some(out.next_wakeup.map_or(at, |w| w.min(at)));
        };
        let linger = self.cfg.linger;
        let max_req = self.cfg.max_request_size;
        let force_all = self.closing;
        let flush_through = self.flush_through;
        // Oldest batches first, so that one busy partition cannot starve the others.
        let mut tps: Vec<(u64, Tp)> = self
            .queues
            .iter()
            .filter(|(_, q)| !q.in_flight)
            .filter_map(|(tp, q)| q.batches.front().map(|b| (b.id, tp.clone())))
            .collect();
        tps.sort_unstable_by_key(|(id, _)| *id);
        for (_, tp) in tps {
            let q = self.queues.get_mut(&tp).expect("queue exists");
            let Some(front) = q.batches.front() else {
                continue;
            };
            if let Some(at) = front.retry_at.filter(|at| *at > now) {
                wake(at, &mut out);
                continue;
            }
            let full = q.batches.len() > 1 || front.size >= self.cfg.batch_size;
            let flushing = flush_through.is_some_and(|f| front.id <= f);
            let lingered = now.duration_since(front.created) >= linger;
            if !(full || flushing || force_all || lingered || front.attempts > 0) {
                wake(front.created + linger, &mut out);
                continue;
            }
            let Some(broker) = leader(&tp.0, tp.1) else {
                out.needs_metadata = true;
                continue;
            };
            let busy = self.in_flight.get(&broker).copied().unwrap_or(0);
            let entry = by_broker.entry(broker).or_default();
            if entry.1.is_empty() && busy >= self.cfg.max_in_flight {
                continue;
            }
            if !entry.1.is_empty() && entry.0 + front.size > max_req {
                continue;
            }
            let mut b = q.batches.pop_front().expect("front exists");
            if let (None, Some((producer_id, producer_epoch))) = (b.sequence, pid) {
                let base = q.next_sequence;
                q.next_sequence = next_sequence(base, b.record_count());
                b.sequence = Some(Sequence {
                    producer_id,
                    producer_epoch,
                    base_sequence: base,
                });
            }
            q.in_flight = true;
            entry.0 += b.size;
            entry.1.push(b);
        }
        for (broker, (_, batches)) in by_broker {
            if batches.is_empty() {
                continue;
            }
            *self.in_flight.entry(broker).or_default() += 1;
            out.requests.push((broker, batches));
        }
        if flush_through.is_some_and(|f| self.flushed(f)) {
            self.flush_through = None;
        }
        out
    }

    /// A request to `broker` finished (whatever its outcome).
    pub(crate) fn request_done(&mut self, broker: i32) {
        if let Some(n) = self.in_flight.get_mut(&broker) {
            *n = n.saturating_sub(1);
        }
    }

    /// A batch was acknowledged.
    pub(crate) fn succeeded(&mut self, b: Batch, base_offset: i64, log_append_time: i64) {
        if let Some(q) = self.queues.get_mut(&b.tp) {
            q.in_flight = false;
        }
        done(&mut self.incomplete, b.id);
        b.succeed(base_offset, log_append_time);
    }

    /// A batch failed with `err`: retried (front of its queue, same sequence) when the
    /// error is retriable and retries and delivery time remain, else failed for good.
    pub(crate) fn failed(&mut self, now: Instant, mut b: Batch, err: &ClientError) -> Outcome {
        let q = self.queues.entry(b.tp.clone()).or_default();
        q.in_flight = false;
        let within = now.duration_since(b.created) < self.cfg.delivery_timeout;
        if err.is_retriable() && b.attempts < self.cfg.retries && within {
            let shift = b.attempts.min(16);
            let backoff = self
                .cfg
                .retry_backoff
                .saturating_mul(1u32 << shift)
                .min(self.cfg.retry_backoff_max);
            b.attempts += 1;
            b.retry_at = Some(now + backoff);
            tracing::debug!(topic = %b.tp.0, partition = b.tp.1, attempt = b.attempts, error = %err, "retrying batch");
            q.batches.push_front(b);
            Outcome::Retried
        } else {
            tracing::debug!(topic = %b.tp.0, partition = b.tp.1, error = %err, "batch failed");
            done(&mut self.incomplete, b.id);
            b.fail(err);
            Outcome::Failed
        }
    }
}

/// One batch carrying `id` completed.
fn done(incomplete: &mut BTreeMap<u64, usize>, id: u64) {
    if let Some(n) = incomplete.get_mut(&id) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            incomplete.remove(&id);
        }
    }
}

/// Kafka's sequence arithmetic: sequences wrap from `i32::MAX` to 0.
pub(crate) fn next_sequence(base: i32, count: i32) -> i32 {
    let room = i32::MAX - base;
    if count > room {
        count - room - 1
    } else {
        base + count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::Semaphore;

    fn cfg() -> AccumConfig {
        AccumConfig {
            batch_size: 200,
            linger: Duration::from_millis(5),
            delivery_timeout: Duration::from_secs(10),
            max_request_size: 1 << 20,
            max_in_flight: 5,
            retries: 3,
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_secs(1),
        }
    }

    fn rec(v: &'static [u8]) -> (PendingRecord, Arc<DeliverySlot>) {
        let slot = Arc::new(DeliverySlot::default());
        (
            PendingRecord {
                timestamp: 1,
                key: None,
                value: Some(Bytes::from_static(v)),
                headers: Vec::new(),
                slot: slot.clone(),
            },
            slot,
        )
    }

    fn permit() -> OwnedSemaphorePermit {
        static MEMORY: std::sync::OnceLock<Arc<Semaphore>> = std::sync::OnceLock::new();
        MEMORY
            .get_or_init(|| Arc::new(Semaphore::new(1 << 20)))
            .clone()
            .try_acquire_owned()
            .unwrap()
    }

    fn tp(p: i32) -> Tp {
        (Arc::from("t"), p)
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_waits_for_linger_unless_full_or_flushed() {
        let t0 = Instant::now();
        let mut a = Accumulator::new(cfg());
        a.append(t0, tp(0), rec(b"x").0, permit());
        let d = a.drain(t0, |_, _| Some(1), None);
        assert!(d.requests.is_empty());
        assert_eq!(d.next_wakeup, Some(t0 + Duration::from_millis(5)));
        let d = a.drain(t0 + Duration::from_millis(5), |_, _| Some(1), None);
        assert_eq!(d.requests.len(), 1);
        assert_eq!(d.requests[0].1[0].records.len(), 1);

        // A flush makes a fresh batch ready at once.
        let mut a = Accumulator::new(cfg());
        a.append(t0, tp(0), rec(b"x").0, permit());
        let mark = a.begin_flush().unwrap();
        let mut d = a.drain(t0, |_, _| Some(1), None);
        assert_eq!(d.requests.len(), 1);
        assert!(!a.flushed(mark));
        let b = d.requests[0].1.pop().unwrap();
        a.succeeded(b, 10, -1);
        assert!(a.flushed(mark));
        assert!(a.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn one_batch_in_flight_per_partition_and_sequences_advance() {
        let t0 = Instant::now();
        let mut a = Accumulator::new(cfg());
        for _ in 0..10 {
            // 10 records of 21+40 bytes: batches split at 200 bytes.
            a.append(t0, tp(0), rec(&[0u8; 40]).0, permit());
        }
        let mut d = a.drain(t0, |_, _| Some(1), Some((7, 0)));
        assert_eq!(d.requests.len(), 1);
        let b = d.requests[0].1.pop().unwrap();
        let n = b.record_count();
        assert_eq!(b.sequence.unwrap().base_sequence, 0);
        // Nothing more for this partition while one is in flight.
        assert!(a
            .drain(t0, |_, _| Some(1), Some((7, 0)))
            .requests
            .is_empty());
        a.succeeded(b, 0, -1);
        let mut d = a.drain(t0, |_, _| Some(1), Some((7, 0)));
        let b2 = d.requests[0].1.pop().unwrap();
        assert_eq!(b2.sequence.unwrap().base_sequence, n);
    }

    #[tokio::test(start_paused = true)]
    async fn retriable_failures_requeue_at_the_front_with_the_same_sequence() {
        let t0 = Instant::now();
        let mut a = Accumulator::new(cfg());
        let (r, slot) = rec(b"x");
        a.append(t0, tp(0), r, permit());
        a.append(t0, tp(0), rec(&[0u8; 190]).0, permit());
        let mut d = a.drain(t0, |_, _| Some(1), Some((7, 0)));
        let b = d.requests[0].1.pop().unwrap();
        a.request_done(1);
        let seq = b.sequence;
        let err = ClientError::partition(
            kafka_protocol::error::ResponseError::NotLeaderOrFollower,
            "t",
            0,
        );
        assert_eq!(a.failed(t0, b, &err), Outcome::Retried);
        // In backoff: not drained yet, even though the partition is free.
        let d = a.drain(t0, |_, _| Some(1), Some((7, 0)));
        assert!(d.requests.is_empty());
        assert_eq!(d.next_wakeup, Some(t0 + Duration::from_millis(100)));
        let mut d = a.drain(
            t0 + Duration::from_millis(100),
            |_, _| Some(2),
            Some((7, 0)),
        );
        assert_eq!(d.requests[0].0, 2, "routed to the new leader");
        let b = d.requests[0].1.pop().unwrap();
        assert_eq!(b.sequence, seq);
        assert_eq!(
            b.records.len(),
            1,
            "the retried batch, not the one behind it"
        );
        // Non-retriable: failed with the error, naming the partition.
        let fatal = ClientError::partition(
            kafka_protocol::error::ResponseError::MessageTooLarge,
            "t",
            0,
        );
        assert_eq!(a.failed(t0, b, &fatal), Outcome::Failed);
        let f = super::super::record::DeliveryFuture::new(slot);
        let got = f.try_result().unwrap().unwrap_err();
        assert!(got.to_string().contains("t-0"));
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_leaders_ask_for_metadata_and_old_batches_expire() {
        let t0 = Instant::now();
        let mut a = Accumulator::new(cfg());
        let (r, slot) = rec(b"x");
        a.append(t0, tp(3), r, permit());
        let d = a.drain(t0 + Duration::from_millis(6), |_, _| None, None);
        assert!(d.needs_metadata);
        assert!(d.requests.is_empty());
        a.expire(t0 + Duration::from_secs(10));
        let f = super::super::record::DeliveryFuture::new(slot);
        assert!(matches!(
            f.try_result().unwrap(),
            Err(ClientError::Timeout { .. })
        ));
        assert!(a.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_too_large_is_split_per_record_keeping_sequences_and_flush() {
        let t0 = Instant::now();
        let mut a = Accumulator::new(cfg());
        for _ in 0..3 {
            a.append(t0, tp(0), rec(b"x").0, permit());
        }
        let mark = a.begin_flush().unwrap();
        let mut d = a.drain(t0, |_, _| Some(1), Some((7, 0)));
        let b = d.requests[0].1.pop().unwrap();
        a.request_done(1);
        assert_eq!(b.records.len(), 3);
        assert!(a.split(b).is_none());
        let mut seqs = Vec::new();
        for _ in 0..3 {
            assert!(!a.flushed(mark), "flush waits for every part");
            let mut d = a.drain(t0, |_, _| Some(1), Some((7, 0)));
            let part = d.requests[0].1.pop().unwrap();
            a.request_done(1);
            assert_eq!(part.records.len(), 1);
            seqs.push(part.sequence.unwrap().base_sequence);
            a.succeeded(part, 0, -1);
        }
        assert_eq!(seqs, vec![0, 1, 2]);
        assert!(a.flushed(mark));
        assert!(a.is_empty());
    }

    #[test]
    fn sequences_wrap_like_kafka() {
        assert_eq!(next_sequence(0, 5), 5);
        assert_eq!(next_sequence(i32::MAX - 1, 1), i32::MAX);
        assert_eq!(next_sequence(i32::MAX - 1, 2), 0);
        assert_eq!(next_sequence(i32::MAX, 3), 2);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Append(i32),
        Drain(u64),
        Ack(usize),
        Retry(usize),
        Fatal(usize),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            4 => (0..3i32).prop_map(Op::Append),
            2 => (0..200u64).prop_map(Op::Drain),
            2 => (0..4usize).prop_map(Op::Ack),
            1 => (0..4usize).prop_map(Op::Retry),
            1 => (0..4usize).prop_map(Op::Fatal),
        ]
    }

    proptest::proptest! {
        /// A model of the broker log: whatever the mix of acks, retriable and fatal
        /// failures, each partition stores its records in append order, each at most once,
        /// exactly the ones not failed for good, and every record gets exactly one outcome.
        #[test]
        fn order_and_exactly_once_hold_under_any_failures(ops in proptest::collection::vec(op(), 1..120)) {
            let t0 = Instant::now();
            let mut now = t0;
            let mut a = Accumulator::new(AccumConfig {
                retries: u32::MAX,
                delivery_timeout: Duration::from_secs(1 << 30),
                ..cfg()
            });
            let mut appended: Vec<Vec<u32>> = vec![Vec::new(); 3];
            let mut slots = Vec::new();
            let mut log: Vec<Vec<u32>> = vec![Vec::new(); 3];
            let mut last_seq: Vec<i32> = vec![-1; 3];
            let mut failed: Vec<Vec<u32>> = vec![Vec::new(); 3];
            let mut in_flight: Vec<(i32, Vec<Batch>)> = Vec::new();
            let mut next = 0u32;
            let value = |b: &Batch| -> Vec<u32> {
                b.records.iter().map(|r| u32::from_be_bytes(r.value.as_deref().unwrap().try_into().unwrap())).collect()
            };
            let finish = |a: &mut Accumulator, req: (i32, Vec<Batch>), how: u8, now: Instant,
                          log: &mut Vec<Vec<u32>>, failed: &mut Vec<Vec<u32>>, last_seq: &mut Vec<i32>| {
                a.request_done(req.0);
                for b in req.1 {
                    let p = usize::try_from(b.tp.1).unwrap();
                    match how {
                        0 => {
                            let seq = b.sequence.unwrap().base_sequence;
                            assert!(seq > last_seq[p], "sequences increase per partition");
                            last_seq[p] = seq;
                            let base = i64::try_from(log[p].len()).unwrap();
                            log[p].extend(value(&b));
                            a.succeeded(b, base, -1);
                        }
                        1 => {
                            let e = ClientError::partition(kafka_protocol::error::ResponseError::NotLeaderOrFollower, "t", b.tp.1);
                            assert_eq!(a.failed(now, b, &e), Outcome::Retried);
                        }
                        _ => {
                            failed[p].extend(value(&b));
                            let e = ClientError::partition(kafka_protocol::error::ResponseError::MessageTooLarge, "t", b.tp.1);
                            assert_eq!(a.failed(now, b, &e), Outcome::Failed);
                        }
                    }
                }
            };
            for op in ops {
                match op {
                    Op::Append(p) => {
                        let slot = Arc::new(DeliverySlot::default());
                        let rec = PendingRecord {
                            timestamp: 0,
                            key: None,
                            value: Some(Bytes::copy_from_slice(&next.to_be_bytes())),
                            headers: Vec::new(),
                            slot: slot.clone(),
                        };
                        a.append(now, tp(p), rec, permit());
                        appended[usize::try_from(p).unwrap()].push(next);
                        slots.push(slot);
                        next += 1;
                    }
                    Op::Drain(ms) => {
                        now += Duration::from_millis(ms);
                        let d = a.drain(now, |_, p| Some(p % 2), Some((1, 0)));
                        in_flight.extend(d.requests);
                    }
                    Op::Ack(i) | Op::Retry(i) | Op::Fatal(i) if i < in_flight.len() => {
                        let how = match op { Op::Ack(_) => 0, Op::Retry(_) => 1, _ => 2 };
                        let req = in_flight.remove(i);
                        finish(&mut a, req, how, now, &mut log, &mut failed, &mut last_seq);
                    }
                    _ => {}
                }
            }
            // Deliver everything left.
            let mut rounds = 0;
            while !a.is_empty() {
                rounds += 1;
                assert!(rounds < 10_000, "accumulator never drained");
                now += Duration::from_secs(2);
                a.begin_flush();
                let d = a.drain(now, |_, p| Some(p % 2), Some((1, 0)));
                in_flight.extend(d.requests);
                while let Some(req) = in_flight.pop() {
                    finish(&mut a, req, 0, now, &mut log, &mut failed, &mut last_seq);
                }
            }
            for p in 0..3 {
                let want: Vec<u32> = appended[p].iter().copied().filter(|v| !failed[p].contains(v)).collect();
                proptest::prop_assert_eq!(&log[p], &want, "partition {}", p);
            }
            for s in slots {
                let f = super::super::record::DeliveryFuture::new(s);
                proptest::prop_assert!(f.try_result().is_some(), "every record has an outcome");
            }
        }
    }
}
