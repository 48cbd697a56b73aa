//! Committed offsets, keyed by (group, topic, partition).
//!
//! The store is owned by the group coordinator (and locked with it) because Kafka checks a
//! commit against the group's generation and members, deletes a group's offsets with the
//! group, and refuses OffsetDelete for topics the group consumes, all atomically with the
//! group state. Offsets never expire here (Kafka drops them `offsets.retention.minutes`,
//! 7 days by default, after the group becomes empty): differences from Kafka.

use std::collections::BTreeMap;
use tokio::time::Instant;

/// One committed offset as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommittedOffset {
    pub(crate) offset: i64,
    /// The leader epoch the consumer saw for the record before `offset`; -1 if unknown.
    pub(crate) leader_epoch: i32,
    /// The metadata string committed with the offset ("" when none was sent).
    pub(crate) metadata: String,
    pub(crate) committed_at: Instant,
}

/// Committed offsets of every group.
#[derive(Debug, Default)]
pub(crate) struct OffsetStore {
    by_group: BTreeMap<String, BTreeMap<(String, i32), CommittedOffset>>,
}

impl OffsetStore {
    /// Stores (or replaces) the committed offset of a partition.
    pub(crate) fn commit(&mut self, group: &str, topic: &str, partition: i32, o: CommittedOffset) {
        self.by_group
            .entry(group.to_string())
            .or_default()
            .insert((topic.to_string(), partition), o);
    }

    /// The committed offset of a partition, if any.
    pub(crate) fn get(&self, group: &str, topic: &str, partition: i32) -> Option<&CommittedOffset> {
        self.by_group
            .get(group)?
            .get(&(topic.to_string(), partition))
    }

    /// Every committed offset of a group, ordered by topic then partition.
    pub(crate) fn group(
        &self,
        group: &str,
    ) -> impl Iterator<Item = (&str, i32, &CommittedOffset)> + '_ {
        self.by_group
            .get(group)
            .into_iter()
            .flat_map(|m| m.iter().map(|((t, p), o)| (t.as_str(), *p, o)))
    }

    /// Whether the group has any committed offset.
    pub(crate) fn has_offsets(&self, group: &str) -> bool {
        self.by_group.get(group).is_some_and(|m| !m.is_empty())
    }

    /// Deletes the committed offset of a partition; returns whether there was one.
    pub(crate) fn delete(&mut self, group: &str, topic: &str, partition: i32) -> bool {
        let Some(m) = self.by_group.get_mut(group) else {
            return false;
        };
        let removed = m.remove(&(topic.to_string(), partition)).is_some();
        if m.is_empty() {
            self.by_group.remove(group);
        }
        removed
    }

    /// Deletes every committed offset of a group; returns how many there were.
    pub(crate) fn delete_group(&mut self, group: &str) -> usize {
        self.by_group.remove(group).map_or(0, |m| m.len())
    }

    /// Deletes every committed offset of a topic, in every group (when a topic is deleted).
    pub(crate) fn delete_topic(&mut self, topic: &str) {
        for m in self.by_group.values_mut() {
            m.retain(|(t, _), _| t != topic);
        }
        self.by_group.retain(|_, m| !m.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(offset: i64) -> CommittedOffset {
        CommittedOffset {
            offset,
            leader_epoch: -1,
            metadata: String::new(),
            committed_at: Instant::now(),
        }
    }

    #[test]
    fn commit_get_replace_delete() {
        let mut s = OffsetStore::default();
        assert!(s.get("g", "t", 0).is_none());
        s.commit("g", "t", 0, at(5));
        s.commit("g", "t", 0, at(7));
        s.commit("g", "u", 1, at(1));
        s.commit("h", "t", 0, at(9));
        assert_eq!(s.get("g", "t", 0).map(|o| o.offset), Some(7));
        assert_eq!(s.group("g").count(), 2);
        assert!(s.delete("g", "t", 0));
        assert!(!s.delete("g", "t", 0));
        s.delete_topic("u");
        assert!(!s.has_offsets("g"));
        assert_eq!(s.delete_group("h"), 1);
        assert!(!s.has_offsets("h"));
    }
}
