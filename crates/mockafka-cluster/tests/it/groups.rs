//! Group coordination over the wire: FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
//! LeaveGroup, the offset APIs, DescribeGroups, ListGroups, DeleteGroups, and coordinator
//! moves, with raw frames. Session expiry runs on paused tokio time.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use mockafka_cluster::{Cluster, GroupState};

use crate::wire::{Conn, TestResult};

const WAIT: Duration = Duration::from_secs(10);

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn subscription(topics: &[&str]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(0);
    b.put_i32(topics.len() as i32);
    for t in topics {
        b.put_i16(t.len() as i16);
        b.put_slice(t.as_bytes());
    }
    b.put_i32(-1);
    b.freeze()
}

fn assignment(topic: &str, partitions: &[i32]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(0);
    b.put_i32(1);
    b.put_i16(topic.len() as i16);
    b.put_slice(topic.as_bytes());
    b.put_i32(partitions.len() as i32);
    for p in partitions {
        b.put_i32(*p);
    }
    b.put_i32(-1);
    b.freeze()
}

fn join_request(group: &str, member_id: &str, session_ms: i32) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_session_timeout_ms(session_ms)
        .with_rebalance_timeout_ms(30_000)
        .with_member_id(s(member_id))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name(s("range"))
            .with_metadata(subscription(&["t"]))])
}

fn error(code: i16) -> Option<ResponseError> {
    (code != 0)
        .then(|| ResponseError::try_from_code(code).unwrap_or(ResponseError::UnknownServerError))
}

/// Connects to the coordinator of `group` as FindCoordinator v4 names it.
async fn coordinator(
    cluster: &Cluster,
    group: &str,
    client: &str,
) -> Result<(Conn, i32), Box<dyn std::error::Error + Send + Sync>> {
    let any = cluster.broker_addr(BrokerId(0)).ok_or("no broker 0")?;
    let mut c = Conn::open(any, client).await?;
    let r = c
        .call(
            4,
            &FindCoordinatorRequest::default()
                .with_key_type(0)
                .with_coordinator_keys(vec![s(group)]),
        )
        .await?;
    let found = r.coordinators.first().ok_or("no coordinator")?;
    assert_eq!(found.error_code, 0);
    assert_eq!(found.node_id, cluster.group_coordinator(group));
    let addr = cluster.broker_addr(found.node_id).ok_or("no such broker")?;
    assert_eq!(i32::from(addr.port()), found.port);
    Ok((Conn::open(addr, client).await?, found.node_id.0))
}

/// Joins as a new member (MEMBER_ID_REQUIRED, then the join with the id).
async fn join(
    c: &mut Conn,
    group: &str,
    session_ms: i32,
) -> Result<JoinGroupResponse, Box<dyn std::error::Error + Send + Sync>> {
    let first = c.call(7, &join_request(group, "", session_ms)).await?;
    assert_eq!(
        error(first.error_code),
        Some(ResponseError::MemberIdRequired)
    );
    assert!(first.member_id.starts_with("client-a-") || first.member_id.starts_with("client-b-"));
    c.call(7, &join_request(group, &first.member_id, session_ms))
        .await
}

fn sync_request(
    group: &str,
    member: &StrBytes,
    gen: i32,
    assignments: Vec<(StrBytes, Bytes)>,
) -> SyncGroupRequest {
    SyncGroupRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_generation_id(gen)
        .with_member_id(member.clone())
        .with_protocol_type(Some(s("consumer")))
        .with_protocol_name(Some(s("range")))
        .with_assignments(
            assignments
                .into_iter()
                .map(|(m, a)| {
                    SyncGroupRequestAssignment::default()
                        .with_member_id(m)
                        .with_assignment(a)
                })
                .collect(),
        )
}

fn heartbeat(group: &str, member: &StrBytes, gen: i32) -> HeartbeatRequest {
    HeartbeatRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_member_id(member.clone())
        .with_generation_id(gen)
}

