//! End-to-end tests: the mockafka client against an embedded mockafka cluster, checked
//! through the cluster's inspection API.
//!
//! Conformance mode: when `MOCKAFKA_TEST_BOOTSTRAP` names an external cluster
//! (`host:port[,host:port...]`), the client tests run against it instead. Topic names then
//! get a unique suffix, stored records are checked through the admin client's offsets
//! (there is no inspection API), and tests that need to stop brokers or move leaders are
//! skipped with a message. The few tests that need a specially configured cluster (a small
//! `message.max.bytes`, auto-creation off) always start an embedded one.

mod admin;
mod consumer;
mod faults;
mod offset_logic_props;
mod offset_reset_props;
mod producer;
mod resilience;
mod seed;

use std::time::Duration;

use mockafka::client::admin::{Admin, NewTopic, OffsetSpec};
use mockafka::client::TopicPartition;
use mockafka::cluster::{Cluster, RecordView};

/// What every test returns.
pub(crate) type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The cluster a test runs against.
pub(crate) struct Env {
    /// The embedded cluster, or `None` in conformance mode.
    pub(crate) cluster: Option<Cluster>,
    pub(crate) bootstrap: String,
    suffix: String,
}

impl Env {
    /// An embedded cluster of `brokers` brokers, or the external one.
    pub(crate) async fn start(brokers: usize) -> Result<Env, Box<dyn std::error::Error>> {
        if let Ok(b) = std::env::var("MOCKAFKA_TEST_BOOTSTRAP") {
            if !b.trim().is_empty() {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)?
                    .as_nanos();
                return Ok(Env {
                    cluster: None,
                    bootstrap: b,
                    suffix: format!("-{nanos}"),
                });
            }
        }
        let cluster = Cluster::builder().brokers(brokers).start().await?;
        Ok(Env {
            bootstrap: cluster.bootstrap_servers(),
            cluster: Some(cluster),
            suffix: String::new(),
        })
    }

    /// The name to use for `base` (unique per run against an external cluster).
    pub(crate) fn topic(&self, base: &str) -> String {
        format!("{base}{}", self.suffix)
    }

    pub(crate) async fn admin(&self) -> Result<Admin, mockafka::client::ClientError> {
        Admin::builder()
            .bootstrap_servers([self.bootstrap.as_str()])
            .build()
            .await
    }

    /// Creates a topic through the admin client.
    pub(crate) async fn create_topic(
        &self,
        name: &str,
        partitions: i32,
    ) -> Result<(), Box<dyn std::error::Error>> {
        self.admin()
            .await?
            .create_topics(&[NewTopic::new(name, partitions)])
            .await?;
        Ok(())
    }

    /// The stored records of a partition, when the cluster is embedded.
    pub(crate) fn records(&self, topic: &str, partition: i32) -> Option<Vec<RecordView>> {
        let c = self.cluster.as_ref()?;
        Some(c.records(topic, partition).unwrap_or_default())
    }

    /// The log end offset of a partition, through ListOffsets (works in both modes).
    pub(crate) async fn end_offset(
        &self,
        topic: &str,
        partition: i32,
    ) -> Result<i64, Box<dyn std::error::Error>> {
        let tp = TopicPartition::new(topic, partition);
        let r = self
            .admin()
            .await?
            .list_offsets(&[(tp.clone(), OffsetSpec::Latest)])
            .await?;
        Ok(r[&tp].offset)
    }

    /// The embedded cluster, or `None` with a message saying the test is skipped.
    pub(crate) fn embedded(&self, test: &str) -> Option<&Cluster> {
        if self.cluster.is_none() {
            eprintln!("{test}: skipped against an external cluster (needs fault injection)");
        }
        self.cluster.as_ref()
    }
}

/// How long a test waits for anything.
pub(crate) const WAIT: Duration = Duration::from_secs(30);
