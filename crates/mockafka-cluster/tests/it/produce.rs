//! Produce: offsets, timestamps, storage as sent, validation errors, acks.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::*;
use mockafka_cluster::{Cluster, Compression, ManualClock, TimeSource, TimestampType, TopicSpec};

use crate::util::*;

#[tokio::test]
async fn offsets_are_assigned_per_partition_and_records_round_trip_with_each_codec() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("first", 3)
        .start()
        .await?;
    for (i, codec) in Compression::ALL.iter().enumerate() {
        let p = i32::try_from(i % 3)?;
        let mut conn = Conn::to_broker(&cluster, leader(&cluster, "first", p)).await?;
        let before = cluster.partition("first", p)?.high_watermark;
        let (code, base) = produce(
            &mut conn,
            "first",
            p,
            batch_with(&["a", "b", "c"], 5_000, *codec),
        )
        .await?;
        assert_eq!((code, base), (0, before), "{codec:?}");
        let records = cluster.records("first", p)?;
        let last = &records[records.len() - 3..];
        assert_eq!(
            last.iter().map(|r| r.offset).collect::<Vec<_>>(),
            vec![before, before + 1, before + 2]
        );
        assert_eq!(last[1].value.as_deref(), Some(&b"b"[..]));
        assert_eq!(last[1].key.as_deref(), Some(&b"k1"[..]));
        assert_eq!(last[1].timestamp, 5_001);
        assert_eq!(last[1].timestamp_type, TimestampType::CreateTime);
        assert_eq!(
            last[1].headers,
            vec![
                ("h".to_owned(), Some(Bytes::from_static(b"1"))),
                ("h".to_owned(), None)
            ]
        );
        assert_eq!(last[1].batch.compression, Some(*codec));
        assert_eq!(last[1].batch.base_offset, before);
    }
    let p0 = cluster.partition("first", 0)?;
    assert_eq!(p0.high_watermark, 6);
    assert_eq!(cluster.batches("first", 0)?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn log_append_time_topics_stamp_the_batch() -> TestResult {
    let clock = ManualClock::new(1_700_000_000_000);
    let cluster = Cluster::builder()
        .brokers(1)
        .time_source(TimeSource::Manual(clock.clone()))
        .topic_spec(TopicSpec::new("lat", 1).config("message.timestamp.type", "LogAppendTime"))
        .start()
        .await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let resp = conn
        .send(
            9,
            &produce_request("lat", 0, batch_with(&["x", "y"], 5, Compression::Gzip), 1),
        )
        .await?;
    let p = &resp.responses[0].partition_responses[0];
    assert_eq!(
        (p.error_code, p.base_offset, p.log_append_time_ms),
        (0, 0, 1_700_000_000_000)
    );
    // The stored batch has a valid CRC (decode verifies it) and the broker's time.
    let fetched = conn.send(12, &fetch_request("lat", 0, 0, 0)).await?;
    let batches = decode_records(
        fetched.responses[0].partitions[0]
            .records
            .as_ref()
            .ok_or("records")?,
    );
    assert_eq!(batches[0].timestamp_type, TimestampType::LogAppendTime);
    assert_eq!(batches[0].max_timestamp, 1_700_000_000_000);
    let records = cluster.records("lat", 0)?;
    assert!(records
        .iter()
        .all(|r| r.timestamp == 1_700_000_000_000
            && r.timestamp_type == TimestampType::LogAppendTime));
    Ok(())
}

async fn produce_error(
    cluster: &Cluster,
    version: i16,
    topic: &str,
    partition: i32,
    records: Bytes,
) -> Result<i16, Box<dyn std::error::Error>> {
    let broker = match cluster.partition(topic, partition) {
        Ok(p) => p.leader.map_or(0, |b| b.0),
        Err(_) => 0,
    };
    let mut conn = Conn::to_broker(cluster, broker).await?;
    let resp = conn
        .send(version, &produce_request(topic, partition, records, -1))
        .await?;
    Ok(resp.responses[0].partition_responses[0].error_code)
}

/// Rewrites the CRC after patching a header field (CRC-32C of bytes 21..).
fn fix_crc(batch: &mut [u8]) {
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
}

#[tokio::test]
async fn bad_batches_get_kafkas_error_codes_and_store_nothing() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(2)
        .topic("t", 1)
        .message_max_bytes(2_000)
        .start()
        .await?;
    // Unknown topic and partition.
    assert_eq!(
        produce_error(&cluster, 9, "nope", 0, batch(&["a"])).await?,
        3
    );
    assert_eq!(produce_error(&cluster, 9, "t", 7, batch(&["a"])).await?, 3);
    // Corrupt CRC.
    let mut bad = BytesMut::from(&batch(&["a"])[..]);
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    assert_eq!(produce_error(&cluster, 9, "t", 0, bad.freeze()).await?, 2);
    // Too large for message.max.bytes.
    let big = "x".repeat(3_000);
    assert_eq!(
        produce_error(&cluster, 9, "t", 0, batch(&[big.as_str()])).await?,
        10
    );
    // Two batches in one partition's records.
    let mut two = BytesMut::from(&batch(&["a"])[..]);
    two.extend_from_slice(&batch(&["b"]));
    assert_eq!(produce_error(&cluster, 9, "t", 0, two.freeze()).await?, 87);
    // No records at all.
    assert_eq!(produce_error(&cluster, 9, "t", 0, Bytes::new()).await?, 87);
    // Old message format (magic 1).
    let mut old = BytesMut::from(&batch(&["a"])[..]);
    old[16] = 1;
    assert_eq!(produce_error(&cluster, 9, "t", 0, old.freeze()).await?, 87);
    // Garbage magic.
    let mut garbage = BytesMut::from(&batch(&["a"])[..]);
    garbage[16] = 9;
    assert_eq!(
        produce_error(&cluster, 9, "t", 0, garbage.freeze()).await?,
        2
    );
    // A batch length too small for a header.
    let mut short = BytesMut::new();
    short.put_i64(0);
    short.put_i32(10);
    short.put_slice(&[0u8; 10]);
    assert_eq!(produce_error(&cluster, 9, "t", 0, short.freeze()).await?, 2);
    // zstd before v7.
    assert_eq!(
        produce_error(
            &cluster,
            6,
            "t",
            0,
            batch_with(&["a"], 1, Compression::Zstd)
        )
        .await?,
        76
    );
    assert_eq!(
        produce_error(
            &cluster,
            7,
            "t",
            0,
            batch_with(&["a"], 1, Compression::Zstd)
        )
        .await?,
        0
    );
    // Undefined codec id 6.
    let mut codec = BytesMut::from(&batch(&["a"])[..]);
    codec[22] = (codec[22] & !7) | 6;
    fix_crc(&mut codec);
    assert_eq!(
        produce_error(&cluster, 9, "t", 0, codec.freeze()).await?,
        76
    );
    // Record count that does not match the last offset delta.
    let mut count = BytesMut::from(&batch(&["a", "b"])[..]);
    count[57..61].copy_from_slice(&3i32.to_be_bytes());
    fix_crc(&mut count);
    assert_eq!(
        produce_error(&cluster, 9, "t", 0, count.freeze()).await?,
        87
    );
    // Control batches from a client.
    let mut control = BytesMut::from(&batch(&["a"])[..]);
    control[22] |= 0x20;
    fix_crc(&mut control);
    assert_eq!(
        produce_error(&cluster, 9, "t", 0, control.freeze()).await?,
        87
    );
    // Only the zstd batch was stored.
    assert_eq!(cluster.partition("t", 0)?.high_watermark, 1);
    assert_eq!(cluster.records("t", 0)?.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_broker_that_does_not_lead_answers_not_leader_with_the_leader() -> TestResult {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().await?;
    let mut conn = Conn::to_broker(&cluster, follower(&cluster, "t", 0)).await?;
    let resp = conn
        .send(10, &produce_request("t", 0, batch(&["a"]), -1))
        .await?;
    let p = &resp.responses[0].partition_responses[0];
    assert_eq!(p.error_code, 6);
    assert_eq!(p.current_leader.leader_id.0, leader(&cluster, "t", 0));
    assert_eq!(resp.node_endpoints.len(), 1);
    assert_eq!(cluster.partition("t", 0)?.high_watermark, 0);
    Ok(())
}

#[tokio::test]
async fn invalid_acks_is_invalid_required_acks() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let resp = conn
        .send(9, &produce_request("t", 0, batch(&["a"]), 2))
        .await?;
    assert_eq!(resp.responses[0].partition_responses[0].error_code, 21);
    assert_eq!(cluster.partition("t", 0)?.high_watermark, 0);
    Ok(())
}

#[tokio::test]
async fn acks_zero_gets_no_response_and_an_error_closes_the_connection() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    conn.write(9, &produce_request("t", 0, batch(&["a"]), 0))
        .await?;
    // The next response on the connection is for the next request.
    let resp = conn.send(12, &fetch_request("t", 0, 0, 0)).await?;
    assert_eq!(resp.responses[0].partitions[0].high_watermark, 1);
    conn.write(9, &produce_request("nope", 0, batch(&["a"]), 0))
        .await?;
    assert!(conn.is_closed().await);
    Ok(())
}

