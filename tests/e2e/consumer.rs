//! C1-C6 (shared/SEED_BEHAVIOURS.md) with the mockafka consumer, records produced by the
//! mockafka producer; group sharing, static membership, coordinator and leader moves,
//! broker loss, OFFSET_OUT_OF_RANGE, and the offset API. Cross-client checks (records
//! produced by kafka-python, mixed groups) are in tests/python/test_rust_consumer.py.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use mockafka::client::deserializer::{MsgPackDeserializer, StringDeserializer};
use mockafka::client::serializer::{MsgPackSerializer, StringSerializer};
use mockafka::client::{
    AssignmentStrategy, ClientError, Consumer, ConsumerBuilder, ConsumerRecord, OffsetReset,
    Producer, ProducerRecord, RebalanceListener, TimestampType, TopicPartition,
};
use mockafka::cluster::{BrokerId, GroupState};

use crate::{Env, TestResult, WAIT};

/// A consumer builder tuned for tests: quick heartbeats (so rebalances finish fast) and
/// short fetch waits.
fn builder(env: &Env) -> ConsumerBuilder {
    Consumer::builder()
        .bootstrap_servers(env.bootstrap.split(','))
        .heartbeat_interval(Duration::from_millis(50))
        .fetch_max_wait(Duration::from_millis(100))
}

fn group(env: &Env, base: &str) -> String {
    env.topic(base)
}

/// Produces `n` records `m0..` to `topic` (partition `partition`, or spread by key when
/// `None`), and waits for every ack.
async fn seed(env: &Env, topic: &str, partition: Option<i32>, n: usize) -> TestResult {
    seed_from(env, topic, partition, 0, n).await
}

async fn seed_from(
    env: &Env,
    topic: &str,
    partition: Option<i32>,
    from: usize,
    n: usize,
) -> TestResult {
    let p = Producer::builder()
        .bootstrap_servers(env.bootstrap.split(','))
        .linger(Duration::from_millis(2))
        .build()
        .await?;
    let mut acks = Vec::new();
    for i in from..from + n {
        let mut r = ProducerRecord::new(topic, Bytes::from(format!("m{i}")))
            .with_key(Bytes::from(format!("k{i}")));
        if let Some(part) = partition {
            r = r.with_partition(part);
        }
        acks.push(p.send(r).await?);
    }
    for a in acks {
        a.get(WAIT).await?;
    }
    p.close().await?;
    Ok(())
}

/// Polls until `n` records arrived (or fails after the deadline).
async fn consume_n<K, V>(
    c: &Consumer<K, V>,
    n: usize,
) -> Result<Vec<ConsumerRecord<K::Output, V::Output>>, Box<dyn std::error::Error>>
where
    K: mockafka::client::deserializer::Deserializer,
    V: mockafka::client::deserializer::Deserializer,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut out = Vec::new();
    while out.len() < n {
        if tokio::time::Instant::now() > deadline {
            return Err(format!("got {} of {n} records", out.len()).into());
        }
        out.extend(c.poll(Duration::from_millis(200)).await?);
    }
    Ok(out)
}

/// Waits until `cond` holds, checking after each short poll of the consumer; returns the
/// records those polls returned.
async fn poll_until<K, V>(
    c: &Consumer<K, V>,
    what: &str,
    mut cond: impl FnMut(&Consumer<K, V>) -> bool,
) -> Result<Vec<ConsumerRecord<K::Output, V::Output>>, Box<dyn std::error::Error>>
where
    K: mockafka::client::deserializer::Deserializer,
    V: mockafka::client::deserializer::Deserializer,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut out = Vec::new();
    while !cond(c) {
        if tokio::time::Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        out.extend(c.poll(Duration::from_millis(50)).await?);
    }
    Ok(out)
}

fn values<K>(recs: &[ConsumerRecord<K, Bytes>]) -> Vec<String> {
    recs.iter()
        .map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned())
        .collect()
}

fn tp(topic: &str, p: i32) -> TopicPartition {
    TopicPartition::new(topic, p)
}

#[test]
fn c1_blocking_iteration_ends_after_the_consumer_timeout() -> TestResult {
    // A plain thread without a runtime: the tutorial's `for msg in consumer`.
    let rt = tokio::runtime::Runtime::new()?;
    let env = rt.block_on(Env::start(3))?;
    let topic = env.topic("first");
    rt.block_on(env.create_topic(&topic, 3))?;
    rt.block_on(seed(&env, &topic, None, 10))?;
    let bootstrap = env.bootstrap.clone();
    let t = topic.clone();
    let handle = std::thread::spawn(move || -> Result<_, ClientError> {
        let consumer = Consumer::builder()
            .bootstrap_servers(bootstrap.split(','))
            .auto_offset_reset(OffsetReset::Earliest)
            .consumer_timeout(Duration::from_millis(1000))
            .build_blocking()?;
        consumer.subscribe(&[t.as_str()])?;
        let mut got = Vec::new();
        let mut last = std::time::Instant::now();
        for msg in &consumer {
            got.push(msg?);
            last = std::time::Instant::now();
        }
        // The loop ended by itself, no earlier than the timeout after the last record.
        let quiet = last.elapsed();
        // The tutorial's exact form, by value: `for msg in consumer` (nothing is left).
        let mut left = 0;
        for msg in consumer {
            msg?;
            left += 1;
        }
        assert_eq!(left, 0);
        Ok((got, quiet))
    });
    let (got, quiet) = handle.join().map_err(|_| "consumer thread panicked")??;
    assert_eq!(got.len(), 10);
    assert!(
        quiet >= Duration::from_millis(1000),
        "ended after {quiet:?}"
    );
    let mut vals = values(&got);
    vals.sort();
    let mut want: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    want.sort();
    assert_eq!(vals, want);
    for r in &got {
        assert_eq!(r.topic, topic);
        assert_eq!(r.timestamp_type, TimestampType::CreateTime);
        assert!(r.timestamp > 0);
    }
    drop(env);
    Ok(())
}

#[tokio::test]
async fn c2_a_consumer_joins_a_group_and_gets_every_partition() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("first");
    let g = group(&env, "group1");
    env.create_topic(&topic, 3).await?;
    seed(&env, &topic, None, 30).await?;
    let c = builder(&env)
        .group_id(&g)
        .client_id("c2-client")
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    c.subscribe(&[topic.as_str()])?;
    let assigned = c.wait_for_assignment(WAIT).await?;
    assert_eq!(assigned, (0..3).map(|p| tp(&topic, p)).collect());
    if let Some(cluster) = env.cluster.as_ref() {
        let view = cluster.wait_group_stable(&g, 1, WAIT).await?;
        assert_eq!(view.protocol_type, "consumer");
        assert_eq!(view.protocol_name.as_deref(), Some("range"));
        assert_eq!(view.members[0].client_id, "c2-client");
        assert_eq!(Some(view.members[0].member_id.clone()), c.member_id());
    }
    let got = consume_n(&c, 30).await?;
    assert_eq!(got.len(), 30);
    c.commit().await?;
    let mut total = 0;
    for p in 0..3 {
        let committed = c.committed(&tp(&topic, p)).await?.unwrap_or(0);
        assert_eq!(committed, env.end_offset(&topic, p).await?);
        total += committed;
    }
    assert_eq!(total, 30);
    c.close().await?;
    if let Some(cluster) = env.cluster.as_ref() {
        let view = cluster
            .wait_for_group(&g, WAIT, |v| v.state == GroupState::Empty)
            .await?;
        assert!(view.members.is_empty(), "close leaves the group");
    }
    Ok(())
}

