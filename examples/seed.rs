//! Runs seed behaviours (shared/SEED_BEHAVIOURS.md) with a chosen producing and consuming
//! client: the mockafka Rust client (`rust`) or kafka-python (`python`, through
//! `tests/python/seed_driver.py` and the interpreter in `MOCKAFKA_PYTHON`).
//!
//! ```text
//! cargo run --example seed -- [--producer rust|python] [--consumer rust|python]
//!     [--codec none|gzip|snappy|lz4|zstd] [--list] [BEHAVIOUR ...]
//! ```
//!
//! With no behaviour named, runs them all, concurrently, each on its own embedded cluster
//! (or the external cluster of `MOCKAFKA_TEST_BOOTSTRAP`). Prints one JSON line per
//! behaviour (`{"behaviour": id, "ok": bool, "error": ..., "ms": ...}`) and exits 1 if
//! any failed. `tests/python/test_seed_behaviours.py` drives it.

#[path = "../tests/seed/mod.rs"]
mod layer;

use std::time::Instant;

use layer::python_client::PythonClient;
use layer::rust_client::RustClient;
use layer::{Behaviour, Codec, Res, Target};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Rust,
    Python,
}

fn side(s: &str) -> Result<Side, String> {
    match s {
        "rust" => Ok(Side::Rust),
        "python" => Ok(Side::Python),
        other => Err(format!("unknown client {other} (rust or python)")),
    }
}

async fn one(b: Behaviour, producer: Side, consumer: Side, codec: Codec) -> Res<()> {
    let target = Target::start().await?;
    match (producer, consumer) {
        (Side::Rust, Side::Rust) => layer::run(b, &target, &RustClient, &RustClient, codec).await,
        (Side::Rust, Side::Python) => {
            let c = PythonClient::start().await?;
            layer::run(b, &target, &RustClient, &c, codec).await
        }
        (Side::Python, Side::Rust) => {
            let p = PythonClient::start().await?;
            layer::run(b, &target, &p, &RustClient, codec).await
        }
        (Side::Python, Side::Python) => {
            let (p, c) = (PythonClient::start().await?, PythonClient::start().await?);
            layer::run(b, &target, &p, &c, codec).await
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut producer = Side::Rust;
    let mut consumer = Side::Rust;
    let mut codec = Codec::None;
    let mut chosen = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--producer" => producer = side(&args.next().unwrap_or_default())?,
            "--consumer" => consumer = side(&args.next().unwrap_or_default())?,
            "--codec" => {
                let c = args.next().unwrap_or_default();
                codec = Codec::parse(&c).ok_or_else(|| format!("unknown codec {c}"))?;
            }
            "--list" => {
                for b in Behaviour::ALL {
                    println!("{}", b.id());
                }
                return Ok(());
            }
            id => chosen.push(Behaviour::parse(id).ok_or_else(|| format!("no behaviour {id}"))?),
        }
    }
    if chosen.is_empty() {
        chosen = Behaviour::ALL.to_vec();
    }
    let runs: Vec<_> = chosen
        .into_iter()
        .map(|b| {
            tokio::spawn(async move {
                let started = Instant::now();
                let r = one(b, producer, consumer, codec).await;
                (b, r.map_err(|e| e.to_string()), started.elapsed())
            })
        })
        .collect();
    let mut failed = 0;
    for run in runs {
        let (b, r, took) = run.await?;
        failed += usize::from(r.is_err());
        let line = serde_json::json!({
            "behaviour": b.id(),
            "producer": format!("{producer:?}").to_lowercase(),
            "consumer": format!("{consumer:?}").to_lowercase(),
            "codec": codec.name(),
            "ok": r.is_ok(),
            "error": r.err(),
            "ms": took.as_millis() as u64,
        });
        println!("{line}");
    }
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
