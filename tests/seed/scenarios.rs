//! One async function per row of shared/SEED_BEHAVIOURS.md. `p` produces, `c` consumes;
//! `codec` is the compression every producer of the scenario uses (P6 tries all five).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{
    consume_n, offsets, poll_until, produce_range, Codec, ConsumerCfg, Format, Payload,
    ProducerCfg, Res, Reset, ResetError, SeedClient, SeedConsumer, SeedProducer, Send, Target,
    WAIT,
};

macro_rules! behaviours {
    ($($variant:ident => $id:literal, $f:ident;)*) => {
        /// A seed behaviour, named by its id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Behaviour { $($variant),* }

        impl Behaviour {
            /// Every behaviour, in the table's order.
            pub(crate) const ALL: &'static [Behaviour] = &[$(Behaviour::$variant),*];

            /// The test name (`c6_2_latest_with_no_commit_starts_at_log_end`).
            pub(crate) fn id(self) -> &'static str {
                match self { $(Behaviour::$variant => $id),* }
            }

            /// The behaviour whose id is `id` (or starts with `id_`, such as `c6_2`).
            pub(crate) fn parse(id: &str) -> Option<Behaviour> {
                Self::ALL.iter().copied().find(|b| {
                    b.id() == id || b.id().strip_prefix(id).is_some_and(|rest| rest.starts_with('_'))
                })
            }
        }

        /// Runs one behaviour against `target`, producing with `p` and consuming with `c`.
        pub(crate) async fn run<P: SeedClient, C: SeedClient>(
            b: Behaviour,
            target: &Target,
            p: &P,
            c: &C,
            codec: Codec,
        ) -> Res<()> {
            let s = S { t: target, p, c, codec };
            match b { $(Behaviour::$variant => s.$f().await),* }
        }
    };
}

behaviours! {
    C1 => "c1_iteration_ends_after_the_consumer_timeout", c1;
    C2 => "c2_a_group_member_gets_every_partition", c2;
    C3 => "c3_manual_assignment_reads_only_that_partition", c3;
    C4Topics => "c4_1_subscribe_to_several_topics", c4_topics;
    C4Pattern => "c4_2_subscribe_to_a_pattern_picks_up_new_topics", c4_pattern;
    C5 => "c5_values_decoded_by_a_msgpack_deserializer", c5;
    C6Earliest => "c6_1_earliest_new_group_starts_at_offset_0", c6_1;
    C6Latest => "c6_2_latest_with_no_commit_starts_at_log_end", c6_2;
    C6Committed => "c6_3_committed_offset_wins_over_latest_after_restart", c6_3;
    C6General => "c6_4_reset_applies_only_without_a_valid_committed_offset", c6_4;
    P1 => "p1_raw_bytes_sent_asynchronously", p1;
    P2 => "p2_blocking_get_returns_the_record_metadata", p2;
    P3 => "p3_flush_waits_for_every_buffered_record", p3;
    P4 => "p4_values_encoded_by_a_json_serializer", p4;
    P5 => "p5_keys_encoded_by_a_key_serializer", p5;
    P6 => "p6_compressed_batches_for_every_codec", p6;
    P7 => "p7_headers_arrive_unchanged", p7;
}

/// One scenario run.
struct S<'a, P, C> {
    t: &'a Target,
    p: &'a P,
    c: &'a C,
    codec: Codec,
}

fn earliest(group: Option<String>) -> ConsumerCfg {
    ConsumerCfg {
        group,
        reset: Reset::Earliest,
        ..ConsumerCfg::default()
    }
}

fn text(g: &super::Got) -> String {
    match &g.value {
        Some(Payload::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Res<()> {
    if cond {
        Ok(())
    } else {
        Err(what().into())
    }
}

macro_rules! check_eq {
    ($left:expr, $right:expr $(, $($msg:tt)*)?) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            return Err(format!(
                "{} != {}: {:?} vs {:?}{}",
                stringify!($left), stringify!($right), l, r,
                { let m: String = String::new() $(+ ": " + &format!($($msg)*))?; m }
            ).into());
        }
    }};
}

