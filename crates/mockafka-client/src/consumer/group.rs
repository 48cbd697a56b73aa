//! The background task: group membership (join, sync, heartbeats, rejoin on rebalance,
//! leave on close), metadata checks for pattern and partition changes, and auto commit.
//!
//! The rebalance protocol is eager (every partition revoked before rejoining) unless every
//! configured assignor is cooperative; then a member keeps what it keeps, revokes only what
//! it loses, and rejoins at once after a revocation so the partition can move.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ApiKey, GroupId, HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest,
};
use kafka_protocol::protocol::StrBytes;
use tokio::time::Instant;

use super::assignor::{self, AssignmentStrategy};
use super::{duration_ms, offsets, Inner, Membership, Subscription};
use crate::admin::TopicPartition;
use crate::error::{ClientError, Target};

/// How a membership request ended, when not with success.
enum Outcome {
    /// Join again (a rebalance started, or our generation is stale).
    Rejoin,
    /// Find the coordinator again, then join again.
    Retry(ClientError),
    /// Give up until the subscription changes.
    Fatal(ClientError),
}

fn classify(e: ClientError) -> Outcome {
    match e.code() {
        Some(
            ResponseError::RebalanceInProgress
            | ResponseError::IllegalGeneration
            | ResponseError::UnknownMemberId
            | ResponseError::MemberIdRequired,
        ) => Outcome::Rejoin,
        Some(
            ResponseError::NotCoordinator
            | ResponseError::CoordinatorNotAvailable
            | ResponseError::CoordinatorLoadInProgress,
        ) => Outcome::Retry(e),
        Some(_) if !e.is_retriable() => Outcome::Fatal(e),
        _ => Outcome::Retry(e),
    }
}

struct Group {
    inner: Arc<Inner>,
    group_id: String,
    member_id: String,
    generation: i32,
    /// Member of a stable generation.
    joined: bool,
    rejoin: bool,
    fatal: bool,
    cooperative: bool,
    /// The topics and partition counts the last join subscribed with.
    topics: BTreeSet<String>,
    counts: BTreeMap<String, i32>,
    next_heartbeat: Instant,
    next_commit: Instant,
    next_metadata: Instant,
}

/// Runs until the consumer closes (or is dropped).
pub(crate) async fn run(inner: Arc<Inner>) {
    let now = Instant::now();
    let cfg = &inner.cfg;
    let mut g = Group {
        group_id: cfg.group_id.clone().unwrap_or_default(),
        member_id: String::new(),
        generation: -1,
        joined: false,
        rejoin: false,
        fatal: false,
        cooperative: cfg.strategies.iter().all(|s| s.is_cooperative()),
        topics: BTreeSet::new(),
        counts: BTreeMap::new(),
        next_heartbeat: now,
        next_commit: now + cfg.auto_commit_interval,
        next_metadata: now + cfg.metadata_max_age,
        inner: inner.clone(),
    };
    g.run().await;
}

impl Group {
    fn listener(&self) -> Option<&Arc<dyn super::RebalanceListener>> {
        self.inner.cfg.listener.as_ref()
    }

    fn auto_commit(&self) -> bool {
        self.inner.cfg.enable_auto_commit && self.inner.cfg.group_id.is_some()
    }

    /// Sleeps until `until`, or until woken (subscription change, close).
    async fn wait(&self, until: Instant) {
        tokio::select! {
            _ = tokio::time::sleep_until(until) => {}
            _ = self.inner.group_wake.notified() => {}
        }
    }

