//! Offsets: the group coordinator (found once, found again when it moves), commits,
//! committed-offset look-ups, and where a partition starts (committed offset, else the reset
//! policy).

use std::collections::BTreeMap;
use std::sync::Arc;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{
    ApiKey, GroupId, OffsetCommitRequest, OffsetFetchRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::{Inner, OffsetReset};
use crate::admin::{OffsetSpec, TopicPartition};
use crate::connection::Connection;
use crate::error::{ClientError, Target};

/// Attempts of a coordinator call that failed because the coordinator moved or is loading.
const ATTEMPTS: u32 = 10;

/// Offset and leader epoch to commit, per partition.
pub(crate) type ToCommit = BTreeMap<TopicPartition, (i64, Option<i32>)>;

/// Errors that mean "find the coordinator again".
pub(crate) fn coordinator_moved(e: &ClientError) -> bool {
    match e.code() {
        Some(code) => matches!(
            code,
            ResponseError::NotCoordinator
                | ResponseError::CoordinatorNotAvailable
                | ResponseError::CoordinatorLoadInProgress
        ),
        None => e.is_retriable(),
    }
}

fn group_id(inner: &Inner) -> Result<&str, ClientError> {
    inner
        .cfg
        .group_id
        .as_deref()
        .ok_or_else(|| ClientError::Config("no group_id".into()))
}

/// The group's coordinator, cached until [`forget_coordinator`].
pub(crate) async fn coordinator(inner: &Inner) -> Result<Arc<Connection>, ClientError> {
    let cached = inner.coordinator.lock().expect("coordinator lock").clone();
    if let Some(c) = cached.filter(|c| !c.is_poisoned()) {
        return Ok(c);
    }
    let (_, conn) = inner.pool.find_coordinator(group_id(inner)?).await?;
    *inner.coordinator.lock().expect("coordinator lock") = Some(conn.clone());
    Ok(conn)
}

/// Drops the cached coordinator (it moved, or its connection failed).
pub(crate) fn forget_coordinator(inner: &Inner) {
    *inner.coordinator.lock().expect("coordinator lock") = None;
}

/// Runs `f` against the coordinator, finding it again and retrying when it moved.
pub(crate) async fn with_coordinator<T, F, Fut>(inner: &Inner, f: F) -> Result<T, ClientError>
where
    F: Fn(Arc<Connection>) -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let r = match coordinator(inner).await {
            Ok(c) => f(c).await,
            Err(e) => Err(e),
        };
        match r {
            Err(e) if attempt < ATTEMPTS && coordinator_moved(&e) => {
                tracing::debug!(error = %e, "coordinator call retried");
                forget_coordinator(inner);
                tokio::time::sleep(inner.cfg.retry_backoff).await;
            }
            other => return other,
        }
    }
}

/// The positions of every assigned partition that has one.
pub(crate) fn consumed(inner: &Inner) -> ToCommit {
    let st = inner.lock();
    st.assignment
        .iter()
        .filter_map(|(tp, p)| p.position.map(|o| (tp.clone(), (o, p.last_epoch))))
        .collect()
}

/// Commits `offsets` with the current generation (or as a simple consumer, generation -1,
/// when not a group member).
pub(crate) async fn commit(inner: &Inner, offsets: &ToCommit) -> Result<(), ClientError> {
    if offsets.is_empty() {
        return Ok(());
    }
    let group = group_id(inner)?.to_owned();
    let (generation, member_id) = {
        let st = inner.lock();
        // A member commits with its generation (also while leaving after unsubscribe);
        // a simple consumer with generation -1.
        match &st.membership {
            Some(m) => (m.generation, m.member_id.clone()),
            None => (-1, String::new()),
        }
    };
    let mut topics: Vec<OffsetCommitRequestTopic> = Vec::new();
    for (tp, (offset, epoch)) in offsets {
        let p = OffsetCommitRequestPartition::default()
            .with_partition_index(tp.partition)
            .with_committed_offset(*offset)
            .with_committed_leader_epoch(epoch.unwrap_or(-1));
        match topics.iter_mut().find(|t| t.name.0.as_str() == tp.topic) {
            Some(t) => t.partitions.push(p),
            None => topics.push(
                OffsetCommitRequestTopic::default()
                    .with_name(TopicName(StrBytes::from_string(tp.topic.clone())))
                    .with_partitions(vec![p]),
            ),
        }
    }
    let req = OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.clone())))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(StrBytes::from_string(member_id))
        .with_group_instance_id(
            inner
                .cfg
                .group_instance_id
                .clone()
                .filter(|_| generation >= 0)
                .map(StrBytes::from_string),
        )
        .with_retention_time_ms(-1)
        .with_topics(topics);
    with_coordinator(inner, |conn| {
        let req = &req;
        let group = &group;
        async move {
            let resp = conn.call(req).await?;
            for t in &resp.topics {
                for p in &t.partitions {
                    if let Some(code) = ResponseError::try_from_code(p.error_code) {
                        let target = match code {
                            ResponseError::NotCoordinator
                            | ResponseError::CoordinatorNotAvailable
                            | ResponseError::CoordinatorLoadInProgress
                            | ResponseError::RebalanceInProgress
                            | ResponseError::IllegalGeneration
                            | ResponseError::UnknownMemberId
                            | ResponseError::FencedInstanceId => Target::Group(group.clone()),
                            _ => Target::Partition {
                                topic: t.name.0.to_string(),
                                partition: p.partition_index,
                            },
                        };
                        return Err(ClientError::broker(code, target));
                    }
                }
            }
            Ok(())
        }
    })
    .await
}

