//! Offset reset as a model-based state machine, end to end over TCP through the mockafka
//! client (shared/SEED_BEHAVIOURS.md C6, "in general").
//!
//! proptest generates sequences of operations over a 2-partition topic and 2 groups:
//! produce n records to a partition; start a consumer in a group with reset policy
//! earliest, latest or none, by subscribe or by assign; consume k records; commit; close
//! without committing; crash (its runtime stops: no LeaveGroup, no heartbeats); delete records up to an offset (so
//! committed offsets and positions fall out of range); seek. A restart with another policy
//! is a close or crash followed by a start. [`Model`] states what Kafka guarantees: where
//! a consumer starts (the committed offset if it lies within [log start, high watermark],
//! else the policy: log start, high watermark, or an error), which records it gets (each
//! partition's records in order from its position, nothing skipped or repeated, nothing
//! beyond the high watermark), what is committed, and when reading fails with
//! `NoOffset` or `OffsetOutOfRange`. Every step is checked against the real cluster.
//!
//! Cases: `MOCKAFKA_PROPTEST_CASES` (default 16). In conformance mode
//! (`MOCKAFKA_TEST_BOOTSTRAP`) the cases run against that cluster. A failure shrinks to a
//! minimal sequence, stored in `proptest-regressions/offset_reset_props.txt` and replayed
//! first on every run.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use mockafka::client::admin::Admin;
use mockafka::client::{
    ClientError, Consumer, OffsetReset, Producer, ProducerRecord, TopicPartition,
};
use mockafka::protocol::kafka_protocol::ResponseError;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

use crate::{Env, WAIT};

/// How long a step waits for the consumer (a reset takes milliseconds; failing cases
/// that would wait, shrink faster with a short deadline).
const STEP: Duration = Duration::from_secs(5);

/// Partitions of the topic.
const P: usize = 2;
/// Groups.
const G: usize = 2;

/// One generated step.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Produce {
        partition: usize,
        n: usize,
    },
    Start {
        group: usize,
        reset: OffsetReset,
        subscribe: bool,
    },
    Consume {
        group: usize,
        k: usize,
    },
    Commit {
        group: usize,
    },
    Close {
        group: usize,
    },
    Crash {
        group: usize,
    },
    DeleteRecords {
        partition: usize,
        before: i64,
    },
    Seek {
        group: usize,
        partition: usize,
        offset: i64,
    },
}

fn reset() -> impl Strategy<Value = OffsetReset> {
    prop_oneof![
        Just(OffsetReset::Earliest),
        Just(OffsetReset::Latest),
        Just(OffsetReset::None)
    ]
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..P, 1..5usize).prop_map(|(partition, n)| Op::Produce { partition, n }),
        3 => (0..G, reset(), any::<bool>())
            .prop_map(|(group, reset, subscribe)| Op::Start { group, reset, subscribe }),
        3 => (0..G, 1..8usize).prop_map(|(group, k)| Op::Consume { group, k }),
        2 => (0..G).prop_map(|group| Op::Commit { group }),
        1 => (0..G).prop_map(|group| Op::Close { group }),
        1 => (0..G).prop_map(|group| Op::Crash { group }),
        1 => (0..P, 0..12i64).prop_map(|(partition, before)| Op::DeleteRecords { partition, before }),
        1 => (0..G, 0..P, 0..14i64)
            .prop_map(|(group, partition, offset)| Op::Seek { group, partition, offset }),
    ]
}

/// Why reading a partition fails under policy `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    NoOffset,
    OutOfRange,
}

/// Where a consumer starts reading a partition: Kafka's rule.
pub(crate) fn start_offset(
    log_start: i64,
    high_watermark: i64,
    committed: Option<i64>,
    reset: OffsetReset,
) -> Result<i64, Fail> {
    if let Some(c) = committed {
        if (log_start..=high_watermark).contains(&c) {
            return Ok(c);
        }
    }
    let fail = if committed.is_some() {
        Fail::OutOfRange
    } else {
        Fail::NoOffset
    };
    reset_to(log_start, high_watermark, reset).ok_or(fail)
}

/// Where the policy puts a consumer without a valid offset.
pub(crate) fn reset_to(log_start: i64, high_watermark: i64, reset: OffsetReset) -> Option<i64> {
    match reset {
        OffsetReset::Earliest => Some(log_start),
        OffsetReset::Latest => Some(high_watermark),
        OffsetReset::None => None,
    }
}