fn commit(
    group: &str,
    member: &StrBytes,
    gen: i32,
    topic: &str,
    offset: i64,
) -> OffsetCommitRequest {
    OffsetCommitRequest::default()
        .with_group_id(GroupId(s(group)))
        .with_member_id(member.clone())
        .with_generation_id_or_member_epoch(gen)
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(TopicName(s(topic)))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(offset)
                .with_committed_leader_epoch(0)
                .with_committed_metadata(Some(s("meta")))])])
}

#[tokio::test]
async fn join_sync_heartbeat_commit_fetch_leave_delete() -> TestResult {
    let cluster = Cluster::builder().brokers(3).topic("t", 2).start().await?;
    let (mut c, coord) = coordinator(&cluster, "g1", "client-a").await?;

    // Another broker is not the coordinator.
    let other = BrokerId((coord + 1) % 3);
    let mut wrong = Conn::open(cluster.broker_addr(other).ok_or("broker")?, "client-a").await?;
    let r = wrong.call(7, &join_request("g1", "", 10_000)).await?;
    assert_eq!(error(r.error_code), Some(ResponseError::NotCoordinator));

    let j = join(&mut c, "g1", 10_000).await?;
    assert_eq!(j.error_code, 0);
    assert_eq!(j.generation_id, 1);
    assert_eq!(j.leader, j.member_id);
    assert_eq!(j.protocol_name.as_deref(), Some("range"));
    assert_eq!(j.members.len(), 1);
    assert_eq!(j.members[0].metadata, subscription(&["t"]));
    let me = j.member_id.clone();

    let sy = c
        .call(
            5,
            &sync_request("g1", &me, 1, vec![(me.clone(), assignment("t", &[0, 1]))]),
        )
        .await?;
    assert_eq!(sy.error_code, 0);
    assert_eq!(sy.assignment, assignment("t", &[0, 1]));
    assert_eq!(sy.protocol_type.as_deref(), Some("consumer"));

    let g = cluster.wait_group_stable("g1", 1, WAIT).await?;
    assert_eq!(g.generation, 1);
    assert_eq!(g.members[0].client_id, "client-a");
    assert_eq!(g.members[0].client_host, "/127.0.0.1");
    assert!(g.owns(&me, "t", 1));
    cluster
        .wait_member_owns("g1", &me, &[("t", 0), ("t", 1)], WAIT)
        .await?;

    assert_eq!(c.call(4, &heartbeat("g1", &me, 1)).await?.error_code, 0);
    let bad = c.call(4, &heartbeat("g1", &me, 7)).await?;
    assert_eq!(
        error(bad.error_code),
        Some(ResponseError::IllegalGeneration)
    );

    // Commit (v8), then fetch with v1, v7 and v8 (two groups in one request).
    let r = c.call(8, &commit("g1", &me, 1, "t", 42)).await?;
    assert_eq!(r.topics[0].partitions[0].error_code, 0);
    let r = c.call(8, &commit("g1", &me, 1, "nope", 1)).await?;
    assert_eq!(
        error(r.topics[0].partitions[0].error_code),
        Some(ResponseError::UnknownTopicOrPartition)
    );
    let o = cluster.wait_committed("g1", "t", 0, 42, WAIT).await?;
    assert_eq!(
        (o.offset, o.leader_epoch, o.metadata.as_str()),
        (42, Some(0), "meta")
    );

    let fetch_v7 = OffsetFetchRequest::default()
        .with_group_id(GroupId(s("g1")))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(TopicName(s("t")))
            .with_partition_indexes(vec![0, 1])]));
    let r = c.call(7, &fetch_v7).await?;
    assert_eq!(r.error_code, 0);
    let parts = &r.topics[0].partitions;
    assert_eq!(
        (parts[0].committed_offset, parts[0].committed_leader_epoch),
        (42, 0)
    );
    assert_eq!(parts[1].committed_offset, -1, "no commit: -1");
    let r = c.call(1, &fetch_v7).await?;
    assert_eq!(r.topics[0].partitions[0].committed_offset, 42);
    // All of the group's offsets (null topics).
    let r = c
        .call(
            7,
            &OffsetFetchRequest::default()
                .with_group_id(GroupId(s("g1")))
                .with_topics(None),
        )
        .await?;
    assert_eq!(r.topics.len(), 1);
    assert_eq!(r.topics[0].partitions.len(), 1);

    // v8: this group and another that hashes elsewhere or nowhere; each answered.
    let groups = vec![
        OffsetFetchRequestGroup::default()
            .with_group_id(GroupId(s("g1")))
            .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                .with_name(TopicName(s("t")))
                .with_partition_indexes(vec![0])])),
        OffsetFetchRequestGroup::default()
            .with_group_id(GroupId(s("empty-group")))
            .with_topics(None),
    ];
    let r = c
        .call(8, &OffsetFetchRequest::default().with_groups(groups))
        .await?;
    assert_eq!(r.groups.len(), 2);
    assert_eq!(r.groups[0].topics[0].partitions[0].committed_offset, 42);
    let second = &r.groups[1];
    if cluster.group_coordinator("empty-group").0 == coord {
        assert_eq!(second.error_code, 0);
        assert!(second.topics.is_empty());
    } else {
        assert_eq!(
            error(second.error_code),
            Some(ResponseError::NotCoordinator)
        );
    }

    // Describe and list.
    let d = c
        .call(
            5,
            &DescribeGroupsRequest::default()
                .with_groups(vec![GroupId(s("g1")), GroupId(s("unknown"))]),
        )
        .await?;
    assert_eq!(d.groups[0].group_state.as_str(), "Stable");
    assert_eq!(d.groups[0].protocol_data.as_str(), "range");
    assert_eq!(
        d.groups[0].members[0].member_assignment,
        assignment("t", &[0, 1])
    );
    if cluster.group_coordinator("unknown").0 == coord {
        assert_eq!(d.groups[1].group_state.as_str(), "Dead");
    }
    let l = c
        .call(
            4,
            &ListGroupsRequest::default().with_states_filter(vec![s("stable")]),
        )
        .await?;
    assert!(l
        .groups
        .iter()
        .any(|g| g.group_id.0.as_str() == "g1" && g.group_state.as_str() == "Stable"));
    let l = c
        .call(
            4,
            &ListGroupsRequest::default().with_states_filter(vec![s("Empty")]),
        )
        .await?;
    assert!(l.groups.iter().all(|g| g.group_id.0.as_str() != "g1"));

    // A non-empty group is not deleted.
    let r = c
        .call(
            2,
            &DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s("g1"))]),
        )
        .await?;
    assert_eq!(
        error(r.results[0].error_code),
        Some(ResponseError::NonEmptyGroup)
    );

    // Leave (v5, batched: one real member and one unknown).
    let r = c
        .call(
            5,
            &LeaveGroupRequest::default()
                .with_group_id(GroupId(s("g1")))
                .with_members(vec![
                    MemberIdentity::default().with_member_id(me.clone()),
                    MemberIdentity::default().with_member_id(s("ghost")),
                ]),
        )
        .await?;
    assert_eq!(r.error_code, 0);
    assert_eq!(r.members[0].error_code, 0);
    assert_eq!(
        error(r.members[1].error_code),
        Some(ResponseError::UnknownMemberId)
    );
    let g = cluster
        .wait_for_group("g1", WAIT, |g| g.state == GroupState::Empty)
        .await?;
    assert_eq!(g.generation, 2);
    assert_eq!(
        cluster.committed_offset("g1", "t", 0).map(|o| o.offset),
        Some(42),
        "offsets outlive the members"
    );

    // Now it can be deleted, offsets with it.
    let r = c
        .call(
            2,
            &DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s("g1"))]),
        )
        .await?;
    assert_eq!(r.results[0].error_code, 0);
    assert!(cluster.group("g1").is_none());
    assert!(cluster.committed_offset("g1", "t", 0).is_none());
    Ok(())
}