#[tokio::test]
async fn c3_manual_assignment_reads_one_partition_without_membership() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("first");
    let g = group(&env, "c3");
    env.create_topic(&topic, 3).await?;
    for p in 0..3 {
        seed_from(&env, &topic, Some(p), usize::try_from(p)? * 100, 5).await?;
    }
    let c = builder(&env)
        .group_id(&g)
        .auto_offset_reset(OffsetReset::Earliest)
        .enable_auto_commit(false)
        .build()
        .await?;
    c.assign(&[tp(&topic, 2)])?;
    assert_eq!(c.assignment(), BTreeSet::from([tp(&topic, 2)]));
    let got = consume_n(&c, 5).await?;
    assert!(got.iter().all(|r| r.partition == 2));
    assert_eq!(
        values(&got),
        (200..205).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
    assert_eq!(
        got.iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    // Nothing else arrives.
    assert!(c.poll(Duration::from_millis(200)).await?.is_empty());
    // A simple consumer commits with generation -1 and is no member of the group.
    c.commit().await?;
    assert_eq!(c.committed(&tp(&topic, 2)).await?, Some(5));
    assert_eq!(c.committed(&tp(&topic, 0)).await?, None);
    assert_eq!(c.member_id(), None);
    if let Some(cluster) = env.cluster.as_ref() {
        assert_eq!(
            cluster.committed_offset(&g, &topic, 2).map(|o| o.offset),
            Some(5)
        );
        assert!(cluster.group(&g).is_none_or(|v| v.members.is_empty()));
    }
    c.close().await?;
    Ok(())
}

#[tokio::test]
async fn c4_subscribe_to_several_topics() -> TestResult {
    let env = Env::start(3).await?;
    let (a, b) = (env.topic("my_topic"), env.topic("topic_1"));
    env.create_topic(&a, 2).await?;
    env.create_topic(&b, 2).await?;
    seed(&env, &a, None, 10).await?;
    seed_from(&env, &b, None, 100, 10).await?;
    let c = builder(&env)
        .group_id(group(&env, "c4"))
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    c.subscribe(&[a.as_str(), b.as_str()])?;
    let got = consume_n(&c, 20).await?;
    let from_a = got.iter().filter(|r| r.topic == a).count();
    let from_b = got.iter().filter(|r| r.topic == b).count();
    assert_eq!((from_a, from_b), (10, 10));
    c.close().await?;
    Ok(())
}

#[tokio::test]
async fn c4_subscribe_to_a_pattern_picks_up_topics_created_later() -> TestResult {
    let env = Env::start(3).await?;
    let suffix = env.topic("");
    let (a, other) = (format!("my_topic{suffix}"), format!("topic_1{suffix}"));
    env.create_topic(&a, 1).await?;
    env.create_topic(&other, 1).await?;
    seed(&env, &a, None, 3).await?;
    seed(&env, &other, None, 3).await?;
    let c = builder(&env)
        .group_id(group(&env, "c4p"))
        .auto_offset_reset(OffsetReset::Earliest)
        .metadata_max_age(Duration::from_millis(100))
        .build()
        .await?;
    c.subscribe_pattern(&format!("^my.*{suffix}"))?;
    let got = consume_n(&c, 3).await?;
    assert!(got.iter().all(|r| r.topic == a));
    let later = format!("my_later{suffix}");
    env.create_topic(&later, 1).await?;
    poll_until(&c, "the new topic's assignment", |c| {
        c.assignment().contains(&tp(&later, 0))
    })
    .await?;
    seed_from(&env, &later, None, 7, 1).await?;
    let got = consume_n(&c, 1).await?;
    assert_eq!(got[0].topic, later);
    assert_eq!(values(&got), vec!["m7"]);
    // The non-matching topic never showed up.
    assert!(!c.assignment().iter().any(|t| t.topic == other));
    c.close().await?;
    Ok(())
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Reading {
    key: String,
    n: u32,
}

#[tokio::test]
async fn c5_values_decoded_by_a_msgpack_deserializer_with_keys_and_headers() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("msgpack");
    env.create_topic(&topic, 1).await?;
    let p = Producer::builder()
        .bootstrap_servers(env.bootstrap.split(','))
        .key_serializer(StringSerializer)
        .value_serializer(MsgPackSerializer::<Reading>::new())
        .build()
        .await?;
    let rec = ProducerRecord::new(
        &topic,
        Reading {
            key: "value".into(),
            n: 7,
        },
    )
    .with_key("ping".to_owned())
    .with_header("h", Some(Bytes::from_static(b"1")))
    .with_header("h", Some(Bytes::from_static(b"2")))
    .with_header("null", None);
    p.send(rec).await?.get(WAIT).await?;
    p.send(ProducerRecord::<String, Reading>::tombstone(
        &topic,
        "gone".to_owned(),
    ))
    .await?
    .get(WAIT)
    .await?;
    let c = builder(&env)
        .auto_offset_reset(OffsetReset::Earliest)
        .key_deserializer(StringDeserializer)
        .value_deserializer(MsgPackDeserializer::<Reading>::new())
        .build()
        .await?;
    c.assign(&[tp(&topic, 0)])?;
    let got = consume_n(&c, 2).await?;
    assert_eq!(got[0].key.as_deref(), Some("ping"));
    assert_eq!(
        got[0].value,
        Some(Reading {
            key: "value".into(),
            n: 7
        })
    );
    let headers: Vec<(&str, Option<&[u8]>)> = got[0]
        .headers
        .iter()
        .map(|h| (h.key.as_str(), h.value.as_deref()))
        .collect();
    assert_eq!(
        headers,
        vec![
            ("h", Some(&b"1"[..])),
            ("h", Some(&b"2"[..])),
            ("null", None)
        ]
    );
    assert_eq!(got[1].key.as_deref(), Some("gone"));
    assert_eq!(got[1].value, None, "a tombstone has no value");
    if env.cluster.is_some() {
        assert_eq!(got[0].leader_epoch, Some(0));
    }
    c.close().await?;
    Ok(())
}

#[tokio::test]
async fn deserialization_errors_name_the_record_and_keep_the_position() -> TestResult {
    let env = Env::start(1).await?;
    let topic = env.topic("badutf8");
    env.create_topic(&topic, 1).await?;
    let p = Producer::builder()
        .bootstrap_servers(env.bootstrap.split(','))
        .build()
        .await?;
    for v in [&b"ok"[..], b"\xff\xfe", b"after"] {
        p.send(ProducerRecord::new(&topic, Bytes::copy_from_slice(v)))
            .await?
            .get(WAIT)
            .await?;
    }
    let c = builder(&env)
        .auto_offset_reset(OffsetReset::Earliest)
        .value_deserializer(StringDeserializer)
        .build()
        .await?;
    let t0 = tp(&topic, 0);
    c.assign(std::slice::from_ref(&t0))?;
    let first = consume_n(&c, 1).await?;
    assert_eq!(first[0].value.as_deref(), Some("ok"));
    let err = loop {
        match c.poll(Duration::from_millis(200)).await {
            Err(e) => break e,
            Ok(v) => assert!(v.is_empty(), "no record past the bad one"),
        }
    };
    assert!(
        matches!(&err, ClientError::Deserialization { partition: 0, offset: 1, topic, .. } if *topic == t0.topic),
        "{err:?}"
    );
    assert_eq!(c.position(&t0).await?, 1);
    c.seek(&t0, 2)?;
    let got = consume_n(&c, 1).await?;
    assert_eq!((got[0].offset, got[0].value.as_deref()), (2, Some("after")));
    Ok(())
}

/// C6 test2: a new group with `earliest` starts at offset 0.
#[tokio::test]
async fn c6_new_group_with_earliest_starts_at_offset_0() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("first");
    env.create_topic(&topic, 1).await?;
    seed(&env, &topic, Some(0), 100).await?;
    let c = builder(&env)
        .group_id(group(&env, "test2"))
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    c.subscribe(&[topic.as_str()])?;
    let got = consume_n(&c, 100).await?;
    assert_eq!(
        got.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (0..100).collect::<Vec<_>>()
    );
    assert_eq!(values(&got)[0], "m0");
    c.close().await?;
    Ok(())
}

