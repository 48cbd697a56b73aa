//! The kafka-python tutorial of shared/SEED_BEHAVIOURS.md, step by step, in Rust: an
//! embedded three-broker cluster (like the tutorial's `host:9092-9094`), the mockafka
//! producer (P1-P7) and consumer (C1-C6, each of the four offset-reset scenarios). Each
//! step prints what it saw; the program exits with an error if a step sees anything else
//! than the tutorial promises. The test command (scripts/test.sh) runs it:
//!
//! ```text
//! cargo run --example tutorial
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use mockafka::client::deserializer::{MsgPackDeserializer, StringDeserializer};
use mockafka::client::serializer::{JsonSerializer, MsgPackSerializer, StringSerializer};
use mockafka::client::{
    Compression, Consumer, ConsumerBuilder, OffsetReset, Producer, ProducerRecord, TopicPartition,
};
use mockafka::cluster::Cluster;
use serde_json::{json, Value};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

const WAIT: Duration = Duration::from_secs(30);

fn ensure(cond: bool, what: &str) -> Res {
    if cond {
        Ok(())
    } else {
        Err(format!("unexpected: {what}").into())
    }
}

fn consumer(servers: &str) -> ConsumerBuilder {
    Consumer::builder()
        .bootstrap_servers(servers.split(','))
        .fetch_max_wait(Duration::from_millis(100))
}

/// Polls until `n` records arrived; returns their offsets.
async fn offsets(c: &Consumer, n: usize) -> Res<Vec<i64>> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut out = Vec::new();
    while out.len() < n {
        ensure(tokio::time::Instant::now() < deadline, "records in time")?;
        out.extend(
            c.poll(Duration::from_millis(200))
                .await?
                .iter()
                .map(|r| r.offset),
        );
    }
    Ok(out)
}

fn main() -> Res {
    let rt = tokio::runtime::Runtime::new()?;
    let cluster = rt.block_on(Cluster::builder().brokers(3).topic("first", 3).start())?;
    let servers = cluster.bootstrap_servers();
    println!("cluster: bootstrap.servers={servers}");

    rt.block_on(producer_steps(&cluster, &servers))?;
    c1(&servers)?;
    rt.block_on(consumer_steps(&cluster, &servers))?;
    rt.block_on(cluster.shutdown());
    println!("\nevery step saw what the tutorial promises");
    Ok(())
}

async fn producer_steps(cluster: &Cluster, servers: &str) -> Res {
    // P1: send raw bytes, asynchronously (`foobar` is auto-created).
    let producer = Producer::builder()
        .bootstrap_servers(servers.split(','))
        .build()
        .await?;
    let pending = producer
        .send(ProducerRecord::new(
            "foobar",
            Bytes::from_static(b"some_message_bytes"),
        ))
        .await?;
    println!("P1 send('foobar', b'some_message_bytes') returned before the broker answered");

    // P2: block until the record is acknowledged: its metadata.
    let meta = producer
        .send(ProducerRecord::new(
            "foobar",
            Bytes::from_static(b"another_message"),
        ))
        .await?
        .get(Duration::from_secs(60))
        .await?;
    println!(
        "P2 future.get(timeout=60): topic={} partition={} offset={} timestamp={}",
        meta.topic, meta.partition, meta.offset, meta.timestamp
    );
    ensure(
        pending.get(WAIT).await?.offset == 0,
        "the first record at offset 0",
    )?;
    ensure(meta.offset == 1, "the second record at offset 1")?;

    // P3: flush waits for every buffered record.
    let mut buffered = Vec::new();
    for i in 0..10 {
        // Not awaited one by one: flush() below waits for all of them.
        buffered.push(
            producer
                .send(ProducerRecord::new(
                    "foobar",
                    Bytes::from(format!("buffered-{i}")),
                ))
                .await?,
        );
    }
    producer.flush().await?;
    ensure(
        buffered.iter().all(|d| d.try_result().is_some()),
        "every send acknowledged when flush returns",
    )?;
    let stored = cluster.partition("foobar", 0)?.high_watermark;
    println!("P3 flush(): foobar now holds {stored} records");
    ensure(stored == 12, "12 records after flush")?;
    producer.close().await?;

    // P4: values encoded by a user serializer (JSON).
    let json_producer = Producer::builder()
        .bootstrap_servers(servers.split(','))
        .value_serializer(JsonSerializer::<Value>::default())
        .build()
        .await?;
    json_producer
        .send(ProducerRecord::new("json-topic", json!({"foo": "bar"})))
        .await?
        .get(WAIT)
        .await?;
    let stored = cluster.records("json-topic", 0)?;
    let text = String::from_utf8_lossy(stored[0].value.as_deref().unwrap_or_default()).into_owned();
    println!("P4 value_serializer=json: stored value {text}");
    ensure(
        serde_json::from_str::<Value>(&text)? == json!({"foo": "bar"}),
        "JSON text",
    )?;
    json_producer.close().await?;

    // P5: keys encoded by a user serializer; send('flipflap', key='ping', value=b'1234').
    let keyed = Producer::builder()
        .bootstrap_servers(servers.split(','))
        .key_serializer(StringSerializer)
        .build()
        .await?;
    let meta = keyed
        .send(
            ProducerRecord::new("flipflap", Bytes::from_static(b"1234"))
                .with_key("ping".to_string()),
        )
        .await?
        .get(WAIT)
        .await?;
    let stored = cluster.records("flipflap", meta.partition)?;
    println!(
        "P5 key_serializer=str.encode: key {:?} in partition {}",
        stored[0].key, meta.partition
    );
    ensure(
        stored[0].key.as_deref() == Some(&b"ping"[..]),
        "key bytes b'ping'",
    )?;
    keyed.close().await?;

    // P6: compressed batches (LZ4 in the tutorial).
    let lz4 = Producer::builder()
        .bootstrap_servers(servers.split(','))
        .compression(Compression::Lz4)
        .build()
        .await?;
    lz4.send(ProducerRecord::new(
        "compressed",
        Bytes::from_static(b"squeezed"),
    ))
    .await?
    .get(WAIT)
    .await?;
    let batch = &cluster.batches("compressed", 0)?[0];
    println!(
        "P6 compression_type='lz4': stored batch compression {:?}",
        batch.compression
    );
    ensure(batch.compression == Some(Compression::Lz4), "an lz4 batch")?;
    lz4.close().await?;

    // P7: headers, which consumers see unchanged.
    let p = Producer::builder()
        .bootstrap_servers(servers.split(','))
        .build()
        .await?;
    p.send(
        ProducerRecord::new("headers", Bytes::from_static(b"c29tZSB2YWx1ZQ=="))
            .with_header("content-encoding", Some(Bytes::from_static(b"base64"))),
    )
    .await?
    .get(WAIT)
    .await?;
    p.close().await?;
    let c = consumer(servers)
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    c.assign(&[TopicPartition::new("headers", 0)])?;
    let rec = c.recv_timeout(WAIT).await?.ok_or("no record")?;
    let headers: Vec<_> = rec
        .headers
        .iter()
        .map(|h| (h.key.clone(), h.value.clone()))
        .collect();
    println!("P7 headers=[('content-encoding', b'base64')]: the consumer sees {headers:?}");
    ensure(
        headers
            == vec![(
                "content-encoding".to_string(),
                Some(Bytes::from_static(b"base64")),
            )],
        "headers unchanged",
    )?;
    c.close().await?;
    Ok(())
}