#[tokio::test]
async fn a_joining_member_waits_until_the_others_rejoin() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 2).start().await?;
    let (mut a, _) = coordinator(&cluster, "g2", "client-a").await?;
    let ja = join(&mut a, "g2", 10_000).await?;
    let ma = ja.member_id.clone();
    let sa = a
        .call(
            5,
            &sync_request("g2", &ma, 1, vec![(ma.clone(), assignment("t", &[0, 1]))]),
        )
        .await?;
    assert_eq!(sa.error_code, 0);

    let (mut b, _) = coordinator(&cluster, "g2", "client-b").await?;
    let b_join = tokio::spawn(async move {
        let r = join(&mut b, "g2", 10_000).await;
        r.map(|r| (r, b))
    });
    cluster
        .wait_for_group("g2", WAIT, |g| {
            g.state == GroupState::PreparingRebalance && g.members.len() == 2
        })
        .await?;
    let hb = a.call(4, &heartbeat("g2", &ma, 1)).await?;
    assert_eq!(
        error(hb.error_code),
        Some(ResponseError::RebalanceInProgress)
    );
    assert!(!b_join.is_finished(), "b is parked until a rejoins");

    let ja2 = a.call(7, &join_request("g2", &ma, 10_000)).await?;
    let (jb, mut b) = b_join.await?.map_err(|e| e.to_string())?;
    assert_eq!(ja2.generation_id, 2);
    assert_eq!(jb.generation_id, 2);
    assert_eq!(ja2.members.len(), 2, "the leader sees both members");
    assert!(jb.members.is_empty());
    let mb = jb.member_id.clone();

    // b's SyncGroup waits for the leader's.
    let b_sync = tokio::spawn(async move {
        let r = b.call(5, &sync_request("g2", &mb, 2, vec![])).await;
        r.map_err(|e| e.to_string())
    });
    cluster
        .wait_for_group("g2", WAIT, |g| g.state == GroupState::CompletingRebalance)
        .await?;
    let assignments = vec![
        (ma.clone(), assignment("t", &[0])),
        (jb.member_id.clone(), assignment("t", &[1])),
    ];
    let sa = a.call(5, &sync_request("g2", &ma, 2, assignments)).await?;
    assert_eq!(sa.assignment, assignment("t", &[0]));
    let sb = b_sync.await??;
    assert_eq!(sb.assignment, assignment("t", &[1]));
    let g = cluster.wait_group_stable("g2", 2, WAIT).await?;
    assert!(g.owns(&jb.member_id, "t", 1));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_silent_member_expires_after_its_session_timeout_on_paused_time() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let (mut a, _) = coordinator(&cluster, "g3", "client-a").await?;
    let j = join(&mut a, "g3", 45_000).await?;
    let me = j.member_id.clone();
    a.call(
        5,
        &sync_request("g3", &me, 1, vec![(me.clone(), assignment("t", &[0]))]),
    )
    .await?;
    let start = tokio::time::Instant::now();
    // No heartbeats: the coordinator's timer removes the member after 45 s of tokio time,
    // which a paused runtime skips through.
    let g = cluster
        .wait_for_group("g3", Duration::from_secs(120), |g| g.members.is_empty())
        .await?;
    assert!(start.elapsed() >= Duration::from_secs(45));
    assert_eq!(g.state, GroupState::Empty);
    let hb = a.call(4, &heartbeat("g3", &me, 1)).await?;
    assert_eq!(error(hb.error_code), Some(ResponseError::UnknownMemberId));
    Ok(())
}