/// C6 test3: a new group with `latest` receives nothing; its position is the log end
/// (100); a record appended afterwards arrives, at exactly offset 100.
#[tokio::test]
async fn c6_new_group_with_latest_waits_at_the_log_end() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("first");
    env.create_topic(&topic, 1).await?;
    seed(&env, &topic, Some(0), 100).await?;
    let c = builder(&env)
        .group_id(group(&env, "test3"))
        .auto_offset_reset(OffsetReset::Latest)
        .build()
        .await?;
    c.subscribe(&[topic.as_str()])?;
    c.wait_for_assignment(WAIT).await?;
    let t0 = tp(&topic, 0);
    assert_eq!(c.position(&t0).await?, 100);
    assert!(
        c.poll(Duration::from_millis(300)).await?.is_empty(),
        "nothing arrives"
    );
    seed_from(&env, &topic, Some(0), 100, 1).await?;
    let got = consume_n(&c, 1).await?;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].offset, 100);
    assert_eq!(values(&got), vec!["m100"]);
    c.close().await?;
    Ok(())
}

/// C6 test4: `earliest`, 50 records consumed and committed, closed; restarted with
/// `latest` it continues at 50: nothing skipped, nothing repeated.
#[tokio::test]
async fn c6_committed_offset_wins_over_latest_after_a_restart() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("first");
    let g = group(&env, "test4");
    env.create_topic(&topic, 1).await?;
    seed(&env, &topic, Some(0), 100).await?;
    let first = builder(&env)
        .group_id(&g)
        .auto_offset_reset(OffsetReset::Earliest)
        .enable_auto_commit(false)
        .build()
        .await?;
    first.subscribe(&[topic.as_str()])?;
    let mut seen = Vec::new();
    for _ in 0..50 {
        seen.push(first.recv().await?.offset);
    }
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
    first.commit().await?;
    first.close().await?;
    if let Some(cluster) = env.cluster.as_ref() {
        assert_eq!(
            cluster.committed_offset(&g, &topic, 0).map(|o| o.offset),
            Some(50)
        );
    }
    let second = builder(&env)
        .group_id(&g)
        .auto_offset_reset(OffsetReset::Latest)
        .build()
        .await?;
    second.subscribe(&[topic.as_str()])?;
    let got = consume_n(&second, 50).await?;
    assert_eq!(
        got.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (50..100).collect::<Vec<_>>()
    );
    assert!(
        second.poll(Duration::from_millis(200)).await?.is_empty(),
        "nothing repeated"
    );
    second.close().await?;
    Ok(())
}

/// C6 in general: with a committed offset the policy is irrelevant; a committed offset out
/// of range counts as none; with policy `None` the error names the partition.
#[tokio::test]
async fn c6_reset_policy_applies_only_without_a_valid_committed_offset() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("first");
    let g = group(&env, "c6general");
    env.create_topic(&topic, 1).await?;
    seed(&env, &topic, Some(0), 100).await?;
    let t0 = tp(&topic, 0);
    let start = |reset: OffsetReset, gid: String| {
        let b = builder(&env)
            .group_id(gid)
            .auto_offset_reset(reset)
            .enable_auto_commit(false);
        let t = tp(&topic, 0);
        async move {
            let c = b.build().await?;
            c.assign(&[t])?;
            Ok::<_, ClientError>(c)
        }
    };
    // Commit 30 as a simple consumer.
    let setter = start(OffsetReset::None, g.clone()).await?;
    setter
        .commit_offsets(&BTreeMap::from([(t0.clone(), 30)]))
        .await?;
    for reset in [
        OffsetReset::Earliest,
        OffsetReset::Latest,
        OffsetReset::None,
    ] {
        let c = start(reset, g.clone()).await?;
        assert_eq!(c.position(&t0).await?, 30, "{reset:?}");
        assert_eq!(consume_n(&c, 1).await?[0].offset, 30, "{reset:?}");
        c.close().await?;
    }
    // No committed offset and no policy: an error naming the partition.
    let c = start(OffsetReset::None, group(&env, "c6none")).await?;
    match c.poll(Duration::from_millis(500)).await {
        Err(ClientError::NoOffset {
            topic: t,
            partition: 0,
        }) => assert_eq!(t, topic),
        other => return Err(format!("expected NoOffset, got {other:?}").into()),
    }
    c.close().await?;
    let Some(cluster) = env.embedded("c6_reset_policy (out of range part)") else {
        return Ok(());
    };
    // Committed 30, but records before 60 are deleted: the policy decides again.
    cluster.delete_records(&topic, 0, 60)?;
    let c = start(OffsetReset::Earliest, g.clone()).await?;
    assert_eq!(consume_n(&c, 1).await?[0].offset, 60);
    c.close().await?;
    let c = start(OffsetReset::Latest, g.clone()).await?;
    // Position 30 is resolved from the commit; the first fetch finds it out of range.
    let deadline = tokio::time::Instant::now() + WAIT;
    while c.position(&t0).await? != 100 {
        assert!(c.poll(Duration::from_millis(50)).await?.is_empty());
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reset to the log end"
        );
    }
    c.close().await?;
    let c = start(OffsetReset::None, g.clone()).await?;
    let err = loop {
        match c.poll(Duration::from_millis(200)).await {
            Err(e) => break e,
            Ok(v) => assert!(v.is_empty()),
        }
    };
    assert_eq!(
        err.code(),
        Some(mockafka::protocol::kafka_protocol::ResponseError::OffsetOutOfRange)
    );
    assert!(err.to_string().contains(&format!("{topic}-0")), "{err}");
    Ok(())
}

