//! Which broker coordinates which group: Kafka's `partitionFor(groupId)` over the 50
//! partitions of `__consumer_offsets`, and a leader per partition. Groups that hash to the
//! same partition share a coordinator and move together, as in Kafka.

/// Partitions of Kafka's `__consumer_offsets` (its `offsets.topic.num.partitions` default).
pub(crate) const OFFSETS_PARTITIONS: usize = 50;

/// Java's `String.hashCode` (over UTF-16 code units), as Kafka hashes group ids.
pub(crate) fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The `__consumer_offsets` partition of a group: `Utils.abs(hashCode) % 50`.
pub(crate) fn partition_for(group_id: &str) -> usize {
    let h = java_string_hash(group_id);
    // Kafka's Utils.abs maps i32::MIN to 0.
    let abs = if h == i32::MIN { 0 } else { h.unsigned_abs() };
    usize::try_from(abs).unwrap_or(0) % OFFSETS_PARTITIONS
}

/// The leader broker of each `__consumer_offsets` partition.
#[derive(Debug, Clone)]
pub(crate) struct Placement {
    leaders: Vec<i32>,
}

impl Placement {
    /// Leaders spread round-robin over `brokers` (partition p on `brokers[p % n]`).
    pub(crate) fn new(brokers: &[i32]) -> Self {
        let leaders = (0..OFFSETS_PARTITIONS)
            .map(|p| brokers.get(p % brokers.len().max(1)).copied().unwrap_or(-1))
            .collect();
        Self { leaders }
    }

    /// The leader of partition `p`.
    pub(crate) fn leader(&self, p: usize) -> i32 {
        self.leaders.get(p).copied().unwrap_or(-1)
    }

    /// The coordinator broker of `group_id`.
    pub(crate) fn coordinator(&self, group_id: &str) -> i32 {
        self.leader(partition_for(group_id))
    }

    /// Moves partition `p` to `broker`; returns whether the leader changed.
    pub(crate) fn set_leader(&mut self, p: usize, broker: i32) -> bool {
        match self.leaders.get_mut(p) {
            Some(l) if *l != broker => {
                *l = broker;
                true
            }
            _ => false,
        }
    }

    /// Gives every partition without a leader (no broker was live) to `broker`; returns
    /// the partitions it took.
    pub(crate) fn adopt_orphans(&mut self, broker: i32) -> Vec<usize> {
        let mut taken = Vec::new();
        for (p, leader) in self.leaders.iter_mut().enumerate() {
            if *leader == -1 {
                *leader = broker;
                taken.push(p);
            }
        }
        taken
    }

    /// Moves every partition led by `stopped` to the live brokers, round-robin; returns the
    /// partitions that moved.
    pub(crate) fn fail_over(&mut self, stopped: i32, live: &[i32]) -> Vec<usize> {
        let mut moved = Vec::new();
        let live: Vec<i32> = live.iter().copied().filter(|b| *b != stopped).collect();
        for (p, leader) in self.leaders.iter_mut().enumerate() {
            if *leader == stopped {
                *leader = live.get(p % live.len().max(1)).copied().unwrap_or(-1);
                moved.push(p);
            }
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_java() {
        // Values of "...".hashCode() in Java.
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("group1"), -1_237_460_590);
        assert_eq!(java_string_hash("test-group"), 627_841_412);
        assert_eq!(partition_for("test-group"), 627_841_412 % 50);
        assert_eq!(partition_for("group1"), 1_237_460_590 % 50);
    }

    #[test]
    fn fail_over_moves_only_the_stopped_brokers_partitions() {
        let mut p = Placement::new(&[1, 2, 3]);
        assert_eq!(p.leader(0), 1);
        assert_eq!(p.leader(1), 2);
        let moved = p.fail_over(2, &[1, 3]);
        assert_eq!(moved.len(), 17);
        assert!(moved.iter().all(|&m| p.leader(m) != 2));
        assert!(p.adopt_orphans(2).is_empty());
        let mut solo = Placement::new(&[0]);
        assert_eq!(solo.fail_over(0, &[]).len(), 50);
        assert_eq!(solo.coordinator("g"), -1);
        assert_eq!(solo.adopt_orphans(0).len(), 50);
        assert_eq!(solo.coordinator("g"), 0);
        assert_eq!(p.leader(0), 1);
        assert!(p.set_leader(0, 3));
        assert!(!p.set_leader(0, 3));
        assert_eq!(p.leader(0), 3);
    }
}
