//! Consumes records with the mockafka consumer and prints one JSON line per record (and,
//! with `--print-assignment`, one per assignment change, followed with `--print-positions`
//! by each assigned partition's position): the cross-client checks in
//! `tests/python/test_rust_consumer.py` drive it against records kafka-python produced,
//! and in groups shared with kafka-python consumers.
//!
//! ```text
//! cargo run -p mockafka-client --example consume -- \
//!     --bootstrap 127.0.0.1:9092 --topic first [--topic other | --pattern '^my.*'] \
//!     [--group g] [--reset earliest|latest|none] [--assign 0,2] [--count N] \
//!     [--timeout-ms 5000] [--msgpack] [--commit] [--strategy range|roundrobin|cooperative-sticky] \
//!     [--print-assignment [--print-positions]] [--until-stdin-closes]
//! ```
//! It stops after `--count` records (default: no limit), after `--timeout-ms` without a
//! record (the consumer timeout, default 5000), or, with `--until-stdin-closes`, when its
//! standard input closes. It then commits (with `--commit`: exactly the records printed,
//! auto commit off) and closes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use mockafka_client::deserializer::{BytesDeserializer, Deserializer, MsgPackDeserializer};
use mockafka_client::{AssignmentStrategy, Consumer, OffsetReset, TimestampType, TopicPartition};

