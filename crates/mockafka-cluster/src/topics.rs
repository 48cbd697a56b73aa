//! The topic registry: topics, their configs, their partitions and who leads each.
//!
//! Every broker holds a copy of every partition (replicas = all brokers, in sync at once),
//! so a partition whose leader stops fails over to a live broker without losing data.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use kafka_protocol::ResponseError;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::log::partition::PartitionLog;
use crate::log::producer::ProducerStates;

/// Kafka's longest legal topic name.
const MAX_TOPIC_NAME_LEN: usize = 249;

/// Kafka's per-topic configs and their defaults (`max.message.bytes` defaults to the
/// broker's `message.max.bytes` instead). Only `max.message.bytes` and
/// `message.timestamp.type` change behaviour; the rest are stored and described.
pub(crate) const TOPIC_CONFIG_DEFAULTS: &[(&str, &str)] = &[
    ("cleanup.policy", "delete"),
    ("compression.type", "producer"),
    ("delete.retention.ms", "86400000"),
    ("file.delete.delay.ms", "60000"),
    ("flush.messages", "9223372036854775807"),
    ("flush.ms", "9223372036854775807"),
    ("index.interval.bytes", "4096"),
    ("max.compaction.lag.ms", "9223372036854775807"),
    ("max.message.bytes", "1048588"),
    ("message.timestamp.after.max.ms", "9223372036854775807"),
    ("message.timestamp.before.max.ms", "9223372036854775807"),
    ("message.timestamp.type", "CreateTime"),
    ("min.cleanable.dirty.ratio", "0.5"),
    ("min.compaction.lag.ms", "0"),
    ("min.insync.replicas", "1"),
    ("preallocate", "false"),
    ("retention.bytes", "-1"),
    ("retention.ms", "604800000"),
    ("segment.bytes", "1073741824"),
    ("segment.index.bytes", "10485760"),
    ("segment.jitter.ms", "0"),
    ("segment.ms", "604800000"),
    ("unclean.leader.election.enable", "false"),
];

/// Checks a topic name as Kafka's `Topic.validate` does.
///
/// # Errors
/// INVALID_TOPIC_EXCEPTION.
pub(crate) fn validate_topic_name(name: &str) -> Result<(), ResponseError> {
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.len() > MAX_TOPIC_NAME_LEN
        || !name.chars().all(legal)
    {
        return Err(ResponseError::InvalidTopicException);
    }
    Ok(())
}

/// Checks one topic config name and value.
///
/// # Errors
/// INVALID_CONFIG for an unknown name or a value of the wrong kind.
pub(crate) fn validate_topic_config(name: &str, value: &str) -> Result<(), ResponseError> {
    let known = TOPIC_CONFIG_DEFAULTS.iter().any(|(n, _)| *n == name);
    if !known {
        return Err(ResponseError::InvalidConfig);
    }
    let ok = match name {
        "message.timestamp.type" => matches!(value, "CreateTime" | "LogAppendTime"),
        "cleanup.policy" => value
            .split(',')
            .all(|p| matches!(p.trim(), "delete" | "compact")),
        "compression.type" => matches!(
            value,
            "producer" | "uncompressed" | "gzip" | "snappy" | "lz4" | "zstd"
        ),
        "max.message.bytes" => value.parse::<i32>().is_ok_and(|v| v >= 0),
        "min.insync.replicas" => value.parse::<i32>().is_ok_and(|v| v >= 1),
        "preallocate" | "unclean.leader.election.enable" => matches!(value, "true" | "false"),
        "min.cleanable.dirty.ratio" => value.parse::<f64>().is_ok_and(|v| (0.0..=1.0).contains(&v)),
        _ => value.parse::<i64>().is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(ResponseError::InvalidConfig)
    }
}

/// A partition: its mutable state behind one small lock, and the wake-up for fetches.
#[derive(Debug)]
pub(crate) struct Partition {
    pub(crate) topic: Arc<str>,
    pub(crate) index: i32,
    /// Guards leader, leader epoch, log and producer state. Never held across `.await`.
    state: Mutex<PartitionState>,
    /// Woken (`notify_waiters`) on every append, leader change, record deletion and topic
    /// deletion. Long-poll fetches create a `notified()` future before reading, then await
    /// it under `tokio::time::timeout`.
    pub(crate) changed: Notify,
}