#[tokio::test]
async fn compacted_topics_refuse_records_without_keys() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic_spec(TopicSpec::new("c", 1).config("cleanup.policy", "compact"))
        .start()
        .await?;
    let keyless = crate::util::idempotent_batch(-1, -1, -1, 1);
    assert_eq!(produce_error(&cluster, 9, "c", 0, keyless).await?, 87);
    assert_eq!(produce_error(&cluster, 9, "c", 0, batch(&["a"])).await?, 0);
    let _ = ProduceRequest::default();
    Ok(())
}

#[tokio::test]
async fn acks_all_needs_min_insync_replicas_live() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic_spec(TopicSpec::new("isr", 1).config("min.insync.replicas", "2"))
        .start()
        .await?;
    cluster.stop_broker(mockafka_cluster::BrokerId(1)).await?;
    let mut conn = Conn::to_broker(&cluster, leader(&cluster, "isr", 0)).await?;
    assert_eq!(produce(&mut conn, "isr", 0, batch(&["a"])).await?.0, 0);
    cluster.stop_broker(mockafka_cluster::BrokerId(2)).await?;
    let mut conn = Conn::to_broker(&cluster, leader(&cluster, "isr", 0)).await?;
    assert_eq!(produce(&mut conn, "isr", 0, batch(&["b"])).await?.0, 19);
    // acks=1 does not wait for replicas.
    let resp = conn
        .send(9, &produce_request("isr", 0, batch(&["c"]), 1))
        .await?;
    assert_eq!(resp.responses[0].partition_responses[0].error_code, 0);
    assert_eq!(cluster.partition("isr", 0)?.high_watermark, 2);
    Ok(())
}