#[derive(Debug, Default)]
struct Args {
    bootstrap: String,
    topics: Vec<String>,
    pattern: Option<String>,
    group: Option<String>,
    reset: Option<String>,
    assign: Option<Vec<i32>>,
    count: Option<usize>,
    timeout_ms: u64,
    msgpack: bool,
    commit: bool,
    strategy: Option<String>,
    print_assignment: bool,
    print_positions: bool,
    until_stdin_closes: bool,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        timeout_ms: 5000,
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--bootstrap" => a.bootstrap = val()?,
            "--topic" => a.topics.push(val()?),
            "--pattern" => a.pattern = Some(val()?),
            "--group" => a.group = Some(val()?),
            "--reset" => a.reset = Some(val()?),
            "--assign" => {
                let v = val()?;
                let parts = v
                    .split(',')
                    .map(|p| {
                        p.trim()
                            .parse::<i32>()
                            .map_err(|e| format!("--assign: {e}"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                a.assign = Some(parts);
            }
            "--count" => a.count = Some(val()?.parse().map_err(|e| format!("--count: {e}"))?),
            "--timeout-ms" => {
                a.timeout_ms = val()?.parse().map_err(|e| format!("--timeout-ms: {e}"))?
            }
            "--msgpack" => a.msgpack = true,
            "--commit" => a.commit = true,
            "--strategy" => a.strategy = Some(val()?),
            "--print-assignment" => a.print_assignment = true,
            "--print-positions" => a.print_positions = true,
            "--until-stdin-closes" => a.until_stdin_closes = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.bootstrap.is_empty() || (a.topics.is_empty() && a.pattern.is_none()) {
        return Err("--bootstrap and --topic (or --pattern) are required".into());
    }
    Ok(a)
}

/// Value decoding: raw bytes shown as UTF-8, or MessagePack shown as JSON.
enum Values {
    Raw(BytesDeserializer),
    MsgPack(MsgPackDeserializer<serde_json::Value>),
}

fn text(b: &Bytes) -> serde_json::Value {
    serde_json::Value::String(String::from_utf8_lossy(b).into_owned())
}

fn show(values: &Values, topic: &str, v: Option<Bytes>) -> Result<serde_json::Value, String> {
    let Some(v) = v else {
        return Ok(serde_json::Value::Null);
    };
    match values {
        Values::Raw(_) => Ok(text(&v)),
        Values::MsgPack(d) => d.deserialize(topic, v).map_err(|e| e.to_string()),
    }
}

async fn run(a: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut b = Consumer::builder()
        .bootstrap_servers(a.bootstrap.split(','))
        .heartbeat_interval(Duration::from_millis(100))
        .fetch_max_wait(Duration::from_millis(100))
        .client_id("mockafka-consume-example");
    if let Some(g) = &a.group {
        b = b.group_id(g);
    }
    b = b.auto_offset_reset(match a.reset.as_deref() {
        Some("earliest") => OffsetReset::Earliest,
        Some("none") => OffsetReset::None,
        Some("latest") | None => OffsetReset::Latest,
        Some(other) => return Err(format!("unknown reset {other}").into()),
    });
    if let Some(s) = &a.strategy {
        let s = AssignmentStrategy::from_name(s).ok_or(format!("unknown strategy {s}"))?;
        b = b.assignment_strategies(&[s]);
    }
    // With --commit the example commits exactly what it printed (auto commit would commit
    // the positions, which may be past the last printed record when --count cut a batch).
    b = b.enable_auto_commit(!a.commit);
    if let Some(n) = a.count {
        b = b.max_poll_records(n.clamp(1, 500));
    }
    // Metadata refreshes often, so that pattern subscriptions see new topics quickly.
    b = b.metadata_max_age(Duration::from_millis(500));
    let consumer = b.build().await?;
    let values = if a.msgpack {
        Values::MsgPack(MsgPackDeserializer::new())
    } else {
        Values::Raw(BytesDeserializer)
    };
    match (&a.assign, &a.pattern) {
        (Some(parts), _) => {
            let tps: Vec<TopicPartition> = a
                .topics
                .iter()
                .flat_map(|t| {
                    parts
                        .iter()
                        .map(move |p| TopicPartition::new(t.clone(), *p))
                })
                .collect();
            consumer.assign(&tps)?;
        }
        (None, Some(p)) => consumer.subscribe_pattern(p)?,
        (None, None) => {
            let ts: Vec<&str> = a.topics.iter().map(String::as_str).collect();
            consumer.subscribe(&ts)?;
        }
    }
    let stdin_closed = tokio::sync::Notify::new();
    let closed = std::sync::Arc::new(stdin_closed);
    if a.until_stdin_closes {
        let c = closed.clone();
        std::thread::spawn(move || {
            let mut sink = String::new();
            while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
            c.notify_one();
        });
    }
    let mut out = std::io::stdout().lock();
    let mut seen = 0usize;
    let mut last_assignment: BTreeSet<TopicPartition> = BTreeSet::new();
    let mut idle = Duration::ZERO;
    let mut printed: BTreeMap<TopicPartition, i64> = BTreeMap::new();
    let step = Duration::from_millis(100);
    loop {
        if a.count.is_some_and(|n| seen >= n) {
            break;
        }
        let batch = tokio::select! {
            r = consumer.poll(step) => r?,
            _ = closed.notified() => break,
        };
        if a.print_assignment {
            let now = consumer.assignment();
            if now != last_assignment {
                let parts: Vec<serde_json::Value> = now
                    .iter()
                    .map(|tp| serde_json::json!([tp.topic, tp.partition]))
                    .collect();
                writeln!(out, "{}", serde_json::json!({ "assignment": parts }))?;
                if a.print_positions {
                    for tp in &now {
                        let pos = consumer.position(tp).await?;
                        let line = serde_json::json!({ "position": [tp.topic, tp.partition, pos] });
                        writeln!(out, "{line}")?;
                    }
                }
                out.flush()?;
                last_assignment = now;
            }
        }
        if batch.is_empty() {
            idle += step;
            if !a.until_stdin_closes && idle >= Duration::from_millis(a.timeout_ms) {
                break;
            }
            continue;
        }
        idle = Duration::ZERO;
        for r in batch {
            if a.count.is_some_and(|n| seen >= n) {
                break;
            }
            printed.insert(
                TopicPartition::new(r.topic.clone(), r.partition),
                r.offset + 1,
            );
            let headers: Vec<serde_json::Value> = r
                .headers
                .iter()
                .map(|h| serde_json::json!([h.key, h.value.as_ref().map(text)]))
                .collect();
            let line = serde_json::json!({
                "topic": r.topic,
                "partition": r.partition,
                "offset": r.offset,
                "timestamp": r.timestamp,
                "timestamp_type": match r.timestamp_type {
                    TimestampType::LogAppendTime => "log_append_time",
                    _ => "create_time",
                },
                "key": r.key.as_ref().map(text),
                "value": show(&values, &r.topic, r.value.clone())?,
                "headers": headers,
            });
            writeln!(out, "{line}")?;
            seen += 1;
        }
        out.flush()?;
    }
    if a.commit {
        consumer.commit_offsets(&printed).await?;
    }
    consumer.close().await?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("consume: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(args).await {
        eprintln!("consume: {e}");
        std::process::exit(1);
    }
}
