//! The consumer embedded protocol (protocol type `consumer`) and the partition assignors.
//!
//! Members send a `ConsumerProtocolSubscription` (topics, user data, owned partitions) as
//! their JoinGroup metadata, one entry per assignor they support; the leader runs the chosen
//! assignor and hands out `ConsumerProtocolAssignment`s through SyncGroup. The byte layout
//! is Kafka's, so a kafka-python or Java consumer and ours can share a group.
//!
//! Encoding goes through kafka-protocol's message types. Decoding is our own, total parser:
//! the bytes come from other group members, and every array length is checked against the
//! bytes left before anything is allocated.

use std::collections::{BTreeMap, BTreeSet};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{
    consumer_protocol_assignment, consumer_protocol_subscription, ConsumerProtocolAssignment,
    ConsumerProtocolSubscription, TopicName,
};
use kafka_protocol::protocol::{Encodable, StrBytes};

use crate::admin::TopicPartition;

/// How the group leader spreads partitions over members (`partition.assignment.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AssignmentStrategy {
    /// Kafka's `RangeAssignor` (`range`): per topic, consecutive partitions to each member
    /// in member id order, the first ones getting one more when it does not divide evenly.
    Range,
    /// Kafka's `RoundRobinAssignor` (`roundrobin`): every partition of every topic, in
    /// order, dealt to the members subscribed to its topic in turn.
    RoundRobin,
    /// Kafka's `CooperativeStickyAssignor` (`cooperative-sticky`): balanced, keeps owned
    /// partitions where it can, and moves a partition in two rebalances (revoked first,
    /// assigned in the next), so members keep consuming what they keep.
    CooperativeSticky,
}

impl AssignmentStrategy {
    /// The protocol name sent in JoinGroup, as the Java client names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Range => "range",
            Self::RoundRobin => "roundrobin",
            Self::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// The strategy with protocol name `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "range" => Some(Self::Range),
            "roundrobin" => Some(Self::RoundRobin),
            "cooperative-sticky" => Some(Self::CooperativeSticky),
            _ => None,
        }
    }

    /// Whether the strategy supports the cooperative rebalance protocol.
    pub fn is_cooperative(self) -> bool {
        matches!(self, Self::CooperativeSticky)
    }
}

/// A member's subscription as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Subscription {
    pub(crate) topics: Vec<String>,
    pub(crate) owned: Vec<TopicPartition>,
}

fn topic_name(t: &str) -> TopicName {
    TopicName(StrBytes::from_string(t.to_owned()))
}

/// Groups partitions by topic, sorted, as both messages carry them.
fn by_topic(parts: &[TopicPartition]) -> BTreeMap<&str, Vec<i32>> {
    let mut m: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for tp in parts {
        m.entry(tp.topic.as_str()).or_default().push(tp.partition);
    }
    for v in m.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    m
}

/// The JoinGroup metadata for `topics`. Version 0 (topics only) unless the member owns
/// partitions for the cooperative protocol, then version 1 (with owned partitions), which
/// every client since Kafka 2.4 reads; older readers ignore the trailing field.
pub(crate) fn encode_subscription(topics: &[String], owned: Option<&[TopicPartition]>) -> Bytes {
    let version: i16 = if owned.is_some() { 1 } else { 0 };
    let owned_partitions = by_topic(owned.unwrap_or(&[]))
        .into_iter()
        .map(|(t, ps)| {
            consumer_protocol_subscription::TopicPartition::default()
                .with_topic(topic_name(t))
                .with_partitions(ps)
        })
        .collect();
    let msg = ConsumerProtocolSubscription::default()
        .with_topics(
            topics
                .iter()
                .map(|t| StrBytes::from_string(t.clone()))
                .collect(),
        )
        .with_owned_partitions(owned_partitions);
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&version.to_be_bytes());
    msg.encode(&mut buf, version)
        .expect("a subscription always encodes");
    buf.freeze()
}