/// The group's committed offsets for `partitions` (partitions without one are absent).
pub(crate) async fn fetch_committed(
    inner: &Inner,
    partitions: &[TopicPartition],
) -> Result<BTreeMap<TopicPartition, i64>, ClientError> {
    let group = group_id(inner)?.to_owned();
    let mut topics: Vec<OffsetFetchRequestTopic> = Vec::new();
    for tp in partitions {
        match topics.iter_mut().find(|t| t.name.0.as_str() == tp.topic) {
            Some(t) => t.partition_indexes.push(tp.partition),
            None => topics.push(
                OffsetFetchRequestTopic::default()
                    .with_name(TopicName(StrBytes::from_string(tp.topic.clone())))
                    .with_partition_indexes(vec![tp.partition]),
            ),
        }
    }
    let req = OffsetFetchRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.clone())))
        .with_topics(Some(topics));
    with_coordinator(inner, |conn| {
        let req = &req;
        let group = &group;
        async move {
            // Versions 1-7 carry one group at top level; v8 moved it into `groups`.
            let v = conn.version(ApiKey::OffsetFetch)?.min(7);
            let resp = conn.call_at(req, v).await?;
            if let Some(code) = ResponseError::try_from_code(resp.error_code) {
                return Err(ClientError::broker(code, Target::Group(group.clone())));
            }
            let mut out = BTreeMap::new();
            for t in &resp.topics {
                for p in &t.partitions {
                    let tp = TopicPartition::new(t.name.0.to_string(), p.partition_index);
                    if let Some(code) = ResponseError::try_from_code(p.error_code) {
                        return Err(ClientError::partition(code, &tp.topic, tp.partition));
                    }
                    if p.committed_offset >= 0 {
                        out.insert(tp, p.committed_offset);
                    }
                }
            }
            Ok(out)
        }
    })
    .await
}

/// ListOffsets for `partitions`, as a map of offsets.
pub(crate) async fn list(
    inner: &Inner,
    partitions: &[TopicPartition],
    spec: OffsetSpec,
) -> Result<BTreeMap<TopicPartition, i64>, ClientError> {
    let req: Vec<_> = partitions.iter().map(|tp| (tp.clone(), spec)).collect();
    let got = inner.admin.list_offsets(&req).await?;
    Ok(got.into_iter().map(|(tp, o)| (tp, o.offset)).collect())
}

/// Finds the starting position of `partitions` (those still assigned and without one):
/// the committed offset unless a reset is needed, else the reset policy. Clears their
/// `resolving` flags whatever happens.
pub(crate) async fn resolve(
    inner: &Arc<Inner>,
    partitions: &[TopicPartition],
) -> Result<(), ClientError> {
    let r = resolve_inner(inner, partitions).await;
    let mut st = inner.lock();
    for tp in partitions {
        if let Some(p) = st.assignment.get_mut(tp) {
            p.resolving = false;
        }
    }
    drop(st);
    inner.changed.notify_waiters();
    r
}

async fn resolve_inner(
    inner: &Arc<Inner>,
    partitions: &[TopicPartition],
) -> Result<(), ClientError> {
    // Snapshot which partitions need what, with their versions.
    type Versions = Vec<(TopicPartition, u64)>;
    let (use_committed, need_reset): (Versions, Versions) = {
        let st = inner.lock();
        partitions
            .iter()
            .filter_map(|tp| {
                let p = st.assignment.get(tp)?;
                p.position
                    .is_none()
                    .then(|| (tp.clone(), p.version, p.reset_needed))
            })
            .fold(
                (Vec::new(), Vec::new()),
                |(mut c, mut r), (tp, v, reset)| {
                    if reset || inner.cfg.group_id.is_none() {
                        r.push((tp, v));
                    } else {
                        c.push((tp, v));
                    }
                    (c, r)
                },
            )
    };
    let mut need_reset = need_reset;
    if !use_committed.is_empty() {
        let tps: Vec<TopicPartition> = use_committed.iter().map(|(tp, _)| tp.clone()).collect();
        let committed = fetch_committed(inner, &tps).await?;
        let mut st = inner.lock();
        for (tp, v) in use_committed {
            match committed.get(&tp) {
                Some(&o) => {
                    if let Some(p) = st.assignment.get_mut(&tp).filter(|p| p.version == v) {
                        if p.position.is_none() {
                            tracing::debug!(topic = %tp.topic, partition = tp.partition, offset = o, "starting at the committed offset");
                            p.position = Some(o);
                        }
                    }
                }
                None => need_reset.push((tp, v)),
            }
        }
    }
    if need_reset.is_empty() {
        return Ok(());
    }
    let spec = match inner.cfg.auto_offset_reset {
        OffsetReset::Earliest => OffsetSpec::Earliest,
        OffsetReset::Latest => OffsetSpec::Latest,
        OffsetReset::None => {
            let mut st = inner.lock();
            for (tp, v) in need_reset {
                if let Some(p) = st.assignment.get_mut(&tp).filter(|p| p.version == v) {
                    p.error = Some(ClientError::NoOffset {
                        topic: tp.topic.clone(),
                        partition: tp.partition,
                    });
                }
            }
            return Ok(());
        }
    };
    let tps: Vec<TopicPartition> = need_reset.iter().map(|(tp, _)| tp.clone()).collect();
    let offsets = list(inner, &tps, spec).await?;
    let mut st = inner.lock();
    for (tp, v) in need_reset {
        let (Some(&o), Some(p)) = (offsets.get(&tp), st.assignment.get_mut(&tp)) else {
            continue;
        };
        if p.version == v && p.position.is_none() {
            tracing::debug!(topic = %tp.topic, partition = tp.partition, offset = o, policy = ?inner.cfg.auto_offset_reset, "offset reset");
            p.position = Some(o);
            p.reset_needed = false;
        }
    }
    Ok(())
}