#[tokio::test]
async fn out_of_range_while_consuming_applies_the_reset_policy() -> TestResult {
    let env = Env::start(1).await?;
    let Some(cluster) = env.embedded("out_of_range_while_consuming") else {
        return Ok(());
    };
    let topic = env.topic("oor");
    env.create_topic(&topic, 1).await?;
    seed(&env, &topic, Some(0), 20).await?;
    let c = builder(&env)
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    let t0 = tp(&topic, 0);
    c.assign(std::slice::from_ref(&t0))?;
    assert_eq!(consume_n(&c, 20).await?.len(), 20);
    cluster.delete_records(&topic, 0, 20)?;
    seed_from(&env, &topic, Some(0), 20, 5).await?;
    cluster.delete_records(&topic, 0, 22)?;
    // Position 20 is now below the log start (22): reset to earliest.
    let got = consume_n(&c, 3).await?;
    assert_eq!(
        got.iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![22, 23, 24]
    );
    Ok(())
}

#[derive(Debug, Default)]
struct Recorded {
    events: Mutex<Vec<(&'static str, Vec<TopicPartition>)>>,
}

#[derive(Debug, Clone, Default)]
struct Listener(Arc<Recorded>);

impl RebalanceListener for Listener {
    fn on_partitions_assigned(&self, p: &[TopicPartition]) {
        self.0.events.lock().unwrap().push(("assigned", p.to_vec()));
    }
    fn on_partitions_revoked(&self, p: &[TopicPartition]) {
        self.0.events.lock().unwrap().push(("revoked", p.to_vec()));
    }
    fn on_partitions_lost(&self, p: &[TopicPartition]) {
        self.0.events.lock().unwrap().push(("lost", p.to_vec()));
    }
}

#[tokio::test]
async fn two_consumers_share_a_group_and_one_gets_everything_when_the_other_closes() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("shared");
    let g = group(&env, "shared");
    env.create_topic(&topic, 4).await?;
    seed(&env, &topic, None, 40).await?;
    let la = Listener::default();
    let a = builder(&env)
        .group_id(&g)
        .auto_offset_reset(OffsetReset::Earliest)
        .rebalance_listener(la.clone())
        .build()
        .await?;
    a.subscribe(&[topic.as_str()])?;
    a.wait_for_assignment(WAIT).await?;
    let b = builder(&env)
        .group_id(&g)
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    b.subscribe(&[topic.as_str()])?;
    b.wait_for_assignment(WAIT).await?;
    let mut seen: BTreeSet<String> = values(
        &poll_until(&a, "a rebalance to two members", |a| {
            a.assignment().len() == 2
        })
        .await?,
    )
    .into_iter()
    .collect();
    if let Some(cluster) = env.cluster.as_ref() {
        cluster.wait_group_stable(&g, 2, WAIT).await?;
    }
    let (sa, sb) = (a.assignment(), b.assignment());
    assert_eq!(sa.len() + sb.len(), 4);
    assert!(sa.is_disjoint(&sb));
    // Both read their own partitions only.
    let ra = consume_n(&a, 1).await?;
    assert!(ra.iter().all(|r| sa.contains(&tp(&r.topic, r.partition))));
    seen.extend(values(&ra));
    a.close().await?;
    seen.extend(values(
        &poll_until(&b, "every partition after the other member left", |b| {
            b.assignment().len() == 4
        })
        .await?,
    ));
    if let Some(cluster) = env.cluster.as_ref() {
        let v = cluster.wait_group_stable(&g, 1, WAIT).await?;
        assert_eq!(Some(v.members[0].member_id.clone()), b.member_id());
    }
    // Everything not committed by a is read by b: at least once, nothing lost.
    let deadline = tokio::time::Instant::now() + WAIT;
    while seen.len() < 40 && tokio::time::Instant::now() < deadline {
        seen.extend(values(&b.poll(Duration::from_millis(100)).await?));
    }
    assert_eq!(seen.len(), 40);
    let events = la.0.events.lock().unwrap().clone();
    assert_eq!(events.first().map(|e| e.0), Some("assigned"));
    assert!(events.iter().any(|e| e.0 == "revoked"), "{events:?}");
    b.close().await?;
    Ok(())
}

#[tokio::test]
async fn cooperative_sticky_members_keep_their_partitions_in_a_rebalance() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("coop");
    let g = group(&env, "coop");
    env.create_topic(&topic, 4).await?;
    let la = Listener::default();
    let coop = [AssignmentStrategy::CooperativeSticky];
    let a = builder(&env)
        .group_id(&g)
        .assignment_strategies(&coop)
        .rebalance_listener(la.clone())
        .build()
        .await?;
    a.subscribe(&[topic.as_str()])?;
    a.wait_for_assignment(WAIT).await?;
    poll_until(&a, "all four partitions", |a| a.assignment().len() == 4).await?;
    let b = builder(&env)
        .group_id(&g)
        .assignment_strategies(&coop)
        .build()
        .await?;
    b.subscribe(&[topic.as_str()])?;
    b.wait_for_assignment(WAIT).await?;
    poll_until(&a, "two partitions each", |a| {
        a.assignment().len() == 2 && b.assignment().len() == 2
    })
    .await?;
    assert!(a.assignment().is_disjoint(&b.assignment()));
    if let Some(cluster) = env.cluster.as_ref() {
        let v = cluster.wait_group_stable(&g, 2, WAIT).await?;
        assert_eq!(v.protocol_name.as_deref(), Some("cooperative-sticky"));
    }
    // a never revoked what it kept: its only revocation is the two partitions it gave up.
    let events = la.0.events.lock().unwrap().clone();
    let revoked: Vec<TopicPartition> = events
        .iter()
        .filter(|e| e.0 == "revoked")
        .flat_map(|e| e.1.clone())
        .collect();
    assert_eq!(revoked.len(), 2, "{events:?}");
    assert!(revoked.iter().all(|tp| b.assignment().contains(tp)));
    a.close().await?;
    b.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_static_member_gets_its_partitions_back_without_a_rebalance() -> TestResult {
    let env = Env::start(3).await?;
    let Some(cluster) = env.embedded("static membership") else {
        return Ok(());
    };
    let topic = env.topic("static");
    let g = group(&env, "static");
    env.create_topic(&topic, 2).await?;
    let make = || {
        builder(&env)
            .group_id(&g)
            .group_instance_id("instance-1")
            .build()
    };
    let a = make().await?;
    a.subscribe(&[topic.as_str()])?;
    let first = a.wait_for_assignment(WAIT).await?;
    let before = cluster.wait_group_stable(&g, 1, WAIT).await?;
    a.close().await?;
    // A static member does not leave on close.
    let after_close = cluster.group(&g).ok_or("group gone")?;
    assert_eq!(after_close.members.len(), 1);
    let b = make().await?;
    b.subscribe(&[topic.as_str()])?;
    assert_eq!(b.wait_for_assignment(WAIT).await?, first);
    let v = cluster.wait_group_stable(&g, 1, WAIT).await?;
    assert_eq!(v.generation, before.generation, "no rebalance");
    assert_eq!(
        v.members[0].group_instance_id.as_deref(),
        Some("instance-1")
    );
    b.close().await?;
    Ok(())
}

