//! Apache Kafka's classic group coordinator (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) and
//! the offset commits it guards, as synchronous state machines.
//!
//! Every operation takes `now` and returns what happened; a member parked in JoinGroup or
//! SyncGroup gets a [`Reply::Later`] holding a `oneshot::Receiver` that the coordinator
//! completes when the rebalance moves on. [`coordinator::GroupCoordinator::expire`] runs the
//! deadlines (session timeouts, rebalance timeouts, the initial rebalance delay) and returns
//! the next one, for the cluster's timer task.
//!
//! Differences from Kafka, on purpose:
//! - `group.initial.rebalance.delay.ms` defaults to 0 here (Kafka: 3 s), so a group's first
//!   rebalance completes as soon as its first member joins; later rebalances complete as soon
//!   as every known member has rejoined, as in Kafka.
//! - Session timeout bounds default to 1 ms ..= 30 min (Kafka: 6 s ..= 30 min) so that tests
//!   may use short session timeouts; kafka-python (10 s) and librdkafka (45 s) defaults pass.
//! - Nothing is written to `__consumer_offsets`: the "stored" group is a snapshot in memory,
//!   reloaded when the coordinator moves, and committed offsets never expire.

mod api;
pub(crate) mod consumer_protocol;
pub(crate) mod coordinator;
pub(crate) mod member;
pub(crate) mod placement;
pub(crate) mod rebalance;
mod shared;

pub(crate) use shared::{EmptyGroupId, Groups};

use bytes::Bytes;
use kafka_protocol::ResponseError;
use std::fmt;
use std::time::Duration;
use tokio::sync::oneshot;

/// The state of a classic group, as DescribeGroups and ListGroups name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GroupState {
    /// No members (the group may still hold committed offsets).
    Empty,
    /// A rebalance started: waiting for members to (re)join.
    PreparingRebalance,
    /// Members joined; waiting for the leader's assignment in SyncGroup.
    CompletingRebalance,
    /// Every member has its assignment for the current generation.
    Stable,
    /// The group does not exist (deleted, or never created).
    Dead,
}

impl GroupState {
    /// The name Kafka gives the state on the wire ("Stable", "PreparingRebalance", ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "Empty",
            Self::PreparingRebalance => "PreparingRebalance",
            Self::CompletingRebalance => "CompletingRebalance",
            Self::Stable => "Stable",
            Self::Dead => "Dead",
        }
    }
}

impl fmt::Display for GroupState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Group coordinator settings (Kafka's `group.*` broker configs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupConfig {
    /// `group.min.session.timeout.ms`. Default 1 ms (Kafka: 6 s).
    pub min_session_timeout: Duration,
    /// `group.max.session.timeout.ms`. Default 30 min, as Kafka.
    pub max_session_timeout: Duration,
    /// `group.initial.rebalance.delay.ms`. Default 0 (Kafka: 3 s).
    pub initial_rebalance_delay: Duration,
    /// How long a new member may wait in its first JoinGroup before it is dropped
    /// (Kafka's fixed `NewMemberJoinTimeoutMs`, 5 min).
    pub new_member_join_timeout: Duration,
    /// `offset.metadata.max.bytes`: longer commit metadata gets OFFSET_METADATA_TOO_LARGE.
    /// Default 4096, as Kafka.
    pub max_offset_metadata_bytes: usize,
    /// `group.max.size`: joins beyond it get GROUP_MAX_SIZE_REACHED. Default: unlimited
    /// (`usize::MAX`), as Kafka's `Int.MaxValue`.
    pub max_group_size: usize,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            min_session_timeout: Duration::from_millis(1),
            max_session_timeout: Duration::from_secs(30 * 60),
            initial_rebalance_delay: Duration::ZERO,
            new_member_join_timeout: Duration::from_secs(5 * 60),
            max_offset_metadata_bytes: 4096,
            max_group_size: usize::MAX,
        }
    }
}

/// An answer now, or a receiver that gets it when the rebalance moves on.
#[derive(Debug)]
pub(crate) enum Reply<T> {
    Now(T),
    Later(oneshot::Receiver<T>),
}

impl<T> Reply<T> {
    /// Waits for the answer; `on_drop` is used if the coordinator dropped the request (the
    /// group was unloaded without answering, which the coordinator avoids).
    pub(crate) async fn wait(self, on_drop: impl FnOnce() -> T) -> T {
        match self {
            Self::Now(t) => t,
            Self::Later(rx) => rx.await.unwrap_or_else(|_| on_drop()),
        }
    }
}

/// A JoinGroup, in domain terms.
#[derive(Debug, Clone)]
pub(crate) struct JoinParams {
    pub(crate) group_id: String,
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) session_timeout_ms: i32,
    pub(crate) rebalance_timeout_ms: i32,
    pub(crate) protocol_type: String,
    pub(crate) protocols: Vec<(String, Bytes)>,
    /// v4+ without a group instance id: a first join gets MEMBER_ID_REQUIRED.
    pub(crate) require_known_member_id: bool,
    /// v9+: a static leader rejoining a Stable group may be told to skip the assignment.
    pub(crate) supports_skip_assignment: bool,
}

