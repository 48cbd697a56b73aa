//! Cluster benchmarks: start+shutdown time, produce and fetch throughput over loopback
//! against raw loopback TCP moving the same bytes, and resident memory per retained byte.
//!
//! Run: `cargo bench -p mockafka-cluster --bench cluster` (add `-- quick` for a short run;
//! `cargo test --benches` runs the quick version as a smoke test).

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use mockafka_cluster::{BrokerId, Cluster};
use mockafka_protocol::batch::{Record, RecordBatch};
use mockafka_protocol::request::encode_request;
use mockafka_protocol::response::decode_response;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Requests in flight per connection, as a Kafka producer's default.
const WINDOW: usize = 5;

fn median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let m = v[v.len() / 2];
    let p90 = v[v.len() * 9 / 10];
    (m, p90)
}

async fn start_shutdown(brokers: usize, runs: usize) {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let cluster = Cluster::builder()
            .brokers(brokers)
            .start()
            .await
            .expect("start");
        cluster.shutdown().await;
        times.push(t.elapsed());
    }
    let (m, p90) = median(times);
    println!("start+shutdown, {brokers} broker(s), {runs} runs: median {m:?}, p90 {p90:?}");
}

fn batch(records: usize, value_size: usize) -> Bytes {
    let value = Bytes::from(vec![b'x'; value_size]);
    let records = (0..records)
        .map(|i| Record {
            offset: i64::try_from(i).unwrap_or(0),
            timestamp: 1_700_000_000_000,
            key: None,
            value: Some(value.clone()),
            headers: Vec::new(),
        })
        .collect();
    let mut out = BytesMut::new();
    RecordBatch::new(records).encode(&mut out).expect("encode");
    out.freeze()
}

fn produce_frame(batch: Bytes, correlation: i32) -> BytesMut {
    let req = ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_static_str("bench")))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(batch))])]);
    let header = RequestHeader::default()
        .with_request_api_key(ApiKey::Produce as i16)
        .with_request_api_version(9)
        .with_correlation_id(correlation)
        .with_client_id(Some(StrBytes::from_static_str("bench")));
    encode_request(&header, &req).expect("encode")
}

fn fetch_frame(offset: i64, correlation: i32) -> BytesMut {
    let req = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(0)
        .with_min_bytes(1)
        .with_max_bytes(8 << 20)
        .with_session_epoch(-1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_static_str("bench")))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_current_leader_epoch(-1)
                .with_fetch_offset(offset)
                .with_last_fetched_epoch(-1)
                .with_log_start_offset(-1)
                .with_partition_max_bytes(8 << 20)])]);
    let header = RequestHeader::default()
        .with_request_api_key(ApiKey::Fetch as i16)
        .with_request_api_version(12)
        .with_correlation_id(correlation)
        .with_client_id(Some(StrBytes::from_static_str("bench")));
    encode_request(&header, &req).expect("encode")
}

async fn read_frame(s: &mut TcpStream) -> Bytes {
    let mut size = [0u8; 4];
    s.read_exact(&mut size).await.expect("size");
    let size = usize::try_from(i32::from_be_bytes(size)).expect("size");
    let mut body = vec![0u8; size];
    s.read_exact(&mut body).await.expect("body");
    Bytes::from(body)
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// A server that reads request frames and answers each with a 4-byte ack (produce
/// denominator), or answers each frame with `reply` bytes (fetch denominator).
async fn raw_server(reply: Bytes) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        s.set_nodelay(true).ok();
        loop {
            let mut size = [0u8; 4];
            if s.read_exact(&mut size).await.is_err() {
                return;
            }
            let n = usize::try_from(i32::from_be_bytes(size)).unwrap_or(0);
            let mut body = vec![0u8; n];
            if s.read_exact(&mut body).await.is_err() {
                return;
            }
            if s.write_all(&reply).await.is_err() {
                return;
            }
        }
    });
    addr
}

/// Sends `frames` with WINDOW in flight; each answer is a size-prefixed frame.
async fn pipelined(stream: &mut TcpStream, frames: &[BytesMut]) -> usize {
    let mut answered = 0usize;
    let mut sent = 0;
    let mut received = 0;
    while received < frames.len() {
        while sent < frames.len() && sent - received < WINDOW {
            stream.write_all(&frames[sent]).await.expect("write");
            sent += 1;
        }
        answered += read_frame(stream).await.len();
        received += 1;
    }
    answered
}

struct Rate {
    secs: f64,
    records: usize,
    payload: usize,
}

impl Rate {
    fn show(&self, what: &str, raw_secs: f64) {
        let rps = self.records as f64 / self.secs;
        let mbs = self.payload as f64 / self.secs / 1e6;
        println!(
            "  {what}: {rps:>12.0} records/s, {mbs:>8.1} MB/s payload ({:.2} s); raw TCP same bytes {:.3} s -> {:.0}% of raw",
            self.secs,
            raw_secs,
            raw_secs / self.secs * 100.0
        );
    }
}

