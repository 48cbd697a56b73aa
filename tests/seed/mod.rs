//! The seed behaviour suite (shared/SEED_BEHAVIOURS.md), written once.
//!
//! Every behaviour (C1-C6, with each of the four offset-reset scenarios, and P1-P7) is one
//! scenario: an async function over a [`Target`] cluster, a producing client and a
//! consuming client, both behind the small [`SeedClient`] trait. Two clients implement it:
//! - [`rust_client::RustClient`]: the mockafka Rust client, in process;
//! - [`python_client::PythonClient`]: kafka-python, driven through `tests/python/seed_driver.py`
//!   (one JSON request per line on its stdin, one answer per line on its stdout).
//!
//! `tests/e2e/seed.rs` runs every scenario with the Rust client on both sides;
//! `examples/seed.rs` runs any scenario with any pair of clients and codec, and
//! `tests/python/test_seed_behaviours.py` uses it for kafka-python alone and for the
//! cross-client runs (produced by one client, consumed by the other, every codec).
//!
//! Each scenario run owns its cluster (an embedded one on ephemeral ports), or, in
//! conformance mode (`MOCKAFKA_TEST_BOOTSTRAP=host:port,...`), uses that external cluster
//! with topic and group names made unique by a suffix.

// Each user of this module (the e2e test binary, the seed example) uses a different part.
#![allow(dead_code)]

pub(crate) mod python_client;
pub(crate) mod rust_client;
mod scenarios;

use std::collections::BTreeSet;
use std::time::Duration;

use mockafka::client::admin::{Admin, NewTopic, OffsetSpec};
use mockafka::client::TopicPartition;
use mockafka::cluster::Cluster;
use serde::{Deserialize, Serialize};

pub(crate) use scenarios::{run, Behaviour};

/// What scenarios return.
pub(crate) type Res<T> = Result<T, Box<dyn std::error::Error + std::marker::Send + Sync>>;

/// How long any scenario waits for anything.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// A key or value as the application sees it, before serialization or after
/// deserialization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Payload {
    /// Raw bytes (no serializer).
    Bytes(Vec<u8>),
    /// A string (`str.encode` / `StringSerializer`).
    Text(String),
    /// A structured value (JSON or MessagePack, by the format).
    Json(serde_json::Value),
}

impl Payload {
    pub(crate) fn bytes(b: impl AsRef<[u8]>) -> Payload {
        Payload::Bytes(b.as_ref().to_vec())
    }
}

/// A serializer / deserializer choice, the same for both clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    /// No serializer: bytes in, bytes out.
    #[default]
    Bytes,
    /// UTF-8 strings (`str.encode`, `bytes.decode`).
    Str,
    /// JSON (`json.dumps(v).encode()`, `json.loads`).
    Json,
    /// MessagePack (`msgpack.dumps`, `msgpack.loads`).
    MsgPack,
}

/// A compression codec (P6), the same names as kafka-python's `compression_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Codec {
    /// No compression.
    #[default]
    None,
    /// gzip.
    Gzip,
    /// snappy.
    Snappy,
    /// lz4.
    Lz4,
    /// zstd.
    Zstd,
}

impl Codec {
    pub(crate) const ALL: [Codec; 5] = [
        Codec::None,
        Codec::Gzip,
        Codec::Snappy,
        Codec::Lz4,
        Codec::Zstd,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Gzip => "gzip",
            Codec::Snappy => "snappy",
            Codec::Lz4 => "lz4",
            Codec::Zstd => "zstd",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Codec> {
        Codec::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// `auto_offset_reset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Reset {
    /// The log start offset.
    Earliest,
    /// The log end offset: Kafka's default.
    #[default]
    Latest,
    /// No reset: an error.
    None,
}

/// How a producer is configured.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct ProducerCfg {
    pub(crate) codec: Codec,
    pub(crate) key_format: Format,
    pub(crate) value_format: Format,
    /// `linger_ms`; the client's default when `None`.
    pub(crate) linger_ms: Option<u64>,
}

/// How a consumer is configured. Scenarios turn auto commit off unless they test it.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct ConsumerCfg {
    pub(crate) group: Option<String>,
    pub(crate) reset: Reset,
    pub(crate) auto_commit: bool,
    /// `consumer_timeout_ms`: iteration ends after this long without a record.
    pub(crate) consumer_timeout_ms: Option<u64>,
    pub(crate) key_format: Format,
    pub(crate) value_format: Format,
    pub(crate) max_poll_records: Option<usize>,
    /// How often topic metadata (and so a pattern subscription) is refreshed.
    pub(crate) metadata_max_age_ms: Option<u64>,
}