impl Partition {
    /// Locks the partition state. A poisoned lock (a panic elsewhere) is taken over: the
    /// state is always left consistent between statements that could panic.
    pub(crate) fn lock(&self) -> MutexGuard<'_, PartitionState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The mutable state of a partition.
#[derive(Debug)]
pub(crate) struct PartitionState {
    /// The leader's broker id, or -1 when no broker is live.
    pub(crate) leader: i32,
    /// The leader chosen at creation: first in the replica list.
    pub(crate) preferred_leader: i32,
    pub(crate) leader_epoch: i32,
    pub(crate) log: PartitionLog,
    pub(crate) producers: ProducerStates,
    /// Set when the topic is deleted; fetches holding the partition then see
    /// UNKNOWN_TOPIC_OR_PARTITION.
    pub(crate) deleted: bool,
}

impl PartitionState {
    /// Makes `leader` the leader with the next leader epoch.
    pub(crate) fn elect(&mut self, leader: i32) {
        self.leader = leader;
        self.leader_epoch = self.leader_epoch.saturating_add(1);
        self.log.begin_epoch(self.leader_epoch);
    }

    /// Checks a request's `current_leader_epoch` as Kafka does (-1 skips the check).
    ///
    /// # Errors
    /// FENCED_LEADER_EPOCH when the request's epoch is older, UNKNOWN_LEADER_EPOCH when
    /// newer.
    pub(crate) fn check_leader_epoch(&self, current: i32) -> Result<(), ResponseError> {
        if current == -1 || current == self.leader_epoch {
            Ok(())
        } else if current < self.leader_epoch {
            Err(ResponseError::FencedLeaderEpoch)
        } else {
            Err(ResponseError::UnknownLeaderEpoch)
        }
    }
}

/// How a topic sets record timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimestampKind {
    CreateTime,
    LogAppendTime,
}

/// A topic.
#[derive(Debug)]
pub(crate) struct Topic {
    pub(crate) name: Arc<str>,
    pub(crate) id: Uuid,
    pub(crate) partitions: Vec<Arc<Partition>>,
    /// Configs set explicitly; everything else is at its default.
    pub(crate) configs: BTreeMap<String, String>,
}

impl Topic {
    pub(crate) fn timestamp_kind(&self) -> TimestampKind {
        match self
            .configs
            .get("message.timestamp.type")
            .map(String::as_str)
        {
            Some("LogAppendTime") => TimestampKind::LogAppendTime,
            _ => TimestampKind::CreateTime,
        }
    }

    pub(crate) fn max_message_bytes(&self, broker_default: i32) -> i32 {
        self.configs
            .get("max.message.bytes")
            .and_then(|v| v.parse().ok())
            .unwrap_or(broker_default)
    }

    pub(crate) fn partition(&self, index: i32) -> Option<&Arc<Partition>> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.partitions.get(i))
    }
}

/// All topics.
#[derive(Debug, Default)]
pub(crate) struct Topics {
    by_name: BTreeMap<String, Topic>,
    topics_created: usize,
    ids: crate::seed::IdHasher,
}

fn new_partition(topic: &Arc<str>, index: i32, leader: i32) -> Arc<Partition> {
    Arc::new(Partition {
        topic: Arc::clone(topic),
        index,
        state: Mutex::new(PartitionState {
            leader,
            preferred_leader: leader,
            leader_epoch: 0,
            log: PartitionLog::new(0),
            producers: ProducerStates::default(),
            deleted: false,
        }),
        changed: Notify::new(),
    })
}

/// The leader for partition `index` of a topic whose leaders start at `start`.
fn round_robin(live: &[i32], start: usize, index: i32) -> i32 {
    if live.is_empty() {
        return -1;
    }
    let i = usize::try_from(index).unwrap_or(0);
    live.get(start.wrapping_add(i) % live.len())
        .copied()
        .unwrap_or(-1)
}

impl Topics {
    pub(crate) fn get(&self, name: &str) -> Option<&Topic> {
        self.by_name.get(name)
    }

