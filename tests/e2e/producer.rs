//! P1-P7 (shared/SEED_BEHAVIOURS.md) with the mockafka producer, checked through the
//! cluster's inspection API.

use std::time::Duration;

use bytes::Bytes;
use mockafka::client::partitioner::partition_for_key;
use mockafka::client::serializer::{JsonSerializer, MsgPackSerializer, StringSerializer};
use mockafka::client::{
    Acks, ClientError, Compression, Producer, ProducerBuilder, ProducerRecord, Target,
};
use mockafka::cluster::{Cluster, Compression as StoredCompression};
use mockafka::protocol::kafka_protocol::error::ResponseError;

use crate::{Env, TestResult, WAIT};

fn builder(env: &Env) -> ProducerBuilder {
    Producer::builder().bootstrap_servers(env.bootstrap.split(','))
}

fn raw(topic: &str, v: &'static [u8]) -> ProducerRecord<Bytes, Bytes> {
    ProducerRecord::new(topic, Bytes::from_static(v))
}

#[tokio::test]
async fn p1_raw_bytes_sent_asynchronously_are_stored() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("foobar");
    let p = builder(&env).build().await?;
    // send() returns at once; the record is delivered in the background.
    let ack = p.send(raw(&topic, b"some_message_bytes")).await?;
    let meta = ack.get(WAIT).await?;
    assert_eq!(meta.topic, topic);
    if let Some(recs) = env.records(&topic, meta.partition) {
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].value.as_deref(), Some(&b"some_message_bytes"[..]));
        assert_eq!(recs[0].key, None);
    }
    assert_eq!(env.end_offset(&topic, meta.partition).await?, 1);
    Ok(())
}

#[tokio::test]
async fn p2_blocking_get_returns_topic_partition_offset_timestamp() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("foobar");
    let p = builder(&env).build().await?;
    let before = now_ms();
    let first = p.send(raw(&topic, b"one")).await?.get(WAIT).await?;
    let ack = p.send(raw(&topic, b"another_message")).await?;
    // The tutorial's future.get(timeout=60), from a thread outside the runtime.
    let meta = tokio::task::spawn_blocking(move || ack.wait(Duration::from_secs(60))).await??;
    assert_eq!(meta.topic, topic);
    assert_eq!(
        meta.partition, first.partition,
        "sticky partitioning for unkeyed records"
    );
    assert_eq!(meta.offset, first.offset + 1);
    assert!(meta.timestamp >= before && meta.timestamp <= now_ms() + 1);
    if let Some(recs) = env.records(&topic, meta.partition) {
        let stored = recs
            .iter()
            .find(|r| r.offset == meta.offset)
            .ok_or("missing")?;
        assert_eq!(stored.value.as_deref(), Some(&b"another_message"[..]));
        assert_eq!(stored.timestamp, meta.timestamp);
    }
    Ok(())
}

#[tokio::test]
async fn p3_flush_waits_for_every_buffered_record() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("flushed");
    env.create_topic(&topic, 3).await?;
    // A long linger: only flush can make these go out promptly.
    let p = builder(&env)
        .linger(Duration::from_secs(600))
        .build()
        .await?;
    let mut acks = Vec::new();
    for i in 0..300 {
        let r = ProducerRecord::new(topic.clone(), Bytes::from(format!("r{i}")))
            .with_key(Bytes::from(format!("k{i}")));
        acks.push(p.send(r).await?);
    }
    tokio::time::timeout(WAIT, p.flush()).await??;
    for a in &acks {
        assert!(a.try_result().ok_or("flush returned early")?.is_ok());
    }
    let mut total = 0;
    for part in 0..3 {
        total += env.end_offset(&topic, part).await?;
    }
    assert_eq!(total, 300);
    p.close().await?;
    Ok(())
}