#[tokio::test]
async fn moving_or_stopping_the_coordinator_keeps_the_group_and_its_offsets() -> TestResult {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().await?;
    let (mut c, coord) = coordinator(&cluster, "g4", "client-a").await?;
    let j = join(&mut c, "g4", 10_000).await?;
    let me = j.member_id.clone();
    c.call(
        5,
        &sync_request("g4", &me, 1, vec![(me.clone(), assignment("t", &[0]))]),
    )
    .await?;
    assert_eq!(
        c.call(8, &commit("g4", &me, 1, "t", 7)).await?.topics[0].partitions[0].error_code,
        0
    );

    let target = BrokerId((coord + 1) % 3);
    cluster.move_group_coordinator("g4", target)?;
    assert_eq!(cluster.group_coordinator("g4"), target);
    let hb = c.call(4, &heartbeat("g4", &me, 1)).await?;
    assert_eq!(error(hb.error_code), Some(ResponseError::NotCoordinator));
    // Rediscover: the group is there, same generation, same offsets.
    let (mut c2, now) = coordinator(&cluster, "g4", "client-a").await?;
    assert_eq!(now, target.0);
    assert_eq!(c2.call(4, &heartbeat("g4", &me, 1)).await?.error_code, 0);
    let g = cluster.group("g4").ok_or("group")?;
    assert_eq!((g.state, g.generation), (GroupState::Stable, 1));
    assert_eq!(
        cluster.committed_offset("g4", "t", 0).map(|o| o.offset),
        Some(7)
    );

    // Stopping the coordinator's broker moves the group to a live broker.
    cluster.stop_broker(target).await?;
    assert_ne!(cluster.group_coordinator("g4"), target);
    let (mut c3, _) = coordinator(&cluster, "g4", "client-a").await?;
    assert_eq!(c3.call(4, &heartbeat("g4", &me, 1)).await?.error_code, 0);
    let r = c3
        .call(
            7,
            &OffsetFetchRequest::default()
                .with_group_id(GroupId(s("g4")))
                .with_topics(None),
        )
        .await?;
    assert_eq!(
        r.topics[0].partitions[0].committed_offset, 7,
        "no committed offset lost"
    );
    assert!(
        cluster.move_group_coordinator("g4", target).is_err(),
        "a stopped broker cannot coordinate"
    );
    Ok(())
}

