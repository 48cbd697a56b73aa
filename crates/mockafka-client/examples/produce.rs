//! Produces records with the mockafka client and prints each record's metadata as one JSON
//! line: the cross-client check in `tests/python/test_rust_producer.py` consumes them with
//! kafka-python.
//!
//! ```text
//! cargo run -p mockafka-client --example produce -- \
//!     --bootstrap 127.0.0.1:9092 --topic foobar --count 10 \
//!     [--compression lz4] [--key-prefix k] [--header name=value]... [--json]
//! ```
//! Record `i` has value `value-{i}` (or, with `--json`, `{"i": i}` through the JSON
//! serializer), key `{prefix}{i}` when a prefix is given, and the headers given, in order.

use std::time::Duration;

use bytes::Bytes;
use mockafka_client::serializer::{BytesSerializer, JsonSerializer};
use mockafka_client::{Compression, Producer, ProducerRecord};

#[derive(Debug, Default)]
struct Args {
    bootstrap: String,
    topic: String,
    count: usize,
    compression: Option<String>,
    key_prefix: Option<String>,
    headers: Vec<(String, String)>,
    json: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        count: 1,
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--bootstrap" => a.bootstrap = val()?,
            "--topic" => a.topic = val()?,
            "--count" => a.count = val()?.parse().map_err(|e| format!("--count: {e}"))?,
            "--compression" => a.compression = Some(val()?),
            "--key-prefix" => a.key_prefix = Some(val()?),
            "--header" => {
                let h = val()?;
                let (k, v) = h.split_once('=').ok_or("--header wants name=value")?;
                a.headers.push((k.to_owned(), v.to_owned()));
            }
            "--json" => a.json = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.bootstrap.is_empty() || a.topic.is_empty() {
        return Err("--bootstrap and --topic are required".into());
    }
    Ok(a)
}

fn compression(name: Option<&str>) -> Result<Compression, String> {
    Ok(match name.unwrap_or("none") {
        "none" => Compression::None,
        "gzip" => Compression::Gzip,
        "snappy" => Compression::Snappy,
        "lz4" => Compression::Lz4,
        "zstd" => Compression::Zstd,
        other => return Err(format!("unknown compression {other}")),
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse()?;
    let builder = Producer::builder()
        .bootstrap_servers([args.bootstrap.as_str()])
        .compression(compression(args.compression.as_deref())?)
        .key_serializer(BytesSerializer);
    let mut acks = Vec::new();
    if args.json {
        let p = builder
            .value_serializer(JsonSerializer::<serde_json::Value>::new())
            .build()
            .await?;
        for i in 0..args.count {
            let mut r = ProducerRecord::new(args.topic.clone(), serde_json::json!({ "i": i }));
            r = decorate(r, &args, i);
            acks.push(p.send(r).await?);
        }
        p.flush().await?;
    } else {
        let p = builder.build().await?;
        for i in 0..args.count {
            let mut r = ProducerRecord::new(args.topic.clone(), Bytes::from(format!("value-{i}")));
            r = decorate(r, &args, i);
            acks.push(p.send(r).await?);
        }
        p.flush().await?;
    }
    for a in acks {
        let m = a.get(Duration::from_secs(60)).await?;
        println!(
            "{}",
            serde_json::json!({"topic": m.topic, "partition": m.partition, "offset": m.offset})
        );
    }
    Ok(())
}

fn decorate<V>(mut r: ProducerRecord<Bytes, V>, args: &Args, i: usize) -> ProducerRecord<Bytes, V> {
    if let Some(p) = &args.key_prefix {
        r = r.with_key(Bytes::from(format!("{p}{i}")));
    }
    for (k, v) in &args.headers {
        r = r.with_header(k.clone(), Some(Bytes::from(v.clone())));
    }
    r
}
