use std::time::Duration;

use bytes::Bytes;
use mockafka_client::partitioner::partition_for_key;
use mockafka_client::serializer::StringSerializer;
use mockafka_client::{Acks, ClientError, Compression, Producer, ProducerRecord};

use crate::fake::{b, Fake};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn rec(topic: &str, v: String) -> ProducerRecord<Bytes, Bytes> {
    ProducerRecord::new(topic, Bytes::from(v))
}

#[tokio::test]
async fn records_are_acknowledged_in_order_with_keys_headers_and_every_codec() -> TestResult {
    for codec in [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let fake = Fake::start(3).await;
        let p = Producer::builder()
            .bootstrap_servers([fake.addr.as_str()])
            .compression(codec)
            .build()
            .await?;
        let mut acks = Vec::new();
        for i in 0..50 {
            let r = rec("t", format!("v{i}"))
                .with_key(Bytes::from(format!("k{}", i % 5)))
                .with_header("h", Some(b("1")))
                .with_header("h", None);
            acks.push((i, p.send(r).await?));
        }
        p.flush().await?;
        let mut next = [0i64; 3];
        for (i, a) in acks {
            let m = a.get(Duration::from_secs(10)).await?;
            let key = format!("k{}", i % 5);
            assert_eq!(m.partition, partition_for_key(key.as_bytes(), 3));
            let slot = usize::try_from(m.partition)?;
            assert_eq!(
                m.offset, next[slot],
                "offsets follow send order per partition"
            );
            next[slot] += 1;
        }
        for part in 0..3 {
            let recs = fake.records("t", part);
            for r in &recs {
                assert_eq!(r.headers.len(), 2);
                assert_eq!(r.headers[0].value.as_deref(), Some(&b"1"[..]));
                assert_eq!(r.headers[1].value, None);
                let k = std::str::from_utf8(r.key.as_deref().unwrap())?;
                assert_eq!(partition_for_key(k.as_bytes(), 3), part);
            }
        }
        let total: usize = (0..3).map(|p| fake.records("t", p).len()).sum();
        assert_eq!(total, 50);
        let st = fake.state.lock().unwrap();
        assert!(st.codecs.iter().all(|c| *c == codec.id()), "{codec:?}");
    }
    Ok(())
}

#[tokio::test]
async fn a_lost_response_is_retried_without_duplicates() -> TestResult {
    let fake = Fake::start(1).await;
    fake.state.lock().unwrap().faults.drop_after_append = 3;
    let p = Producer::builder()
        .bootstrap_servers([fake.addr.as_str()])
        .batch_size(200)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .build()
        .await?;
    let mut acks = Vec::new();
    for i in 0..200 {
        acks.push(p.send(rec("t", format!("{i}"))).await?);
    }
    let mut offsets = Vec::new();
    for a in acks {
        offsets.push(a.get(Duration::from_secs(20)).await?.offset);
    }
    assert_eq!(offsets, (0..200).collect::<Vec<i64>>());
    let stored: Vec<String> = fake
        .records("t", 0)
        .iter()
        .map(|r| String::from_utf8(r.value.as_deref().unwrap().to_vec()).unwrap())
        .collect();
    let want: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    assert_eq!(stored, want, "each record stored once, in send order");
    Ok(())
}

#[tokio::test]
async fn without_idempotence_a_lost_response_duplicates_as_in_kafka() -> TestResult {
    let fake = Fake::start(1).await;
    fake.state.lock().unwrap().faults.drop_after_append = 1;
    let p = Producer::builder()
        .bootstrap_servers([fake.addr.as_str()])
        .enable_idempotence(false)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .build()
        .await?;
    let a = p.send(rec("t", "x".into())).await?;
    let m = a.get(Duration::from_secs(10)).await?;
    assert_eq!(
        fake.records("t", 0).len(),
        2,
        "at-least-once without idempotence"
    );
    assert_eq!(m.offset, 1);
    Ok(())
}

#[tokio::test]
async fn retriable_errors_are_retried_and_fatal_ones_name_the_partition() -> TestResult {
    let fake = Fake::start(2).await;
    // NOT_LEADER_OR_FOLLOWER three times, then success.
    fake.state.lock().unwrap().faults.produce_error = Some((6, 3));
    let p = Producer::builder()
        .bootstrap_servers([fake.addr.as_str()])
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .build()
        .await?;
    let m = p
        .send(rec("t", "x".into()).with_partition(1))
        .await?
        .get(Duration::from_secs(10))
        .await?;
    assert_eq!((m.partition, m.offset), (1, 0));
    // MESSAGE_TOO_LARGE: not retriable, reported per record.
    fake.state.lock().unwrap().faults.produce_error = Some((10, 1));
    let e = p
        .send(rec("t", "y".into()).with_partition(1))
        .await?
        .get(Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(!e.is_retriable());
    assert!(
        matches!(
            &e,
            ClientError::Broker { target: mockafka_client::Target::Partition { topic, partition: 1 }, .. } if topic == "t"
        ),
        "{e:?}"
    );
    // The producer recovers (a new epoch renumbers sequences) and keeps going.
    let m = p
        .send(rec("t", "z".into()).with_partition(1))
        .await?
        .get(Duration::from_secs(10))
        .await?;
    assert_eq!(m.offset, 1);
    Ok(())
}

#[tokio::test]
async fn acks_zero_gets_no_offsets_but_stores_records() -> TestResult {
    let fake = Fake::start(1).await;
    let p = Producer::builder()
        .bootstrap_servers([fake.addr.as_str()])
        .acks(Acks::None)
        .build()
        .await?;
    let m = p.send(rec("t", "x".into())).await?.await?;
    assert_eq!(m.offset, -1);
    p.close().await?;
    // The fake has the record once the request has been read; wait for it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while fake.records("t", 0).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "record never arrived"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

#[tokio::test]
async fn idempotence_with_acks_one_is_a_config_error() {
    let e = Producer::builder()
        .bootstrap_servers(["127.0.0.1:1"])
        .acks(Acks::Leader)
        .enable_idempotence(true)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Config(_)));
}

