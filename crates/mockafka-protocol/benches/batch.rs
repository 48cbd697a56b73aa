//! Record batch encode/decode throughput per codec.
//!
//! `cargo bench -p mockafka-protocol --bench batch` (a few seconds). Throughput is in MB/s
//! of *uncompressed* batch bytes (the size of the same batch with no codec), so the codecs'
//! figures compare directly with the baselines in the same run: the uncompressed codec
//! (`enc/none`, `dec/none` are ratios to it), a memcpy of the same bytes, and a header parse
//! plus CRC check, which is all the broker does to a produced batch. `BENCH_MS` sets the time
//! per measurement (default 250 ms).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use mockafka_protocol::batch::{self, Compression, DecodeLimits, Record, RecordBatch};

/// Runs `f` repeatedly for about `budget`; returns the mean time per call.
fn time_per_call(budget: Duration, mut f: impl FnMut()) -> Duration {
    f(); // warm up
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed() < budget {
        f();
        calls += 1;
    }
    start.elapsed() / calls.max(1)
}

fn mb_per_s(bytes: usize, per_call: Duration) -> f64 {
    bytes as f64 / per_call.as_secs_f64() / 1e6
}

/// JSON-ish values of `len` bytes: repetitive field names, varying numbers.
fn value(i: usize, len: usize) -> Bytes {
    let mut s = String::with_capacity(len + 64);
    let mut n = i.wrapping_mul(2_654_435_761);
    while s.len() < len {
        n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        s.push_str(&format!(
            "{{\"user\":{},\"event\":\"click\",\"ts\":{}}}",
            n % 100_000,
            n >> 40
        ));
    }
    s.truncate(len);
    Bytes::from(s)
}

fn workload(count: usize, value_len: usize) -> Vec<Record> {
    (0..count)
        .map(|i| Record {
            offset: i as i64,
            timestamp: 1_700_000_000_000 + i as i64,
            key: Some(Bytes::from(format!("user-{:05}", i % 1000))),
            value: Some(value(i, value_len)),
            headers: vec![],
        })
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: there, run every
    // measurement once as a smoke test (the figures printed are then meaningless).
    let measuring = std::env::args().any(|a| a == "--bench");
    let budget = if measuring {
        Duration::from_millis(
            std::env::var("BENCH_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(250),
        )
    } else {
        println!("smoke run (no --bench): every measurement runs once");
        Duration::ZERO
    };
    let limits = DecodeLimits::default();
    println!(
        "{:<22} {:<8} {:>9} {:>7} {:>11} {:>11} {:>9} {:>9}",
        "workload", "codec", "bytes", "ratio", "encode MB/s", "decode MB/s", "enc/none", "dec/none"
    );
    for (name, count, len) in [
        ("1000 records x 100 B", 1000, 100),
        ("10 records x 10 KB", 10, 10_000),
    ] {
        let records = workload(count, len);
        let mut plain = BytesMut::new();
        RecordBatch::new(records.clone())
            .encode(&mut plain)
            .unwrap();
        let plain_len = plain.len();

        let mut dst = vec![0u8; plain_len];
        let copy = time_per_call(budget, || {
            dst.copy_from_slice(black_box(&plain));
            black_box(&dst);
        });
        let header = time_per_call(budget, || {
            let h = batch::BatchHeader::parse(black_box(&plain)).unwrap();
            batch::verify_crc(&plain).unwrap();
            black_box(h);
        });
        println!(
            "{name:<22} {:<8} {plain_len:>9} {:>7} {:>11.0} {:>11.0}   (memcpy; header parse + CRC)",
            "baseline",
            "",
            mb_per_s(plain_len, copy),
            mb_per_s(plain_len, header),
        );
        let mut none_rates = (0.0, 0.0);
        for codec in Compression::ALL {
            let b = RecordBatch {
                compression: codec,
                ..RecordBatch::new(records.clone())
            };
            let mut wire = BytesMut::new();
            b.encode(&mut wire).unwrap();
            let encode = time_per_call(budget, || {
                let mut out = BytesMut::with_capacity(plain_len + 64);
                black_box(&b).encode(&mut out).unwrap();
                black_box(out);
            });
            let decode = time_per_call(budget, || {
                black_box(RecordBatch::decode(black_box(&wire), &limits).unwrap());
            });
            let (enc, dec) = (mb_per_s(plain_len, encode), mb_per_s(plain_len, decode));
            if codec == Compression::None {
                none_rates = (enc, dec);
            }
            println!(
                "{name:<22} {:<8} {:>9} {:>7.2} {enc:>11.0} {dec:>11.0} {:>9.3} {:>9.3}",
                codec.name(),
                wire.len(),
                plain_len as f64 / wire.len() as f64,
                enc / none_rates.0,
                dec / none_rates.1
            );
        }
    }
}
