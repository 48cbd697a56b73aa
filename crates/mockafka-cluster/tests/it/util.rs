//! A raw-frame connection and record batch builders.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Request, StrBytes};
use mockafka_cluster::{BrokerId, Cluster};
use mockafka_protocol::batch::{Compression, Record, RecordBatch, RecordHeader};
use mockafka_protocol::request::encode_request;
use mockafka_protocol::response::decode_response;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

/// One connection speaking raw frames.
pub(crate) struct Conn {
    pub(crate) stream: TcpStream,
    next_correlation: i32,
}

impl Conn {
    pub(crate) async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream,
            next_correlation: 1,
        })
    }

    pub(crate) async fn to_broker(cluster: &Cluster, id: i32) -> std::io::Result<Conn> {
        let addr = cluster
            .broker_addr(BrokerId(id))
            .ok_or_else(|| std::io::Error::other("no such broker"))?;
        Conn::connect(addr).await
    }

    /// Writes a request frame; returns its correlation id.
    pub(crate) async fn write<R: Request>(
        &mut self,
        version: i16,
        body: &R,
    ) -> std::io::Result<i32> {
        let correlation = self.next_correlation;
        self.next_correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_version(version)
            .with_correlation_id(correlation)
            .with_client_id(Some(StrBytes::from_static_str("it")));
        let frame = encode_request(&header, body).map_err(std::io::Error::other)?;
        self.stream.write_all(&frame).await?;
        Ok(correlation)
    }

    /// Reads one response frame body (after the size prefix).
    pub(crate) async fn read_frame(&mut self) -> std::io::Result<Bytes> {
        let mut size = [0u8; 4];
        self.stream.read_exact(&mut size).await?;
        let size = usize::try_from(i32::from_be_bytes(size)).map_err(std::io::Error::other)?;
        let mut body = vec![0u8; size];
        self.stream.read_exact(&mut body).await?;
        Ok(Bytes::from(body))
    }

    /// Sends a request and decodes its response, checking the correlation id.
    pub(crate) async fn send<R: Request>(
        &mut self,
        version: i16,
        body: &R,
    ) -> std::io::Result<R::Response> {
        let correlation = self.write(version, body).await?;
        let frame = self.read_frame().await?;
        let key = ApiKey::try_from(R::KEY).map_err(|()| std::io::Error::other("key"))?;
        let (header, resp) =
            decode_response::<R::Response>(key, version, frame).map_err(std::io::Error::other)?;
        assert_eq!(header.correlation_id, correlation);
        Ok(resp)
    }

    /// Whether the broker closed the connection (EOF within a second).
    pub(crate) async fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.stream.read_exact(&mut b)).await,
            Ok(Err(_))
        )
    }
}

pub(crate) fn record(key: Option<&str>, value: &str, offset: i64, timestamp: i64) -> Record {
    Record {
        offset,
        timestamp,
        key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
        headers: vec![
            RecordHeader {
                key: "h".to_owned(),
                value: Some(Bytes::from_static(b"1")),
            },
            RecordHeader {
                key: "h".to_owned(),
                value: None,
            },
        ],
    }
}

/// A batch of `values` as a producer builds it (offsets from 0, timestamps from `ts`).
pub(crate) fn batch_with(values: &[&str], ts: i64, compression: Compression) -> Bytes {
    let records = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let i = i64::try_from(i).unwrap_or(0);
            record(Some(&format!("k{i}")), v, i, ts + i)
        })
        .collect();
    let mut batch = RecordBatch::new(records);
    batch.compression = compression;
    let mut out = BytesMut::new();
    batch.encode(&mut out).expect("encodes");
    out.freeze()
}

pub(crate) fn batch(values: &[&str]) -> Bytes {
    batch_with(values, 1_000, Compression::None)
}

/// An idempotent batch of `n` records starting at sequence `seq`.
pub(crate) fn idempotent_batch(producer_id: i64, epoch: i16, seq: i32, n: usize) -> Bytes {
    let records = (0..n)
        .map(|i| {
            let i = i64::try_from(i).unwrap_or(0);
            record(None, &format!("v{seq}-{i}"), i, 1_000 + i)
        })
        .collect();
    let mut batch = RecordBatch::new(records);
    batch.producer_id = producer_id;
    batch.producer_epoch = epoch;
    batch.base_sequence = seq;
    let mut out = BytesMut::new();
    batch.encode(&mut out).expect("encodes");
    out.freeze()
}

pub(crate) fn produce_request(
    topic: &str,
    partition: i32,
    records: Bytes,
    acks: i16,
) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(5_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_string(topic.to_owned())))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(records))])])
}

/// Produces one batch at Produce v9; returns (error code, base offset).
pub(crate) async fn produce(
    conn: &mut Conn,
    topic: &str,
    partition: i32,
    records: Bytes,
) -> std::io::Result<(i16, i64)> {
    let resp = conn
        .send(9, &produce_request(topic, partition, records, -1))
        .await?;
    let p = &resp.responses[0].partition_responses[0];
    Ok((p.error_code, p.base_offset))
}

pub(crate) fn fetch_request(
    topic: &str,
    partition: i32,
    offset: i64,
    max_wait_ms: i32,
) -> FetchRequest {
    FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(max_wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(50 << 20)
        .with_session_id(0)
        .with_session_epoch(-1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_string(topic.to_owned())))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(partition)
                .with_current_leader_epoch(-1)
                .with_fetch_offset(offset)
                .with_last_fetched_epoch(-1)
                .with_log_start_offset(-1)
                .with_partition_max_bytes(1 << 20)])])
}

/// Decodes every whole batch of a fetch response's records.
pub(crate) fn decode_records(records: &Bytes) -> Vec<RecordBatch> {
    mockafka_protocol::batch::batches(records)
        .filter_map(Result::ok)
        .map(|(_, b)| RecordBatch::decode(b, &Default::default()).expect("stored batch decodes"))
        .collect()
}

/// The broker leading a partition.
pub(crate) fn leader(cluster: &Cluster, topic: &str, partition: i32) -> i32 {
    cluster
        .partition(topic, partition)
        .ok()
        .and_then(|p| p.leader)
        .map_or(-1, |b| b.0)
}

/// Some broker that does not lead the partition.
pub(crate) fn follower(cluster: &Cluster, topic: &str, partition: i32) -> i32 {
    let l = leader(cluster, topic, partition);
    cluster
        .brokers()
        .iter()
        .map(|b| b.id.0)
        .find(|&b| b != l)
        .unwrap_or(-1)
}

/// Waits (polling, with a deadline of 10 s) until `cond` holds.
pub(crate) async fn wait_until(
    mut cond: impl FnMut() -> bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !cond() {
        if tokio::time::Instant::now() > deadline {
            return Err("condition not reached within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok(())
}