#[tokio::test]
async fn bootstrap_skips_dead_servers_and_fails_when_all_are_dead() -> TestResult {
    let fake = Fake::start(1).await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.to_string()
    };
    let p = Producer::builder()
        .bootstrap_servers([dead.as_str(), fake.addr.as_str()])
        .build()
        .await?;
    p.send(rec("t", "x".into())).await?.await?;
    let e = Producer::builder()
        .bootstrap_servers([dead.as_str()])
        .build()
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::NoBrokerAvailable { .. }), "{e:?}");
    Ok(())
}

#[tokio::test]
async fn a_full_buffer_applies_back_pressure_until_max_block() -> TestResult {
    let fake = Fake::start(1).await;
    // The broker keeps answering a retriable error, so nothing leaves the buffer.
    fake.state.lock().unwrap().faults.produce_error = Some((7, usize::MAX));
    let p = Producer::builder()
        .bootstrap_servers([fake.addr.as_str()])
        .buffer_memory(1000)
        .max_block(Duration::from_millis(200))
        .delivery_timeout(Duration::from_secs(30))
        .build()
        .await?;
    let mut accepted = 0;
    let err = loop {
        match p.send(rec("t", "x".repeat(100))).await {
            Ok(_) => accepted += 1,
            Err(e) => break e,
        }
        assert!(accepted < 100, "back-pressure never applied");
    };
    assert!(matches!(err, ClientError::Timeout { .. }), "{err:?}");
    assert!(
        accepted >= 5,
        "about 1000 / 121 records fit, got {accepted}"
    );
    Ok(())
}

#[tokio::test]
async fn sends_from_many_tasks_and_close_semantics() -> TestResult {
    let fake = Fake::start(4).await;
    let p = Producer::builder()
        .bootstrap_servers([fake.addr.as_str()])
        .key_serializer(StringSerializer)
        .value_serializer(StringSerializer)
        .build()
        .await?;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            for i in 0..100 {
                let r = ProducerRecord::new("t", format!("{t}-{i}")).with_key(format!("task{t}"));
                acks.push(p.send(r).await.unwrap());
            }
            let mut last = -1;
            for a in acks {
                let m = a.await.unwrap();
                assert!(m.offset > last, "one key's records stay in order");
                last = m.offset;
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let total: usize = (0..4).map(|p| fake.records("t", p).len()).sum();
    assert_eq!(total, 800);
    p.close().await?;
    let e = p
        .send(ProducerRecord::new("t", "late".to_owned()))
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Closed));
    Ok(())
}

#[tokio::test]
async fn dropping_the_producer_still_delivers_buffered_records() -> TestResult {
    let fake = Fake::start(1).await;
    let p = Producer::builder()
        .bootstrap_servers([fake.addr.as_str()])
        .linger(Duration::from_millis(50))
        .build()
        .await?;
    let ack = p.send(rec("t", "x".into())).await?;
    drop(p);
    let m = ack.get(Duration::from_secs(10)).await?;
    assert_eq!(m.offset, 0);
    Ok(())
}

#[tokio::test]
async fn blocking_wait_from_a_plain_thread() -> TestResult {
    let fake = Fake::start(1).await;
    let p = Producer::builder()
        .bootstrap_servers([fake.addr.as_str()])
        .build()
        .await?;
    let ack = p.send(rec("t", "x".into())).await?;
    let m = tokio::task::spawn_blocking(move || ack.wait(Duration::from_secs(60))).await??;
    assert_eq!(m.topic, "t");
    assert!(m.timestamp > 0);
    Ok(())
}

#[tokio::test]
async fn retriable_errors_give_up_at_the_delivery_timeout() -> TestResult {
    let fake = Fake::start(1).await;
    // REQUEST_TIMED_OUT forever.
    fake.state.lock().unwrap().faults.produce_error = Some((7, usize::MAX));
    let p = Producer::builder()
        .bootstrap_servers([fake.addr.as_str()])
        .retry_backoff(Duration::from_millis(5), Duration::from_millis(20))
        .delivery_timeout(Duration::from_millis(300))
        .build()
        .await?;
    let e = p
        .send(rec("t", "x".into()))
        .await?
        .get(Duration::from_secs(10))
        .await
        .unwrap_err();
    // Either the last broker error or the delivery timeout, never a success.
    assert!(
        matches!(e, ClientError::Timeout { .. } | ClientError::Broker { .. }),
        "{e:?}"
    );
    assert!(
        fake.state.lock().unwrap().produce_requests >= 2,
        "it was retried"
    );
    Ok(())
}

#[tokio::test]
async fn a_limited_retry_count_returns_the_broker_error() -> TestResult {
    let fake = Fake::start(1).await;
    fake.state.lock().unwrap().faults.produce_error = Some((6, usize::MAX));
    let p = Producer::builder()
        .bootstrap_servers([fake.addr.as_str()])
        .retries(2)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .await?;
    let e = p
        .send(rec("t", "x".into()))
        .await?
        .get(Duration::from_secs(10))
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        Some(kafka_protocol::error::ResponseError::NotLeaderOrFollower)
    );
    assert_eq!(
        fake.state.lock().unwrap().produce_requests,
        3,
        "one send + two retries"
    );
    Ok(())
}
