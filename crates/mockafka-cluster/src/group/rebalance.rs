//! The pieces of a rebalance that are not per-member: the join-phase timer (Kafka's
//! `InitialDelayedJoin` and `DelayedJoin`) and protocol selection by vote.

use std::time::Duration;
use tokio::time::Instant;

use super::member::Member;

/// The timer of a group in PreparingRebalance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JoinTimer {
    /// The first rebalance of an empty group: waits `group.initial.rebalance.delay.ms`, and
    /// again (up to `remaining`) while new members keep arriving. Never completes early.
    Initial {
        deadline: Instant,
        remaining: Duration,
    },
    /// Any other rebalance: completes as soon as every known member has rejoined (and no
    /// member that was handed a member id is still to come back), or at the deadline (the
    /// largest rebalance timeout of the members), when the missing members are removed.
    Normal { deadline: Instant },
}

impl JoinTimer {
    pub(crate) fn deadline(&self) -> Instant {
        match *self {
            Self::Initial { deadline, .. } | Self::Normal { deadline } => deadline,
        }
    }
}

/// The protocols every member supports, in the order the first member prefers them.
pub(crate) fn candidate_protocols<'a>(
    members: impl Iterator<Item = &'a Member> + Clone,
) -> Vec<&'a str> {
    let mut all = members.clone();
    let Some(first) = all.next() else {
        return Vec::new();
    };
    first
        .protocols
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| members.clone().all(|m| m.metadata(name).is_some()))
        .collect()
}

/// Kafka's protocol selection: each member votes for its most preferred protocol among
/// those all members support, and the protocol with most votes wins. Kafka breaks ties
/// arbitrarily (hash map order); here the tie goes to the protocol that got its first vote
/// from the earliest-joined member, so the choice is deterministic.
pub(crate) fn select_protocol<'a>(
    members: impl Iterator<Item = &'a Member> + Clone,
) -> Option<String> {
    let candidates = candidate_protocols(members.clone());
    let mut tally: Vec<(&str, usize)> = Vec::new();
    for m in members {
        if let Some(v) = m.vote(&candidates) {
            match tally.iter_mut().find(|(name, _)| *name == v) {
                Some((_, n)) => *n += 1,
                None => tally.push((v, 1)),
            }
        }
    }
    let best = tally.iter().map(|(_, n)| *n).max()?;
    tally
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(name, _)| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn member(protocols: &[&str]) -> Member {
        Member {
            member_id: "m".into(),
            group_instance_id: None,
            client_id: "c".into(),
            client_host: "h".into(),
            rebalance_timeout: Duration::from_secs(1),
            session_timeout: Duration::from_secs(1),
            protocol_type: "consumer".into(),
            protocols: protocols
                .iter()
                .map(|p| (p.to_string(), Bytes::new()))
                .collect(),
            assignment: Bytes::new(),
            is_new: false,
            heartbeat_deadline: None,
        }
    }

    #[test]
    fn the_common_protocol_with_most_votes_wins() {
        let ms = [
            member(&["range", "roundrobin"]),
            member(&["roundrobin", "range"]),
            member(&["roundrobin", "range", "sticky"]),
        ];
        assert_eq!(select_protocol(ms.iter()), Some("roundrobin".into()));
        assert_eq!(candidate_protocols(ms.iter()), vec!["range", "roundrobin"]);
        // A protocol not everyone supports cannot win, however preferred.
        let ms = [member(&["sticky", "range"]), member(&["range"])];
        assert_eq!(select_protocol(ms.iter()), Some("range".into()));
        // Ties go to the earliest member's vote.
        let ms = [member(&["b", "a"]), member(&["a", "b"])];
        assert_eq!(select_protocol(ms.iter()), Some("b".into()));
        let none: [Member; 0] = [];
        assert_eq!(select_protocol(none.iter()), None);
    }
}
