//! One member of a classic group: identity, timeouts, supported protocols, assignment, and
//! the heartbeat deadline that the coordinator's timer checks.

use bytes::Bytes;
use std::time::Duration;
use tokio::time::Instant;

/// A member as the coordinator keeps it (Kafka's `MemberMetadata`). The parked JoinGroup and
/// SyncGroup responses live in the group, keyed by member id, so that a member is plain data
/// that can be cloned into the stored snapshot of its group.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) rebalance_timeout: Duration,
    pub(crate) session_timeout: Duration,
    pub(crate) protocol_type: String,
    /// Protocols in the member's order of preference: (name, metadata).
    pub(crate) protocols: Vec<(String, Bytes)>,
    /// The assignment handed out by the leader for the current generation.
    pub(crate) assignment: Bytes,
    /// A member that joined and has not yet received its first JoinGroup response; it may be
    /// expired while still waiting (after the new-member join timeout), unlike older members.
    pub(crate) is_new: bool,
    /// When the member is removed unless it heartbeats (or is parked in a rebalance) first.
    /// `None` when no heartbeat is expected: the deadline passed while the member was parked,
    /// and the next one is set when its JoinGroup or SyncGroup is answered, as Kafka does.
    pub(crate) heartbeat_deadline: Option<Instant>,
}

impl Member {
    /// Whether this member sent exactly these protocols (names, order and metadata).
    pub(crate) fn matches(&self, protocols: &[(String, Bytes)]) -> bool {
        self.protocols.as_slice() == protocols
    }

    /// The metadata this member sent for `protocol`, if it supports it.
    pub(crate) fn metadata(&self, protocol: &str) -> Option<&Bytes> {
        self.protocols
            .iter()
            .find(|(name, _)| name == protocol)
            .map(|(_, m)| m)
    }

    /// The member's vote: its most preferred protocol among `candidates`.
    pub(crate) fn vote<'a>(&'a self, candidates: &[&str]) -> Option<&'a str> {
        self.protocols
            .iter()
            .map(|(name, _)| name.as_str())
            .find(|name| candidates.contains(name))
    }

    /// Whether the member is static (has a `group.instance.id`).
    pub(crate) fn is_static(&self) -> bool {
        self.group_instance_id.is_some()
    }
}

/// Generates member ids as Kafka does: `<client id or group instance id>-<uuid>`.
#[derive(Debug)]
pub(crate) struct MemberIds {
    state: u64,
}

impl MemberIds {
    /// A generator seeded from the process's random hasher keys.
    pub(crate) fn new() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x6d6f_636b_6166_6b61);
        Self { state: h.finish() }
    }

    /// A generator giving the same ids on every run ([`crate::ClusterBuilder::seed`]).
    pub(crate) fn seeded(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        // splitmix64: good enough to make ids unique and unpredictable-looking.
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A fresh member id with the given prefix.
    pub(crate) fn next(&mut self, prefix: &str) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        // Shaped like a version-4 UUID, as Kafka's `UUID.randomUUID()`.
        let hi = (hi & !0xf000) | 0x4000;
        let lo = (lo & !(0b11 << 62)) | (0b10 << 62);
        format!(
            "{prefix}-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0xffff,
            lo >> 48,
            lo & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_ids_are_prefixed_uuids_and_unique() {
        let mut ids = MemberIds::new();
        let a = ids.next("client");
        let b = ids.next("client");
        assert_ne!(a, b);
        let suffix = a.strip_prefix("client-").expect("prefix");
        let parts: Vec<usize> = suffix.split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12]);
        assert_eq!(suffix.as_bytes()[14], b'4');
    }

    #[test]
    fn vote_picks_the_most_preferred_candidate() {
        let m = Member {
            member_id: "m".into(),
            group_instance_id: None,
            client_id: "c".into(),
            client_host: "/127.0.0.1".into(),
            rebalance_timeout: Duration::from_secs(1),
            session_timeout: Duration::from_secs(1),
            protocol_type: "consumer".into(),
            protocols: vec![
                ("range".into(), Bytes::new()),
                ("roundrobin".into(), Bytes::from_static(b"x")),
            ],
            assignment: Bytes::new(),
            is_new: false,
            heartbeat_deadline: None,
        };
        assert_eq!(m.vote(&["roundrobin", "range"]), Some("range"));
        assert_eq!(m.vote(&["roundrobin"]), Some("roundrobin"));
        assert_eq!(m.vote(&["sticky"]), None);
        assert_eq!(m.metadata("roundrobin"), Some(&Bytes::from_static(b"x")));
    }
}