impl<P: SeedClient, C: SeedClient> S<'_, P, C> {
    async fn produce(
        &self,
        topic: &str,
        partition: Option<i32>,
        range: std::ops::Range<usize>,
    ) -> Res<Vec<super::Meta>> {
        produce_range(self.p, self.t, self.codec, topic, partition, range).await
    }

    async fn consumer(&self, cfg: ConsumerCfg) -> Res<C::Consumer> {
        self.c.consumer(&self.t.bootstrap, &cfg).await
    }

    async fn producer(&self, cfg: ProducerCfg) -> Res<P::Producer> {
        let cfg = ProducerCfg {
            codec: self.codec,
            ..cfg
        };
        self.p.producer(&self.t.bootstrap, &cfg).await
    }

    /// C1: `for msg in consumer` ends by itself `consumer_timeout_ms` after the last record,
    /// having shown every record with topic, partition, offset, timestamp, key, value and
    /// headers.
    async fn c1(&self) -> Res<()> {
        let topic = self.t.name("first");
        self.t.create_topic(&topic, 3).await?;
        let metas = self.produce(&topic, None, 0..30).await?;
        let mut c = self
            .consumer(ConsumerCfg {
                consumer_timeout_ms: Some(1000),
                ..earliest(None)
            })
            .await?;
        c.subscribe(&[&topic]).await?;
        let started = Instant::now();
        let got = c.iterate().await?;
        let took = started.elapsed();
        c.close().await?;
        ensure(took >= Duration::from_millis(1000), || {
            format!("iteration ended after {took:?}, before the consumer timeout")
        })?;
        ensure(took < WAIT, || format!("iteration took {took:?}"))?;
        check_eq!(got.len(), 30, "every record once");
        for g in &got {
            let i: usize = text(g)[1..].parse()?;
            let m = &metas[i];
            check_eq!(
                (&g.topic, g.partition, g.offset, g.timestamp),
                (&m.topic, m.partition, m.offset, m.timestamp)
            );
            check_eq!(g.key, Some(Payload::bytes(format!("k{i}"))));
            check_eq!(g.headers, Vec::<(String, Option<Vec<u8>>)>::new());
        }
        Ok(())
    }

    /// C2: `KafkaConsumer('first', group_id='group1')` joins the group, is its only
    /// member, owns every partition and reads every record.
    async fn c2(&self) -> Res<()> {
        let topic = self.t.name("first");
        let group = self.t.name("group1");
        self.t.create_topic(&topic, 3).await?;
        self.produce(&topic, None, 0..30).await?;
        let mut c = self.consumer(earliest(Some(group.clone()))).await?;
        c.subscribe(&[&topic]).await?;
        let all: BTreeSet<_> = (0..3).map(|p| (topic.clone(), p)).collect();
        let got = poll_until(&mut c, "every partition and record", |got, a| {
            *a == all && got.len() >= 30
        })
        .await?;
        check_eq!(got.len(), 30);
        let (state, members) = self.t.group(&group).await?;
        check_eq!((state.as_str(), members), ("Stable", 1));
        c.close().await?;
        Ok(())
    }

    /// C3: `consumer.assign([TopicPartition('first', 2)])`: only partition 2's records
    /// arrive, and the consumer joins no group.
    async fn c3(&self) -> Res<()> {
        let topic = self.t.name("first");
        let group = self.t.name("c3");
        self.t.create_topic(&topic, 3).await?;
        for p in 0..3 {
            let from = usize::try_from(p * 100)?;
            self.produce(&topic, Some(p), from..from + 5).await?;
        }
        let mut c = self.consumer(earliest(Some(group.clone()))).await?;
        c.assign(&[(&topic, 2)]).await?;
        let got = consume_n(&mut c, 5).await?;
        let more = c.poll(Duration::from_millis(300)).await?;
        check_eq!(
            more.map(|m| m.len()),
            Ok(0),
            "nothing after partition 2's five"
        );
        check_eq!(
            got.iter().map(text).collect::<Vec<_>>(),
            (200..205).map(|i| format!("m{i}")).collect::<Vec<_>>()
        );
        ensure(got.iter().all(|g| g.partition == 2), || format!("{got:?}"))?;
        check_eq!(c.assignment().await?, BTreeSet::from([(topic.clone(), 2)]));
        let (_, members) = self.t.group(&group).await?;
        check_eq!(members, 0, "no group membership");
        c.close().await?;
        Ok(())
    }

    /// C4: `consumer.subscribe(topics=['my_topic', 'topic_1'])` reads both topics.
    async fn c4_topics(&self) -> Res<()> {
        let (a, b) = (self.t.name("my_topic"), self.t.name("topic_1"));
        self.t.create_topic(&a, 1).await?;
        self.t.create_topic(&b, 2).await?;
        self.produce(&a, None, 0..5).await?;
        self.produce(&b, None, 5..10).await?;
        let mut c = self.consumer(earliest(Some(self.t.name("c4")))).await?;
        c.subscribe(&[&a, &b]).await?;
        let got = consume_n(&mut c, 10).await?;
        let mut values: Vec<_> = got.iter().map(|g| (g.topic.clone(), text(g))).collect();
        values.sort_by_key(|(_, v)| v[1..].parse::<u32>().unwrap_or(u32::MAX));
        let want: Vec<_> = (0..10)
            .map(|i| (if i < 5 { a.clone() } else { b.clone() }, format!("m{i}")))
            .collect();
        check_eq!(values, want);
        check_eq!(
            c.assignment().await?,
            BTreeSet::from([(a.clone(), 0), (b.clone(), 0), (b.clone(), 1)])
        );
        c.close().await?;
        Ok(())
    }

    /// C4: `consumer.subscribe(pattern='^my.*')` reads the matching topics only, and a
    /// matching topic created later is picked up at the next metadata refresh.
    async fn c4_pattern(&self) -> Res<()> {
        // The pattern must match only this run's topics in conformance mode.
        let prefix = self.t.name("my");
        let (mine, other, later) = (
            format!("{prefix}_topic"),
            self.t.name("topic_1"),
            format!("{prefix}_later"),
        );
        self.t.create_topic(&mine, 1).await?;
        self.t.create_topic(&other, 1).await?;
        self.produce(&mine, None, 0..3).await?;
        self.produce(&other, None, 3..6).await?;
        let mut c = self
            .consumer(ConsumerCfg {
                metadata_max_age_ms: Some(300),
                ..earliest(Some(self.t.name("c4-pattern")))
            })
            .await?;
        c.subscribe_pattern(&format!("^{}.*", regex_escape(&prefix)))
            .await?;
        let mut got = consume_n(&mut c, 3).await?;
        // Committed, so the rebalance that adds the new topic does not rewind my_topic.
        c.commit().await?;
        self.t.create_topic(&later, 1).await?;
        self.produce(&later, None, 6..8).await?;
        let want = BTreeSet::from([(mine.clone(), 0), (later.clone(), 0)]);
        got.extend(poll_until(&mut c, "the later topic", |g, a| *a == want && g.len() >= 2).await?);
        let mut values: Vec<_> = got.iter().map(|g| (g.topic.clone(), text(g))).collect();
        values.sort();
        check_eq!(
            values,
            vec![
                (later.clone(), "m6".to_string()),
                (later.clone(), "m7".to_string()),
                (mine.clone(), "m0".to_string()),
                (mine.clone(), "m1".to_string()),
                (mine.clone(), "m2".to_string()),
            ]
        );
        c.close().await?;
        Ok(())
    }

    /// C5: `value_deserializer=msgpack.loads` decodes what a MessagePack serializer wrote.
    async fn c5(&self) -> Res<()> {
        let topic = self.t.name("msgpack");
        let values = [
            json!({"key": "value"}),
            json!({"n": [1, 2, 3], "nested": {"ok": true}}),
            json!("plain string"),
        ];
        let mut p = self
            .producer(ProducerCfg {
                value_format: Format::MsgPack,
                ..ProducerCfg::default()
            })
            .await?;
        for v in &values {
            let id = p.send(&Send::new(&topic, Payload::Json(v.clone()))).await?;
            p.get(id, WAIT).await?;
        }
        p.close().await?;
        let mut c = self
            .consumer(ConsumerCfg {
                value_format: Format::MsgPack,
                ..earliest(None)
            })
            .await?;
        c.assign(&[(&topic, 0)]).await?;
        let got = consume_n(&mut c, 3).await?;
        check_eq!(
            got.iter().map(|g| g.value.clone()).collect::<Vec<_>>(),
            values
                .iter()
                .map(|v| Some(Payload::Json(v.clone())))
                .collect::<Vec<_>>()
        );
        c.close().await?;
        Ok(())
    }

    /// The C6 setting: topic `first` (one partition) holding 100 records, offsets 0..99.
    async fn hundred(&self) -> Res<String> {
        let topic = self.t.name("first");
        self.t.create_topic(&topic, 1).await?;
        self.produce(&topic, Some(0), 0..100).await?;
        check_eq!(self.t.end_offset(&topic, 0).await?, 100);
        Ok(topic)
    }

    /// C6 scenario 1: new group `test2`, `earliest`: consumption starts at offset 0.
    async fn c6_1(&self) -> Res<()> {
        let topic = self.hundred().await?;
        let mut c = self.consumer(earliest(Some(self.t.name("test2")))).await?;
        c.subscribe(&[&topic]).await?;
        let got = consume_n(&mut c, 100).await?;
        check_eq!(offsets(&got), (0..100).collect::<Vec<_>>());
        check_eq!(text(&got[0]), "m0");
        c.close().await?;
        Ok(())
    }

    /// C6 scenario 2: new group `test3`, `latest`: nothing arrives, the position is the
    /// log end (100), and a record appended afterwards arrives, at exactly offset 100.
    async fn c6_2(&self) -> Res<()> {
        let topic = self.hundred().await?;
        let mut c = self
            .consumer(ConsumerCfg {
                group: Some(self.t.name("test3")),
                reset: Reset::Latest,
                ..ConsumerCfg::default()
            })
            .await?;
        c.subscribe(&[&topic]).await?;
        let want = BTreeSet::from([(topic.clone(), 0)]);
        let early = poll_until(&mut c, "the assignment", |_, a| *a == want).await?;
        check_eq!(early.len(), 0, "nothing arrives");
        check_eq!(c.position(&topic, 0).await?, 100);
        check_eq!(
            c.poll(Duration::from_millis(300)).await?.map(|g| g.len()),
            Ok(0),
            "the consumer looks stuck"
        );
        self.produce(&topic, Some(0), 100..101).await?;
        let got = consume_n(&mut c, 1).await?;
        check_eq!(offsets(&got), vec![100]);
        check_eq!(text(&got[0]), "m100");
        c.close().await?;
        Ok(())
    }

    /// C6 scenario 3: group `test4`, `earliest`, consumes 50 records (0..49), commits and
    /// closes; restarted with `latest` it continues at 50: nothing skipped or repeated.
    async fn c6_3(&self) -> Res<()> {
        let topic = self.hundred().await?;
        let group = self.t.name("test4");
        let mut first = self
            .consumer(ConsumerCfg {
                max_poll_records: Some(1),
                ..earliest(Some(group.clone()))
            })
            .await?;
        first.subscribe(&[&topic]).await?;
        let got = consume_n(&mut first, 50).await?;
        check_eq!(offsets(&got), (0..50).collect::<Vec<_>>());
        first.commit().await?;
        check_eq!(first.committed(&topic, 0).await?, Some(50));
        first.close().await?;
        let mut second = self
            .consumer(ConsumerCfg {
                group: Some(group),
                reset: Reset::Latest,
                ..ConsumerCfg::default()
            })
            .await?;
        second.subscribe(&[&topic]).await?;
        let got = consume_n(&mut second, 50).await?;
        check_eq!(offsets(&got), (50..100).collect::<Vec<_>>());
        check_eq!(
            second
                .poll(Duration::from_millis(300))
                .await?
                .map(|g| g.len()),
            Ok(0),
            "nothing repeated"
        );
        second.close().await?;
        Ok(())
    }

    /// C6 scenario 4: the policy only chooses where to start when the group has no
    /// committed offset for the partition, or the committed offset is out of range.
    async fn c6_4(&self) -> Res<()> {
        let topic = self.hundred().await?;
        let group = self.t.name("c6-general");
        let cfg = |reset, group: &str| ConsumerCfg {
            group: Some(group.to_string()),
            reset,
            ..ConsumerCfg::default()
        };
        // Commit 30, as a consumer with a manual assignment (no group membership) does.
        let mut setter = self.consumer(cfg(Reset::None, &group)).await?;
        setter.assign(&[(&topic, 0)]).await?;
        setter.commit_offsets(&[(&topic, 0, 30)]).await?;
        setter.close().await?;
        // Committed: the policy has no effect, subscribed or assigned.
        for reset in [Reset::Earliest, Reset::Latest, Reset::None] {
            for subscribe in [true, false] {
                let mut c = self.consumer(cfg(reset, &group)).await?;
                if subscribe {
                    c.subscribe(&[&topic]).await?;
                } else {
                    c.assign(&[(&topic, 0)]).await?;
                }
                let got = consume_n(&mut c, 1).await?;
                check_eq!(got[0].offset, 30, "{reset:?}, subscribed: {subscribe}");
                c.close().await?;
            }
        }
        // No committed offset: the policy decides; `none` is an error.
        let fresh = self.t.name("c6-fresh");
        for (reset, want) in [
            (Reset::Earliest, Ok(0)),
            (Reset::None, Err(ResetError::NoOffset)),
        ] {
            let mut c = self.consumer(cfg(reset, &fresh)).await?;
            c.assign(&[(&topic, 0)]).await?;
            check_eq!(self.first_offset(&mut c, &topic).await?, want, "{reset:?}");
            c.close().await?;
        }
        // Committed 30, but the records before 60 are deleted: out of range, so the
        // policy decides again.
        self.t.delete_records(&topic, 0, 60).await?;
        for (reset, want) in [
            (Reset::Earliest, Ok(60)),
            (Reset::Latest, Ok(100)),
            (Reset::None, Err(ResetError::OutOfRange)),
        ] {
            let mut c = self.consumer(cfg(reset, &group)).await?;
            c.assign(&[(&topic, 0)]).await?;
            check_eq!(self.first_offset(&mut c, &topic).await?, want, "{reset:?}");
            c.close().await?;
        }
        Ok(())
    }

    /// Where a consumer starts: the first record's offset, the log end when it settles
    /// there with nothing to read, or the reset error.
    async fn first_offset(&self, c: &mut C::Consumer, topic: &str) -> Res<Result<i64, ResetError>> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let end = self.t.end_offset(topic, 0).await?;
        loop {
            match c.poll(Duration::from_millis(200)).await? {
                Err(e) => return Ok(Err(e)),
                Ok(got) if !got.is_empty() => return Ok(Ok(got[0].offset)),
                Ok(_) => {}
            }
            // Nothing to read: a consumer at the log end stays there.
            match c.position(topic, 0).await {
                Ok(p) if p == end => return Ok(Ok(p)),
                _ => {}
            }
            if tokio::time::Instant::now() > deadline {
                return Err("the start position never settled".into());
            }
        }
    }

    /// A consumer with a manual assignment of every partition of `topic` (`partitions`
    /// of them), reading `n` records.
    async fn read_back(
        &self,
        topic: &str,
        partitions: i32,
        n: usize,
        cfg: ConsumerCfg,
    ) -> Res<Vec<super::Got>> {
        let mut c = self.consumer(cfg).await?;
        let tps: Vec<_> = (0..partitions).map(|p| (topic, p)).collect();
        c.assign(&tps).await?;
        let got = consume_n(&mut c, n).await?;
        c.close().await?;
        Ok(got)
    }

    /// P1: `producer.send('foobar', b'some_message_bytes')` returns at once; the record
    /// reaches the auto-created topic.
    async fn p1(&self) -> Res<()> {
        let topic = self.t.name("foobar");
        let mut p = self.producer(ProducerCfg::default()).await?;
        let mut ids = Vec::new();
        for i in 0..10 {
            let s = Send::new(&topic, Payload::bytes(format!("some_message_bytes-{i}")));
            ids.push(p.send(&s).await?);
        }
        p.flush().await?;
        for id in ids {
            ensure(p.try_get(id).await?.is_some(), || {
                "acknowledged by flush".into()
            })?;
        }
        p.close().await?;
        let got = self.read_back(&topic, 1, 10, earliest(None)).await?;
        let mut values: Vec<_> = got.iter().map(text).collect();
        values.sort();
        let mut want: Vec<_> = (0..10).map(|i| format!("some_message_bytes-{i}")).collect();
        want.sort();
        check_eq!(values, want);
        Ok(())
    }

    /// P2: `future.get(timeout=60)` returns topic, partition, offset and timestamp, and
    /// the record is found exactly there.
    async fn p2(&self) -> Res<()> {
        let topic = self.t.name("foobar");
        let before = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis();
        let mut p = self.producer(ProducerCfg::default()).await?;
        let mut metas = Vec::new();
        for i in 0..3 {
            let s = Send::new(&topic, Payload::bytes(format!("another_message-{i}")));
            let id = p.send(&s).await?;
            metas.push(p.get(id, Duration::from_secs(60)).await?);
        }
        p.close().await?;
        for (i, m) in metas.iter().enumerate() {
            check_eq!(m.topic, topic);
            check_eq!(
                m.offset,
                i64::try_from(i)?,
                "a one-partition topic: offsets 0, 1, 2"
            );
            ensure(
                i128::from(m.timestamp) >= i128::try_from(before)? - 1000,
                || format!("timestamp {} is the send time", m.timestamp),
            )?;
        }
        let got = self.read_back(&topic, 1, 3, earliest(None)).await?;
        for (i, m) in metas.iter().enumerate() {
            let g = got
                .iter()
                .find(|g| text(g) == format!("another_message-{i}"))
                .ok_or("record not found")?;
            check_eq!(
                (g.partition, g.offset, g.timestamp),
                (m.partition, m.offset, m.timestamp)
            );
        }
        Ok(())
    }

    /// P3: `producer.flush()` returns only when every buffered record was sent: even with
    /// a long linger, every send is acknowledged when it returns.
    async fn p3(&self) -> Res<()> {
        let topic = self.t.name("flushed");
        self.t.create_topic(&topic, 3).await?;
        let mut p = self
            .producer(ProducerCfg {
                linger_ms: Some(20_000),
                ..ProducerCfg::default()
            })
            .await?;
        let mut ids = Vec::new();
        for i in 0..100 {
            let s = Send::new(&topic, Payload::bytes(format!("m{i}")));
            ids.push(p.send(&s).await?);
        }
        let started = Instant::now();
        p.flush().await?;
        ensure(started.elapsed() < Duration::from_secs(15), || {
            "flush sends at once instead of waiting for the linger".into()
        })?;
        for id in &ids {
            ensure(p.try_get(*id).await?.is_some(), || {
                format!("send {id} not acknowledged after flush")
            })?;
        }
        let mut stored = 0;
        for part in 0..3 {
            stored += self.t.end_offset(&topic, part).await?;
        }
        check_eq!(stored, 100);
        p.close().await?;
        Ok(())
    }

    /// P4: `value_serializer=lambda v: json.dumps(v).encode('utf-8')`: the stored bytes are
    /// JSON text of the value.
    async fn p4(&self) -> Res<()> {
        let topic = self.t.name("json");
        let values = [json!({"foo": "bar"}), json!([1, 2, {"x": null}]), json!(42)];
        let mut p = self
            .producer(ProducerCfg {
                value_format: Format::Json,
                ..ProducerCfg::default()
            })
            .await?;
        for v in &values {
            let id = p.send(&Send::new(&topic, Payload::Json(v.clone()))).await?;
            p.get(id, WAIT).await?;
        }
        p.close().await?;
        let mut c = self.consumer(earliest(None)).await?;
        c.assign(&[(&topic, 0)]).await?;
        let got = consume_n(&mut c, 3).await?;
        c.close().await?;
        for (g, v) in got.iter().zip(&values) {
            let Some(Payload::Bytes(raw)) = &g.value else {
                return Err(format!("raw bytes expected: {g:?}").into());
            };
            check_eq!(serde_json::from_slice::<serde_json::Value>(raw)?, *v);
        }
        // And `value_deserializer=json.loads` gets the values back.
        let mut c = self
            .consumer(ConsumerCfg {
                value_format: Format::Json,
                ..earliest(None)
            })
            .await?;
        c.assign(&[(&topic, 0)]).await?;
        let got = consume_n(&mut c, 3).await?;
        c.close().await?;
        check_eq!(
            got.iter().map(|g| g.value.clone()).collect::<Vec<_>>(),
            values
                .iter()
                .map(|v| Some(Payload::Json(v.clone())))
                .collect::<Vec<_>>()
        );
        Ok(())
    }

    /// P5: `key_serializer=str.encode`, `send('flipflap', key='ping', value=b'1234')`: the
    /// key is stored as those bytes and a key always lands on the partition the Java
    /// client's murmur2 partitioner picks.
    async fn p5(&self) -> Res<()> {
        let topic = self.t.name("flipflap");
        self.t.create_topic(&topic, 3).await?;
        let mut p = self
            .producer(ProducerCfg {
                key_format: Format::Str,
                ..ProducerCfg::default()
            })
            .await?;
        let keys = ["ping", "pong", "foo", "bar", "baz", "ping"];
        let mut metas = Vec::new();
        for k in keys {
            let s = Send::new(&topic, Payload::bytes(b"1234")).key(Payload::Text(k.into()));
            let id = p.send(&s).await?;
            metas.push(p.get(id, WAIT).await?);
        }
        p.close().await?;
        for (k, m) in keys.iter().zip(&metas) {
            check_eq!(
                m.partition,
                mockafka::client::partitioner::partition_for_key(k.as_bytes(), 3),
                "key {k}"
            );
        }
        let got = self
            .read_back(
                &topic,
                3,
                keys.len(),
                ConsumerCfg {
                    key_format: Format::Str,
                    ..earliest(None)
                },
            )
            .await?;
        let mut seen: Vec<_> = got
            .iter()
            .map(|g| (g.key.clone(), g.value.clone(), g.partition))
            .collect();
        seen.sort_by_key(|s| format!("{s:?}"));
        let mut want: Vec<_> = keys
            .iter()
            .zip(&metas)
            .map(|(k, m)| {
                (
                    Some(Payload::Text(k.to_string())),
                    Some(Payload::bytes(b"1234")),
                    m.partition,
                )
            })
            .collect();
        want.sort_by_key(|s| format!("{s:?}"));
        check_eq!(seen, want);
        Ok(())
    }

    /// P6: `compression_type='lz4'` (and gzip, snappy, zstd, none): the records arrive
    /// intact; on an embedded cluster, the stored batches carry the codec.
    async fn p6(&self) -> Res<()> {
        for codec in Codec::ALL {
            let topic = self.t.name(&format!("compressed-{}", codec.name()));
            let s = S {
                codec,
                t: self.t,
                p: self.p,
                c: self.c,
            };
            // Compressible values: kafka-python sends a batch uncompressed when the codec
            // would not make it smaller.
            let value = |i: usize| format!("m{i}-{}", "compressible ".repeat(40));
            let mut p = s.producer(ProducerCfg::default()).await?;
            let mut ids = Vec::new();
            for i in 0..50 {
                let rec = Send::new(&topic, Payload::bytes(value(i))).partition(0);
                ids.push(p.send(&rec).await?);
            }
            for id in ids {
                p.get(id, WAIT)
                    .await
                    .map_err(|e| format!("{codec:?}: {e}"))?;
            }
            p.close().await?;
            let got = s
                .read_back(&topic, 1, 50, earliest(None))
                .await
                .map_err(|e| format!("{codec:?}: {e}"))?;
            check_eq!(
                got.iter().map(text).collect::<Vec<_>>(),
                (0..50).map(value).collect::<Vec<_>>(),
                "{codec:?}"
            );
            if let Some(cluster) = &self.t.cluster {
                let batches = cluster.batches(&topic, 0)?;
                ensure(!batches.is_empty(), || "no batches".into())?;
                for b in batches {
                    let stored = b.compression.map(|c| format!("{c:?}").to_lowercase());
                    check_eq!(stored.as_deref(), Some(codec.name()), "stored as sent");
                }
            }
        }
        Ok(())
    }

    /// P7: `headers=[('content-encoding', b'base64')]` (and repeated keys) reach the
    /// consumer unchanged and in order.
    async fn p7(&self) -> Res<()> {
        let topic = self.t.name("headers");
        let mut p = self.producer(ProducerCfg::default()).await?;
        let s = Send::new(&topic, Payload::bytes(b"c29tZSB2YWx1ZQ=="))
            .header("content-encoding", b"base64")
            .header("dup", b"1")
            .header("dup", b"2");
        let id = p.send(&s).await?;
        p.get(id, WAIT).await?;
        p.close().await?;
        let got = self.read_back(&topic, 1, 1, earliest(None)).await?;
        check_eq!(got[0].headers, s.headers);
        check_eq!(got[0].value, s.value);
        Ok(())
    }
}

/// Escapes regex metacharacters (conformance-mode suffixes are digits and `-`).
fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let meta = "\\.+*?()|[]{}^$".contains(c);
            meta.then_some('\\').into_iter().chain(std::iter::once(c))
        })
        .collect()
}