#[tokio::test]
async fn bad_group_requests_get_kafka_errors() -> TestResult {
    let cluster = Cluster::builder().brokers(1).start().await?;
    let (mut c, _) = coordinator(&cluster, "g5", "client-a").await?;
    let r = c.call(7, &join_request("g5", "", -5)).await?;
    assert_eq!(
        error(r.error_code),
        Some(ResponseError::InvalidSessionTimeout)
    );
    let r = c.call(7, &join_request("g5", "", i32::MAX)).await?;
    assert_eq!(
        error(r.error_code),
        Some(ResponseError::InvalidSessionTimeout)
    );
    let r = c.call(7, &join_request("", "", 10_000)).await?;
    assert_eq!(error(r.error_code), Some(ResponseError::InvalidGroupId));
    let r = c.call(7, &join_request("g5", "made-up", 10_000)).await?;
    assert_eq!(error(r.error_code), Some(ResponseError::UnknownMemberId));
    let r = c.call(5, &sync_request("g5", &s("x"), 1, vec![])).await?;
    assert_eq!(error(r.error_code), Some(ResponseError::UnknownMemberId));
    let r = c
        .call(
            0,
            &LeaveGroupRequest::default()
                .with_group_id(GroupId(s("g5")))
                .with_member_id(s("x")),
        )
        .await?;
    assert_eq!(error(r.error_code), Some(ResponseError::UnknownMemberId));
    let r = c
        .call(
            0,
            &OffsetDeleteRequest::default().with_group_id(GroupId(s("nothing"))),
        )
        .await?;
    assert_eq!(error(r.error_code), Some(ResponseError::GroupIdNotFound));
    let r = c
        .call(
            3,
            &FindCoordinatorRequest::default()
                .with_key(s("g5"))
                .with_key_type(9),
        )
        .await?;
    assert_eq!(error(r.error_code), Some(ResponseError::InvalidRequest));
    // The connection still serves.
    let r = c
        .call(0, &FindCoordinatorRequest::default().with_key(s("g5")))
        .await?;
    assert_eq!(r.error_code, 0);
    Ok(())
}