/// A `ConsumerProtocolAssignment` (version 0: partitions and no user data).
pub(crate) fn encode_assignment(parts: &[TopicPartition]) -> Bytes {
    let assigned = by_topic(parts)
        .into_iter()
        .map(|(t, ps)| {
            consumer_protocol_assignment::TopicPartition::default()
                .with_topic(topic_name(t))
                .with_partitions(ps)
        })
        .collect();
    let msg = ConsumerProtocolAssignment::default().with_assigned_partitions(assigned);
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&0i16.to_be_bytes());
    msg.encode(&mut buf, 0)
        .expect("an assignment always encodes");
    buf.freeze()
}

/// A bounds-checked reader over member-supplied bytes.
struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let head = self.buf.get(..n)?;
        self.buf = self.buf.get(n..)?;
        Some(head)
    }
    fn i16(&mut self) -> Option<i16> {
        let b: [u8; 2] = self.take(2)?.try_into().ok()?;
        Some(i16::from_be_bytes(b))
    }
    fn i32(&mut self) -> Option<i32> {
        let b: [u8; 4] = self.take(4)?.try_into().ok()?;
        Some(i32::from_be_bytes(b))
    }
    fn string(&mut self) -> Option<String> {
        let len = usize::try_from(self.i16()?).ok()?;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
    /// An array length (null is empty), checked against the bytes left (each element
    /// takes at least `min` bytes).
    fn array_len(&mut self, min: usize) -> Option<usize> {
        let n = self.i32()?;
        if n == -1 {
            return Some(0);
        }
        let n = usize::try_from(n).ok()?;
        (n.checked_mul(min)? <= self.buf.len()).then_some(n)
    }
    fn skip_bytes(&mut self) -> Option<()> {
        let n = self.i32()?;
        if n >= 0 {
            self.take(usize::try_from(n).ok()?)?;
        }
        Some(())
    }
    fn topic_partitions(&mut self, out: &mut Vec<TopicPartition>) -> Option<()> {
        let n = self.array_len(6)?;
        for _ in 0..n {
            let topic = self.string()?;
            let m = self.array_len(4)?;
            for _ in 0..m {
                out.push(TopicPartition::new(topic.clone(), self.i32()?));
            }
        }
        Some(())
    }
}

/// Reads a member's subscription (any version; fields past those we use are ignored, as
/// Kafka's clients do for newer versions). `None` for malformed bytes.
pub(crate) fn decode_subscription(bytes: &[u8]) -> Option<Subscription> {
    let mut c = Cursor { buf: bytes };
    let version = c.i16()?;
    if version < 0 {
        return None;
    }
    let n = c.array_len(2)?;
    let topics = (0..n).map(|_| c.string()).collect::<Option<Vec<_>>>()?;
    c.skip_bytes()?;
    let mut owned = Vec::new();
    if version >= 1 {
        c.topic_partitions(&mut owned)?;
    }
    Some(Subscription { topics, owned })
}

/// Reads an assignment (any version). Empty bytes mean no partitions (what a coordinator
/// sends a member the leader did not mention). `None` for malformed bytes.
pub(crate) fn decode_assignment(bytes: &[u8]) -> Option<Vec<TopicPartition>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let mut c = Cursor { buf: bytes };
    if c.i16()? < 0 {
        return None;
    }
    let mut out = Vec::new();
    c.topic_partitions(&mut out)?;
    out.sort();
    out.dedup();
    Some(out)
}

/// What the leader computes: each member's partitions.
pub(crate) type Assignment = BTreeMap<String, Vec<TopicPartition>>;

