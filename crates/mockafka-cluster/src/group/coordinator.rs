//! The group coordinator: every classic group and its committed offsets, driven by
//! JoinGroup, SyncGroup, Heartbeat, LeaveGroup, the offset APIs and the clock.
//!
//! Follows Apache Kafka's classic `GroupCoordinator`/`GroupMetadata` state by state; the
//! comments name Kafka's methods where the structure mirrors them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use bytes::Bytes;
use indexmap::IndexMap;
use kafka_protocol::ResponseError;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::debug;

use super::consumer_protocol;
use super::member::{Member, MemberIds};
use super::placement::{partition_for, Placement};
use super::rebalance::{select_protocol, JoinTimer};
use super::{
    CommittedOffsetView, Committer, GroupConfig, GroupState, GroupSummary, GroupView, JoinParams,
    JoinResult, JoinedMember, LeavingMember, MemberSummary, MemberView, OffsetCommitEntry, Reply,
    SyncParams, SyncResult,
};
use crate::offsets::{CommittedOffset, OffsetStore};

/// The "consumer" protocol type, whose metadata and assignments the coordinator can read.
const CONSUMER_PROTOCOL_TYPE: &str = "consumer";

/// Milliseconds from the wire as a duration; negative values are `None`.
fn millis(ms: i32) -> Option<Duration> {
    u64::try_from(ms).ok().map(Duration::from_millis)
}

/// What Kafka persists of a group in `__consumer_offsets` (its `GroupMetadataValue`):
/// reloaded by the next coordinator when the coordinator moves.
#[derive(Debug, Clone)]
struct Stored {
    generation: i32,
    protocol_type: Option<String>,
    protocol_name: Option<String>,
    leader: Option<String>,
    members: IndexMap<String, Member>,
}

/// One classic group (Kafka's `GroupMetadata`).
#[derive(Debug)]
struct Group {
    group_id: String,
    state: GroupState,
    generation: i32,
    protocol_type: Option<String>,
    protocol_name: Option<String>,
    leader: Option<String>,
    /// Members in join order.
    members: IndexMap<String, Member>,
    /// group.instance.id -> member id.
    static_members: HashMap<String, String>,
    /// Members given an id by MEMBER_ID_REQUIRED that have not joined with it yet, with the
    /// deadline (their session timeout) by which they must.
    pending_members: BTreeMap<String, Instant>,
    /// Members of the current generation that have not sent SyncGroup yet.
    pending_sync: BTreeSet<String>,
    /// Parked JoinGroup responses, by member id.
    join_waiters: HashMap<String, oneshot::Sender<JoinResult>>,
    /// Parked SyncGroup responses, by member id.
    sync_waiters: HashMap<String, oneshot::Sender<SyncResult>>,
    /// A new member joined during the initial delay: delay once more.
    new_member_added: bool,
    join_timer: Option<JoinTimer>,
    /// When members that have not sent SyncGroup for this generation are removed.
    sync_deadline: Option<Instant>,
    /// Topics the members subscribe to (consumer protocol); `None` when unknown.
    subscribed_topics: Option<BTreeSet<String>>,
    stored: Option<Stored>,
}

impl Group {
    fn new(group_id: &str) -> Self {
        Self {
            group_id: group_id.to_string(),
            state: GroupState::Empty,
            generation: 0,
            protocol_type: None,
            protocol_name: None,
            leader: None,
            members: IndexMap::new(),
            static_members: HashMap::new(),
            pending_members: BTreeMap::new(),
            pending_sync: BTreeSet::new(),
            join_waiters: HashMap::new(),
            sync_waiters: HashMap::new(),
            new_member_added: false,
            join_timer: None,
            sync_deadline: None,
            subscribed_topics: None,
            stored: None,
        }
    }

    fn is_leader(&self, member_id: &str) -> bool {
        self.leader.as_deref() == Some(member_id)
    }

    fn rebalance_timeout(&self) -> Duration {
        self.members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or(Duration::ZERO)
    }

    fn awaiting_join(&self, member_id: &str) -> bool {
        self.join_waiters.contains_key(member_id)
    }

    fn awaiting_sync(&self, member_id: &str) -> bool {
        self.sync_waiters.contains_key(member_id)
    }

    /// Kafka's `hasAllMembersJoined`.
    fn all_members_joined(&self) -> bool {
        self.pending_members.is_empty()
            && self
                .members
                .keys()
                .all(|id| self.join_waiters.contains_key(id))
    }

    /// Kafka's `acceptJoiningMember`: a member already waiting in this rebalance (or already
    /// in a settled group) is always accepted; new members up to the maximum group size.
    fn accept_joining_member(&self, member_id: &str, max: usize) -> bool {
        match self.state {
            GroupState::Empty | GroupState::Dead => true,
            GroupState::PreparingRebalance => {
                self.awaiting_join(member_id) || self.join_waiters.len() < max
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.members.contains_key(member_id) || self.members.len() < max
            }
        }
    }