#[tokio::test]
async fn consumption_survives_coordinator_and_leader_moves_and_broker_loss() -> TestResult {
    let env = Env::start(3).await?;
    let Some(cluster) = env.embedded("coordinator and leader moves") else {
        return Ok(());
    };
    let topic = env.topic("moves");
    let g = group(&env, "moves");
    env.create_topic(&topic, 3).await?;
    seed(&env, &topic, None, 30).await?;
    let c = builder(&env)
        .group_id(&g)
        .auto_offset_reset(OffsetReset::Earliest)
        .enable_auto_commit(false)
        .build()
        .await?;
    c.subscribe(&[topic.as_str()])?;
    let mut seen: Vec<String> = values(&consume_n(&c, 30).await?);
    c.commit().await?;
    let generation = cluster.wait_group_stable(&g, 1, WAIT).await?.generation;

    // The coordinator moves: commits and heartbeats find the new one.
    let old = cluster.group_coordinator(&g);
    let new = BrokerId((old.0 + 1) % 3);
    cluster.move_group_coordinator(&g, new)?;
    seed_from(&env, &topic, None, 30, 15).await?;
    seen.extend(values(&consume_n(&c, 15).await?));
    c.commit().await?;
    assert_eq!(cluster.group_coordinator(&g), new);
    let total: i64 = cluster
        .committed_offsets(&g)
        .iter()
        .map(|(_, _, o)| o.offset)
        .sum();
    assert_eq!(total, 45);

    // Every partition's leader moves.
    for p in 0..3 {
        let leader = cluster.partition(&topic, p)?.leader.ok_or("no leader")?;
        cluster.move_leader(&topic, p, BrokerId((leader.0 + 1) % 3))?;
    }
    seed_from(&env, &topic, None, 45, 15).await?;
    seen.extend(values(&consume_n(&c, 15).await?));

    // A broker stops: its partitions fail over and the consumer follows.
    cluster.stop_broker(BrokerId(1)).await?;
    seed_from(&env, &topic, None, 60, 15).await?;
    seen.extend(values(&consume_n(&c, 15).await?));
    c.commit().await?;

    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 75, "every record once");
    assert_eq!(seen.len(), 75, "no record twice");
    if cluster.group_coordinator(&g) != BrokerId(1) {
        assert_eq!(cluster.group(&g).map(|v| v.generation), Some(generation));
    }
    c.close().await?;
    Ok(())
}

#[tokio::test]
async fn offsets_api_seek_pause_times_and_async_commit() -> TestResult {
    let env = Env::start(1).await?;
    let topic = env.topic("offsets");
    let g = group(&env, "offsets");
    env.create_topic(&topic, 2).await?;
    seed(&env, &topic, Some(0), 10).await?;
    seed_from(&env, &topic, Some(1), 10, 4).await?;
    let (t0, t1) = (tp(&topic, 0), tp(&topic, 1));
    let c = builder(&env)
        .group_id(&g)
        .auto_offset_reset(OffsetReset::Earliest)
        .enable_auto_commit(false)
        .build()
        .await?;
    c.assign(&[t0.clone(), t1.clone()])?;
    let both = [t0.clone(), t1.clone()];
    assert_eq!(
        c.beginning_offsets(&both).await?,
        BTreeMap::from([(t0.clone(), 0), (t1.clone(), 0)])
    );
    assert_eq!(
        c.end_offsets(&both).await?,
        BTreeMap::from([(t0.clone(), 10), (t1.clone(), 4)])
    );
    let far = BTreeMap::from([(t0.clone(), i64::MAX / 2)]);
    assert_eq!(c.offsets_for_times(&far).await?[&t0], None);
    let zero = BTreeMap::from([(t0.clone(), 0)]);
    assert_eq!(
        c.offsets_for_times(&zero).await?[&t0].map(|(o, _)| o),
        Some(0)
    );

    c.pause(std::slice::from_ref(&t1));
    assert_eq!(c.paused(), BTreeSet::from([t1.clone()]));
    let got = consume_n(&c, 10).await?;
    assert!(got.iter().all(|r| r.partition == 0));
    assert!(
        c.poll(Duration::from_millis(200)).await?.is_empty(),
        "t1 is paused"
    );
    c.resume(std::slice::from_ref(&t1));
    let got = consume_n(&c, 4).await?;
    assert!(got.iter().all(|r| r.partition == 1));

    c.seek(&t0, 7)?;
    let got = consume_n(&c, 3).await?;
    assert_eq!(
        got.iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![7, 8, 9]
    );
    c.seek_to_beginning(std::slice::from_ref(&t0)).await?;
    assert_eq!(c.position(&t0).await?, 0);
    c.seek_to_end(std::slice::from_ref(&t0)).await?;
    assert_eq!(c.position(&t0).await?, 10);
    c.seek(&t0, 3)?;
    c.commit_async().await?;
    assert_eq!(c.committed(&t0).await?, Some(3));
    assert_eq!(c.committed(&t1).await?, Some(4));
    c.commit_offsets_async(&BTreeMap::from([(t1.clone(), 2)]))
        .await?;
    assert_eq!(c.committed(&t1).await?, Some(2));
    assert!(c.seek(&tp(&topic, 9), 0).is_err(), "not assigned");
    c.close().await?;
    assert!(matches!(
        c.poll(Duration::ZERO).await,
        Err(ClientError::Closed)
    ));
    Ok(())
}