async fn throughput(value_size: usize, total_payload: usize, measure_memory: bool) {
    // Kafka's default producer batch.size: 16 KiB.
    let per_batch = (16 * 1024 / value_size).max(1);
    let batch_bytes = batch(per_batch, value_size);
    let batches = total_payload / (per_batch * value_size);
    let records = batches * per_batch;
    let payload = records * value_size;
    let frames: Vec<BytesMut> = (0..batches)
        .map(|i| produce_frame(batch_bytes.clone(), i32::try_from(i).unwrap_or(0)))
        .collect();
    let request_bytes: usize = frames.iter().map(|f| f.len()).sum();

    let cluster = Cluster::builder()
        .brokers(1)
        .topic("bench", 1)
        .start()
        .await
        .expect("start");
    let addr = cluster.broker_addr(BrokerId(0)).expect("addr");
    let rss_before = rss_bytes();

    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).ok();
    let t = Instant::now();
    pipelined(&mut s, &frames).await;
    let produce = Rate {
        secs: t.elapsed().as_secs_f64(),
        records,
        payload,
    };
    let p = cluster.partition("bench", 0).expect("partition");
    assert_eq!(p.high_watermark, i64::try_from(records).unwrap_or(0));
    let rss_after = rss_bytes();

    // Fetch it all back, batch by batch up to 8 MiB per response.
    let t = Instant::now();
    let mut offset = 0i64;
    let mut fetched = 0usize;
    let mut response_sizes = Vec::new();
    let mut correlation = 0;
    while offset < p.high_watermark {
        s.write_all(&fetch_frame(offset, correlation))
            .await
            .expect("write");
        correlation += 1;
        let frame = read_frame(&mut s).await;
        response_sizes.push(frame.len() + 4);
        let (_, resp) = decode_response::<FetchResponse>(ApiKey::Fetch, 12, frame).expect("decode");
        let records_bytes = resp.responses[0].partitions[0]
            .records
            .clone()
            .unwrap_or_default();
        let mut last = offset;
        for b in mockafka_protocol::batch::batches(&records_bytes) {
            let (h, _) = b.expect("batch");
            last = h.last_offset();
            fetched += usize::try_from(h.record_count).unwrap_or(0);
        }
        offset = last + 1;
    }
    let fetch = Rate {
        secs: t.elapsed().as_secs_f64(),
        records: fetched,
        payload: fetched * value_size,
    };
    assert_eq!(fetched, records);

    // Raw loopback TCP with the same bytes: produce frames up, 4-byte acks down.
    let ack = Bytes::from_static(&[0, 0, 0, 0]);
    let raw = raw_server(ack).await;
    let mut r = TcpStream::connect(raw).await.expect("connect raw");
    r.set_nodelay(true).ok();
    let t = Instant::now();
    pipelined(&mut r, &frames).await;
    let raw_produce = t.elapsed().as_secs_f64();
    // And the fetch responses' bytes down, one small request each.
    let avg = response_sizes.iter().sum::<usize>() / response_sizes.len().max(1);
    let mut reply = BytesMut::new();
    reply.extend_from_slice(&i32::try_from(avg - 4).unwrap_or(0).to_be_bytes());
    reply.resize(avg, 0);
    let raw = raw_server(reply.freeze()).await;
    let mut r = TcpStream::connect(raw).await.expect("connect raw");
    r.set_nodelay(true).ok();
    let small: Vec<BytesMut> = (0..response_sizes.len())
        .map(|i| fetch_frame(0, i32::try_from(i).unwrap_or(0)))
        .collect();
    let t = Instant::now();
    for f in &small {
        r.write_all(f).await.expect("write");
        read_frame(&mut r).await;
    }
    let raw_fetch = t.elapsed().as_secs_f64();

    println!(
        "{value_size} B records, {per_batch} per batch, {records} records, {:.1} MB payload, {:.1} MB of produce requests:",
        payload as f64 / 1e6,
        request_bytes as f64 / 1e6
    );
    if measure_memory {
        let retained = p.retained_bytes;
        let grown = rss_after.saturating_sub(rss_before);
        println!(
            "  memory (fresh process): RSS grew {:.1} MB for {:.1} MB payload ({:.1} MB stored batches): {:.3} RSS bytes per payload byte",
            grown as f64 / 1e6,
            payload as f64 / 1e6,
            retained as f64 / 1e6,
            grown as f64 / payload as f64
        );
    } else {
        produce.show("produce", raw_produce);
        fetch.show("fetch  ", raw_fetch);
    }
    cluster.shutdown().await;
}

/// Memory is measured in a child process per record size, so that memory freed by an
/// earlier scenario and kept by the allocator does not hide the growth.
fn memory_in_child(value_size: usize, total: usize) {
    let exe = std::env::current_exe().expect("exe");
    let out = std::process::Command::new(exe)
        .args(["memory", &value_size.to_string(), &total.to_string()])
        .output()
        .expect("child");
    print!("{}", String::from_utf8_lossy(&out.stdout));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("memory") {
        let size: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(100);
        let total: usize = args
            .get(3)
            .and_then(|v| v.parse().ok())
            .unwrap_or(100 << 20);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(throughput(size, total, true));
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: there, run a small
    // smoke version (the figures printed are then meaningless).
    let quick = args.iter().any(|a| a == "quick") || !args.iter().any(|a| a == "--bench");
    if quick {
        println!("quick run: 100 start/shutdowns, 20 MiB per throughput scenario");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let runs = if quick { 100 } else { 1000 };
        start_shutdown(1, runs).await;
        start_shutdown(3, runs).await;
        let total = if quick { 20 << 20 } else { 200 << 20 };
        throughput(100, total, false).await;
        throughput(10 * 1024, total, false).await;
    });
    let total = if quick { 20 << 20 } else { 200 << 20 };
    memory_in_child(100, total);
    memory_in_child(10 * 1024, total);
}