#[tokio::test]
async fn every_served_version_of_the_group_apis_answers() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let addr = cluster.broker_addr(BrokerId(0)).ok_or("broker")?;
    let mut c = Conn::open(addr, "client-a").await?;
    for v in 0..=4 {
        let req = if v >= 4 {
            FindCoordinatorRequest::default().with_coordinator_keys(vec![s("x")])
        } else {
            FindCoordinatorRequest::default().with_key(s("x"))
        };
        let r = c.call(v, &req).await?;
        let code = if v >= 4 {
            r.coordinators[0].error_code
        } else {
            r.error_code
        };
        assert_eq!(code, 0, "FindCoordinator v{v}");
    }
    for v in 0..=9i16 {
        let group = format!("v{v}");
        let mut req = join_request(&group, "", 10_000);
        if v >= 5 {
            req = req.with_group_instance_id(Some(s(&format!("instance-{v}"))));
        }
        // Static members (v5+) and pre-v4 clients get their member id at once; v4 needs a
        // second join.
        let mut j = c.call(v, &req).await?;
        if v == 4 {
            assert_eq!(error(j.error_code), Some(ResponseError::MemberIdRequired));
            j = c.call(v, &req.clone().with_member_id(j.member_id)).await?;
        }
        assert_eq!(j.error_code, 0, "JoinGroup v{v}");
        assert_eq!(j.generation_id, 1);
        assert_eq!(j.leader, j.member_id);
        let me = j.member_id.clone();
        let sync_v = v.min(5);
        let mut sync = sync_request(&group, &me, 1, vec![(me.clone(), assignment("t", &[0]))]);
        if sync_v < 5 {
            sync = sync.with_protocol_type(None).with_protocol_name(None);
        }
        if sync_v >= 3 && v >= 5 {
            sync = sync.with_group_instance_id(req.group_instance_id.clone());
        }
        let r = c.call(sync_v, &sync).await?;
        assert_eq!(
            (r.error_code, r.assignment.clone()),
            (0, assignment("t", &[0])),
            "SyncGroup v{sync_v}"
        );
        let hb_v = v.min(4);
        let mut hb = heartbeat(&group, &me, 1);
        if hb_v >= 3 && v >= 5 {
            hb = hb.with_group_instance_id(req.group_instance_id.clone());
        }
        assert_eq!(c.call(hb_v, &hb).await?.error_code, 0, "Heartbeat v{hb_v}");
        let commit_v = v.clamp(2, 8);
        let mut oc = commit(&group, &me, 1, "t", 3);
        if commit_v < 6 {
            oc.topics[0].partitions[0].committed_leader_epoch = -1;
        }
        if commit_v >= 7 && v >= 5 {
            oc = oc.with_group_instance_id(req.group_instance_id.clone());
        }
        let r = c.call(commit_v, &oc).await?;
        assert_eq!(
            r.topics[0].partitions[0].error_code, 0,
            "OffsetCommit v{commit_v}"
        );
        let fetch_v = v.clamp(1, 7);
        let fetch = OffsetFetchRequest::default()
            .with_group_id(GroupId(s(&group)))
            .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                .with_name(TopicName(s("t")))
                .with_partition_indexes(vec![0])]));
        let r = c.call(fetch_v, &fetch).await?;
        assert_eq!(
            r.topics[0].partitions[0].committed_offset, 3,
            "OffsetFetch v{fetch_v}"
        );
        let d = c
            .call(
                v.min(5),
                &DescribeGroupsRequest::default().with_groups(vec![GroupId(s(&group))]),
            )
            .await?;
        assert_eq!(
            d.groups[0].group_state.as_str(),
            "Stable",
            "DescribeGroups v{}",
            v.min(5)
        );
        let l = c.call(v.min(4), &ListGroupsRequest::default()).await?;
        assert!(
            l.groups.iter().any(|g| g.group_id.0.as_str() == group),
            "ListGroups v{}",
            v.min(4)
        );
        let leave_v = v.min(5);
        let leave = if leave_v >= 3 {
            LeaveGroupRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_members(vec![MemberIdentity::default()
                    .with_member_id(me.clone())
                    .with_group_instance_id(if v >= 5 {
                        req.group_instance_id.clone()
                    } else {
                        None
                    })])
        } else {
            LeaveGroupRequest::default()
                .with_group_id(GroupId(s(&group)))
                .with_member_id(me.clone())
        };
        let r = c.call(leave_v, &leave).await?;
        assert_eq!(r.error_code, 0, "LeaveGroup v{leave_v}");
        let r = c
            .call(
                v.min(2),
                &DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s(&group))]),
            )
            .await?;
        assert_eq!(r.results[0].error_code, 0, "DeleteGroups v{}", v.min(2));
    }
    let r = c
        .call(
            0,
            &OffsetDeleteRequest::default().with_group_id(GroupId(s("nobody"))),
        )
        .await?;
    assert_eq!(error(r.error_code), Some(ResponseError::GroupIdNotFound));
    Ok(())
}