#[tokio::test]
async fn auto_commit_on_close_and_the_record_stream() -> TestResult {
    use std::future::poll_fn;
    use std::pin::Pin;
    let env = Env::start(1).await?;
    let topic = env.topic("stream");
    let g = group(&env, "stream");
    env.create_topic(&topic, 1).await?;
    seed(&env, &topic, Some(0), 12).await?;
    let c = builder(&env)
        .group_id(&g)
        .auto_offset_reset(OffsetReset::Earliest)
        .consumer_timeout(Duration::from_millis(300))
        .build()
        .await?;
    c.subscribe(&[topic.as_str()])?;
    let mut stream = c.stream();
    let mut got = Vec::new();
    while let Some(r) =
        poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut stream), cx)).await
    {
        got.push(r?);
    }
    // The stream ended after the consumer timeout, with every record.
    assert_eq!(
        got.iter().map(|r| r.offset).collect::<Vec<_>>(),
        (0..12).collect::<Vec<_>>()
    );
    drop(stream);
    c.close().await?;
    if let Some(cluster) = env.cluster.as_ref() {
        assert_eq!(
            cluster.committed_offset(&g, &topic, 0).map(|o| o.offset),
            Some(12)
        );
    }
    let again = builder(&env).group_id(&g).build().await?;
    again.assign(&[tp(&topic, 0)])?;
    assert_eq!(again.committed(&tp(&topic, 0)).await?, Some(12));
    Ok(())
}

/// The ten-line oracle of where a consumer starts (shared/SEED_BEHAVIOURS.md, C6 4): the
/// committed offset if it lies within [log start, high watermark], else the policy.
fn oracle(log_start: i64, hwm: i64, committed: Option<i64>, reset: OffsetReset) -> Option<i64> {
    match committed {
        Some(c) if (log_start..=hwm).contains(&c) => Some(c),
        _ => match reset {
            OffsetReset::Earliest => Some(log_start),
            OffsetReset::Latest => Some(hwm),
            OffsetReset::None => None,
        },
    }
}

/// Where the consumer actually starts: the first record's offset, the position once it
/// settles at the log end, or `None` for an error.
async fn observed_start(
    c: &Consumer,
    t0: &TopicPartition,
    hwm: i64,
    expected: Option<i64>,
) -> Result<Option<i64>, Box<dyn std::error::Error>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        match c.poll(Duration::from_millis(20)).await {
            Err(ClientError::NoOffset { .. }) => return Ok(None),
            Err(e) if e.code().is_some() => return Ok(None),
            Err(e) => return Err(e.into()),
            Ok(recs) if !recs.is_empty() => return Ok(Some(recs[0].offset)),
            Ok(_) => {
                let pos = c.position(t0).await;
                if let (Ok(p), Some(e)) = (&pos, expected) {
                    if *p == hwm && e == hwm {
                        return Ok(Some(*p));
                    }
                }
            }
        }
    }
    Err("the start position never settled".into())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 24, ..Default::default() })]
    #[test]
    fn c6_start_position_matches_the_model(
        len in 0i64..8,
        deleted in 0i64..8,
        committed in proptest::option::of(0i64..12),
        reset in proptest::sample::select(vec![OffsetReset::Earliest, OffsetReset::Latest, OffsetReset::None]),
    ) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let log_start = deleted.min(len);
        let result: Result<(Option<i64>, Option<i64>), String> = rt.block_on(async {
            let env = Env::start(1).await.map_err(|e| e.to_string())?;
            let Some(cluster) = env.cluster.as_ref() else {
                return Ok((None, None));
            };
            let topic = env.topic("model");
            env.create_topic(&topic, 1).await.map_err(|e| e.to_string())?;
            seed(&env, &topic, Some(0), usize::try_from(len).unwrap_or(0)).await.map_err(|e| e.to_string())?;
            if log_start > 0 {
                cluster.delete_records(&topic, 0, log_start).map_err(|e| e.to_string())?;
            }
            let t0 = tp(&topic, 0);
            let b = builder(&env).group_id("model").enable_auto_commit(false);
            if let Some(c) = committed {
                let setter = builder(&env).group_id("model").build().await.map_err(|e| e.to_string())?;
                setter.assign(std::slice::from_ref(&t0)).map_err(|e| e.to_string())?;
                setter.commit_offsets(&BTreeMap::from([(t0.clone(), c)])).await.map_err(|e| e.to_string())?;
                setter.close().await.map_err(|e| e.to_string())?;
            }
            let c = b.auto_offset_reset(reset).build().await.map_err(|e| e.to_string())?;
            c.assign(std::slice::from_ref(&t0)).map_err(|e| e.to_string())?;
            let want = oracle(log_start, len, committed, reset);
            let got = observed_start(&c, &t0, len, want).await.map_err(|e| e.to_string())?;
            c.close().await.map_err(|e| e.to_string())?;
            Ok((want, got))
        });
        let (want, got) = result.map_err(proptest::test_runner::TestCaseError::fail)?;
        proptest::prop_assert_eq!(want, got, "log [{}, {}), committed {:?}, {:?}", log_start, len, committed, reset);
    }
}

#[tokio::test]
async fn an_expired_member_loses_its_partitions_and_rejoins() -> TestResult {
    let env = Env::start(1).await?;
    if env
        .embedded("expired member (needs a 1 ms minimum session)")
        .is_none()
    {
        return Ok(());
    }
    let topic = env.topic("expiry");
    env.create_topic(&topic, 2).await?;
    let l = Listener::default();
    // The coordinator expires the member long before its first heartbeat.
    let c = Consumer::builder()
        .bootstrap_servers(env.bootstrap.split(','))
        .group_id(group(&env, "expiry"))
        .session_timeout(Duration::from_millis(50))
        .heartbeat_interval(Duration::from_millis(500))
        .rebalance_listener(l.clone())
        .build()
        .await?;
    c.subscribe(&[topic.as_str()])?;
    c.wait_for_assignment(WAIT).await?;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let events = l.0.events.lock().unwrap().clone();
        let lost = events.iter().position(|e| e.0 == "lost");
        if let Some(i) = lost {
            assert_eq!(events[i].1.len(), 2, "every partition is lost: {events:?}");
            if events[i..].iter().any(|e| e.0 == "assigned") {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no loss and rejoin: {events:?}"
        );
        let _ = c.poll(Duration::from_millis(50)).await?;
    }
    c.close().await?;
    Ok(())
}

#[tokio::test]
async fn unsubscribe_leaves_the_group_and_allows_manual_assignment() -> TestResult {
    let env = Env::start(1).await?;
    let topic = env.topic("unsub");
    let g = group(&env, "unsub");
    env.create_topic(&topic, 2).await?;
    seed(&env, &topic, Some(0), 5).await?;
    let c = builder(&env)
        .group_id(&g)
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    c.subscribe(&[topic.as_str()])?;
    assert_eq!(c.wait_for_assignment(WAIT).await?.len(), 2);
    assert_eq!(consume_n(&c, 5).await?.len(), 5);
    assert!(
        c.assign(&[tp(&topic, 0)]).is_err(),
        "assign while subscribed"
    );
    c.unsubscribe();
    assert!(
        c.assignment().is_empty(),
        "unsubscribe drops the partitions at once"
    );
    // A manual assignment right away is kept, whatever the background leave does.
    c.assign(&[tp(&topic, 1)])?;
    if let Some(cluster) = env.cluster.as_ref() {
        cluster
            .wait_for_group(&g, WAIT, |v| v.state == GroupState::Empty)
            .await?;
        // The leave committed what the member had consumed, with its generation.
        cluster.wait_committed(&g, &topic, 0, 5, WAIT).await?;
    }
    assert_eq!(c.committed(&tp(&topic, 0)).await?, Some(5));
    assert_eq!(c.assignment(), BTreeSet::from([tp(&topic, 1)]));
    assert!(
        c.subscribe(&[topic.as_str()]).is_err(),
        "subscribe while assigned"
    );
    c.close().await?;
    Ok(())
}