/// A record to send.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Send {
    pub(crate) topic: String,
    pub(crate) partition: Option<i32>,
    pub(crate) key: Option<Payload>,
    pub(crate) value: Option<Payload>,
    pub(crate) headers: Vec<(String, Option<Vec<u8>>)>,
}

impl Send {
    pub(crate) fn new(topic: &str, value: Payload) -> Send {
        Send {
            topic: topic.to_string(),
            partition: None,
            key: None,
            value: Some(value),
            headers: Vec::new(),
        }
    }
    pub(crate) fn key(mut self, key: Payload) -> Send {
        self.key = Some(key);
        self
    }
    pub(crate) fn partition(mut self, p: i32) -> Send {
        self.partition = Some(p);
        self
    }
    pub(crate) fn header(mut self, k: &str, v: &[u8]) -> Send {
        self.headers.push((k.to_string(), Some(v.to_vec())));
        self
    }
}

/// What a send's acknowledgement says (P2).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Meta {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
}

/// A consumed record, as the tutorial prints it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Got {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) timestamp: i64,
    pub(crate) key: Option<Payload>,
    pub(crate) value: Option<Payload>,
    pub(crate) headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Why a consumer could not read a partition under reset policy `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ResetError {
    /// No committed offset (kafka-python: `NoOffsetForPartitionError`).
    NoOffset,
    /// The position is outside the log (`OffsetOutOfRangeError`).
    OutOfRange,
}

/// The handle a send returns.
pub(crate) type SendId = u64;

/// A client under test: makes producers and consumers.
pub(crate) trait SeedClient {
    type Producer: SeedProducer;
    type Consumer: SeedConsumer;
    /// The client's name in messages ("rust", "python").
    fn name(&self) -> &'static str;
    async fn producer(&self, bootstrap: &str, cfg: &ProducerCfg) -> Res<Self::Producer>;
    async fn consumer(&self, bootstrap: &str, cfg: &ConsumerCfg) -> Res<Self::Consumer>;
}

/// `KafkaProducer`.
pub(crate) trait SeedProducer {
    /// `producer.send(...)`: returns at once.
    async fn send(&mut self, record: &Send) -> Res<SendId>;
    /// `future.get(timeout=...)`.
    async fn get(&mut self, id: SendId, timeout: Duration) -> Res<Meta>;
    /// The send's outcome if it is already known, without waiting.
    async fn try_get(&mut self, id: SendId) -> Res<Option<Meta>>;
    /// `producer.flush()`.
    async fn flush(&mut self) -> Res<()>;
    /// `producer.close()`.
    async fn close(self) -> Res<()>;
}

/// `KafkaConsumer`.
pub(crate) trait SeedConsumer {
    async fn subscribe(&mut self, topics: &[&str]) -> Res<()>;
    async fn subscribe_pattern(&mut self, pattern: &str) -> Res<()>;
    async fn assign(&mut self, partitions: &[(&str, i32)]) -> Res<()>;
    /// `consumer.poll(timeout_ms)`, flattened; `Err(ResetError)` for a reset failure.
    async fn poll(&mut self, timeout: Duration) -> Res<Result<Vec<Got>, ResetError>>;
    /// `for msg in consumer: ...`, to the end (the consumer timeout).
    async fn iterate(&mut self) -> Res<Vec<Got>>;
    /// `consumer.commit()`: the consumed positions.
    async fn commit(&mut self) -> Res<()>;
    /// `consumer.commit({tp: OffsetAndMetadata(offset, ...)})`.
    async fn commit_offsets(&mut self, offsets: &[(&str, i32, i64)]) -> Res<()>;
    async fn committed(&mut self, topic: &str, partition: i32) -> Res<Option<i64>>;
    async fn position(&mut self, topic: &str, partition: i32) -> Res<i64>;
    async fn assignment(&mut self) -> Res<BTreeSet<(String, i32)>>;
    async fn seek(&mut self, topic: &str, partition: i32, offset: i64) -> Res<()>;
    async fn close(self) -> Res<()>;
}

/// The cluster a scenario runs against.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The embedded cluster, `None` in conformance mode.
    pub(crate) cluster: Option<Cluster>,
    pub(crate) bootstrap: String,
    suffix: String,
}

impl Target {
    /// A new embedded 3-broker cluster (like the tutorial's) on ephemeral ports, or the
    /// external cluster named by `MOCKAFKA_TEST_BOOTSTRAP`.
    pub(crate) async fn start() -> Res<Target> {
        if let Ok(b) = std::env::var("MOCKAFKA_TEST_BOOTSTRAP") {
            if !b.trim().is_empty() {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)?
                    .as_nanos();
                return Ok(Target {
                    cluster: None,
                    bootstrap: b,
                    suffix: format!("-{nanos}"),
                });
            }
        }
        let cluster = Cluster::builder().brokers(3).start().await?;
        Ok(Target {
            bootstrap: cluster.bootstrap_servers(),
            cluster: Some(cluster),
            suffix: String::new(),
        })
    }

    /// `base`, made unique in conformance mode (topics and groups).
    pub(crate) fn name(&self, base: &str) -> String {
        format!("{base}{}", self.suffix)
    }

    async fn admin(&self) -> Res<Admin> {
        Ok(Admin::builder()
            .bootstrap_servers([self.bootstrap.as_str()])
            .build()
            .await?)
    }

    pub(crate) async fn create_topic(&self, name: &str, partitions: i32) -> Res<()> {
        self.admin()
            .await?
            .create_topics(&[NewTopic::new(name, partitions)])
            .await?;
        Ok(())
    }

    /// The log end offset (high watermark) of a partition.
    pub(crate) async fn end_offset(&self, topic: &str, partition: i32) -> Res<i64> {
        let tp = TopicPartition::new(topic, partition);
        let r = self
            .admin()
            .await?
            .list_offsets(&[(tp.clone(), OffsetSpec::Latest)])
            .await?;
        Ok(r[&tp].offset)
    }

    /// DeleteRecords: moves the log start offset to `before`.
    pub(crate) async fn delete_records(&self, topic: &str, partition: i32, before: i64) -> Res<()> {
        self.admin()
            .await?
            .delete_records(&[(TopicPartition::new(topic, partition), before)])
            .await?;
        Ok(())
    }

    /// A group's state and member count, as DescribeGroups reports them.
    pub(crate) async fn group(&self, group: &str) -> Res<(String, usize)> {
        let d = self.admin().await?.describe_groups(&[group]).await?;
        let g = d.into_iter().next().ok_or("no group described")?;
        Ok((g.state, g.members.len()))
    }
}

/// Waits for `cond` with a deadline, polling the consumer (which drives its group
/// protocol); returns the records those polls returned.
pub(crate) async fn poll_until<C: SeedConsumer>(
    c: &mut C,
    what: &str,
    mut cond: impl FnMut(&[Got], &BTreeSet<(String, i32)>) -> bool,
) -> Res<Vec<Got>> {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut out = Vec::new();
    loop {
        let assignment = c.assignment().await?;
        if cond(&out, &assignment) {
            return Ok(out);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}: {} records", out.len()).into());
        }
        match c.poll(Duration::from_millis(500)).await? {
            Ok(recs) => out.extend(recs),
            Err(e) => return Err(format!("{e:?} while waiting for {what}").into()),
        }
    }
}

/// Polls until `n` records arrived.
pub(crate) async fn consume_n<C: SeedConsumer>(c: &mut C, n: usize) -> Res<Vec<Got>> {
    poll_until(c, &format!("{n} records"), |got, _| got.len() >= n).await
}

/// Offsets of records, in order.
pub(crate) fn offsets(got: &[Got]) -> Vec<i64> {
    got.iter().map(|g| g.offset).collect()
}

/// Produces `m{i}` (key `k{i}`) for `i` in `range` to `topic` (partition `partition` or
/// by key), waits for every ack, and returns the metadata.
pub(crate) async fn produce_range<P: SeedClient>(
    p: &P,
    target: &Target,
    codec: Codec,
    topic: &str,
    partition: Option<i32>,
    range: std::ops::Range<usize>,
) -> Res<Vec<Meta>> {
    let cfg = ProducerCfg {
        codec,
        linger_ms: Some(5),
        ..ProducerCfg::default()
    };
    let mut producer = p.producer(&target.bootstrap, &cfg).await?;
    let mut ids = Vec::new();
    for i in range {
        let mut s =
            Send::new(topic, Payload::bytes(format!("m{i}"))).key(Payload::bytes(format!("k{i}")));
        if let Some(part) = partition {
            s = s.partition(part);
        }
        ids.push(producer.send(&s).await?);
    }
    let mut metas = Vec::new();
    for id in ids {
        metas.push(producer.get(id, WAIT).await?);
    }
    producer.close().await?;
    Ok(metas)
}