    async fn run(&mut self) {
        loop {
            if self.inner.is_closed() {
                self.shutdown().await;
                return;
            }
            let (sub, changed) = {
                let mut st = self.inner.lock();
                let changed = std::mem::take(&mut st.subscription_changed);
                (st.subscription.clone(), changed)
            };
            if changed {
                self.fatal = false;
                self.rejoin = true;
            }
            if sub.uses_group() && !self.fatal && self.inner.cfg.group_id.is_none() {
                // A subscription without a group (kafka-python's `group_id=None`): every
                // partition of the topics, no membership.
                if (self.rejoin || !self.joined) && !self.assign_all(&sub).await {
                    self.wait(Instant::now() + self.inner.cfg.retry_backoff)
                        .await;
                    continue;
                }
            } else if sub.uses_group() && !self.fatal {
                if self.rejoin || !self.joined {
                    let inner = self.inner.clone();
                    let closing = async move {
                        loop {
                            inner.group_wake.notified().await;
                            if inner.is_closed() {
                                break;
                            }
                        }
                    };
                    let ok = tokio::select! {
                        r = self.join(&sub) => r,
                        _ = closing => false,
                    };
                    if !ok {
                        if self.inner.is_closed() {
                            continue;
                        }
                        self.wait(Instant::now() + self.inner.cfg.retry_backoff)
                            .await;
                        continue;
                    }
                }
            } else if !sub.uses_group() && (self.joined || !self.member_id.is_empty()) {
                self.leave("the consumer unsubscribed").await;
            }
            // Wait for the next timer.
            let now = Instant::now();
            let mut next = now + std::time::Duration::from_secs(3600);
            if self.joined {
                next = next.min(self.next_metadata);
                if self.inner.cfg.group_id.is_some() {
                    next = next.min(self.next_heartbeat);
                }
            }
            if self.auto_commit() {
                next = next.min(self.next_commit);
            }
            if next > now {
                self.wait(next).await;
            }
            let now = Instant::now();
            if self.inner.is_closed() {
                continue;
            }
            if self.joined && self.inner.cfg.group_id.is_some() && now >= self.next_heartbeat {
                self.heartbeat().await;
            }
            if self.auto_commit() && now >= self.next_commit {
                self.next_commit = now + self.inner.cfg.auto_commit_interval;
                self.commit_consumed("auto commit").await;
            }
            if self.joined && now >= self.next_metadata {
                self.next_metadata = now + self.inner.cfg.metadata_max_age;
                self.check_metadata(&sub).await;
            }
        }
    }

    async fn commit_consumed(&self, why: &str) {
        let offsets = offsets::consumed(&self.inner);
        if let Err(e) = offsets::commit(&self.inner, &offsets).await {
            tracing::debug!(error = %e, why, "offset commit failed");
        }
    }

    /// The topics `sub` means now, with their partition counts (unknown topics have
    /// none).
    async fn resolve_topics(
        &self,
        sub: &Subscription,
    ) -> Result<(BTreeSet<String>, BTreeMap<String, i32>), ClientError> {
        let pool = &self.inner.pool;
        let topics: BTreeSet<String> = match sub {
            Subscription::Topics(t) => {
                let list: Vec<String> = t.iter().cloned().collect();
                pool.refresh(Some(&list), self.inner.cfg.allow_auto_create_topics)
                    .await?;
                t.clone()
            }
            Subscription::Pattern(re) => {
                let resp = pool.refresh(None, false).await?;
                resp.topics
                    .iter()
                    .filter(|t| !t.is_internal && t.error_code == 0)
                    .filter_map(|t| t.name.as_ref().map(|n| n.0.to_string()))
                    .filter(|n| re.is_match(n))
                    .collect()
            }
            _ => BTreeSet::new(),
        };
        let counts = self.counts_of(&topics);
        Ok((topics, counts))
    }

    fn counts_of(&self, topics: &BTreeSet<String>) -> BTreeMap<String, i32> {
        self.inner.pool.with_metadata(|md| {
            topics
                .iter()
                .filter_map(|t| md.topics.get(t).map(|m| (t.clone(), m.count())))
                .filter(|(_, n)| *n > 0)
                .collect()
        })
    }