    /// Kafka's `supportsProtocols`.
    fn supports_protocols(&self, protocol_type: &str, protocols: &[(String, Bytes)]) -> bool {
        if self.state == GroupState::Empty {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols
                .iter()
                .any(|(name, _)| self.members.values().all(|m| m.metadata(name).is_some()))
    }

    /// Kafka's `validateCurrentMember`.
    fn validate_current_member(
        &self,
        member_id: &str,
        group_instance_id: Option<&str>,
    ) -> Option<ResponseError> {
        if let Some(iid) = group_instance_id {
            return match self.static_members.get(iid) {
                Some(current) if current != member_id => Some(ResponseError::FencedInstanceId),
                Some(_) => None,
                None => Some(ResponseError::UnknownMemberId),
            };
        }
        (!self.members.contains_key(member_id)).then_some(ResponseError::UnknownMemberId)
    }

    fn is_static_member_fenced(&self, member_id: &str, group_instance_id: Option<&str>) -> bool {
        group_instance_id
            .and_then(|iid| self.static_members.get(iid))
            .is_some_and(|current| current != member_id)
    }

    fn schedule_heartbeat(&mut self, member_id: &str, now: Instant) {
        if let Some(m) = self.members.get_mut(member_id) {
            m.heartbeat_deadline = Some(now + m.session_timeout);
        }
    }

    /// Parks a JoinGroup for `member_id`; an earlier parked one is told to rejoin.
    fn park_join(&mut self, member_id: &str) -> oneshot::Receiver<JoinResult> {
        let (tx, rx) = oneshot::channel();
        if let Some(old) = self.join_waiters.insert(member_id.to_string(), tx) {
            let _ = old.send(JoinResult::error(
                member_id,
                ResponseError::RebalanceInProgress,
            ));
        }
        rx
    }

    fn park_sync(&mut self, member_id: &str) -> oneshot::Receiver<SyncResult> {
        let (tx, rx) = oneshot::channel();
        if let Some(old) = self.sync_waiters.insert(member_id.to_string(), tx) {
            let _ = old.send(SyncResult::error(ResponseError::RebalanceInProgress));
        }
        rx
    }

    fn answer_join(&mut self, member_id: &str, result: JoinResult) {
        if let Some(tx) = self.join_waiters.remove(member_id) {
            let _ = tx.send(result);
        }
    }

    fn answer_sync(&mut self, member_id: &str, result: SyncResult) {
        if let Some(tx) = self.sync_waiters.remove(member_id) {
            let _ = tx.send(result);
        }
    }

    /// The JoinGroup answer for a member of the current generation.
    fn join_result(&self, member_id: &str, with_members: bool) -> JoinResult {
        JoinResult {
            error: None,
            member_id: member_id.to_string(),
            generation_id: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader_id: self.leader.clone().unwrap_or_default(),
            skip_assignment: false,
            members: if with_members {
                self.current_member_metadata()
            } else {
                Vec::new()
            },
        }
    }

    fn current_member_metadata(&self) -> Vec<JoinedMember> {
        let protocol = self.protocol_name.as_deref().unwrap_or_default();
        self.members
            .values()
            .map(|m| JoinedMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                metadata: m.metadata(protocol).cloned().unwrap_or_default(),
            })
            .collect()
    }

    /// Kafka's `GroupMetadata.add`.
    fn add(&mut self, member: Member) {
        self.pending_members.remove(&member.member_id);
        if self.members.is_empty() {
            self.protocol_type = Some(member.protocol_type.clone());
        }
        if self.leader.is_none() {
            self.leader = Some(member.member_id.clone());
        }
        if let Some(iid) = &member.group_instance_id {
            self.static_members
                .insert(iid.clone(), member.member_id.clone());
        }
        self.members.insert(member.member_id.clone(), member);
    }

    /// Kafka's `GroupMetadata.remove`: the member is gone; parked answers tell it so.
    fn remove(&mut self, member_id: &str) {
        if let Some(m) = self.members.shift_remove(member_id) {
            if let Some(iid) = &m.group_instance_id {
                if self.static_members.get(iid).map(String::as_str) == Some(member_id) {
                    self.static_members.remove(iid);
                }
            }
        }
        self.answer_join(
            member_id,
            JoinResult::error("", ResponseError::UnknownMemberId),
        );
        self.answer_sync(member_id, SyncResult::error(ResponseError::UnknownMemberId));
        if self.is_leader(member_id) {
            self.leader = self.members.keys().next().cloned();
        }
        self.pending_members.remove(member_id);
        self.pending_sync.remove(member_id);
    }

