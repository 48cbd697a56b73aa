//! Consumer throughput and new-group latency against a running cluster; prints one JSON
//! object per measurement. Driven by `crates/mockafka-client/bench/consumer_bench.py`,
//! which starts a mockafka cluster and runs kafka-python on the same data as the
//! reference.
//!
//! ```text
//! cargo run --release -p mockafka-client --example consumer_bench -- \
//!     --bootstrap 127.0.0.1:9092 --topic bench --seed 1000000 --size 100
//! cargo run --release -p mockafka-client --example consumer_bench -- \
//!     --bootstrap 127.0.0.1:9092 --topic bench --records 1000000 [--latency 20]
//! ```
//! `--seed N`: produces N records of `--size` bytes (uncompressed, our producer) and exits.
//! `--records N`: every partition (`--partitions`, default 3) assigned from offset 0 (no
//! group), timed from the
//! consumer's construction to the N-th record.
//! `--latency K`: K new consumers, each in a new group, subscribe and read from the
//! earliest offset; time from construction to the first record, median and p90.

use std::time::{Duration, Instant};

use bytes::Bytes;
use mockafka_client::{Consumer, OffsetReset, Producer, ProducerRecord, TopicPartition};

fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args();
    while let Some(a) = it.next() {
        if a == name {
            return it.next();
        }
    }
    None
}

fn num(name: &str, default: usize) -> Result<usize, Box<dyn std::error::Error>> {
    Ok(match arg(name) {
        Some(v) => v.parse()?,
        None => default,
    })
}

async fn seed(
    bootstrap: &str,
    topic: &str,
    n: usize,
    size: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let p = Producer::builder()
        .bootstrap_servers([bootstrap])
        .linger(Duration::from_millis(5))
        .batch_size(256 * 1024)
        .build()
        .await?;
    let value = Bytes::from(vec![b'x'; size]);
    let mut last = None;
    for _ in 0..n {
        last = Some(p.send(ProducerRecord::new(topic, value.clone())).await?);
    }
    p.flush().await?;
    if let Some(l) = last {
        l.get(Duration::from_secs(60)).await?;
    }
    p.close().await?;
    println!("{}", serde_json::json!({"seeded": n, "size": size}));
    Ok(())
}

async fn throughput(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    n: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let c = Consumer::builder()
        .bootstrap_servers([bootstrap])
        .auto_offset_reset(OffsetReset::Earliest)
        .build()
        .await?;
    let ends: Vec<TopicPartition> = (0..partitions)
        .map(|p| TopicPartition::new(topic, p))
        .collect();
    c.assign(&ends)?;
    let mut got = 0usize;
    let mut bytes = 0usize;
    while got < n {
        for r in c.poll(Duration::from_secs(5)).await? {
            got += 1;
            bytes += r.value.as_ref().map_or(0, |v| v.len());
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "client": "mockafka",
            "records": got,
            "partitions": ends.len(),
            "seconds": secs,
            "records_per_s": got as f64 / secs,
            "mb_per_s": bytes as f64 / secs / 1e6,
        })
    );
    c.close().await?;
    Ok(())
}

async fn latency(bootstrap: &str, topic: &str, k: usize) -> Result<(), Box<dyn std::error::Error>> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let mut samples = Vec::with_capacity(k);
    for i in 0..k {
        let start = Instant::now();
        let c = Consumer::builder()
            .bootstrap_servers([bootstrap])
            .group_id(format!("latency-{nanos}-{i}"))
            .auto_offset_reset(OffsetReset::Earliest)
            .build()
            .await?;
        c.subscribe(&[topic])?;
        let _first = c.recv().await?;
        samples.push(start.elapsed());
        c.close().await?;
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = samples.get(k / 2).copied().unwrap_or_default();
    let p90 = samples.get(k * 9 / 10).copied().unwrap_or_default();
    println!(
        "{}",
        serde_json::json!({
            "client": "mockafka",
            "latency_samples": k,
            "first_record_median_ms": ms(median),
            "first_record_p90_ms": ms(p90),
        })
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bootstrap = arg("--bootstrap").ok_or("--bootstrap is required")?;
    let topic = arg("--topic").unwrap_or_else(|| "bench".into());
    if let Some(n) = arg("--seed") {
        return seed(&bootstrap, &topic, n.parse()?, num("--size", 100)?).await;
    }
    if arg("--records").is_some() {
        let partitions = i32::try_from(num("--partitions", 3)?)?;
        throughput(&bootstrap, &topic, partitions, num("--records", 1_000_000)?).await?;
    }
    if arg("--latency").is_some() {
        latency(&bootstrap, &topic, num("--latency", 20)?).await?;
    }
    Ok(())
}