/// The reference model.
#[derive(Debug, Default)]
struct Model {
    log_start: [i64; P],
    high_watermark: [i64; P],
    committed: BTreeMap<(usize, usize), i64>,
    /// Open consumers by group: policy and the position of each partition.
    open: BTreeMap<usize, (OffsetReset, [i64; P])>,
}

type Step = Result<(), String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn fail_of(e: &ClientError) -> Option<Fail> {
    match e {
        ClientError::NoOffset { .. } => Some(Fail::NoOffset),
        e if e.code() == Some(ResponseError::OffsetOutOfRange) => Some(Fail::OutOfRange),
        _ => None,
    }
}

/// The system under test next to its model.
struct Run {
    env: Env,
    topic: String,
    groups: Vec<String>,
    producer: Producer,
    admin: Admin,
    consumers: BTreeMap<usize, Consumer>,
    /// The runtime each consumer was built on, running its group membership task
    /// (heartbeats, leave on close); shutting it down is the crash.
    runtimes: BTreeMap<usize, tokio::runtime::Runtime>,
    /// Groups whose open consumer subscribed (is a group member).
    subscribed: std::collections::BTreeSet<usize>,
    model: Model,
    log: Vec<String>,
}

impl Run {
    async fn new() -> Result<Run, String> {
        let env = Env::start(3).await.map_err(err)?;
        let topic = env.topic("props");
        env.create_topic(&topic, 2).await.map_err(err)?;
        let groups = (0..G).map(|g| env.topic(&format!("props-g{g}"))).collect();
        let producer = Producer::builder()
            .bootstrap_servers(env.bootstrap.split(','))
            .build()
            .await
            .map_err(err)?;
        let admin = env.admin().await.map_err(err)?;
        Ok(Run {
            env,
            topic,
            groups,
            producer,
            admin,
            consumers: BTreeMap::new(),
            runtimes: BTreeMap::new(),
            subscribed: Default::default(),
            model: Model::default(),
            log: Vec::new(),
        })
    }

    fn tp(&self, p: usize) -> TopicPartition {
        TopicPartition::new(&self.topic, i32::try_from(p).expect("small partition"))
    }

    async fn step(&mut self, op: &Op) -> Step {
        match *op {
            Op::Produce { partition, n } => self.produce(partition, n).await,
            Op::Start {
                group,
                reset,
                subscribe,
            } => self.start(group, reset, subscribe).await,
            Op::Consume { group, k } => self.consume(group, k).await,
            Op::Commit { group } => self.commit(group).await,
            Op::Close { group } => {
                if let Some(c) = self.consumers.remove(&group) {
                    c.close().await.map_err(err)?;
                    self.model.open.remove(&group);
                    self.subscribed.remove(&group);
                }
                if let Some(rt) = self.runtimes.remove(&group) {
                    rt.shutdown_background();
                }
                Ok(())
            }
            Op::Crash { group } => {
                // The process dies: its tasks stop without a LeaveGroup or a commit, and
                // the group expires the member after its session timeout.
                if let Some(rt) = self.runtimes.remove(&group) {
                    rt.shutdown_background();
                }
                drop(self.consumers.remove(&group));
                if self.model.open.remove(&group).is_some() && self.subscribed.remove(&group) {
                    self.wait_member_expired(group).await?;
                }
                Ok(())
            }
            Op::DeleteRecords { partition, before } => self.delete(partition, before).await,
            Op::Seek {
                group,
                partition,
                offset,
            } => self.seek(group, partition, offset).await,
        }
    }

    async fn produce(&mut self, p: usize, n: usize) -> Step {
        let first = self.model.high_watermark[p];
        let mut acks = Vec::new();
        for i in 0..n {
            let offset = first + i64::try_from(i).map_err(err)?;
            let r = ProducerRecord::new(self.topic.clone(), Bytes::from(format!("{p}:{offset}")))
                .with_partition(i32::try_from(p).map_err(err)?);
            acks.push(self.producer.send(r).await.map_err(err)?);
        }
        for (i, a) in acks.into_iter().enumerate() {
            let m = a.get(WAIT).await.map_err(err)?;
            let want = first + i64::try_from(i).map_err(err)?;
            if m.offset != want {
                return Err(format!(
                    "produce to {p}: acked offset {} != {want}",
                    m.offset
                ));
            }
        }
        self.model.high_watermark[p] += i64::try_from(n).map_err(err)?;
        Ok(())
    }