#[tokio::test]
async fn auto_commit_runs_on_its_interval() -> TestResult {
    let env = Env::start(1).await?;
    let Some(cluster) = env.embedded("auto commit interval (waits on the cluster)") else {
        return Ok(());
    };
    let topic = env.topic("autocommit");
    let g = group(&env, "autocommit");
    env.create_topic(&topic, 1).await?;
    seed(&env, &topic, Some(0), 10).await?;
    let c = builder(&env)
        .group_id(&g)
        .auto_offset_reset(OffsetReset::Earliest)
        .auto_commit_interval(Duration::from_millis(100))
        .build()
        .await?;
    c.subscribe(&[topic.as_str()])?;
    assert_eq!(consume_n(&c, 10).await?.len(), 10);
    // No explicit commit and no close: the background task commits the position.
    let committed = cluster.wait_committed(&g, &topic, 0, 10, WAIT).await?;
    assert_eq!(committed.offset, 10);
    c.close().await?;
    Ok(())
}

#[tokio::test]
async fn the_coordinators_broker_stops_and_commits_move_to_the_new_one() -> TestResult {
    let env = Env::start(3).await?;
    let Some(cluster) = env.embedded("coordinator broker stop") else {
        return Ok(());
    };
    let topic = env.topic("coordstop");
    let g = group(&env, "coordstop");
    env.create_topic(&topic, 1).await?;
    seed(&env, &topic, Some(0), 20).await?;
    let c = builder(&env)
        .group_id(&g)
        .auto_offset_reset(OffsetReset::Earliest)
        .enable_auto_commit(false)
        .build()
        .await?;
    let t0 = tp(&topic, 0);
    c.subscribe(&[topic.as_str()])?;
    for _ in 0..10 {
        c.recv().await?;
    }
    c.commit().await?;
    let old = cluster.group_coordinator(&g);
    cluster.stop_broker(old).await?;
    assert_eq!(
        c.committed(&t0).await?,
        Some(10),
        "committed offsets survive"
    );
    let mut rest = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while rest.len() < 10 && tokio::time::Instant::now() < deadline {
        rest.extend(
            c.poll(Duration::from_millis(100))
                .await?
                .into_iter()
                .map(|r| r.offset),
        );
    }
    assert_eq!(rest, (10..20).collect::<Vec<_>>());
    c.commit().await?;
    assert_ne!(cluster.group_coordinator(&g), old);
    assert_eq!(
        cluster.committed_offset(&g, &topic, 0).map(|o| o.offset),
        Some(20)
    );
    c.close().await?;
    Ok(())
}

#[tokio::test]
async fn records_report_create_time_or_log_append_time() -> TestResult {
    let env = Env::start(1).await?;
    let Some(cluster) = env.embedded("log append time (topic config at creation)") else {
        return Ok(());
    };
    cluster.create_topic(
        mockafka::cluster::TopicSpec::new("appended", 1)
            .config("message.timestamp.type", "LogAppendTime"),
    )?;
    env.create_topic("created", 1).await?;
    let p = Producer::builder()
        .bootstrap_servers(env.bootstrap.split(','))
        .build()
        .await?;
    for t in ["appended", "created"] {
        let r = ProducerRecord::new(t, Bytes::from_static(b"x")).with_timestamp(1000);
        p.send(r).await?.get(WAIT).await?;
    }
    let c = builder(&env)
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    c.assign(&[tp("appended", 0), tp("created", 0)])?;
    let got = consume_n(&c, 2).await?;
    let appended = got
        .iter()
        .find(|r| r.topic == "appended")
        .ok_or("missing")?;
    let created = got.iter().find(|r| r.topic == "created").ok_or("missing")?;
    assert_eq!(appended.timestamp_type, TimestampType::LogAppendTime);
    assert!(appended.timestamp > 1000, "the broker's append time");
    assert_eq!(
        appended.timestamp,
        cluster.records("appended", 0)?[0].timestamp
    );
    assert_eq!(created.timestamp_type, TimestampType::CreateTime);
    assert_eq!(created.timestamp, 1000);
    Ok(())
}

/// Values read by consumer tasks, and a wake-up for each batch.
#[derive(Default)]
struct Seen {
    values: Mutex<Vec<String>>,
    more: tokio::sync::Notify,
}

impl Seen {
    async fn wait_for(&self, n: usize) -> TestResult {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let more = self.more.notified();
            tokio::pin!(more);
            more.as_mut().enable();
            let have = self.values.lock().unwrap().len();
            if have >= n {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, more).await.is_err() {
                return Err(format!("only {have} of {n} records").into());
            }
        }
    }
}

/// Consumes in a task until told to stop, then closes.
fn spawn_reader(
    c: Consumer,
    seen: Arc<Seen>,
) -> (
    Arc<tokio::sync::Notify>,
    tokio::task::JoinHandle<Result<(), ClientError>>,
) {
    let stop = Arc::new(tokio::sync::Notify::new());
    let s = stop.clone();
    let task = tokio::spawn(async move {
        let stopped = s.notified();
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                r = c.poll(Duration::from_millis(50)) => {
                    let vals = values(&r?);
                    seen.values.lock().unwrap().extend(vals);
                    seen.more.notify_waiters();
                }
            }
        }
        c.close().await
    });
    (stop, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebalances_mid_stream_lose_and_repeat_nothing() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("midstream");
    let g = group(&env, "midstream");
    env.create_topic(&topic, 4).await?;
    let make = || {
        builder(&env)
            .group_id(&g)
            .auto_offset_reset(OffsetReset::Earliest)
            .build()
    };
    let seen = Arc::new(Seen::default());
    seed(&env, &topic, None, 100).await?;
    let a = make().await?;
    a.subscribe(&[topic.as_str()])?;
    let (stop_a, task_a) = spawn_reader(a, seen.clone());
    seen.wait_for(20).await?;
    let b = make().await?;
    b.subscribe(&[topic.as_str()])?;
    let (stop_b, task_b) = spawn_reader(b, seen.clone());
    seed_from(&env, &topic, None, 100, 100).await?;
    if let Some(cluster) = env.cluster.as_ref() {
        cluster.wait_group_stable(&g, 2, WAIT).await?;
    }
    seed_from(&env, &topic, None, 200, 100).await?;
    seen.wait_for(250).await?;
    stop_a.notify_one();
    task_a.await??;
    seed_from(&env, &topic, None, 300, 100).await?;
    seen.wait_for(400).await?;
    stop_b.notify_one();
    task_b.await??;
    let all = seen.values.lock().unwrap().clone();
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), 400, "nothing lost");
    assert_eq!(
        all.len(),
        400,
        "nothing repeated: commits happen as partitions are revoked"
    );
    Ok(())
}

