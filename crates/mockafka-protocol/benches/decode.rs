//! Request decode time: validate + decode of a typical Produce and Fetch request, against
//! baselines measured in the same run (copying the frame's bytes, and kafka-protocol's own
//! decode without our validator), so that the figures can be read as ratios.
//!
//! Run: `cargo bench -p mockafka-protocol --bench decode`

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, HeaderVersion, StrBytes};
use mockafka_protocol::frame::split_frame;
use mockafka_protocol::request::{decode_request, encode_request};
use mockafka_protocol::validate;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn frame<R: kafka_protocol::protocol::Request>(version: i16, body: &R) -> Bytes {
    let header = RequestHeader::default()
        .with_request_api_version(version)
        .with_correlation_id(1)
        .with_client_id(Some(StrBytes::from_static_str("bench-client")));
    let mut buf = encode_request(&header, body).expect("encodes");
    split_frame(&mut buf, usize::MAX)
        .expect("frame")
        .expect("whole")
}

fn produce(version: i16) -> Bytes {
    let records = Bytes::from((0..16 * 1024).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let body = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_static_str("bench-topic")))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(0)
                .with_records(Some(records))])]);
    frame(version, &body)
}

fn fetch(version: i16) -> Bytes {
    let partitions = (0..4)
        .map(|p| {
            FetchPartition::default()
                .with_partition(p)
                .with_fetch_offset(1_000 * i64::from(p))
                .with_partition_max_bytes(1 << 20)
        })
        .collect();
    let body = FetchRequest::default()
        .with_max_wait_ms(500)
        .with_min_bytes(1)
        .with_max_bytes(50 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_static_str("bench-topic")))
            .with_partitions(partitions)]);
    frame(version, &body)
}

/// Set when run as a test rather than a benchmark.
static SMOKE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Nanoseconds per call of each of `fs`. Batches of the variants are interleaved, round
/// after round, and each variant keeps its best batch: the machine is shared, noise only ever
/// adds time, and interleaving exposes every variant to the same load.
fn measure<const N: usize>(fs: &mut [&mut dyn FnMut(); N]) -> [f64; N] {
    if SMOKE.load(std::sync::atomic::Ordering::Relaxed) {
        fs.iter_mut().for_each(|f| f());
        return [0.0; N];
    }
    let mut iters = [1u64; N];
    for (f, n) in fs.iter_mut().zip(iters.iter_mut()) {
        loop {
            let t = Instant::now();
            for _ in 0..*n {
                f();
            }
            if t.elapsed() > Duration::from_millis(20) {
                break;
            }
            *n *= 2;
        }
    }
    let mut best = [f64::MAX; N];
    for _ in 0..25 {
        for ((f, n), b) in fs.iter_mut().zip(iters).zip(best.iter_mut()) {
            let t = Instant::now();
            for _ in 0..n {
                f();
            }
            *b = b.min(t.elapsed().as_nanos() as f64 / n as f64);
        }
    }
    best
}

fn bench<R: Decodable + HeaderVersion>(name: &str, key: ApiKey, version: i16, frame: Bytes) {
    let header_version = R::header_version(version);
    let mut copy = || {
        black_box(BytesMut::from(black_box(&frame[..])));
    };
    let mut library = || {
        let mut buf = black_box(frame.clone());
        let h = RequestHeader::decode(&mut buf, header_version).expect("header");
        let body = R::decode(&mut buf, version).expect("body");
        black_box((h, body));
    };
    let header_len = {
        let mut buf = frame.clone();
        RequestHeader::decode(&mut buf, header_version).expect("header");
        frame.len() - buf.len()
    };
    let mut validate_only = || {
        let f = black_box(&frame[..]);
        validate::request_header(header_version, f).expect("header");
        validate::request(key, version, &f[header_len..]).expect("body");
    };
    let mut ours = || {
        black_box(decode_request(black_box(frame.clone())).expect("decodes"));
    };
    let [copy, library, validate_only, ours] =
        measure(&mut [&mut copy, &mut library, &mut validate_only, &mut ours]);
    if SMOKE.load(std::sync::atomic::Ordering::Relaxed) {
        println!("{name}: runs");
        return;
    }
    println!(
        "{name:<28} {:>6} B  copy {copy:>8.0} ns  kafka-protocol {library:>8.0} ns  \
         validate {validate_only:>8.0} ns  decode_request {ours:>8.0} ns  \
         ({:.2}x kafka-protocol, {:.1}x copy)",
        frame.len(),
        ours / library,
        ours / copy,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: there, run each
    // variant once as a smoke test instead of measuring.
    if !std::env::args().any(|a| a == "--bench") {
        SMOKE.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    bench::<ProduceRequest>("produce v9, 1x1, 16 KiB", ApiKey::Produce, 9, produce(9));
    bench::<ProduceRequest>("produce v3, 1x1, 16 KiB", ApiKey::Produce, 3, produce(3));
    bench::<FetchRequest>("fetch v12, 1 topic x 4", ApiKey::Fetch, 12, fetch(12));
    bench::<FetchRequest>("fetch v4, 1 topic x 4", ApiKey::Fetch, 4, fetch(4));
}