    async fn start(&mut self, g: usize, reset: OffsetReset, subscribe: bool) -> Step {
        if self.consumers.contains_key(&g) {
            return Ok(());
        }
        let session = if self.env.cluster.is_some() {
            500
        } else {
            10_000
        };
        let builder = Consumer::builder()
            .bootstrap_servers(self.env.bootstrap.split(','))
            .group_id(&self.groups[g])
            .auto_offset_reset(reset)
            .enable_auto_commit(false)
            .max_poll_records(1)
            .heartbeat_interval(Duration::from_millis(50))
            .session_timeout(Duration::from_millis(session))
            .fetch_max_wait(Duration::from_millis(50));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(err)?;
        let c = rt.spawn(builder.build()).await.map_err(err)?.map_err(err)?;
        self.runtimes.insert(g, rt);
        if subscribe {
            self.subscribed.insert(g);
            c.subscribe(&[self.topic.as_str()]).map_err(err)?;
            c.wait_for_assignment(WAIT).await.map_err(err)?;
        } else {
            let all: Vec<_> = (0..P).map(|p| self.tp(p)).collect();
            c.assign(&all).map_err(err)?;
        }
        let got = c.assignment().len();
        if got != P {
            return Err(format!("assigned {got} partitions, not {P}"));
        }
        let mut positions = [0i64; P];
        let mut pending = Vec::new();
        for (p, slot) in positions.iter_mut().enumerate() {
            let (ls, hw) = (self.model.log_start[p], self.model.high_watermark[p]);
            let committed = self.model.committed.get(&(g, p)).copied();
            let want = start_offset(ls, hw, committed, reset);
            let seen = c.position(&self.tp(p)).await;
            match (want, seen) {
                (Ok(w), Ok(s)) if s == w => *slot = w,
                // A committed offset out of range may be handed out until a fetch finds
                // it out of range; the reset happens then.
                (_, Ok(s)) if committed == Some(s) && !(ls..=hw).contains(&s) => {
                    *slot = s;
                    pending.push((p, want));
                }
                (Err(f), Err(e)) if fail_of(&e) == Some(f) => {
                    c.close().await.map_err(err)?;
                    self.subscribed.remove(&g);
                    if let Some(rt) = self.runtimes.remove(&g) {
                        rt.shutdown_background();
                    }
                    return Ok(());
                }
                (want, seen) => {
                    return Err(format!(
                        "group {g} partition {p}: log [{ls}, {hw}), committed {committed:?}, \
                         {reset:?}: start should be {want:?}, the consumer says {seen:?}"
                    ))
                }
            }
        }
        self.consumers.insert(g, c);
        self.model.open.insert(g, (reset, positions));
        self.settle(g, pending).await
    }

    /// Polls until every partition in `pending` (position out of range) has been reset
    /// to its expected offset or failed with `OffsetOutOfRange`; records returned
    /// meanwhile are checked as consumed.
    async fn settle(&mut self, g: usize, mut pending: Vec<(usize, Result<i64, Fail>)>) -> Step {
        let deadline = tokio::time::Instant::now() + STEP;
        while !pending.is_empty() {
            if tokio::time::Instant::now() > deadline {
                return Err(format!("group {g}: no reset of {pending:?}"));
            }
            let Some(c) = self.consumers.get(&g) else {
                return Ok(());
            };
            match c.poll(Duration::from_millis(50)).await {
                Err(e) => {
                    let f = fail_of(&e);
                    if f == Some(Fail::OutOfRange)
                        && pending.iter().any(|(_, w)| *w == Err(Fail::OutOfRange))
                    {
                        self.discard(g);
                        return Ok(());
                    }
                    return Err(format!("group {g}: poll failed with {e} while {pending:?}"));
                }
                Ok(recs) => {
                    for r in recs {
                        let p = usize::try_from(r.partition).map_err(err)?;
                        if let Some(i) = pending.iter().position(|(q, _)| *q == p) {
                            let (_, want) = pending.remove(i);
                            match want {
                                Ok(w) => self.position_mut(g, p, w),
                                Err(f) => {
                                    return Err(format!(
                                        "group {g} partition {p}: record {} instead of {f:?}",
                                        r.offset
                                    ))
                                }
                            }
                        }
                        self.check_record(g, p, r.offset, r.value.as_deref())?;
                    }
                }
            }
            // A reset with nothing to read shows in the position.
            let mut still = Vec::new();
            for (p, want) in pending {
                let before = self.model.open[&g].1[p];
                let tp = self.tp(p);
                let Some(c) = self.consumers.get(&g) else {
                    return Ok(());
                };
                let seen = c.position(&tp).await;
                match seen {
                    Ok(s) if s == before => still.push((p, want)),
                    Ok(s) if Ok(s) == want => self.position_mut(g, p, s),
                    Ok(s) => {
                        return Err(format!(
                            "group {g} partition {p}: reset to {s}, expected {want:?}"
                        ))
                    }
                    Err(e) if fail_of(&e) == Some(Fail::OutOfRange) => {
                        self.discard(g);
                        return if want == Err(Fail::OutOfRange) {
                            Ok(())
                        } else {
                            Err(format!("group {g} partition {p}: {e}, expected {want:?}"))
                        };
                    }
                    Err(e) => return Err(format!("group {g} partition {p}: {e}")),
                }
            }
            pending = still;
        }
        Ok(())
    }