#[tokio::test]
async fn p4_json_values_through_the_value_serializer() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("json");
    let p = builder(&env)
        .value_serializer(JsonSerializer::<serde_json::Value>::new())
        .build()
        .await?;
    let meta = p
        .send(ProducerRecord::new(
            topic.clone(),
            serde_json::json!({"foo": "bar"}),
        ))
        .await?
        .get(WAIT)
        .await?;
    if let Some(recs) = env.records(&topic, meta.partition) {
        let v: serde_json::Value = serde_json::from_slice(recs[0].value.as_deref().ok_or("null")?)?;
        assert_eq!(v, serde_json::json!({"foo": "bar"}));
        // Byte for byte what Python's json.dumps(..., separators=(',', ':')) writes.
        assert_eq!(recs[0].value.as_deref(), Some(&br#"{"foo":"bar"}"#[..]));
    }
    Ok(())
}

#[tokio::test]
async fn msgpack_values_decode_as_the_tutorial_consumer_expects() -> TestResult {
    #[derive(serde::Serialize)]
    struct Event {
        key: &'static str,
    }
    let env = Env::start(1).await?;
    let topic = env.topic("msgpack");
    let p = builder(&env)
        .value_serializer(MsgPackSerializer::<Event>::new())
        .build()
        .await?;
    let meta = p
        .send(ProducerRecord::new(topic.clone(), Event { key: "value" }))
        .await?
        .get(WAIT)
        .await?;
    if let Some(recs) = env.records(&topic, meta.partition) {
        // msgpack.dumps({'key': 'value'}) in Python gives exactly these bytes.
        assert_eq!(recs[0].value.as_deref(), Some(&b"\x81\xa3key\xa5value"[..]));
    }
    Ok(())
}

#[tokio::test]
async fn p5_keys_through_the_key_serializer_land_on_the_java_partition() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("flipflap");
    env.create_topic(&topic, 3).await?;
    let p = builder(&env)
        .key_serializer(StringSerializer)
        .build()
        .await?;
    let meta = p
        .send(
            ProducerRecord::new(topic.clone(), Bytes::from_static(b"1234"))
                .with_key("ping".to_owned()),
        )
        .await?
        .get(WAIT)
        .await?;
    // kafka-python: murmur2(b'ping') = 1679575974; & 0x7fffffff % 3 = 0.
    assert_eq!(meta.partition, 0);
    assert_eq!(meta.partition, partition_for_key(b"ping", 3));
    for i in 0..60 {
        let key = format!("user-{i}");
        let m = p
            .send(
                ProducerRecord::new(topic.clone(), Bytes::from_static(b"v")).with_key(key.clone()),
            )
            .await?
            .get(WAIT)
            .await?;
        assert_eq!(m.partition, partition_for_key(key.as_bytes(), 3), "{key}");
    }
    if let Some(recs) = env.records(&topic, 0) {
        assert_eq!(recs[0].key.as_deref(), Some(&b"ping"[..]));
        assert_eq!(recs[0].value.as_deref(), Some(&b"1234"[..]));
    }
    // An explicit partition wins over the key.
    let m = p
        .send(
            ProducerRecord::new(topic.clone(), Bytes::from_static(b"x"))
                .with_key("ping".to_owned())
                .with_partition(2),
        )
        .await?
        .get(WAIT)
        .await?;
    assert_eq!(m.partition, 2);
    Ok(())
}

#[tokio::test]
async fn p6_every_codec_is_stored_compressed_and_decodes() -> TestResult {
    let env = Env::start(3).await?;
    let codecs = [
        (Compression::None, StoredCompression::None),
        (Compression::Gzip, StoredCompression::Gzip),
        (Compression::Snappy, StoredCompression::Snappy),
        (Compression::Lz4, StoredCompression::Lz4),
        (Compression::Zstd, StoredCompression::Zstd),
    ];
    for (codec, stored) in codecs {
        let topic = env.topic(&format!("codec-{}", codec.name()));
        let p = builder(&env).compression(codec).build().await?;
        let mut last = None;
        for i in 0..40 {
            let v = Bytes::from(format!("message {i} of a compressible text payload"));
            last = Some(p.send(ProducerRecord::new(topic.clone(), v)).await?);
        }
        p.flush().await?;
        let meta = last.ok_or("no record")?.get(WAIT).await?;
        if let Some(cluster) = &env.cluster {
            let batches = cluster.batches(&topic, meta.partition)?;
            assert!(!batches.is_empty());
            for b in &batches {
                assert_eq!(b.compression, Some(stored), "{codec:?}");
            }
            let recs = cluster.records(&topic, meta.partition)?;
            assert_eq!(recs.len(), 40);
            for (i, r) in recs.iter().enumerate() {
                let want = format!("message {i} of a compressible text payload");
                assert_eq!(r.value.as_deref(), Some(want.as_bytes()));
            }
        } else {
            assert_eq!(env.end_offset(&topic, meta.partition).await?, 40);
        }
    }
    Ok(())
}