/// Runs `strategy` over `members` (member id to subscription), given each topic's
/// partition count. Topics the cluster does not know get no partitions. Every member id
/// appears in the result, with an empty list when it gets nothing.
pub(crate) fn assign(
    strategy: AssignmentStrategy,
    members: &BTreeMap<String, Subscription>,
    partitions: &BTreeMap<String, i32>,
) -> Assignment {
    let mut out: Assignment = members.keys().map(|m| (m.clone(), Vec::new())).collect();
    match strategy {
        AssignmentStrategy::Range => {
            for (topic, &count) in partitions {
                let subs: Vec<&String> = members
                    .iter()
                    .filter(|(_, s)| s.topics.contains(topic))
                    .map(|(m, _)| m)
                    .collect();
                let (Ok(n), false) = (usize::try_from(count), subs.is_empty()) else {
                    continue;
                };
                let per = n / subs.len();
                let extra = n % subs.len();
                let mut next = 0usize;
                for (i, m) in subs.iter().enumerate() {
                    let take = per + usize::from(i < extra);
                    for p in next..next + take {
                        if let (Ok(p), Some(v)) = (i32::try_from(p), out.get_mut(*m)) {
                            v.push(TopicPartition::new(topic.clone(), p));
                        }
                    }
                    next += take;
                }
            }
        }
        AssignmentStrategy::RoundRobin => {
            let ids: Vec<&String> = members.keys().collect();
            let mut turn = 0usize;
            for (topic, &count) in partitions {
                for p in 0..count.max(0) {
                    // The next member (cyclically) subscribed to this topic.
                    for k in 0..ids.len() {
                        let m = ids[(turn + k) % ids.len()];
                        if members[m].topics.contains(topic) {
                            if let Some(v) = out.get_mut(m) {
                                v.push(TopicPartition::new(topic.clone(), p));
                            }
                            turn = (turn + k + 1) % ids.len();
                            break;
                        }
                    }
                }
            }
        }
        AssignmentStrategy::CooperativeSticky => {
            out = cooperative_sticky(members, partitions);
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// A balanced, sticky assignment with cooperative hand-over: a partition that moves from
/// one member to another is left out of this round (its old owner revokes it and rejoins,
/// and the next rebalance gives it to the new owner).
fn cooperative_sticky(
    members: &BTreeMap<String, Subscription>,
    partitions: &BTreeMap<String, i32>,
) -> Assignment {
    let all: BTreeSet<TopicPartition> = partitions
        .iter()
        .flat_map(|(t, &n)| (0..n.max(0)).map(move |p| TopicPartition::new(t.clone(), p)))
        .collect();
    let subscribed =
        |m: &str, tp: &TopicPartition| members.get(m).is_some_and(|s| s.topics.contains(&tp.topic));
    // Keep valid owned partitions (first claim wins for duplicates).
    let mut target: BTreeMap<String, Vec<TopicPartition>> =
        members.keys().map(|m| (m.clone(), Vec::new())).collect();
    let mut taken: BTreeSet<TopicPartition> = BTreeSet::new();
    for (m, s) in members {
        for tp in &s.owned {
            if all.contains(tp) && subscribed(m, tp) && taken.insert(tp.clone()) {
                if let Some(v) = target.get_mut(m) {
                    v.push(tp.clone());
                }
            }
        }
    }
    // Members over their fair share give up their last partitions.
    let eligible = |tp: &TopicPartition| members.keys().filter(|m| subscribed(m, tp)).count();
    let total = all.iter().filter(|tp| eligible(tp) > 0).count();
    let quota = total.div_ceil(members.len().max(1));
    for v in target.values_mut() {
        v.sort();
        while v.len() > quota {
            if let Some(tp) = v.pop() {
                taken.remove(&tp);
            }
        }
    }
    // Hand out the rest, each to the subscribed member with fewest partitions.
    for tp in &all {
        if taken.contains(tp) {
            continue;
        }
        let best = target
            .iter()
            .filter(|(m, _)| subscribed(m, tp))
            .min_by_key(|(m, v)| (v.len(), (*m).clone()))
            .map(|(m, _)| m.clone());
        if let Some(m) = best {
            if let Some(v) = target.get_mut(&m) {
                v.push(tp.clone());
                taken.insert(tp.clone());
            }
        }
    }
    // Cooperative hand-over: withhold partitions that someone else still owns.
    let owner: BTreeMap<&TopicPartition, &str> = members
        .iter()
        .flat_map(|(m, s)| s.owned.iter().map(move |tp| (tp, m.as_str())))
        .collect();
    for (m, v) in target.iter_mut() {
        v.retain(|tp| owner.get(tp).is_none_or(|o| *o == m.as_str()));
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs(list: &[(&str, &[&str])]) -> BTreeMap<String, Subscription> {
        list.iter()
            .map(|(m, ts)| {
                (
                    (*m).to_owned(),
                    Subscription {
                        topics: ts.iter().map(|t| (*t).to_owned()).collect(),
                        owned: Vec::new(),
                    },
                )
            })
            .collect()
    }

    fn tps(list: &[(&str, i32)]) -> Vec<TopicPartition> {
        list.iter()
            .map(|(t, p)| TopicPartition::new(*t, *p))
            .collect()
    }

    #[test]
    fn subscription_and_assignment_round_trip_in_kafkas_layout() {
        let b = encode_subscription(&["first".into()], None);
        // version 0, one topic "first", null user data
        assert_eq!(
            &b[..],
            b"\x00\x00\x00\x00\x00\x01\x00\x05first\xff\xff\xff\xff"
        );
        assert_eq!(decode_subscription(&b).unwrap().topics, vec!["first"]);
        let owned = tps(&[("a", 1), ("a", 0)]);
        let b = encode_subscription(&["a".into()], Some(&owned));
        let s = decode_subscription(&b).unwrap();
        assert_eq!(s.owned, tps(&[("a", 0), ("a", 1)]));
        let a = encode_assignment(&tps(&[("b", 2), ("a", 0)]));
        assert_eq!(decode_assignment(&a).unwrap(), tps(&[("a", 0), ("b", 2)]));
        assert_eq!(decode_assignment(b"").unwrap(), vec![]);
    }

    #[test]
    fn hostile_member_bytes_are_rejected_without_allocating() {
        assert!(decode_subscription(b"\x00\x00\x7f\xff\xff\xff").is_none());
        assert!(decode_assignment(b"\x00\x00\x00\x00\x00\x01\x00\x01a\x7f\xff\xff\xff").is_none());
        assert!(decode_subscription(b"\xff\xff").is_none());
        assert!(decode_assignment(b"\x00").is_none());
    }

    #[test]
    fn range_gives_consecutive_partitions_and_extras_first() {
        let m = subs(&[("a", &["t"]), ("b", &["t"])]);
        let p = BTreeMap::from([("t".to_owned(), 3)]);
        let r = assign(AssignmentStrategy::Range, &m, &p);
        assert_eq!(r["a"], tps(&[("t", 0), ("t", 1)]));
        assert_eq!(r["b"], tps(&[("t", 2)]));
    }

    #[test]
    fn roundrobin_deals_partitions_in_turn() {
        let m = subs(&[("a", &["t", "u"]), ("b", &["t", "u"])]);
        let p = BTreeMap::from([("t".to_owned(), 2), ("u".to_owned(), 1)]);
        let r = assign(AssignmentStrategy::RoundRobin, &m, &p);
        assert_eq!(r["a"], tps(&[("t", 0), ("u", 0)]));
        assert_eq!(r["b"], tps(&[("t", 1)]));
    }

    #[test]
    fn cooperative_sticky_keeps_owned_and_withholds_moving_partitions() {
        let mut m = subs(&[("a", &["t"]), ("b", &["t"])]);
        m.get_mut("a").unwrap().owned = tps(&[("t", 0), ("t", 1), ("t", 2), ("t", 3)]);
        let p = BTreeMap::from([("t".to_owned(), 4)]);
        let r = assign(AssignmentStrategy::CooperativeSticky, &m, &p);
        // a keeps two, gives up two; b gets them only in the next round.
        assert_eq!(r["a"], tps(&[("t", 0), ("t", 1)]));
        assert!(r["b"].is_empty());
        m.get_mut("a").unwrap().owned = r["a"].clone();
        let r = assign(AssignmentStrategy::CooperativeSticky, &m, &p);
        assert_eq!(r["a"], tps(&[("t", 0), ("t", 1)]));
        assert_eq!(r["b"], tps(&[("t", 2), ("t", 3)]));
    }
}