    /// A new matching topic, or a partition count change: rebalance.
    async fn check_metadata(&mut self, sub: &Subscription) {
        match self.resolve_topics(sub).await {
            Ok((topics, counts)) => {
                if topics != self.topics || counts != self.counts {
                    tracing::debug!(?topics, "subscribed topics changed: rejoining");
                    self.rejoin = true;
                    self.inner.group_wake.notify_one();
                }
            }
            Err(e) => tracing::debug!(error = %e, "metadata refresh failed"),
        }
    }

    /// Assigns every partition of the subscribed topics (no group).
    async fn assign_all(&mut self, sub: &Subscription) -> bool {
        tracing::debug!("assigning every partition of the subscription");
        match self.resolve_topics(sub).await {
            Ok((topics, counts)) => {
                let parts: Vec<TopicPartition> = counts
                    .iter()
                    .flat_map(|(t, &n)| (0..n).map(move |p| TopicPartition::new(t.clone(), p)))
                    .collect();
                let owned: BTreeSet<TopicPartition> =
                    self.inner.lock().assignment.keys().cloned().collect();
                let added: Vec<TopicPartition> = parts
                    .iter()
                    .filter(|tp| !owned.contains(tp))
                    .cloned()
                    .collect();
                tracing::debug!(?parts, "assigned without a group");
                self.inner.set_assignment(&parts);
                if !added.is_empty() {
                    if let Some(l) = self.listener() {
                        l.on_partitions_assigned(&added);
                    }
                }
                self.topics = topics;
                self.counts = counts;
                self.joined = true;
                self.rejoin = false;
                self.next_metadata = Instant::now() + self.inner.cfg.metadata_max_age;
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "metadata for the subscription failed");
                false
            }
        }
    }

    /// Removes partitions (`None`: all) from the assignment and returns them with their
    /// positions, in one step under the state lock, so that no record is handed out
    /// after the positions to commit were read.
    fn take(&self, which: Option<&[TopicPartition]>) -> (Vec<TopicPartition>, offsets::ToCommit) {
        let mut st = self.inner.lock();
        let parts: Vec<TopicPartition> = match which {
            Some(w) => w
                .iter()
                .filter(|tp| st.assignment.contains_key(*tp))
                .cloned()
                .collect(),
            None => st.assignment.keys().cloned().collect(),
        };
        let mut positions = offsets::ToCommit::new();
        // A manual assignment made after unsubscribe is not the group's to take.
        let manual = matches!(st.subscription, Subscription::Manual);
        let mut parts = if manual { Vec::new() } else { parts };
        for tp in &parts {
            if let Some(p) = st.assignment.remove(tp) {
                if let Some(o) = p.position {
                    positions.insert(tp.clone(), (o, p.last_epoch));
                }
            }
        }
        // And what unsubscribe took away already.
        parts.append(&mut st.unsubscribed);
        positions.append(&mut st.unsubscribed_positions);
        drop(st);
        self.inner.changed.notify_waiters();
        (parts, positions)
    }

    /// Revokes partitions (`None`: every one): commits their positions (with auto commit
    /// on, while still a member), then tells the listener.
    async fn revoke(&self, which: Option<&[TopicPartition]>, why: &str) {
        let (parts, positions) = self.take(which);
        if self.auto_commit() && self.joined && !positions.is_empty() {
            if let Err(e) = offsets::commit(&self.inner, &positions).await {
                tracing::debug!(error = %e, why, "commit of revoked partitions failed");
            }
        }
        if !parts.is_empty() {
            if let Some(l) = self.listener() {
                l.on_partitions_revoked(&parts);
            }
        }
    }

    /// The assignment is gone without a clean revocation (expired, fenced).
    fn lose_all(&mut self) {
        let all: Vec<TopicPartition> = self.inner.lock().assignment.keys().cloned().collect();
        if !all.is_empty() {
            if let Some(l) = self.listener() {
                l.on_partitions_lost(&all);
            }
        }
        self.inner.lock().membership = None;
        self.inner.set_assignment(&[]);
        self.joined = false;
        self.rejoin = true;
    }

    /// Joins and syncs; true when a generation's assignment is in place.
    async fn join(&mut self, sub: &Subscription) -> bool {
        let (topics, counts) = match self.resolve_topics(sub).await {
            Ok(t) => t,
            Err(e) => {
                tracing::debug!(error = %e, "metadata for the subscription failed");
                return false;
            }
        };
        // Kafka's onJoinPrepare: commit, and (eager) revoke everything.
        if !self.cooperative {
            self.revoke(None, "before rebalance").await;
        } else if self.auto_commit() && self.joined {
            self.commit_consumed("before rebalance").await;
        }
        self.joined = false;
        self.inner.lock().membership = None;
        let mut rejoins = 0u32;
        loop {
            match self.join_once(&topics).await {
                Ok(()) => {
                    self.topics = topics;
                    self.counts = counts;
                    let now = Instant::now();
                    self.next_heartbeat = now + self.inner.cfg.heartbeat_interval;
                    self.next_metadata = now + self.inner.cfg.metadata_max_age;
                    return true;
                }
                Err(Outcome::Rejoin) => {
                    // The first rejoins are the protocol's own (MEMBER_ID_REQUIRED, a
                    // rebalance that started meanwhile); later ones back off.
                    rejoins += 1;
                    if rejoins > 2 {
                        tokio::time::sleep(self.inner.cfg.retry_backoff).await;
                    }
                }
                Err(Outcome::Retry(e)) => {
                    tracing::debug!(error = %e, "join failed: finding the coordinator again");
                    offsets::forget_coordinator(&self.inner);
                    return false;
                }
                Err(Outcome::Fatal(e)) => {
                    tracing::debug!(error = %e, "fatal group error");
                    self.fatal = true;
                    self.inner.lock().fatal = Some(e);
                    self.inner.changed.notify_waiters();
                    return false;
                }
            }
        }
    }

    fn group_error(&self, code: ResponseError) -> ClientError {
        ClientError::broker(code, Target::Group(self.group_id.clone()))
    }

    async fn join_once(&mut self, topics: &BTreeSet<String>) -> Result<(), Outcome> {
        let cfg = &self.inner.cfg;
        let conn = offsets::coordinator(&self.inner)
            .await
            .map_err(Outcome::Retry)?;
        let list: Vec<String> = topics.iter().cloned().collect();
        let owned: Vec<TopicPartition> = self.inner.lock().assignment.keys().cloned().collect();
        let protocols = cfg
            .strategies
            .iter()
            .map(|s| {
                let meta = if s.is_cooperative() {
                    assignor::encode_subscription(&list, Some(&owned))
                } else {
                    assignor::encode_subscription(&list, None)
                };
                JoinGroupRequestProtocol::default()
                    .with_name(StrBytes::from_static_str(s.name()))
                    .with_metadata(meta)
            })
            .collect();
        let instance = cfg.group_instance_id.clone().map(StrBytes::from_string);
        let req = JoinGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
            .with_session_timeout_ms(duration_ms(cfg.session_timeout))
            .with_rebalance_timeout_ms(duration_ms(cfg.rebalance_timeout))
            .with_member_id(StrBytes::from_string(self.member_id.clone()))
            .with_group_instance_id(instance.clone())
            .with_protocol_type(StrBytes::from_static_str("consumer"))
            .with_protocols(protocols);
        let resp = conn.call(&req).await.map_err(Outcome::Retry)?;
        if let Some(code) = ResponseError::try_from_code(resp.error_code) {
            match code {
                ResponseError::MemberIdRequired => {
                    self.member_id = resp.member_id.to_string();
                    return Err(Outcome::Rejoin);
                }
                ResponseError::UnknownMemberId => {
                    self.member_id.clear();
                    return Err(Outcome::Rejoin);
                }
                ResponseError::RebalanceInProgress => return Err(Outcome::Rejoin),
                _ => return Err(classify(self.group_error(code))),
            }
        }
        self.member_id = resp.member_id.to_string();
        self.generation = resp.generation_id;
        let protocol = resp
            .protocol_name
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let assignments = if resp.leader == resp.member_id && !resp.skip_assignment {
            self.leader_assign(&protocol, &resp.members)
                .await
                .map_err(classify)?
        } else {
            Vec::new()
        };
        let sync = SyncGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
            .with_generation_id(self.generation)
            .with_member_id(resp.member_id.clone())
            .with_group_instance_id(instance)
            .with_protocol_type(Some(StrBytes::from_static_str("consumer")))
            .with_protocol_name(resp.protocol_name.clone())
            .with_assignments(assignments);
        let sresp = conn.call(&sync).await.map_err(Outcome::Retry)?;
        if let Some(code) = ResponseError::try_from_code(sresp.error_code) {
            if code == ResponseError::UnknownMemberId {
                self.member_id.clear();
            }
            return Err(classify(self.group_error(code)));
        }
        let Some(parts) = assignor::decode_assignment(&sresp.assignment) else {
            // The application hears of it once; the member keeps trying to join.
            let e = self
                .group_error(ResponseError::InconsistentGroupProtocol)
                .with_message(Some("malformed assignment from the group leader"));
            self.inner.lock().fatal = Some(e.clone());
            self.inner.changed.notify_waiters();
            return Err(Outcome::Retry(e));
        };
        self.apply_assignment(parts).await;
        Ok(())
    }

    /// The leader's part: run the chosen assignor over every member's subscription.
    async fn leader_assign(
        &self,
        protocol: &str,
        members: &[kafka_protocol::messages::join_group_response::JoinGroupResponseMember],
    ) -> Result<Vec<SyncGroupRequestAssignment>, ClientError> {
        let Some(strategy) = AssignmentStrategy::from_name(protocol) else {
            return Err(self
                .group_error(ResponseError::InconsistentGroupProtocol)
                .with_message(Some(&format!("unknown assignor {protocol}"))));
        };
        let subs: BTreeMap<String, assignor::Subscription> = members
            .iter()
            .map(|m| {
                let s = assignor::decode_subscription(&m.metadata).unwrap_or_else(|| {
                    tracing::debug!(member = %m.member_id, "malformed subscription");
                    assignor::Subscription::default()
                });
                (m.member_id.to_string(), s)
            })
            .collect();
        let all: BTreeSet<String> = subs
            .values()
            .flat_map(|s| s.topics.iter().cloned())
            .collect();
        let list: Vec<String> = all.iter().cloned().collect();
        self.inner.pool.refresh(Some(&list), false).await?;
        let counts = self.counts_of(&all);
        let plan = assignor::assign(strategy, &subs, &counts);
        tracing::debug!(group = %self.group_id, ?strategy, members = plan.len(), "assigned partitions");
        Ok(plan
            .into_iter()
            .map(|(m, parts)| {
                SyncGroupRequestAssignment::default()
                    .with_member_id(StrBytes::from_string(m))
                    .with_assignment(assignor::encode_assignment(&parts))
            })
            .collect())
    }

    async fn apply_assignment(&mut self, parts: Vec<TopicPartition>) {
        let owned: BTreeSet<TopicPartition> =
            self.inner.lock().assignment.keys().cloned().collect();
        let new: BTreeSet<TopicPartition> = parts.iter().cloned().collect();
        let revoked: Vec<TopicPartition> = owned.difference(&new).cloned().collect();
        let added: Vec<TopicPartition> = new.difference(&owned).cloned().collect();
        self.inner.lock().membership = Some(Membership {
            member_id: self.member_id.clone(),
            generation: self.generation,
        });
        self.joined = true;
        if !revoked.is_empty() {
            // Cooperative: commit and give up only what moves, then rejoin so that it can.
            self.revoke(Some(&revoked), "cooperative revocation").await;
            self.rejoin = true;
        } else {
            self.rejoin = false;
        }
        self.inner.set_assignment(&parts);
        tracing::debug!(group = %self.group_id, member = %self.member_id, generation = self.generation, ?parts, "joined");
        if !added.is_empty() {
            if let Some(l) = self.listener() {
                l.on_partitions_assigned(&added);
            }
        }
        self.inner.changed.notify_waiters();
    }

    async fn heartbeat(&mut self) {
        self.next_heartbeat = Instant::now() + self.inner.cfg.heartbeat_interval;
        let req = HeartbeatRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
            .with_generation_id(self.generation)
            .with_member_id(StrBytes::from_string(self.member_id.clone()))
            .with_group_instance_id(
                self.inner
                    .cfg
                    .group_instance_id
                    .clone()
                    .map(StrBytes::from_string),
            );
        let r = match offsets::coordinator(&self.inner).await {
            Ok(conn) => conn.call(&req).await,
            Err(e) => Err(e),
        };
        let code = match r {
            Ok(resp) => match ResponseError::try_from_code(resp.error_code) {
                None => return,
                Some(code) => code,
            },
            Err(e) => {
                tracing::debug!(error = %e, "heartbeat failed");
                offsets::forget_coordinator(&self.inner);
                self.next_heartbeat = Instant::now() + self.inner.cfg.retry_backoff;
                return;
            }
        };
        tracing::debug!(group = %self.group_id, ?code, "heartbeat answered");
        match code {
            ResponseError::RebalanceInProgress => self.rejoin = true,
            ResponseError::UnknownMemberId => {
                self.member_id.clear();
                self.lose_all();
            }
            ResponseError::IllegalGeneration => self.lose_all(),
            ResponseError::NotCoordinator | ResponseError::CoordinatorNotAvailable => {
                offsets::forget_coordinator(&self.inner);
                self.next_heartbeat = Instant::now() + self.inner.cfg.retry_backoff;
            }
            ResponseError::FencedInstanceId => {
                self.lose_all();
                self.fatal = true;
                self.inner.lock().fatal = Some(self.group_error(code));
                self.inner.changed.notify_waiters();
            }
            other if other.is_retriable() => {
                self.next_heartbeat = Instant::now() + self.inner.cfg.retry_backoff;
            }
            other => {
                self.fatal = true;
                self.inner.lock().fatal = Some(self.group_error(other));
                self.inner.changed.notify_waiters();
            }
        }
    }

    /// Commits (auto commit), revokes and leaves the group. Static members do not send
    /// LeaveGroup (their partitions wait for them until the session timeout), as in Kafka.
    async fn leave(&mut self, why: &str) {
        self.revoke(None, why).await;
        let was_member = !self.member_id.is_empty();
        self.joined = false;
        self.inner.lock().membership = None;
        if self.inner.cfg.group_instance_id.is_some() || !was_member {
            return;
        }
        let member = std::mem::take(&mut self.member_id);
        let r = async {
            let conn = offsets::coordinator(&self.inner).await?;
            let v = conn.version(ApiKey::LeaveGroup)?;
            let mut req = LeaveGroupRequest::default()
                .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())));
            if v >= 3 {
                req = req.with_members(vec![MemberIdentity::default()
                    .with_member_id(StrBytes::from_string(member.clone()))
                    .with_reason(Some(StrBytes::from_string(why.to_owned())))]);
            } else {
                req = req.with_member_id(StrBytes::from_string(member.clone()));
            }
            conn.call(&req).await
        }
        .await;
        match r {
            Ok(_) => tracing::debug!(group = %self.group_id, member, "left the group"),
            Err(e) => tracing::debug!(error = %e, "leave group failed"),
        }
    }

    async fn shutdown(&mut self) {
        if self.joined || !self.member_id.is_empty() {
            self.leave("the consumer is closing").await;
        } else if self.auto_commit() {
            // A simple (assign) consumer commits its positions on close.
            self.commit_consumed("close").await;
            self.inner.set_assignment(&[]);
        }
    }
}