#[tokio::test]
async fn p7_headers_are_stored_unchanged_in_order_with_duplicates() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("foobar");
    let p = builder(&env).build().await?;
    let r = raw(&topic, b"c29tZSB2YWx1ZQ==")
        .with_header("content-encoding", Some(Bytes::from_static(b"base64")))
        .with_header("trace", Some(Bytes::from_static(b"1")))
        .with_header("trace", Some(Bytes::from_static(b"2")))
        .with_header("empty", None);
    let meta = p.send(r).await?.get(WAIT).await?;
    if let Some(recs) = env.records(&topic, meta.partition) {
        let h = &recs[0].headers;
        let want: Vec<(String, Option<Bytes>)> = vec![
            (
                "content-encoding".into(),
                Some(Bytes::from_static(b"base64")),
            ),
            ("trace".into(), Some(Bytes::from_static(b"1"))),
            ("trace".into(), Some(Bytes::from_static(b"2"))),
            ("empty".into(), None),
        ];
        assert_eq!(h, &want);
    }
    Ok(())
}

#[tokio::test]
async fn unkeyed_records_stick_to_a_partition_then_move_on() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("sticky");
    env.create_topic(&topic, 3).await?;
    let p = builder(&env).batch_size(1000).build().await?;
    let mut acks = Vec::new();
    for _ in 0..300 {
        acks.push(p.send(raw(&topic, &[b'x'; 100])).await?);
    }
    let mut parts = Vec::new();
    for a in acks {
        parts.push(a.get(WAIT).await?.partition);
    }
    // About eight 121-byte records per 1000-byte batch go to one partition in a row.
    let runs = parts.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(
        runs >= 10,
        "records spread over partitions ({runs} switches)"
    );
    assert!(runs <= 300 / 4, "but stick in runs ({runs} switches)");
    Ok(())
}

#[tokio::test]
async fn acks_zero_and_one_deliver_and_idempotence_needs_all() -> TestResult {
    let env = Env::start(3).await?;
    let topic = env.topic("acks");
    let p0 = builder(&env).acks(Acks::None).build().await?;
    let m = p0.send(raw(&topic, b"a0")).await?.get(WAIT).await?;
    assert_eq!(m.offset, -1, "acks=0 never learns the offset");
    p0.close().await?;
    let p1 = builder(&env).acks(Acks::Leader).build().await?;
    let m = p1.send(raw(&topic, b"a1")).await?.get(WAIT).await?;
    assert!(m.offset >= 0);
    // The acks=0 record arrived too (it was sent before the acks=1 one on its own
    // connection; wait for it rather than assume).
    let deadline = tokio::time::Instant::now() + WAIT;
    while env.end_offset(&topic, m.partition).await? < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "acks=0 record never stored"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let e = builder(&env)
        .acks(Acks::Leader)
        .enable_idempotence(true)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Config(_)));
    Ok(())
}

#[tokio::test]
async fn idempotent_batches_carry_a_producer_id_and_sequences() -> TestResult {
    let env = Env::start(1).await?;
    let Some(cluster) = env.embedded("idempotent_batches_carry_a_producer_id_and_sequences") else {
        return Ok(());
    };
    let topic = "idem";
    let p = builder(&env).batch_size(500).build().await?;
    let mut last = None;
    for _ in 0..50 {
        last = Some(p.send(raw(topic, &[b'y'; 50])).await?);
    }
    p.flush().await?;
    last.ok_or("none")?.get(WAIT).await?;
    let batches = cluster.batches(topic, 0)?;
    assert!(batches.len() > 1);
    let mut next_seq = 0;
    for b in &batches {
        assert!(b.producer_id >= 0);
        assert_eq!(b.producer_id, batches[0].producer_id);
        assert_eq!(b.base_sequence, next_seq);
        next_seq += b.record_count;
    }
    assert_eq!(next_seq, 50);
    Ok(())
}