    /// Kafka's `removeMemberAndUpdateGroup`.
    fn remove_member_and_update_group(&mut self, cfg: &GroupConfig, now: Instant, member_id: &str) {
        self.remove(member_id);
        match self.state {
            GroupState::Dead | GroupState::Empty => {}
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.maybe_prepare_rebalance(cfg, now)
            }
            // Completion is checked by `advance`.
            GroupState::PreparingRebalance => {}
        }
    }

    /// Kafka's `addMemberAndRebalance`.
    fn add_member_and_rebalance(
        &mut self,
        cfg: &GroupConfig,
        now: Instant,
        member_id: String,
        p: &JoinParams,
    ) -> Reply<JoinResult> {
        let session_timeout = millis(p.session_timeout_ms).unwrap_or_default();
        let member = Member {
            member_id: member_id.clone(),
            group_instance_id: p.group_instance_id.clone(),
            client_id: p.client_id.clone(),
            client_host: p.client_host.clone(),
            rebalance_timeout: millis(p.rebalance_timeout_ms).unwrap_or_default(),
            session_timeout,
            protocol_type: p.protocol_type.clone(),
            protocols: p.protocols.clone(),
            assignment: Bytes::new(),
            is_new: true,
            // A new member cannot heartbeat before its first JoinGroup answer: it is dropped
            // only if it waits longer than the new-member join timeout.
            heartbeat_deadline: Some(now + cfg.new_member_join_timeout),
        };
        if self.state == GroupState::PreparingRebalance && self.generation == 0 {
            self.new_member_added = true;
        }
        self.add(member);
        let rx = self.park_join(&member_id);
        self.maybe_prepare_rebalance(cfg, now);
        Reply::Later(rx)
    }

    /// Kafka's `updateMemberAndRebalance`.
    fn update_member_and_rebalance(
        &mut self,
        cfg: &GroupConfig,
        now: Instant,
        p: &JoinParams,
    ) -> Reply<JoinResult> {
        self.update_member(p, &p.member_id);
        let rx = self.park_join(&p.member_id);
        self.maybe_prepare_rebalance(cfg, now);
        Reply::Later(rx)
    }

    fn update_member(&mut self, p: &JoinParams, member_id: &str) {
        if let Some(m) = self.members.get_mut(member_id) {
            m.protocols = p.protocols.clone();
            m.rebalance_timeout = millis(p.rebalance_timeout_ms).unwrap_or_default();
            m.session_timeout = millis(p.session_timeout_ms).unwrap_or_default();
            m.client_id = p.client_id.clone();
            m.client_host = p.client_host.clone();
        }
    }

    /// Kafka's `doNewMemberJoinGroup`.
    fn new_member_join(
        &mut self,
        cfg: &GroupConfig,
        ids: &mut MemberIds,
        now: Instant,
        p: &JoinParams,
    ) -> Reply<JoinResult> {
        if self.state == GroupState::Dead {
            return Reply::Now(JoinResult::error(
                "",
                ResponseError::CoordinatorNotAvailable,
            ));
        }
        if !self.supports_protocols(&p.protocol_type, &p.protocols) {
            return Reply::Now(JoinResult::error(
                "",
                ResponseError::InconsistentGroupProtocol,
            ));
        }
        let prefix = p.group_instance_id.as_deref().unwrap_or(&p.client_id);
        let new_id = ids.next(prefix);
        match &p.group_instance_id {
            Some(iid) => match self.static_members.get(iid).cloned() {
                Some(old_id) => {
                    self.update_static_member_and_rebalance(cfg, now, &old_id, new_id, p)
                }
                None => self.add_member_and_rebalance(cfg, now, new_id, p),
            },
            None if p.require_known_member_id => {
                let session = millis(p.session_timeout_ms).unwrap_or_default();
                self.pending_members.insert(new_id.clone(), now + session);
                Reply::Now(JoinResult::error(new_id, ResponseError::MemberIdRequired))
            }
            None => self.add_member_and_rebalance(cfg, now, new_id, p),
        }
    }

    /// Kafka's `replaceStaticMember`: the old member id is fenced, the new one takes over
    /// the member (and its assignment, and the leadership if it had it).
    fn replace_static_member(&mut self, iid: &str, old_id: &str, new_id: &str) {
        self.answer_join(
            old_id,
            JoinResult::error(old_id, ResponseError::FencedInstanceId),
        );
        self.answer_sync(old_id, SyncResult::error(ResponseError::FencedInstanceId));
        let Some(index) = self.members.get_index_of(old_id) else {
            return;
        };
        let Some((_, mut member)) = self.members.shift_remove_index(index) else {
            return;
        };
        member.member_id = new_id.to_string();
        self.members.insert(new_id.to_string(), member);
        // Keep the join order.
        let last = self.members.len().saturating_sub(1);
        self.members.move_index(last, index);
        if self.is_leader(old_id) {
            self.leader = Some(new_id.to_string());
        }
        if self.pending_sync.remove(old_id) {
            self.pending_sync.insert(new_id.to_string());
        }
        self.static_members
            .insert(iid.to_string(), new_id.to_string());
    }

    /// Kafka's `updateStaticMemberAndRebalance`.
    fn update_static_member_and_rebalance(
        &mut self,
        cfg: &GroupConfig,
        now: Instant,
        old_id: &str,
        new_id: String,
        p: &JoinParams,
    ) -> Reply<JoinResult> {
        let iid = p.group_instance_id.clone().unwrap_or_default();
        debug!(group = %self.group_id, instance = %iid, old = old_id, new = %new_id, "static member rejoined");
        let current_leader = self.leader.clone();
        self.replace_static_member(&iid, old_id, &new_id);
        self.schedule_heartbeat(&new_id, now);
        self.update_member(p, &new_id);
        match self.state {
            GroupState::Stable => {
                let selected = select_protocol(self.members.values());
                if selected.is_some() && selected == self.protocol_name {
                    // The protocol of the next generation would not change: no rebalance. The
                    // old leader id is returned so that a pre-v9 leader does not assign.
                    self.store();
                    let is_leader = self.is_leader(&new_id);
                    let skip = is_leader && p.supports_skip_assignment;
                    let mut result = self.join_result(&new_id, skip);
                    result.leader_id = current_leader.unwrap_or_default();
                    result.skip_assignment = skip;
                    Reply::Now(result)
                } else {
                    let rx = self.park_join(&new_id);
                    self.maybe_prepare_rebalance(cfg, now);
                    Reply::Later(rx)
                }
            }
            GroupState::CompletingRebalance => {
                // The leader may already have the old member id in its assignment: rebalance.
                let rx = self.park_join(&new_id);
                self.prepare_rebalance(cfg, now);
                Reply::Later(rx)
            }
            GroupState::PreparingRebalance => Reply::Later(self.park_join(&new_id)),
            GroupState::Empty | GroupState::Dead => {
                Reply::Now(JoinResult::error(new_id, ResponseError::UnknownMemberId))
            }
        }
    }

    /// Kafka's `doCurrentMemberJoinGroup`.
    fn current_member_join(
        &mut self,
        cfg: &GroupConfig,
        now: Instant,
        p: &JoinParams,
    ) -> Reply<JoinResult> {
        let member_id = p.member_id.as_str();
        if self.state == GroupState::Dead {
            return Reply::Now(JoinResult::error(
                member_id,
                ResponseError::CoordinatorNotAvailable,
            ));
        }
        if !self.supports_protocols(&p.protocol_type, &p.protocols) {
            return Reply::Now(JoinResult::error(
                member_id,
                ResponseError::InconsistentGroupProtocol,
            ));
        }
        if self.pending_members.contains_key(member_id) {
            // A member coming back with the id MEMBER_ID_REQUIRED gave it.
            return self.add_member_and_rebalance(cfg, now, member_id.to_string(), p);
        }
        let iid = p.group_instance_id.as_deref();
        let instance_not_found = iid.is_some_and(|i| !self.static_members.contains_key(i));
        if self.is_static_member_fenced(member_id, iid) {
            return Reply::Now(JoinResult::error(
                member_id,
                ResponseError::FencedInstanceId,
            ));
        }
        if !self.members.contains_key(member_id) || instance_not_found {
            return Reply::Now(JoinResult::error(member_id, ResponseError::UnknownMemberId));
        }
        let matches = self
            .members
            .get(member_id)
            .is_some_and(|m| m.matches(&p.protocols));
        match self.state {
            GroupState::PreparingRebalance => self.update_member_and_rebalance(cfg, now, p),
            GroupState::CompletingRebalance if matches => {
                // It may have missed the JoinGroup answer: give it again.
                Reply::Now(self.join_result(member_id, self.is_leader(member_id)))
            }
            GroupState::CompletingRebalance => self.update_member_and_rebalance(cfg, now, p),
            GroupState::Stable if self.is_leader(member_id) || !matches => {
                // A leader's JoinGroup always rebalances (e.g. topic metadata changed).
                self.update_member_and_rebalance(cfg, now, p)
            }
            GroupState::Stable => Reply::Now(self.join_result(member_id, false)),
            GroupState::Empty | GroupState::Dead => {
                Reply::Now(JoinResult::error(member_id, ResponseError::UnknownMemberId))
            }
        }
    }

    /// Kafka's `maybePrepareRebalance`.
    fn maybe_prepare_rebalance(&mut self, cfg: &GroupConfig, now: Instant) {
        if matches!(
            self.state,
            GroupState::Stable | GroupState::CompletingRebalance | GroupState::Empty
        ) {
            self.prepare_rebalance(cfg, now);
        }
    }

    /// Kafka's `prepareRebalance`.
    fn prepare_rebalance(&mut self, cfg: &GroupConfig, now: Instant) {
        debug!(group = %self.group_id, from = %self.state, generation = self.generation, "preparing rebalance");
        if self.state == GroupState::CompletingRebalance {
            self.reset_and_propagate_assignment_error(now, ResponseError::RebalanceInProgress);
        }
        self.sync_deadline = None;
        let timeout = self.rebalance_timeout();
        self.join_timer = Some(if self.state == GroupState::Empty {
            JoinTimer::Initial {
                deadline: now + cfg.initial_rebalance_delay,
                remaining: timeout.saturating_sub(cfg.initial_rebalance_delay),
            }
        } else {
            JoinTimer::Normal {
                deadline: now + timeout,
            }
        });
        self.state = GroupState::PreparingRebalance;
    }

    /// Kafka's `resetAndPropagateAssignmentError`.
    fn reset_and_propagate_assignment_error(&mut self, now: Instant, e: ResponseError) {
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            if let Some(m) = self.members.get_mut(&id) {
                m.assignment = Bytes::new();
            }
            if self.awaiting_sync(&id) {
                self.answer_sync(&id, SyncResult::error(e));
                self.schedule_heartbeat(&id, now);
            }
        }
    }

    /// Kafka's `setAndPropagateAssignment`.
    fn set_and_propagate_assignment(
        &mut self,
        now: Instant,
        mut assignment: HashMap<String, Bytes>,
    ) {
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            let a = assignment.remove(&id).unwrap_or_default();
            if let Some(m) = self.members.get_mut(&id) {
                m.assignment = a.clone();
            }
            if self.awaiting_sync(&id) {
                let result = SyncResult {
                    error: None,
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: self.protocol_name.clone(),
                    assignment: a,
                };
                self.answer_sync(&id, result);
                self.schedule_heartbeat(&id, now);
            }
        }
    }

    /// Kafka's `onCompleteJoin`.
    fn complete_join(&mut self, now: Instant) {
        self.join_timer = None;
        let missing: Vec<String> = self
            .members
            .values()
            .filter(|m| !m.is_static() && !self.join_waiters.contains_key(&m.member_id))
            .map(|m| m.member_id.clone())
            .collect();
        if !missing.is_empty() {
            debug!(group = %self.group_id, members = ?missing, "did not rejoin in time: removing");
        }
        for id in missing {
            self.remove(&id);
        }
        if self.state == GroupState::Dead {
            return;
        }
        if !self.maybe_elect_new_joined_leader() && !self.members.is_empty() {
            // Only static members that have not rejoined remain: wait another round for
            // them to rejoin or time out.
            self.join_timer = Some(JoinTimer::Normal {
                deadline: now + self.rebalance_timeout(),
            });
            return;
        }
        self.init_next_generation();
        debug!(
            group = %self.group_id,
            generation = self.generation,
            members = self.members.len(),
            protocol = self.protocol_name.as_deref().unwrap_or(""),
            state = %self.state,
            "join phase complete"
        );
        if self.state == GroupState::Empty {
            self.store();
            return;
        }
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in &ids {
            let result = self.join_result(id, self.is_leader(id));
            self.answer_join(id, result);
            self.schedule_heartbeat(id, now);
            if let Some(m) = self.members.get_mut(id) {
                m.is_new = false;
            }
            self.pending_sync.insert(id.clone());
        }
        self.sync_deadline = Some(now + self.rebalance_timeout());
    }

    /// Kafka's `maybeElectNewJoinedLeader`.
    fn maybe_elect_new_joined_leader(&mut self) -> bool {
        let Some(leader) = self.leader.clone() else {
            return false;
        };
        if self.awaiting_join(&leader) {
            return true;
        }
        let joined = self
            .members
            .keys()
            .find(|id| self.join_waiters.contains_key(*id))
            .cloned();
        match joined {
            Some(id) => {
                self.leader = Some(id);
                true
            }
            None => false,
        }
    }

    /// Kafka's `initNextGeneration`.
    fn init_next_generation(&mut self) {
        self.generation = self.generation.wrapping_add(1).max(1);
        if self.members.is_empty() {
            self.protocol_name = None;
            self.state = GroupState::Empty;
        } else {
            self.protocol_name = select_protocol(self.members.values());
            self.state = GroupState::CompletingRebalance;
        }
        self.subscribed_topics = self.compute_subscribed_topics();
        self.pending_sync.clear();
    }

    fn compute_subscribed_topics(&self) -> Option<BTreeSet<String>> {
        if self.protocol_type.as_deref() != Some(CONSUMER_PROTOCOL_TYPE) {
            return None;
        }
        if self.members.is_empty() {
            return Some(BTreeSet::new());
        }
        let protocol = self.protocol_name.as_deref()?;
        let mut topics = BTreeSet::new();
        for m in self.members.values() {
            topics.extend(consumer_protocol::subscribed_topics(m.metadata(protocol)?)?);
        }
        Some(topics)
    }

    fn is_subscribed_to_topic(&self, topic: &str) -> bool {
        self.subscribed_topics
            .as_ref()
            .is_none_or(|topics| topics.contains(topic))
    }

    /// What Kafka's `storeGroup` writes.
    fn store(&mut self) {
        self.stored = Some(Stored {
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader.clone(),
            members: self.members.clone(),
        });
    }

    /// Kafka's `onExpireHeartbeat`.
    fn on_expire_heartbeat(&mut self, cfg: &GroupConfig, now: Instant, member_id: &str) {
        let Some(m) = self.members.get_mut(member_id) else {
            return;
        };
        m.heartbeat_deadline = None;
        let is_new = m.is_new;
        if !is_new && (self.awaiting_join(member_id) || self.awaiting_sync(member_id)) {
            // Parked members satisfy their heartbeats; the deadline is set again when they
            // are answered.
            return;
        }
        debug!(group = %self.group_id, member = member_id, "session timeout: removing member");
        self.remove_member_and_update_group(cfg, now, member_id);
    }

    /// Kafka's `onExpirePendingSync`.
    fn on_expire_pending_sync(&mut self, cfg: &GroupConfig, now: Instant) {
        if !matches!(
            self.state,
            GroupState::CompletingRebalance | GroupState::Stable
        ) || self.pending_sync.is_empty()
        {
            return;
        }
        let pending: Vec<String> = self.pending_sync.iter().cloned().collect();
        debug!(group = %self.group_id, members = ?pending, "no SyncGroup within the rebalance timeout: removing");
        for id in pending {
            self.remove(&id);
        }
        self.prepare_rebalance(cfg, now);
    }

    /// Runs one due deadline or completion; returns whether anything happened.
    fn step(&mut self, cfg: &GroupConfig, now: Instant) -> bool {
        let expired: Vec<String> = self
            .pending_members
            .iter()
            .filter(|(_, d)| **d <= now)
            .map(|(id, _)| id.clone())
            .collect();
        if !expired.is_empty() {
            for id in expired {
                self.pending_members.remove(&id);
            }
            return true;
        }
        let expired = self
            .members
            .values()
            .find(|m| m.heartbeat_deadline.is_some_and(|d| d <= now))
            .map(|m| m.member_id.clone());
        if let Some(id) = expired {
            self.on_expire_heartbeat(cfg, now, &id);
            return true;
        }
        if self.state == GroupState::PreparingRebalance {
            match self.join_timer {
                Some(JoinTimer::Initial {
                    deadline,
                    remaining,
                }) if deadline <= now => {
                    if self.new_member_added && !remaining.is_zero() {
                        self.new_member_added = false;
                        let delay = cfg.initial_rebalance_delay.min(remaining);
                        self.join_timer = Some(JoinTimer::Initial {
                            deadline: now + delay,
                            remaining: remaining.saturating_sub(delay),
                        });
                    } else {
                        self.complete_join(now);
                    }
                    return true;
                }
                Some(JoinTimer::Normal { deadline })
                    if deadline <= now || self.all_members_joined() =>
                {
                    self.complete_join(now);
                    return true;
                }
                None => {
                    self.complete_join(now);
                    return true;
                }
                _ => {}
            }
        }
        if self.sync_deadline.is_some_and(|d| d <= now) {
            self.sync_deadline = None;
            self.on_expire_pending_sync(cfg, now);
            return true;
        }
        false
    }

    /// Runs everything due at `now`.
    fn advance(&mut self, cfg: &GroupConfig, now: Instant) {
        // Each step removes a deadline or changes state; the bound is a safety net.
        for _ in 0..10_000 {
            if !self.step(cfg, now) {
                break;
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let members = self.members.values().filter_map(|m| m.heartbeat_deadline);
        let pending = self.pending_members.values().copied();
        let join = self
            .join_timer
            .filter(|_| self.state == GroupState::PreparingRebalance)
            .map(|t| t.deadline());
        members
            .chain(pending)
            .chain(join)
            .chain(self.sync_deadline)
            .min()
    }

    /// The group as the next coordinator loads it (Kafka's `onGroupUnloaded` here, then
    /// `onGroupLoaded` there): parked requests get NOT_COORDINATOR, a rebalance in progress
    /// is lost, and the last stored generation comes back with fresh heartbeat deadlines.
    fn reload(&mut self, now: Instant) {
        debug!(group = %self.group_id, state = %self.state, "coordinator moved: reloading the stored group");
        for (id, tx) in std::mem::take(&mut self.join_waiters) {
            let _ = tx.send(JoinResult::error(id, ResponseError::NotCoordinator));
        }
        for (_, tx) in std::mem::take(&mut self.sync_waiters) {
            let _ = tx.send(SyncResult::error(ResponseError::NotCoordinator));
        }
        self.pending_members.clear();
        self.pending_sync.clear();
        self.join_timer = None;
        self.sync_deadline = None;
        self.new_member_added = false;
        let stored = self.stored.clone();
        match stored {
            Some(s) => {
                self.generation = s.generation;
                self.protocol_type = s.protocol_type;
                self.protocol_name = s.protocol_name;
                self.leader = s.leader;
                self.members = s.members;
            }
            None => {
                self.generation = 0;
                self.protocol_name = None;
                self.leader = None;
                self.members.clear();
            }
        }
        self.static_members = self
            .members
            .values()
            .filter_map(|m| Some((m.group_instance_id.clone()?, m.member_id.clone())))
            .collect();
        for m in self.members.values_mut() {
            m.is_new = false;
            m.heartbeat_deadline = Some(now + m.session_timeout);
        }
        self.state = if self.members.is_empty() {
            GroupState::Empty
        } else {
            GroupState::Stable
        };
        self.subscribed_topics = self.compute_subscribed_topics();
    }

    fn view(&self) -> GroupView {
        let consumer = self.protocol_type.as_deref() == Some(CONSUMER_PROTOCOL_TYPE);
        GroupView {
            group_id: self.group_id.clone(),
            state: self.state,
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            protocol_name: self.protocol_name.clone(),
            generation: self.generation,
            leader: self.leader.clone(),
            members: self
                .members
                .values()
                .map(|m| MemberView {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    assignment: m.assignment.clone(),
                    assigned_partitions: consumer
                        .then(|| consumer_protocol::assigned_partitions(&m.assignment))
                        .flatten(),
                })
                .collect(),
        }
    }

    /// Kafka's `GroupMetadata.summary`.
    fn summary(&self) -> GroupSummary {
        let stable = self.state == GroupState::Stable;
        let protocol = self.protocol_name.clone().unwrap_or_default();
        GroupSummary {
            state: self.state,
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            protocol_name: if stable {
                protocol.clone()
            } else {
                String::new()
            },
            members: self
                .members
                .values()
                .map(|m| MemberSummary {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    metadata: if stable {
                        m.metadata(&protocol).cloned().unwrap_or_default()
                    } else {
                        Bytes::new()
                    },
                    assignment: if stable {
                        m.assignment.clone()
                    } else {
                        Bytes::new()
                    },
                })
                .collect(),
        }
    }
}

/// Every group of the cluster, their committed offsets, and which broker coordinates which.
#[derive(Debug)]
pub(crate) struct GroupCoordinator {
    config: GroupConfig,
    groups: BTreeMap<String, Group>,
    offsets: OffsetStore,
    placement: Placement,
    ids: MemberIds,
}

impl GroupCoordinator {
    /// A coordinator with no groups, its `__consumer_offsets` partitions spread over
    /// `brokers`.
    pub(crate) fn new(config: GroupConfig, brokers: &[i32]) -> Self {
        Self {
            config,
            groups: BTreeMap::new(),
            offsets: OffsetStore::default(),
            placement: Placement::new(brokers),
            ids: MemberIds::new(),
        }
    }

    /// The broker that coordinates `group_id`.
    pub(crate) fn coordinator_for(&self, group_id: &str) -> i32 {
        self.placement.coordinator(group_id)
    }

    /// JoinGroup.
    pub(crate) fn join(&mut self, now: Instant, p: JoinParams) -> Reply<JoinResult> {
        if p.group_id.is_empty() {
            return Reply::Now(JoinResult::error(
                p.member_id,
                ResponseError::InvalidGroupId,
            ));
        }
        let cfg = &self.config;
        let session_ok = millis(p.session_timeout_ms)
            .is_some_and(|s| s >= cfg.min_session_timeout && s <= cfg.max_session_timeout);
        if !session_ok {
            return Reply::Now(JoinResult::error(
                p.member_id,
                ResponseError::InvalidSessionTimeout,
            ));
        }
        let unknown = p.member_id.is_empty();
        if !self.groups.contains_key(&p.group_id) {
            if !unknown {
                return Reply::Now(JoinResult::error(
                    p.member_id,
                    ResponseError::UnknownMemberId,
                ));
            }
            self.groups
                .insert(p.group_id.clone(), Group::new(&p.group_id));
        }
        let Some(group) = self.groups.get_mut(&p.group_id) else {
            return Reply::Now(JoinResult::error(
                p.member_id,
                ResponseError::UnknownServerError,
            ));
        };
        if !group.accept_joining_member(&p.member_id, cfg.max_group_size) {
            group.remove(&p.member_id);
            group.advance(cfg, now);
            return Reply::Now(JoinResult::error("", ResponseError::GroupMaxSizeReached));
        }
        let reply = if unknown {
            group.new_member_join(cfg, &mut self.ids, now, &p)
        } else {
            group.current_member_join(cfg, now, &p)
        };
        group.advance(cfg, now);
        reply
    }

    /// SyncGroup (Kafka's `doSyncGroup`).
    pub(crate) fn sync(&mut self, now: Instant, p: SyncParams) -> Reply<SyncResult> {
        let err = |e| Reply::Now(SyncResult::error(e));
        if p.group_id.is_empty() {
            return err(ResponseError::InvalidGroupId);
        }
        let cfg = &self.config;
        let Some(group) = self.groups.get_mut(&p.group_id) else {
            return err(ResponseError::UnknownMemberId);
        };
        if group.state == GroupState::Dead {
            return err(ResponseError::CoordinatorNotAvailable);
        }
        if let Some(e) = group.validate_current_member(&p.member_id, p.group_instance_id.as_deref())
        {
            return err(e);
        }
        if p.generation_id != group.generation {
            return err(ResponseError::IllegalGeneration);
        }
        if p.protocol_type.is_some() && p.protocol_type != group.protocol_type
            || p.protocol_name.is_some() && p.protocol_name != group.protocol_name
        {
            return err(ResponseError::InconsistentGroupProtocol);
        }
        let reply = match group.state {
            GroupState::Empty | GroupState::Dead => err(ResponseError::UnknownMemberId),
            GroupState::PreparingRebalance => err(ResponseError::RebalanceInProgress),
            GroupState::CompletingRebalance => {
                let rx = group.park_sync(&p.member_id);
                group.pending_sync.remove(&p.member_id);
                if group.is_leader(&p.member_id) {
                    let assignment: HashMap<String, Bytes> = p.assignments.into_iter().collect();
                    group.set_and_propagate_assignment(now, assignment);
                    group.state = GroupState::Stable;
                    group.store();
                }
                Reply::Later(rx)
            }
            GroupState::Stable => {
                group.pending_sync.remove(&p.member_id);
                group.schedule_heartbeat(&p.member_id, now);
                let assignment = group
                    .members
                    .get(&p.member_id)
                    .map(|m| m.assignment.clone())
                    .unwrap_or_default();
                Reply::Now(SyncResult {
                    error: None,
                    protocol_type: group.protocol_type.clone(),
                    protocol_name: group.protocol_name.clone(),
                    assignment,
                })
            }
        };
        group.advance(cfg, now);
        reply
    }

    /// Heartbeat (Kafka's `handleHeartbeat`).
    pub(crate) fn heartbeat(
        &mut self,
        now: Instant,
        group_id: &str,
        member_id: &str,
        group_instance_id: Option<&str>,
        generation_id: i32,
    ) -> Result<(), ResponseError> {
        if group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let cfg = &self.config;
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(ResponseError::UnknownMemberId)?;
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        if let Some(e) = group.validate_current_member(member_id, group_instance_id) {
            return Err(e);
        }
        if generation_id != group.generation {
            return Err(ResponseError::IllegalGeneration);
        }
        let result = match group.state {
            GroupState::Empty | GroupState::Dead => Err(ResponseError::UnknownMemberId),
            GroupState::CompletingRebalance | GroupState::Stable => {
                group.schedule_heartbeat(member_id, now);
                Ok(())
            }
            GroupState::PreparingRebalance => {
                group.schedule_heartbeat(member_id, now);
                Err(ResponseError::RebalanceInProgress)
            }
        };
        group.advance(cfg, now);
        result
    }

    /// LeaveGroup (Kafka's `handleLeaveGroup`): the group-level error, or one result per
    /// member named.
    pub(crate) fn leave(
        &mut self,
        now: Instant,
        group_id: &str,
        leaving: &[LeavingMember],
    ) -> Result<Vec<Option<ResponseError>>, ResponseError> {
        if group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let cfg = &self.config;
        let Some(group) = self.groups.get_mut(group_id) else {
            return Ok(vec![Some(ResponseError::UnknownMemberId); leaving.len()]);
        };
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        let mut out = Vec::with_capacity(leaving.len());
        for l in leaving {
            let iid = l.group_instance_id.as_deref();
            let result = if l.member_id.is_empty() {
                // Administrative removal by group instance id.
                match iid.and_then(|i| group.static_members.get(i)).cloned() {
                    Some(current) => {
                        group.remove_member_and_update_group(cfg, now, &current);
                        None
                    }
                    None => Some(ResponseError::UnknownMemberId),
                }
            } else if group.pending_members.remove(&l.member_id).is_some() {
                None
            } else if let Some(e) = group.validate_current_member(&l.member_id, iid) {
                Some(e)
            } else {
                group.remove_member_and_update_group(cfg, now, &l.member_id);
                None
            };
            out.push(result);
        }
        group.advance(cfg, now);
        Ok(out)
    }

    /// Checks an OffsetCommit against the group (Kafka's `validateOffsetCommit` and the
    /// state match of `doCommitOffsets`), creating the group for a simple commit.
    fn validate_commit(
        &mut self,
        now: Instant,
        group_id: &str,
        who: &Committer,
    ) -> Result<(), ResponseError> {
        if !self.groups.contains_key(group_id) {
            if who.generation_id >= 0 {
                return Err(ResponseError::IllegalGeneration);
            }
            self.groups
                .insert(group_id.to_string(), Group::new(group_id));
        }
        let cfg = &self.config;
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(ResponseError::UnknownServerError)?;
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        let iid = who.group_instance_id.as_deref();
        if who.generation_id >= 0 || !who.member_id.is_empty() || iid.is_some() {
            if let Some(e) = group.validate_current_member(&who.member_id, iid) {
                return Err(e);
            }
            if who.generation_id != group.generation {
                return Err(ResponseError::IllegalGeneration);
            }
        } else if group.state != GroupState::Empty {
            // Only members may commit to a group that has members.
            return Err(ResponseError::UnknownMemberId);
        }
        let result = match group.state {
            GroupState::Empty => Ok(()),
            GroupState::Stable | GroupState::PreparingRebalance => {
                // A commit counts as a heartbeat; during PreparingRebalance it is allowed,
                // the member learns of the rebalance from its next heartbeat.
                group.schedule_heartbeat(&who.member_id, now);
                Ok(())
            }
            GroupState::CompletingRebalance => Err(ResponseError::RebalanceInProgress),
            GroupState::Dead => Err(ResponseError::CoordinatorNotAvailable),
        };
        group.advance(cfg, now);
        result
    }

    /// OffsetCommit: one result per entry, in order.
    pub(crate) fn commit_offsets(
        &mut self,
        now: Instant,
        group_id: &str,
        who: &Committer,
        entries: &[OffsetCommitEntry],
    ) -> Vec<Option<ResponseError>> {
        if let Err(e) = self.validate_commit(now, group_id, who) {
            return vec![Some(e); entries.len()];
        }
        let max = self.config.max_offset_metadata_bytes;
        entries
            .iter()
            .map(|e| {
                let metadata = e.metadata.clone().unwrap_or_default();
                if metadata.len() > max {
                    return Some(ResponseError::OffsetMetadataTooLarge);
                }
                self.offsets.commit(
                    group_id,
                    &e.topic,
                    e.partition,
                    CommittedOffset {
                        offset: e.offset,
                        leader_epoch: e.leader_epoch,
                        metadata,
                        committed_at: now,
                    },
                );
                None
            })
            .collect()
    }

    /// OffsetFetch: the committed offsets of the partitions asked for (all of the group's
    /// with `None`); a partition without one is listed with `None`, whatever the group's
    /// state (Kafka answers "blindly", since simple consumers have no group).
    pub(crate) fn fetch_offsets(
        &self,
        group_id: &str,
        partitions: Option<&[(String, i32)]>,
    ) -> Vec<(String, i32, Option<CommittedOffset>)> {
        match partitions {
            Some(ps) => ps
                .iter()
                .map(|(t, p)| (t.clone(), *p, self.offsets.get(group_id, t, *p).cloned()))
                .collect(),
            None => self
                .offsets
                .group(group_id)
                .map(|(t, p, o)| (t.to_string(), p, Some(o.clone())))
                .collect(),
        }
    }

    /// OffsetDelete (Kafka's `handleDeleteOffsets`): a group-level error, or one result per
    /// partition.
    pub(crate) fn delete_offsets(
        &mut self,
        group_id: &str,
        partitions: &[(String, i32)],
    ) -> Result<Vec<Option<ResponseError>>, ResponseError> {
        if group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId);
        }
        let group = self
            .groups
            .get(group_id)
            .ok_or(ResponseError::GroupIdNotFound)?;
        let consumer = group.protocol_type.as_deref() == Some(CONSUMER_PROTOCOL_TYPE);
        let out = match group.state {
            GroupState::Dead => return Err(ResponseError::GroupIdNotFound),
            GroupState::Empty => partitions.iter().map(|_| None).collect(),
            _ if consumer => partitions
                .iter()
                .map(|(t, _)| {
                    group
                        .is_subscribed_to_topic(t)
                        .then_some(ResponseError::GroupSubscribedToTopic)
                })
                .collect::<Vec<_>>(),
            _ => return Err(ResponseError::NonEmptyGroup),
        };
        for ((t, p), e) in partitions.iter().zip(&out) {
            if e.is_none() {
                self.offsets.delete(group_id, t, *p);
            }
        }
        Ok(out)
    }

    /// DeleteGroups (Kafka's `handleDeleteGroups`): one result per group id; a deleted
    /// group's committed offsets go with it.
    pub(crate) fn delete_groups(&mut self, group_ids: &[String]) -> Vec<Option<ResponseError>> {
        group_ids
            .iter()
            .map(|id| match self.groups.get(id).map(|g| g.state) {
                None | Some(GroupState::Dead) => Some(ResponseError::GroupIdNotFound),
                Some(GroupState::Empty) => {
                    self.groups.remove(id);
                    self.offsets.delete_group(id);
                    None
                }
                Some(_) => Some(ResponseError::NonEmptyGroup),
            })
            .collect()
    }

    /// DescribeGroups for one group: a group that does not exist is described as Dead.
    pub(crate) fn describe(&self, group_id: &str) -> GroupSummary {
        self.groups.get(group_id).map_or_else(
            || GroupSummary {
                state: GroupState::Dead,
                protocol_type: String::new(),
                protocol_name: String::new(),
                members: Vec::new(),
            },
            Group::summary,
        )
    }

    /// ListGroups: (group id, protocol type, state) of every group `coordinated` accepts
    /// whose state is in `states` (any state when empty; names compared ignoring case).
    pub(crate) fn list(
        &self,
        states: &[String],
        coordinated: impl Fn(&str) -> bool,
    ) -> Vec<(String, String, GroupState)> {
        self.groups
            .values()
            .filter(|g| coordinated(&g.group_id))
            .filter(|g| {
                states.is_empty()
                    || states
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(g.state.as_str()))
            })
            .map(|g| {
                (
                    g.group_id.clone(),
                    g.protocol_type.clone().unwrap_or_default(),
                    g.state,
                )
            })
            .collect()
    }

    /// Runs every deadline due at `now` (session timeouts, rebalance timeouts, the initial
    /// rebalance delay); returns the next deadline, for the timer task.
    pub(crate) fn expire(&mut self, now: Instant) -> Option<Instant> {
        let cfg = &self.config;
        for g in self.groups.values_mut() {
            g.advance(cfg, now);
        }
        self.next_deadline()
    }

    /// The earliest deadline of any group.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.groups.values().filter_map(Group::next_deadline).min()
    }

    /// Moves the coordinator of `group_id` (with every group of its `__consumer_offsets`
    /// partition) to `broker`; its groups are reloaded as a new coordinator loads them.
    /// Returns whether it moved.
    pub(crate) fn move_coordinator(&mut self, now: Instant, group_id: &str, broker: i32) -> bool {
        let p = partition_for(group_id);
        let moved = self.placement.set_leader(p, broker);
        if moved {
            self.reload_partitions(now, &[p]);
        }
        moved
    }

    /// A broker stopped: its `__consumer_offsets` partitions move to the `live` brokers,
    /// and their groups are reloaded there.
    pub(crate) fn broker_stopped(&mut self, now: Instant, broker: i32, live: &[i32]) {
        let moved = self.placement.fail_over(broker, live);
        self.reload_partitions(now, &moved);
    }

    /// A broker restarted: it takes over the `__consumer_offsets` partitions that had no
    /// live leader, and loads their groups.
    pub(crate) fn broker_restarted(&mut self, now: Instant, broker: i32) {
        let taken = self.placement.adopt_orphans(broker);
        self.reload_partitions(now, &taken);
    }

    fn reload_partitions(&mut self, now: Instant, partitions: &[usize]) {
        let ids: Vec<String> = self
            .groups
            .keys()
            .filter(|id| partitions.contains(&partition_for(id)))
            .cloned()
            .collect();
        for id in ids {
            let Some(g) = self.groups.get_mut(&id) else {
                continue;
            };
            g.reload(now);
            if g.members.is_empty() && g.stored.is_none() && !self.offsets.has_offsets(&id) {
                // Nothing of it was ever stored: the new coordinator does not know it.
                self.groups.remove(&id);
            }
        }
    }

    /// The ids of every group, sorted.
    pub(crate) fn group_ids(&self) -> Vec<String> {
        self.groups.keys().cloned().collect()
    }

    /// A group's state, members and assignments.
    pub(crate) fn view(&self, group_id: &str) -> Option<GroupView> {
        self.groups.get(group_id).map(Group::view)
    }

    /// A committed offset.
    pub(crate) fn committed(
        &self,
        group_id: &str,
        topic: &str,
        partition: i32,
    ) -> Option<CommittedOffsetView> {
        self.offsets
            .get(group_id, topic, partition)
            .map(|o| CommittedOffsetView {
                offset: o.offset,
                leader_epoch: (o.leader_epoch >= 0).then_some(o.leader_epoch),
                metadata: o.metadata.clone(),
            })
    }

    /// Every committed offset of a group: (topic, partition, offset).
    pub(crate) fn committed_offsets(
        &self,
        group_id: &str,
    ) -> Vec<(String, i32, CommittedOffsetView)> {
        self.offsets
            .group(group_id)
            .map(|(t, p, o)| {
                (
                    t.to_string(),
                    p,
                    CommittedOffsetView {
                        offset: o.offset,
                        leader_epoch: (o.leader_epoch >= 0).then_some(o.leader_epoch),
                        metadata: o.metadata.clone(),
                    },
                )
            })
            .collect()
    }

    /// A topic was deleted: its committed offsets go (as Kafka's `handleDeletedPartitions`).
    pub(crate) fn topic_deleted(&mut self, topic: &str) {
        self.offsets.delete_topic(topic);
    }
}

#[cfg(test)]
#[path = "coordinator_tests.rs"]
mod tests;
