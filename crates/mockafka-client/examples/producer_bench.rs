//! Producer throughput and latency against a running cluster; prints one JSON object per
//! measurement. Driven by `crates/mockafka-client/bench/producer_bench.py`, which starts a
//! mockafka cluster and runs kafka-python on the same workload as the reference.
//!
//! ```text
//! cargo run --release -p mockafka-client --example producer_bench -- \
//!     --bootstrap 127.0.0.1:9092 --records 200000 --size 100 --compression lz4
//! ```
//! Throughput: `--records` records of `--size` bytes, acks=all, sent as fast as the
//! producer accepts them, timed from the first send to the last acknowledgement.
//! Latency (`--latency N`): N single records, each sent alone and awaited before the next
//! (linger 0), send-to-ack p50 and p99.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mockafka_client::{Compression, Producer, ProducerRecord};

fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args();
    while let Some(a) = it.next() {
        if a == name {
            return it.next();
        }
    }
    None
}

fn compression(name: &str) -> Compression {
    match name {
        "gzip" => Compression::Gzip,
        "snappy" => Compression::Snappy,
        "lz4" => Compression::Lz4,
        "zstd" => Compression::Zstd,
        _ => Compression::None,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bootstrap = arg("--bootstrap").ok_or("--bootstrap is required")?;
    let records: usize = arg("--records").map_or(Ok(200_000), |s| s.parse())?;
    let size: usize = arg("--size").map_or(Ok(100), |s| s.parse())?;
    let codec = arg("--compression").unwrap_or_else(|| "none".into());
    let latency: usize = arg("--latency").map_or(Ok(0), |s| s.parse())?;
    let topic = arg("--topic").unwrap_or_else(|| format!("bench-rust-{codec}"));

    if records > 0 {
        let p = Producer::builder()
            .bootstrap_servers([bootstrap.as_str()])
            .compression(compression(&codec))
            .batch_size(arg("--batch-size").map_or(Ok(16_384), |s| s.parse())?)
            .build()
            .await?;
        // A payload of printable bytes that compresses about as well as typical text.
        let payload: Vec<u8> = (0..size)
            .map(|i| b"abcdefghij0123456789 "[i % 21])
            .collect();
        let payload = Bytes::from(payload);
        p.partition_count(&topic).await?;
        let start = Instant::now();
        let mut last = None;
        for _ in 0..records {
            last = Some(
                p.send(ProducerRecord::new(topic.clone(), payload.clone()))
                    .await?,
            );
        }
        p.flush().await?;
        if let Some(l) = last {
            l.get(Duration::from_secs(60)).await?;
        }
        let secs = start.elapsed().as_secs_f64();
        let rps = records as f64 / secs;
        println!(
            "{}",
            serde_json::json!({
                "client": "mockafka-client", "kind": "throughput", "compression": codec,
                "records": records, "size": size, "seconds": secs,
                "records_per_s": rps, "mb_per_s": rps * size as f64 / 1e6,
            })
        );
        p.close().await?;
    }
    if latency > 0 {
        let p = Producer::builder()
            .bootstrap_servers([bootstrap.as_str()])
            .linger(Duration::ZERO)
            .build()
            .await?;
        let topic = format!("{topic}-latency");
        p.partition_count(&topic).await?;
        let payload = Bytes::from(vec![b'x'; size]);
        let mut samples = Vec::with_capacity(latency);
        for _ in 0..latency {
            let t = Instant::now();
            p.send(ProducerRecord::new(topic.clone(), payload.clone()))
                .await?
                .get(Duration::from_secs(60))
                .await?;
            samples.push(t.elapsed());
        }
        samples.sort();
        let pct = |q: f64| {
            let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples[i.min(samples.len() - 1)].as_secs_f64() * 1e6
        };
        println!(
            "{}",
            serde_json::json!({
                "client": "mockafka-client", "kind": "latency", "samples": latency,
                "p50_us": pct(0.5), "p99_us": pct(0.99),
            })
        );
        p.close().await?;
    }
    Ok(())
}