    /// Waits until the group has expired a crashed member (its session timeout), as the
    /// next consumer of the group would: until then the group rejects simple commits.
    async fn wait_member_expired(&self, g: usize) -> Step {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let d = self
                .admin
                .describe_groups(&[self.groups[g].as_str()])
                .await
                .map_err(err)?;
            if d.iter().all(|x| x.members.is_empty()) {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!("group {g}: the crashed member never expired"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A consumer that failed as the model expects: gone, nothing committed.
    fn discard(&mut self, g: usize) {
        drop(self.consumers.remove(&g));
        self.subscribed.remove(&g);
        if let Some(rt) = self.runtimes.remove(&g) {
            rt.shutdown_background();
        }
        self.model.open.remove(&g);
    }

    fn position_mut(&mut self, g: usize, p: usize, to: i64) {
        if let Some((_, pos)) = self.model.open.get_mut(&g) {
            pos[p] = to;
        }
    }

    /// A consumed record must be the next one of its partition.
    fn check_record(&mut self, g: usize, p: usize, offset: i64, value: Option<&[u8]>) -> Step {
        let Some((_, pos)) = self.model.open.get_mut(&g) else {
            return Err(format!("group {g}: a record with no consumer open"));
        };
        let want = pos[p];
        let (ls, hw) = (self.model.log_start[p], self.model.high_watermark[p]);
        if offset != want || offset < ls || offset >= hw {
            return Err(format!(
                "group {g} partition {p}: got offset {offset}, expected {want} (log [{ls}, {hw}))"
            ));
        }
        let text = format!("{p}:{offset}");
        if value != Some(text.as_bytes()) {
            return Err(format!(
                "group {g} partition {p} offset {offset}: value {value:?}"
            ));
        }
        pos[p] = offset + 1;
        Ok(())
    }

    async fn consume(&mut self, g: usize, k: usize) -> Step {
        let Some((_, pos)) = self.model.open.get(&g) else {
            return Ok(());
        };
        let available: i64 = (0..P).map(|p| self.model.high_watermark[p] - pos[p]).sum();
        let available = usize::try_from(available).map_err(err)?;
        let want = k.min(available);
        let deadline = tokio::time::Instant::now() + STEP;
        let mut got = 0;
        while got < want {
            if tokio::time::Instant::now() > deadline {
                return Err(format!("group {g}: {got} of {want} records arrived"));
            }
            let recs = self.consumers[&g]
                .poll(Duration::from_millis(100))
                .await
                .map_err(|e| format!("group {g}: poll: {e}"))?;
            for r in recs {
                got += 1;
                let p = usize::try_from(r.partition).map_err(err)?;
                self.check_record(g, p, r.offset, r.value.as_deref())?;
            }
        }
        if k > available {
            // Caught up: nothing more arrives.
            let recs = self.consumers[&g]
                .poll(Duration::from_millis(30))
                .await
                .map_err(|e| format!("group {g}: poll: {e}"))?;
            if let Some(r) = recs.first() {
                return Err(format!(
                    "group {g}: caught up, yet got {}-{} @ {}",
                    r.topic, r.partition, r.offset
                ));
            }
        }
        Ok(())
    }

    async fn commit(&mut self, g: usize) -> Step {
        let Some((_, pos)) = self.model.open.get(&g).cloned() else {
            return Ok(());
        };
        let c = &self.consumers[&g];
        c.commit()
            .await
            .map_err(|e| format!("group {g}: commit: {e}"))?;
        for (p, at) in pos.iter().enumerate() {
            self.model.committed.insert((g, p), *at);
            let seen = c.committed(&self.tp(p)).await.map_err(err)?;
            if seen != Some(*at) {
                return Err(format!(
                    "group {g} partition {p}: committed {seen:?}, not {at}"
                ));
            }
        }
        Ok(())
    }

    async fn delete(&mut self, p: usize, before: i64) -> Step {
        let before = before.min(self.model.high_watermark[p]);
        if before <= self.model.log_start[p] {
            return Ok(());
        }
        self.admin
            .delete_records(&[(self.tp(p), before)])
            .await
            .map_err(|e| format!("delete records of {p} before {before}: {e}"))?;
        self.model.log_start[p] = before;
        // Open consumers behind the new log start: their next fetch is out of range.
        // The seek drops anything fetched before the deletion (Kafka would hand that out).
        let behind: Vec<_> = self
            .model
            .open
            .iter()
            .filter(|(_, (_, pos))| pos[p] < before)
            .map(|(g, (reset, pos))| (*g, *reset, pos[p]))
            .collect();
        for (g, reset, at) in behind {
            self.consumers[&g].seek(&self.tp(p), at).map_err(err)?;
            let want =
                reset_to(before, self.model.high_watermark[p], reset).ok_or(Fail::OutOfRange);
            self.settle(g, vec![(p, want)]).await?;
        }
        Ok(())
    }

    async fn seek(&mut self, g: usize, p: usize, offset: i64) -> Step {
        let Some((reset, _)) = self.model.open.get(&g).copied() else {
            return Ok(());
        };
        self.consumers[&g].seek(&self.tp(p), offset).map_err(err)?;
        self.position_mut(g, p, offset);
        let (ls, hw) = (self.model.log_start[p], self.model.high_watermark[p]);
        if (ls..=hw).contains(&offset) {
            return Ok(());
        }
        let want = reset_to(ls, hw, reset).ok_or(Fail::OutOfRange);
        self.settle(g, vec![(p, want)]).await
    }

    async fn finish(self) -> Step {
        for (_, c) in self.consumers {
            c.close().await.map_err(err)?;
        }
        for (_, rt) in self.runtimes {
            rt.shutdown_background();
        }
        self.producer.close().await.map_err(err)?;
        if let Some(cluster) = &self.env.cluster {
            for ((g, p), at) in &self.model.committed {
                let seen = cluster
                    .committed_offset(
                        &self.groups[*g],
                        &self.topic,
                        i32::try_from(*p).map_err(err)?,
                    )
                    .map(|o| o.offset);
                if seen != Some(*at) {
                    return Err(format!(
                        "stored commit of group {g} partition {p}: {seen:?}, not {at}"
                    ));
                }
            }
        }
        Ok(())
    }
}

async fn run_case(ops: &[Op]) -> Step {
    let mut run = Run::new().await?;
    for (i, op) in ops.iter().enumerate() {
        run.log.push(format!("{op:?}"));
        run.step(op)
            .await
            .map_err(|e| format!("step {i} {op:?}: {e}\nmodel: {:?}", run.model))?;
    }
    run.finish().await
}

pub(crate) fn cases(default: u32) -> u32 {
    std::env::var("MOCKAFKA_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(16),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/offset_reset_props.txt",
        ))),
        ..ProptestConfig::default()
    })]

    /// Every step of a generated sequence matches the model.
    #[test]
    fn offset_reset_follows_the_model_end_to_end(ops in proptest::collection::vec(op(), 1..20)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        rt.block_on(run_case(&ops)).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn the_start_rule_matches_the_seed_scenarios() {
    use OffsetReset::{Earliest, Latest, None as NoReset};
    // 100 records, offsets 0..99.
    assert_eq!(start_offset(0, 100, None, Earliest), Ok(0)); // test2
    assert_eq!(start_offset(0, 100, None, Latest), Ok(100)); // test3
    assert_eq!(start_offset(0, 100, Some(50), Latest), Ok(50)); // test4
    assert_eq!(start_offset(60, 100, Some(30), Latest), Ok(100)); // out of range
    assert_eq!(start_offset(60, 100, Some(30), Earliest), Ok(60));
    assert_eq!(
        start_offset(60, 100, Some(30), NoReset),
        Err(Fail::OutOfRange)
    );
    assert_eq!(start_offset(0, 100, None, NoReset), Err(Fail::NoOffset));
    assert_eq!(start_offset(0, 100, Some(100), NoReset), Ok(100));
}