/// One member as the leader sees it in its JoinGroup response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoinedMember {
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) metadata: Bytes,
}

/// A JoinGroup response, in domain terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoinResult {
    pub(crate) error: Option<ResponseError>,
    pub(crate) member_id: String,
    pub(crate) generation_id: i32,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) leader_id: String,
    pub(crate) skip_assignment: bool,
    pub(crate) members: Vec<JoinedMember>,
}

impl JoinResult {
    pub(crate) fn error(member_id: impl Into<String>, e: ResponseError) -> Self {
        Self {
            error: Some(e),
            member_id: member_id.into(),
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader_id: String::new(),
            skip_assignment: false,
            members: Vec::new(),
        }
    }
}

/// A SyncGroup, in domain terms.
#[derive(Debug, Clone)]
pub(crate) struct SyncParams {
    pub(crate) group_id: String,
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) generation_id: i32,
    /// v5+: checked against the group's when present.
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    /// The leader's assignment: (member id, assignment).
    pub(crate) assignments: Vec<(String, Bytes)>,
}

/// A SyncGroup response, in domain terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyncResult {
    pub(crate) error: Option<ResponseError>,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) assignment: Bytes,
}

impl SyncResult {
    pub(crate) fn error(e: ResponseError) -> Self {
        Self {
            error: Some(e),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// A member named in LeaveGroup (v3+ may name several, by member id or instance id).
#[derive(Debug, Clone)]
pub(crate) struct LeavingMember {
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
}

/// One partition of an OffsetCommit.
#[derive(Debug, Clone)]
pub(crate) struct OffsetCommitEntry {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
    pub(crate) leader_epoch: i32,
    pub(crate) metadata: Option<String>,
}

/// Who commits: member id, instance id and generation (-1 and "" for a simple commit).
#[derive(Debug, Clone)]
pub(crate) struct Committer {
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) generation_id: i32,
}

/// A group member as the cluster's inspection API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    /// The member id the coordinator gave it.
    pub member_id: String,
    /// Its `group.instance.id`, for a static member.
    pub group_instance_id: Option<String>,
    /// The client id of its JoinGroup.
    pub client_id: String,
    /// The host it connected from (Kafka's form: "/127.0.0.1").
    pub client_host: String,
    /// Its assignment for the current generation, as the leader encoded it (empty until the
    /// leader's SyncGroup).
    pub assignment: Bytes,
    /// The assignment decoded as the consumer protocol's (topic, partitions), when the group
    /// uses protocol type "consumer" and the bytes parse.
    pub assigned_partitions: Option<Vec<(String, Vec<i32>)>>,
}

/// A group as the cluster's inspection API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    /// The group id.
    pub group_id: String,
    /// Its state.
    pub state: GroupState,
    /// Protocol type of its members ("consumer" for consumers; empty for a group that only
    /// holds offsets).
    pub protocol_type: String,
    /// The protocol selected for the current generation (e.g. "range"), if any.
    pub protocol_name: Option<String>,
    /// The current generation (0 before the first rebalance completes).
    pub generation: i32,
    /// The leader's member id, if the group has members.
    pub leader: Option<String>,
    /// Members in join order.
    pub members: Vec<MemberView>,
}

impl GroupView {
    /// Whether `member_id` owns `partition` of `topic` in the current assignment.
    pub fn owns(&self, member_id: &str, topic: &str, partition: i32) -> bool {
        self.members.iter().any(|m| {
            m.member_id == member_id
                && m.assigned_partitions.as_ref().is_some_and(|a| {
                    a.iter()
                        .any(|(t, ps)| t == topic && ps.contains(&partition))
                })
        })
    }

    /// Every (topic, partition) assigned to some member, sorted.
    pub fn assigned(&self) -> Vec<(String, i32)> {
        let mut out: Vec<(String, i32)> = self
            .members
            .iter()
            .flat_map(|m| m.assigned_partitions.iter().flatten())
            .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
            .collect();
        out.sort();
        out
    }
}

/// A committed offset as the cluster's inspection API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffsetView {
    /// The offset of the next record the group will consume.
    pub offset: i64,
    /// The leader epoch sent with the commit, if any.
    pub leader_epoch: Option<i32>,
    /// The metadata string sent with the commit ("" if none).
    pub metadata: String,
}

/// A group's summary for DescribeGroups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupSummary {
    pub(crate) state: GroupState,
    pub(crate) protocol_type: String,
    pub(crate) protocol_name: String,
    pub(crate) members: Vec<MemberSummary>,
}

/// A member's summary for DescribeGroups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberSummary {
    pub(crate) member_id: String,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) metadata: Bytes,
    pub(crate) assignment: Bytes,
}