#[tokio::test]
async fn non_retriable_errors_are_returned_per_record_naming_the_partition() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(1)
        .message_max_bytes(2000)
        .start()
        .await?;
    let p = Producer::builder()
        .bootstrap_servers([cluster.bootstrap_servers()])
        .build()
        .await?;
    let big = p
        .send(ProducerRecord::new("limits", Bytes::from(vec![b'z'; 5000])))
        .await?;
    let small = p.send(raw("limits", b"fits")).await?;
    let e = big.get(WAIT).await.unwrap_err();
    assert!(!e.is_retriable(), "{e}");
    match &e {
        ClientError::Broker {
            target: Target::Partition { topic, partition },
            ..
        } => assert_eq!((topic.as_str(), *partition), ("limits", 0)),
        other => panic!("unexpected {other:?}"),
    }
    // The rejected record does not poison the ones behind it.
    let m = small.get(WAIT).await?;
    assert_eq!(m.offset, 0);
    assert_eq!(cluster.records("limits", 0)?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn bootstrap_works_with_brokers_down_and_many_tasks_send_at_once() -> TestResult {
    let env = Env::start(3).await?;
    let Some(cluster) = env.embedded("bootstrap_works_with_brokers_down") else {
        return Ok(());
    };
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.to_string()
    };
    let mut servers = vec![dead];
    servers.extend(cluster.bootstrap_servers().split(',').map(str::to_owned));
    let topic = "many";
    cluster.create_topic(mockafka::cluster::TopicSpec::new(topic, 3))?;
    let p = Producer::builder()
        .bootstrap_servers(&servers)
        .key_serializer(StringSerializer)
        .value_serializer(StringSerializer)
        .build()
        .await?;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            for i in 0..250 {
                let r = ProducerRecord::new(topic, format!("{t}:{i}")).with_key(format!("t{t}"));
                acks.push(p.send(r).await?);
            }
            let mut offsets = Vec::new();
            for a in acks {
                offsets.push(a.get(WAIT).await?.offset);
            }
            Ok::<_, ClientError>(offsets)
        }));
    }
    for t in tasks {
        let offsets = t.await??;
        assert!(
            offsets.windows(2).all(|w| w[0] < w[1]),
            "per-key order kept"
        );
    }
    let total: usize = (0..3)
        .map(|p| cluster.records(topic, p).map_or(0, |r| r.len()))
        .sum();
    assert_eq!(total, 2000);
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[tokio::test]
async fn invalid_and_missing_topics_fail_send_with_the_topic_named() -> TestResult {
    let cluster = Cluster::builder().brokers(1).start().await?;
    let p = Producer::builder()
        .bootstrap_servers([cluster.bootstrap_servers()])
        .max_block(Duration::from_millis(300))
        .build()
        .await?;
    let e = p.send(raw("bad topic!", b"x")).await.unwrap_err();
    assert_eq!(e.code(), Some(ResponseError::InvalidTopicException), "{e}");
    assert!(!e.is_retriable(), "{e}");
    assert!(e.to_string().contains("bad topic!"), "{e}");
    // A topic that does not exist and is not auto-created: send waits max_block.
    let cluster = Cluster::builder()
        .brokers(1)
        .auto_create_topics(false)
        .start()
        .await?;
    let p = Producer::builder()
        .bootstrap_servers([cluster.bootstrap_servers()])
        .max_block(Duration::from_millis(300))
        .build()
        .await?;
    let e = p.send(raw("absent", b"x")).await.unwrap_err();
    assert!(matches!(e, ClientError::Timeout { .. }), "{e:?}");
    assert!(e.to_string().contains("absent"), "{e}");
    Ok(())
}

#[tokio::test]
async fn a_serializer_error_fails_only_that_send() -> TestResult {
    use mockafka::client::serializer::FnSerializer;
    let env = Env::start(1).await?;
    let topic = env.topic("ser");
    let p = builder(&env)
        .value_serializer(FnSerializer::new(|_t: &str, v: i64| {
            if v < 0 {
                Err("negative values are not allowed".into())
            } else {
                Ok(Bytes::from(v.to_string()))
            }
        }))
        .build()
        .await?;
    let e = p
        .send(ProducerRecord::new(topic.clone(), -1))
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Serialization { .. }), "{e:?}");
    let m = p
        .send(ProducerRecord::new(topic.clone(), 7))
        .await?
        .get(WAIT)
        .await?;
    if let Some(recs) = env.records(&topic, m.partition) {
        assert_eq!(recs[0].value.as_deref(), Some(&b"7"[..]));
    }
    Ok(())
}

#[tokio::test]
async fn log_append_time_topics_report_the_broker_timestamp() -> TestResult {
    let env = Env::start(1).await?;
    let Some(cluster) = env.embedded("log_append_time_topics_report_the_broker_timestamp") else {
        return Ok(());
    };
    cluster.create_topic(
        mockafka::cluster::TopicSpec::new("appended", 1)
            .config("message.timestamp.type", "LogAppendTime"),
    )?;
    let p = builder(&env).build().await?;
    let before = now_ms();
    let m = p
        .send(raw("appended", b"x").with_timestamp(1000))
        .await?
        .get(WAIT)
        .await?;
    assert!(
        m.timestamp >= before,
        "broker time, not the create time 1000"
    );
    let created = p
        .send(raw("foobar", b"x").with_timestamp(1000))
        .await?
        .get(WAIT)
        .await?;
    assert_eq!(
        created.timestamp, 1000,
        "create time kept on CreateTime topics"
    );
    Ok(())
}