/// A one-broker fake that answers Fetch with each of `payloads` in turn (the last one
/// repeats): just ApiVersions, Metadata (topic `t`, one partition), ListOffsets and Fetch.
async fn hostile_broker(payloads: Vec<(i16, Bytes)>) -> Result<String, Box<dyn std::error::Error>> {
    use kafka_protocol::messages::api_versions_response::ApiVersion;
    use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
    use kafka_protocol::messages::list_offsets_response::{
        ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
    };
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::*;
    use kafka_protocol::protocol::StrBytes;
    use mockafka::protocol::request::{decode_request, Request};
    use mockafka::protocol::response::encode_response;
    use mockafka::protocol::{frame, versions};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = i32::from(listener.local_addr()?.port());
    let payloads = Arc::new(Mutex::new(VecDeque::from(payloads)));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let payloads = payloads.clone();
            tokio::spawn(async move {
                let mut buf = bytes::BytesMut::new();
                loop {
                    let frame = loop {
                        match frame::split_frame(&mut buf, 1 << 26) {
                            Ok(Some(f)) => break f,
                            Ok(None) => {}
                            Err(_) => return,
                        }
                        match sock.read_buf(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                    };
                    let Ok(req) = decode_request(frame) else {
                        return;
                    };
                    let (v, id) = (req.version(), req.header.correlation_id);
                    let out = match req.body {
                        Request::ApiVersions(_) => {
                            let keys = versions::SERVED
                                .iter()
                                .map(|r| {
                                    ApiVersion::default()
                                        .with_api_key(r.key as i16)
                                        .with_min_version(r.min)
                                        .with_max_version(r.max)
                                })
                                .collect();
                            let resp = ApiVersionsResponse::default().with_api_keys(keys);
                            encode_response(ApiKey::ApiVersions, v, id, &resp)
                        }
                        Request::Metadata(_) => {
                            let resp = MetadataResponse::default()
                                .with_brokers(vec![MetadataResponseBroker::default()
                                    .with_node_id(0.into())
                                    .with_host(StrBytes::from_static_str("127.0.0.1"))
                                    .with_port(port)])
                                .with_topics(vec![MetadataResponseTopic::default()
                                    .with_name(Some(TopicName(StrBytes::from_static_str("t"))))
                                    .with_partitions(vec![MetadataResponsePartition::default()
                                        .with_leader_id(0.into())])]);
                            encode_response(ApiKey::Metadata, v, id, &resp)
                        }
                        Request::ListOffsets(_) => {
                            let resp = ListOffsetsResponse::default().with_topics(vec![
                                ListOffsetsTopicResponse::default()
                                    .with_name(TopicName(StrBytes::from_static_str("t")))
                                    .with_partitions(vec![
                                        ListOffsetsPartitionResponse::default().with_offset(0)
                                    ]),
                            ]);
                            encode_response(ApiKey::ListOffsets, v, id, &resp)
                        }
                        Request::Fetch(_) => {
                            let (code, records) = {
                                let mut p = payloads.lock().unwrap();
                                if p.len() > 1 {
                                    p.pop_front().unwrap_or_default()
                                } else {
                                    p.front().cloned().unwrap_or_default()
                                }
                            };
                            let resp = FetchResponse::default().with_responses(vec![
                                FetchableTopicResponse::default()
                                    .with_topic(TopicName(StrBytes::from_static_str("t")))
                                    .with_partitions(vec![PartitionData::default()
                                        .with_error_code(code)
                                        .with_high_watermark(1)
                                        .with_records(Some(records))]),
                            ]);
                            encode_response(ApiKey::Fetch, v, id, &resp)
                        }
                        _ => return,
                    };
                    let Ok(out) = out else { return };
                    if sock.write_all(&out).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(format!("127.0.0.1:{port}"))
}

#[tokio::test]
async fn hostile_fetch_responses_are_errors_never_panics() -> TestResult {
    use mockafka::protocol::batch::{Record, RecordBatch};
    let valid = {
        let mut out = bytes::BytesMut::new();
        RecordBatch::new(vec![Record {
            offset: 0,
            timestamp: 5,
            value: Some(Bytes::from_static(b"ok")),
            ..Record::default()
        }])
        .encode(&mut out)?;
        out.freeze()
    };
    let mut bad_crc = valid.to_vec();
    if let Some(last) = bad_crc.last_mut() {
        *last ^= 0xff;
    }
    let mut huge_length = valid.to_vec();
    huge_length[8..12].copy_from_slice(&i32::MAX.to_be_bytes());
    let mut negative_length = valid.to_vec();
    negative_length[8..12].copy_from_slice(&(-5i32).to_be_bytes());
    let mut bad_magic = valid.to_vec();
    bad_magic[16] = 7;
    let mut garbage_after = valid.to_vec();
    garbage_after.extend_from_slice(&[0xde; 80]);
    let payloads = vec![
        (
            0,
            Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 2, 3]),
        ),
        (0, Bytes::from(vec![0xffu8; 200])),
        (0, Bytes::from(bad_crc)),
        (0, Bytes::from(huge_length)),
        (0, Bytes::from(negative_length)),
        (0, Bytes::from(bad_magic)),
        (9999, valid.clone()),
        (0, Bytes::from(garbage_after)),
    ];
    let bootstrap = hostile_broker(payloads).await?;
    let c = Consumer::builder()
        .bootstrap_servers([bootstrap.as_str()])
        .retry_backoff(Duration::from_millis(5))
        .build()
        .await?;
    c.assign(&[tp("t", 0)])?;
    let mut errors = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    let record = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no valid record; {} errors, first {:?}",
            errors.len(),
            errors.iter().take(8).collect::<Vec<_>>()
        );
        match c.poll(Duration::from_millis(100)).await {
            Ok(recs) if !recs.is_empty() => break recs,
            Ok(_) => {}
            Err(e) => errors.push(e.to_string()),
        }
    };
    // The valid batch followed by garbage is read; everything before it was refused.
    assert_eq!(record.len(), 1);
    assert_eq!(
        (record[0].offset, record[0].value.as_deref()),
        (0, Some(&b"ok"[..]))
    );
    assert!(
        errors.len() >= 3,
        "corrupt batches are reported: {errors:?}"
    );
    // The garbage after the valid batch is reported on the next fetch.
    let err = c.poll(Duration::from_millis(500)).await;
    assert!(matches!(err, Err(ClientError::Protocol { .. })), "{err:?}");
    assert_eq!(c.position(&tp("t", 0)).await?, 1);
    c.close().await?;
    Ok(())
}