    pub(crate) fn by_id(&self, id: Uuid) -> Option<&Topic> {
        self.by_name.values().find(|t| t.id == id)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Topic> {
        self.by_name.values()
    }

    /// The partition, or UNKNOWN_TOPIC_OR_PARTITION.
    ///
    /// # Errors
    /// UNKNOWN_TOPIC_OR_PARTITION.
    pub(crate) fn partition(
        &self,
        topic: &str,
        index: i32,
    ) -> Result<Arc<Partition>, ResponseError> {
        self.get(topic)
            .and_then(|t| t.partition(index))
            .cloned()
            .ok_or(ResponseError::UnknownTopicOrPartition)
    }

    /// Checks that a topic could be created; `validate_only` callers stop here.
    ///
    /// # Errors
    /// INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_CONFIG.
    pub(crate) fn check_create(
        &self,
        name: &str,
        partitions: i32,
        configs: &BTreeMap<String, String>,
    ) -> Result<(), ResponseError> {
        validate_topic_name(name)?;
        if self.by_name.contains_key(name) {
            return Err(ResponseError::TopicAlreadyExists);
        }
        if partitions <= 0 {
            return Err(ResponseError::InvalidPartitions);
        }
        for (k, v) in configs {
            validate_topic_config(k, v)?;
        }
        Ok(())
    }

    /// Creates a topic with leaders spread round-robin over `live` brokers, the first
    /// partition of each new topic on the next broker in turn.
    ///
    /// # Errors
    /// As [`Self::check_create`].
    pub(crate) fn create(
        &mut self,
        name: &str,
        partitions: i32,
        configs: BTreeMap<String, String>,
        live: &[i32],
    ) -> Result<&Topic, ResponseError> {
        self.check_create(name, partitions, &configs)?;
        let start = self.topics_created;
        let leaders = (0..partitions)
            .map(|p| round_robin(live, start, p))
            .collect();
        self.create_with_leaders(name, leaders, configs)
    }

    /// Creates a topic whose partition `i` is led by `leaders[i]` (a replica assignment).
    ///
    /// # Errors
    /// As [`Self::check_create`].
    pub(crate) fn create_with_leaders(
        &mut self,
        name: &str,
        leaders: Vec<i32>,
        configs: BTreeMap<String, String>,
    ) -> Result<&Topic, ResponseError> {
        let count = i32::try_from(leaders.len()).map_err(|_| ResponseError::InvalidPartitions)?;
        self.check_create(name, count, &configs)?;
        self.topics_created = self.topics_created.wrapping_add(1);
        let arc_name: Arc<str> = Arc::from(name);
        let parts = leaders
            .into_iter()
            .zip(0..)
            .map(|(leader, p)| new_partition(&arc_name, p, leader))
            .collect();
        let id = self.new_id();
        let topic = Topic {
            name: arc_name,
            id,
            partitions: parts,
            configs,
        };
        Ok(self.by_name.entry(name.to_owned()).or_insert(topic))
    }

    /// Derives topic ids from a seed from now on ([`crate::ClusterBuilder::seed`]).
    pub(crate) fn seed_ids(&mut self, ids: crate::seed::IdHasher) {
        self.ids = ids;
    }

    fn new_id(&self) -> Uuid {
        loop {
            let mut h1 = self.ids.build_hasher();
            h1.write_usize(self.topics_created);
            h1.write_u8(1);
            let mut h2 = self.ids.build_hasher();
            h2.write_usize(self.topics_created);
            h2.write_u8(2);
            let id = Uuid::from_u64_pair(h1.finish(), h2.finish());
            // Kafka reserves the zero id and the metadata topic's id (1).
            if id.as_u128() > 1 && self.by_id(id).is_none() {
                return id;
            }
        }
    }

    /// Removes a topic; fetches waiting on its partitions are woken.
    ///
    /// # Errors
    /// UNKNOWN_TOPIC_OR_PARTITION.
    pub(crate) fn delete(&mut self, name: &str) -> Result<Topic, ResponseError> {
        let topic = self
            .by_name
            .remove(name)
            .ok_or(ResponseError::UnknownTopicOrPartition)?;
        for p in &topic.partitions {
            p.lock().deleted = true;
            p.changed.notify_waiters();
        }
        Ok(topic)
    }

    /// Checks that a topic could grow to `count` partitions.
    ///
    /// # Errors
    /// UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS.
    pub(crate) fn check_add_partitions(&self, name: &str, count: i32) -> Result<(), ResponseError> {
        let topic = self
            .get(name)
            .ok_or(ResponseError::UnknownTopicOrPartition)?;
        let current = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
        if count <= current {
            return Err(ResponseError::InvalidPartitions);
        }
        Ok(())
    }

    /// Grows a topic to `count` partitions, new leaders continuing the round-robin.
    ///
    /// # Errors
    /// As [`Self::check_add_partitions`].
    pub(crate) fn add_partitions(
        &mut self,
        name: &str,
        count: i32,
        live: &[i32],
    ) -> Result<(), ResponseError> {
        self.add_partitions_with_leaders(name, count, live, None)
    }

    /// As [`Self::add_partitions`], new partition `i` led by `leaders[i]` when given.
    ///
    /// # Errors
    /// As [`Self::check_add_partitions`].
    pub(crate) fn add_partitions_with_leaders(
        &mut self,
        name: &str,
        count: i32,
        live: &[i32],
        leaders: Option<&[i32]>,
    ) -> Result<(), ResponseError> {
        self.check_add_partitions(name, count)?;
        let topic = self
            .by_name
            .get_mut(name)
            .ok_or(ResponseError::UnknownTopicOrPartition)?;
        let current = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
        let first_leader = topic.partitions.first().map_or(-1, |p| p.lock().leader);
        let start = live.iter().position(|&b| b == first_leader).unwrap_or(0);
        for (i, p) in (current..count).enumerate() {
            let leader = leaders
                .and_then(|l| l.get(i).copied())
                .unwrap_or_else(|| round_robin(live, start, p));
            topic.partitions.push(new_partition(&topic.name, p, leader));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_as_kafka_does() {
        assert!(validate_topic_name("first").is_ok());
        assert!(validate_topic_name("a.b_c-D9").is_ok());
        for bad in ["", ".", "..", "has space", "slash/", &"x".repeat(250)] {
            assert_eq!(
                validate_topic_name(bad),
                Err(ResponseError::InvalidTopicException),
                "{bad}"
            );
        }
    }

    #[test]
    fn leaders_spread_round_robin_and_topics_rotate() {
        let mut t = Topics::default();
        let live = [0, 1, 2];
        let leaders = |t: &Topics, n: &str| -> Vec<i32> {
            t.get(n)
                .map(|t| t.partitions.iter().map(|p| p.lock().leader).collect())
                .unwrap_or_default()
        };
        t.create("a", 4, BTreeMap::new(), &live)
            .map(|_| ())
            .unwrap();
        assert_eq!(leaders(&t, "a"), vec![0, 1, 2, 0]);
        t.create("b", 1, BTreeMap::new(), &live)
            .map(|_| ())
            .unwrap();
        assert_eq!(leaders(&t, "b"), vec![1]);
        t.add_partitions("a", 6, &live).unwrap();
        assert_eq!(leaders(&t, "a"), vec![0, 1, 2, 0, 1, 2]);
        assert_ne!(t.get("a").unwrap().id, t.get("b").unwrap().id);
    }

    #[test]
    fn create_and_grow_errors() {
        let mut t = Topics::default();
        let live = [0];
        t.create("a", 1, BTreeMap::new(), &live)
            .map(|_| ())
            .unwrap();
        let err = |r: Result<&Topic, ResponseError>| r.map(|_| ()).unwrap_err();
        assert_eq!(
            err(t.create("a", 1, BTreeMap::new(), &live)),
            ResponseError::TopicAlreadyExists
        );
        assert_eq!(
            err(t.create("b", 0, BTreeMap::new(), &live)),
            ResponseError::InvalidPartitions
        );
        let cfg = BTreeMap::from([("no.such".to_owned(), "1".to_owned())]);
        assert_eq!(
            err(t.create("b", 1, cfg, &live)),
            ResponseError::InvalidConfig
        );
        let cfg = BTreeMap::from([("message.timestamp.type".to_owned(), "Never".to_owned())]);
        assert_eq!(
            err(t.create("b", 1, cfg, &live)),
            ResponseError::InvalidConfig
        );
        assert_eq!(
            t.add_partitions("a", 1, &live),
            Err(ResponseError::InvalidPartitions)
        );
        assert_eq!(
            t.add_partitions("zz", 3, &live),
            Err(ResponseError::UnknownTopicOrPartition)
        );
        assert!(t.delete("a").is_ok());
        assert_eq!(
            t.delete("a").map(|_| ()),
            Err(ResponseError::UnknownTopicOrPartition)
        );
    }
}