/// C1: `for msg in consumer` ends by itself after `consumer_timeout_ms` without records.
/// Synchronous code, like the tutorial's loop: the blocking consumer owns its runtime.
fn c1(servers: &str) -> Res {
    let c = consumer(servers)
        .auto_offset_reset(OffsetReset::Earliest)
        .consumer_timeout(Duration::from_millis(1000))
        .build_blocking()?;
    c.assign(&[TopicPartition::new("foobar", 0)])?;
    let started = std::time::Instant::now();
    let mut n = 0;
    for msg in &c {
        let msg = msg?;
        if n < 2 {
            println!(
                "C1 ConsumerRecord(topic={}, partition={}, offset={}, timestamp={}, key={:?}, value={:?}, headers={:?})",
                msg.topic, msg.partition, msg.offset, msg.timestamp, msg.key, msg.value, msg.headers
            );
        }
        n += 1;
    }
    println!(
        "C1 the loop ended by itself after {n} records and {:?}",
        started.elapsed()
    );
    ensure(n == 12, "the 12 foobar records")?;
    ensure(
        started.elapsed() >= Duration::from_millis(1000),
        "after the consumer timeout",
    )?;
    Ok(())
}

async fn consumer_steps(cluster: &Cluster, servers: &str) -> Res {
    // 100 records in `first`'s partition 0 (offsets 0..99), a few in the others.
    let mut acks = Vec::new();
    let p = Producer::builder()
        .bootstrap_servers(servers.split(','))
        .build()
        .await?;
    for i in 0..100 {
        acks.push(
            p.send(ProducerRecord::new("first", Bytes::from(format!("m{i}"))).with_partition(0))
                .await?,
        );
    }
    for part in 1..3 {
        acks.push(
            p.send(
                ProducerRecord::new("first", Bytes::from(format!("p{part}"))).with_partition(part),
            )
            .await?,
        );
    }
    p.flush().await?;
    ensure(
        acks.iter().all(|d| d.try_result().is_some()),
        "acknowledged",
    )?;

    // C2: join a consumer group.
    let c = consumer(servers)
        .group_id("group1")
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    c.subscribe(&["first"])?;
    c.wait_for_assignment(WAIT).await?;
    let group = cluster.wait_group_stable("group1", 1, WAIT).await?;
    println!(
        "C2 group_id='group1': group {:?}, generation {}, assignment {:?}",
        group.state,
        group.generation,
        c.assignment()
    );
    ensure(c.assignment().len() == 3, "every partition")?;
    c.close().await?;

    // C3: manual assignment: only partition 2's records, no group membership.
    let c = consumer(servers)
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    c.assign(&[TopicPartition::new("first", 2)])?;
    let rec = c.recv_timeout(WAIT).await?.ok_or("no record")?;
    println!(
        "C3 assign([TopicPartition('first', 2)]): partition {} value {:?}",
        rec.partition, rec.value
    );
    ensure(rec.partition == 2, "partition 2 only")?;
    c.close().await?;

    // C4: several topics, or a pattern.
    for t in ["my_topic", "topic_1"] {
        acks.push(
            p.send(ProducerRecord::new(t, Bytes::from(format!("in {t}"))))
                .await?,
        );
    }
    p.flush().await?;
    let c = consumer(servers)
        .group_id("c4")
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    c.subscribe(&["my_topic", "topic_1"])?;
    offsets(&c, 2).await?;
    println!(
        "C4 subscribe(topics=['my_topic', 'topic_1']): assignment {:?}",
        c.assignment()
    );
    ensure(c.assignment().len() == 2, "both topics")?;
    c.close().await?;
    let c = consumer(servers)
        .group_id("c4-pattern")
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    c.subscribe_pattern("^my.*")?;
    let rec = c.recv_timeout(WAIT).await?.ok_or("no record")?;
    println!("C4 subscribe(pattern='^my.*'): a record of {}", rec.topic);
    ensure(rec.topic == "my_topic", "my_topic only")?;
    c.close().await?;

    // C5: values decoded by a user deserializer (MessagePack).
    let mp = Producer::builder()
        .bootstrap_servers(servers.split(','))
        .value_serializer(MsgPackSerializer::<Value>::default())
        .build()
        .await?;
    mp.send(ProducerRecord::new("msgpack", json!({"key": "value"})))
        .await?
        .get(WAIT)
        .await?;
    mp.close().await?;
    let c = consumer(servers)
        .auto_offset_reset(OffsetReset::Earliest)
        .key_deserializer(StringDeserializer)
        .value_deserializer(MsgPackDeserializer::<Value>::default())
        .build()
        .await?;
    c.assign(&[TopicPartition::new("msgpack", 0)])?;
    let rec = c.recv_timeout(WAIT).await?.ok_or("no record")?;
    println!("C5 value_deserializer=msgpack.loads: {:?}", rec.value);
    ensure(
        rec.value == Some(json!({"key": "value"})),
        "the decoded map",
    )?;
    c.close().await?;

    // C6: auto_offset_reset applies only while the group has no committed offset.
    let t0 = TopicPartition::new("first", 0);
    let c = consumer(servers)
        .group_id("test2")
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    c.assign(std::slice::from_ref(&t0))?;
    let first = offsets(&c, 1).await?[0];
    println!("C6.1 new group test2, earliest: starts at offset {first}");
    ensure(first == 0, "offset 0")?;
    c.close().await?;

    let c = consumer(servers)
        .group_id("test3")
        .auto_offset_reset(OffsetReset::Latest)
        .build()
        .await?;
    c.assign(std::slice::from_ref(&t0))?;
    let position = c.position(&t0).await?;
    let nothing = c.poll(Duration::from_millis(300)).await?.len();
    p.send(ProducerRecord::new("first", Bytes::from_static(b"m100")).with_partition(0))
        .await?
        .get(WAIT)
        .await?;
    let next = offsets(&c, 1).await?;
    println!(
        "C6.2 new group test3, latest: position {position}, {nothing} records at first, then offset {next:?} once a record is appended"
    );
    ensure(
        position == 100 && nothing == 0 && next == vec![100],
        "the log end, then 100",
    )?;
    c.close().await?;

    let c = consumer(servers)
        .group_id("test4")
        .auto_offset_reset(OffsetReset::Earliest)
        .enable_auto_commit(false)
        .max_poll_records(1)
        .build()
        .await?;
    c.subscribe(&["first"])?;
    let mut seen = Vec::new();
    while seen.len() < 50 {
        for r in c.poll(Duration::from_millis(200)).await? {
            if r.partition == 0 {
                seen.push(r.offset);
            } else {
                // Only partition 0 matters here; keep the others where they are.
            }
        }
    }
    c.commit_offsets(&BTreeMap::from([(t0.clone(), 50)]))
        .await?;
    c.close().await?;
    let c = consumer(servers)
        .group_id("test4")
        .auto_offset_reset(OffsetReset::Latest)
        .enable_auto_commit(false)
        .build()
        .await?;
    c.assign(std::slice::from_ref(&t0))?;
    let resumed = offsets(&c, 1).await?[0];
    println!(
        "C6.3 group test4: consumed offsets {}..={}, committed 50, restarted with latest: continues at {resumed}",
        seen[0],
        seen[49]
    );
    ensure(
        seen == (0..50).collect::<Vec<_>>() && resumed == 50,
        "0..49, then 50",
    )?;
    c.close().await?;

    cluster.delete_records("first", 0, 60)?;
    let c = consumer(servers)
        .group_id("test4")
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    c.assign(std::slice::from_ref(&t0))?;
    let after_delete = offsets(&c, 1).await?[0];
    println!(
        "C6.4 committed 50 is out of range once records before 60 are deleted: earliest applies again, offset {after_delete}"
    );
    ensure(after_delete == 60, "the new log start")?;
    c.close().await?;
    p.close().await?;
    Ok(())
}
