//! Cluster configuration: defaults tuned for tests, and the time source.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Kafka's `message.max.bytes` default (1 MiB + record batch overhead).
pub const DEFAULT_MESSAGE_MAX_BYTES: i32 = 1_048_588;

/// Where the cluster reads wall-clock time (log append times, ListOffsets by timestamp).
///
/// Waiting (Fetch `max_wait_ms`) always uses tokio's clock, so tests can pause it.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum TimeSource {
    /// The system clock (the default).
    #[default]
    System,
    /// A clock that moves only when told to; see [`ManualClock`].
    Manual(ManualClock),
}

impl TimeSource {
    /// Milliseconds since the Unix epoch, as Kafka timestamps are.
    pub fn now_ms(&self) -> i64 {
        match self {
            Self::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            Self::Manual(clock) => clock.now_ms(),
        }
    }
}

/// A hand-driven clock shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock reading `start_ms` milliseconds since the Unix epoch.
    pub fn new(start_ms: i64) -> Self {
        Self(Arc::new(AtomicI64::new(start_ms)))
    }

    /// The current reading.
    pub fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Sets the reading.
    pub fn set_ms(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
                Some(v.saturating_add(ms))
            })
            .ok();
    }
}

/// A topic to create when the cluster starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// Topic name.
    pub name: String,
    /// Number of partitions.
    pub partitions: i32,
    /// Topic configs (e.g. `message.timestamp.type` = `LogAppendTime`).
    pub configs: BTreeMap<String, String>,
}

impl TopicSpec {
    /// A topic with `partitions` partitions and default configs.
    pub fn new(name: impl Into<String>, partitions: i32) -> Self {
        Self {
            name: name.into(),
            partitions,
            configs: BTreeMap::new(),
        }
    }

    /// Adds a topic config. Default: none (every config at Kafka's default).
    #[must_use]
    pub fn config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.configs.insert(key.into(), value.into());
        self
    }
}

/// Everything a cluster is started with. Built by [`crate::ClusterBuilder`].
#[derive(Debug, Clone)]
pub(crate) struct ClusterConfig {
    pub(crate) brokers: usize,
    pub(crate) host: String,
    pub(crate) base_port: u16,
    pub(crate) default_partitions: i32,
    pub(crate) auto_create_topics: bool,
    pub(crate) topics: Vec<TopicSpec>,
    pub(crate) message_max_bytes: i32,
    pub(crate) time: TimeSource,
    pub(crate) max_frame_size: usize,
    pub(crate) cluster_id: String,
    pub(crate) groups: crate::group::GroupConfig,
    pub(crate) seed: Option<u64>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            brokers: 3,
            host: "127.0.0.1".to_owned(),
            base_port: 0,
            default_partitions: 1,
            auto_create_topics: true,
            topics: Vec::new(),
            message_max_bytes: DEFAULT_MESSAGE_MAX_BYTES,
            time: TimeSource::System,
            max_frame_size: mockafka_protocol::frame::DEFAULT_MAX_FRAME_SIZE,
            cluster_id: "mockafka-cluster".to_owned(),
            groups: crate::group::GroupConfig::default(),
            seed: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(1_000);
        let time = TimeSource::Manual(clock.clone());
        assert_eq!(time.now_ms(), 1_000);
        clock.advance(Duration::from_millis(250));
        assert_eq!(time.now_ms(), 1_250);
        clock.set_ms(5);
        assert_eq!(time.now_ms(), 5);
    }

    #[test]
    fn system_time_is_after_2020() {
        assert!(TimeSource::System.now_ms() > 1_577_836_800_000);
    }
}
