//! Unit tests of the coordinator with explicit instants: no sockets, no sleeps.

use super::*;
use crate::group::consumer_protocol::tests::{assignment, subscription};
use proptest::prelude::*;

const SESSION_MS: i32 = 10_000;
const REBALANCE_MS: i32 = 30_000;

fn coord() -> GroupCoordinator {
    GroupCoordinator::new(GroupConfig::default(), &[1, 2, 3])
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn params(group: &str, member_id: &str, client: &str, topics: &[&str]) -> JoinParams {
    JoinParams {
        group_id: group.into(),
        member_id: member_id.into(),
        group_instance_id: None,
        client_id: client.into(),
        client_host: "/127.0.0.1".into(),
        session_timeout_ms: SESSION_MS,
        rebalance_timeout_ms: REBALANCE_MS,
        protocol_type: "consumer".into(),
        protocols: vec![
            ("range".into(), subscription(topics)),
            ("roundrobin".into(), subscription(topics)),
        ],
        require_known_member_id: true,
        supports_skip_assignment: false,
    }
}

/// The answer, if it is there already.
fn ready<T>(r: Reply<T>) -> Result<T, oneshot::Receiver<T>> {
    match r {
        Reply::Now(t) => Ok(t),
        Reply::Later(mut rx) => rx.try_recv().map_err(|_| rx),
    }
}

fn answered<T: std::fmt::Debug>(r: Reply<T>) -> T {
    ready(r).expect("answered now")
}

fn parked<T>(r: Reply<T>) -> oneshot::Receiver<T> {
    match ready(r) {
        Ok(_) => panic!("expected the request to be parked"),
        Err(rx) => rx,
    }
}

/// A v4+ join from scratch: MEMBER_ID_REQUIRED, then the join with the id.
fn join_new(c: &mut GroupCoordinator, now: Instant, p: JoinParams) -> (String, Reply<JoinResult>) {
    let first = answered(c.join(now, p.clone()));
    assert_eq!(first.error, Some(ResponseError::MemberIdRequired));
    let id = first.member_id.clone();
    let reply = c.join(
        now,
        JoinParams {
            member_id: id.clone(),
            ..p
        },
    );
    (id, reply)
}

fn sync(
    c: &mut GroupCoordinator,
    now: Instant,
    group: &str,
    member: &str,
    gen: i32,
    a: Vec<(String, Bytes)>,
) -> Reply<SyncResult> {
    c.sync(
        now,
        SyncParams {
            group_id: group.into(),
            member_id: member.into(),
            group_instance_id: None,
            generation_id: gen,
            protocol_type: Some("consumer".into()),
            protocol_name: Some("range".into()),
            assignments: a,
        },
    )
}

fn state(c: &GroupCoordinator, g: &str) -> GroupState {
    c.view(g).map_or(GroupState::Dead, |v| v.state)
}

/// One member joined and synced: returns its id.
fn stable_single(c: &mut GroupCoordinator, now: Instant) -> String {
    let (a, r) = join_new(c, now, params("g", "", "client-a", &["t"]));
    let j = answered(r);
    assert_eq!(j.error, None);
    let s = answered(sync(
        c,
        now,
        "g",
        &a,
        j.generation_id,
        vec![(a.clone(), assignment(&[("t", &[0, 1])]))],
    ));
    assert_eq!(s.error, None);
    a
}

#[test]
fn first_join_requires_a_member_id_then_completes_at_once() {
    let mut c = coord();
    let t0 = Instant::now();
    let (a, r) = join_new(&mut c, t0, params("g", "", "client-a", &["t"]));
    assert!(a.starts_with("client-a-"), "{a}");
    let j = answered(r);
    assert_eq!(j.error, None);
    assert_eq!(j.generation_id, 1);
    assert_eq!(j.leader_id, a);
    assert_eq!(j.protocol_name.as_deref(), Some("range"));
    assert_eq!(j.members.len(), 1);
    assert_eq!(j.members[0].metadata, subscription(&["t"]));
    assert_eq!(state(&c, "g"), GroupState::CompletingRebalance);
    // A heartbeat between JoinGroup and SyncGroup is fine.
    assert_eq!(c.heartbeat(t0, "g", &a, None, 1), Ok(()));
    let s = answered(sync(
        &mut c,
        t0,
        "g",
        &a,
        1,
        vec![(a.clone(), assignment(&[("t", &[0])]))],
    ));
    assert_eq!(s.error, None);
    assert_eq!(s.assignment, assignment(&[("t", &[0])]));
    let v = c.view("g").expect("group");
    assert_eq!(v.state, GroupState::Stable);
    assert!(v.owns(&a, "t", 0));
    assert_eq!(c.heartbeat(t0, "g", &a, None, 1), Ok(()));
}

#[test]
fn pre_v4_join_gets_a_member_id_directly() {
    let mut c = coord();
    let t0 = Instant::now();
    let p = JoinParams {
        require_known_member_id: false,
        ..params("g", "", "old", &["t"])
    };
    let j = answered(c.join(t0, p));
    assert_eq!(j.error, None);
    assert!(j.member_id.starts_with("old-"));
    assert_eq!(j.leader_id, j.member_id);
}

#[test]
fn a_second_member_triggers_a_rebalance_that_completes_when_all_rejoined() {
    let mut c = coord();
    let t0 = Instant::now();
    let a = stable_single(&mut c, t0);
    let t1 = t0 + ms(100);
    let (b, rb) = join_new(&mut c, t1, params("g", "", "client-b", &["t"]));
    let mut rb = parked(rb);
    assert_eq!(state(&c, "g"), GroupState::PreparingRebalance);
    assert_eq!(
        c.heartbeat(t1, "g", &a, None, 1),
        Err(ResponseError::RebalanceInProgress)
    );
    // Commits are still accepted while preparing, as Kafka.
    let who = Committer {
        member_id: a.clone(),
        group_instance_id: None,
        generation_id: 1,
    };
    let e = OffsetCommitEntry {
        topic: "t".into(),
        partition: 0,
        offset: 5,
        leader_epoch: 0,
        metadata: None,
    };
    assert_eq!(
        c.commit_offsets(t1, "g", &who, std::slice::from_ref(&e)),
        vec![None]
    );
    // The leader rejoins: everyone is in, the round completes without waiting.
    let ja = answered(c.join(t1, params("g", &a, "client-a", &["t"])));
    let jb = rb.try_recv().expect("b answered");
    assert_eq!(ja.generation_id, 2);
    assert_eq!(jb.generation_id, 2);
    assert_eq!(ja.leader_id, a);
    assert_eq!(jb.leader_id, a);
    assert_eq!(
        ja.members.len(),
        2,
        "the leader gets every member's metadata"
    );
    assert!(jb.members.is_empty());
    assert_eq!(state(&c, "g"), GroupState::CompletingRebalance);
    // Commits during CompletingRebalance: REBALANCE_IN_PROGRESS.
    let who2 = Committer {
        generation_id: 2,
        ..who
    };
    assert_eq!(
        c.commit_offsets(t1, "g", &who2, &[e]),
        vec![Some(ResponseError::RebalanceInProgress)]
    );
    // The follower's SyncGroup waits for the leader's.
    let mut sb = parked(sync(&mut c, t1, "g", &b, 2, vec![]));
    let sa = answered(sync(
        &mut c,
        t1,
        "g",
        &a,
        2,
        vec![
            (a.clone(), assignment(&[("t", &[0])])),
            (b.clone(), assignment(&[("t", &[1])])),
        ],
    ));
    assert_eq!(sa.assignment, assignment(&[("t", &[0])]));
    assert_eq!(
        sb.try_recv().expect("b synced").assignment,
        assignment(&[("t", &[1])])
    );
    let v = c.view("g").expect("group");
    assert_eq!(v.state, GroupState::Stable);
    assert_eq!(
        v.assigned(),
        vec![("t".to_string(), 0), ("t".to_string(), 1)]
    );
    assert_eq!(c.committed("g", "t", 0).map(|o| o.offset), Some(5));
}

#[test]
fn session_expiry_removes_the_member_and_rebalances() {
    let mut c = coord();
    let t0 = Instant::now();
    let a = stable_single(&mut c, t0);
    let (b, rb) = join_new(&mut c, t0, params("g", "", "client-b", &["t"]));
    let mut rb = parked(rb);
    let _ = answered(c.join(t0, params("g", &a, "client-a", &["t"])));
    let _ = rb.try_recv().expect("b joined");
    let _ = answered(sync(
        &mut c,
        t0,
        "g",
        &a,
        2,
        vec![
            (a.clone(), assignment(&[("t", &[0])])),
            (b.clone(), assignment(&[("t", &[1])])),
        ],
    ));
    let _ = answered(sync(&mut c, t0, "g", &b, 2, vec![]));
    // b heartbeats, a goes silent.
    let next = c.next_deadline().expect("deadline");
    assert_eq!(next, t0 + ms(10_000));
    assert_eq!(c.heartbeat(t0 + ms(9_000), "g", &b, None, 2), Ok(()));
    c.expire(t0 + ms(9_999));
    assert_eq!(c.view("g").expect("g").members.len(), 2);
    c.expire(t0 + ms(10_000));
    let v = c.view("g").expect("g");
    assert_eq!(v.members.len(), 1);
    assert_eq!(v.state, GroupState::PreparingRebalance);
    assert_eq!(v.leader.as_deref(), Some(b.as_str()));
    assert_eq!(
        c.heartbeat(t0 + ms(10_001), "g", &a, None, 2),
        Err(ResponseError::UnknownMemberId)
    );
    assert_eq!(
        c.heartbeat(t0 + ms(10_001), "g", &b, None, 2),
        Err(ResponseError::RebalanceInProgress)
    );
    let j = answered(c.join(t0 + ms(10_002), params("g", &b, "client-b", &["t"])));
    assert_eq!(j.generation_id, 3);
    assert_eq!(j.leader_id, b);
}

#[test]
fn a_member_missing_the_rebalance_is_removed_at_the_rebalance_timeout() {
    let mut c = coord();
    let t0 = Instant::now();
    let a = stable_single(&mut c, t0);
    let (b, rb) = join_new(&mut c, t0, params("g", "", "client-b", &["t"]));
    let mut rb = parked(rb);
    // a keeps heartbeating (REBALANCE_IN_PROGRESS) but never rejoins.
    for s in 1..=4 {
        let now = t0 + ms(s * 7_000);
        assert_eq!(
            c.heartbeat(now, "g", &a, None, 1),
            Err(ResponseError::RebalanceInProgress)
        );
        c.expire(now);
    }
    assert!(rb.try_recv().is_err(), "still waiting for a");
    c.expire(t0 + ms(30_000));
    let jb = rb.try_recv().expect("b answered at the rebalance timeout");
    assert_eq!(jb.error, None);
    assert_eq!(jb.leader_id, b);
    let v = c.view("g").expect("g");
    assert_eq!(v.members.len(), 1);
    assert_eq!(v.generation, 2);
}

#[test]
fn error_codes_of_heartbeat_sync_and_join() {
    let mut c = coord();
    let t0 = Instant::now();
    let a = stable_single(&mut c, t0);
    assert_eq!(
        c.heartbeat(t0, "g", &a, None, 7),
        Err(ResponseError::IllegalGeneration)
    );
    assert_eq!(
        c.heartbeat(t0, "g", "nobody", None, 1),
        Err(ResponseError::UnknownMemberId)
    );
    assert_eq!(
        c.heartbeat(t0, "nogroup", &a, None, 1),
        Err(ResponseError::UnknownMemberId)
    );
    assert_eq!(
        c.heartbeat(t0, "", &a, None, 1),
        Err(ResponseError::InvalidGroupId)
    );
    assert_eq!(
        answered(sync(&mut c, t0, "g", &a, 9, vec![])).error,
        Some(ResponseError::IllegalGeneration)
    );
    assert_eq!(
        answered(sync(&mut c, t0, "g", "x", 1, vec![])).error,
        Some(ResponseError::UnknownMemberId)
    );
    // Another protocol type, or no common protocol.
    let p = JoinParams {
        protocol_type: "connect".into(),
        ..params("g", "", "c", &["t"])
    };
    assert_eq!(
        answered(c.join(t0, p)).error,
        Some(ResponseError::InconsistentGroupProtocol)
    );
    let p = JoinParams {
        protocols: vec![("sticky".into(), Bytes::new())],
        ..params("g", "", "c", &["t"])
    };
    assert_eq!(
        answered(c.join(t0, p)).error,
        Some(ResponseError::InconsistentGroupProtocol)
    );
    // Empty protocol list on a new group.
    let p = JoinParams {
        protocols: vec![],
        ..params("h", "", "c", &["t"])
    };
    assert_eq!(
        answered(c.join(t0, p)).error,
        Some(ResponseError::InconsistentGroupProtocol)
    );
    // Session timeout bounds.
    let mut c2 = GroupCoordinator::new(
        GroupConfig {
            min_session_timeout: ms(6_000),
            ..GroupConfig::default()
        },
        &[1],
    );
    let p = JoinParams {
        session_timeout_ms: 5_999,
        ..params("g", "", "c", &["t"])
    };
    assert_eq!(
        answered(c2.join(t0, p)).error,
        Some(ResponseError::InvalidSessionTimeout)
    );
    let p = JoinParams {
        session_timeout_ms: 30 * 60 * 1000 + 1,
        ..params("g", "", "c", &["t"])
    };
    assert_eq!(
        answered(c2.join(t0, p)).error,
        Some(ResponseError::InvalidSessionTimeout)
    );
    let p = JoinParams {
        session_timeout_ms: -1,
        ..params("g", "", "c", &["t"])
    };
    assert_eq!(
        answered(c2.join(t0, p)).error,
        Some(ResponseError::InvalidSessionTimeout)
    );
    // An unknown member id on a group that does not exist.
    assert_eq!(
        answered(c.join(t0, params("zz", "m-1", "c", &["t"]))).error,
        Some(ResponseError::UnknownMemberId)
    );
    assert_eq!(
        answered(c.join(t0, params("", "", "c", &["t"]))).error,
        Some(ResponseError::InvalidGroupId)
    );
}

fn static_params(member_id: &str, iid: &str) -> JoinParams {
    JoinParams {
        group_instance_id: Some(iid.into()),
        require_known_member_id: false,
        ..params("g", member_id, "client", &["t"])
    }
}

#[test]
fn a_static_member_rejoining_gets_its_assignment_back_without_a_rebalance() {
    let mut c = coord();
    let t0 = Instant::now();
    let ja = answered(c.join(t0, static_params("", "instance-a")));
    let a = ja.member_id.clone();
    assert!(a.starts_with("instance-a-"));
    let _ = answered(sync(
        &mut c,
        t0,
        "g",
        &a,
        1,
        vec![(a.clone(), assignment(&[("t", &[0, 1, 2])]))],
    ));
    // The process restarts: same instance id, no member id.
    let j = answered(c.join(t0 + ms(5), static_params("", "instance-a")));
    assert_eq!(j.error, None);
    let a2 = j.member_id.clone();
    assert_ne!(a2, a);
    assert_eq!(j.generation_id, 1, "no new generation");
    assert_eq!(
        j.leader_id, a,
        "the old leader id, so that it does not assign again"
    );
    assert_eq!(state(&c, "g"), GroupState::Stable);
    let s = answered(sync(&mut c, t0 + ms(6), "g", &a2, 1, vec![]));
    assert_eq!(s.assignment, assignment(&[("t", &[0, 1, 2])]));
    // The old member id is fenced.
    let v = c.view("g").expect("g");
    assert_eq!(v.members.len(), 1);
    assert_eq!(
        v.members[0].group_instance_id.as_deref(),
        Some("instance-a")
    );
    assert_eq!(
        c.heartbeat(t0, "g", &a, Some("instance-a"), 1),
        Err(ResponseError::FencedInstanceId)
    );
    assert_eq!(c.heartbeat(t0, "g", &a2, Some("instance-a"), 1), Ok(()));
    // v9: a static leader is told to skip the assignment.
    let p = JoinParams {
        supports_skip_assignment: true,
        ..static_params("", "instance-a")
    };
    let j = answered(c.join(t0 + ms(7), p));
    assert!(j.skip_assignment);
    assert_eq!(j.members.len(), 1);
    // Changed protocols that change the selected protocol rebalance.
    let p = JoinParams {
        protocols: vec![("roundrobin".into(), subscription(&["t"]))],
        ..static_params("", "instance-a")
    };
    let r = c.join(t0 + ms(8), p);
    let j = answered(r);
    assert_eq!(j.generation_id, 2);
    assert_eq!(j.protocol_name.as_deref(), Some("roundrobin"));
}

#[test]
fn initial_rebalance_delay_waits_and_extends_while_members_arrive() {
    let cfg = GroupConfig {
        initial_rebalance_delay: ms(3_000),
        ..GroupConfig::default()
    };
    let mut c = GroupCoordinator::new(cfg, &[1]);
    let t0 = Instant::now();
    let (_, ra) = join_new(&mut c, t0, params("g", "", "a", &["t"]));
    let mut ra = parked(ra);
    let (_, rb) = join_new(&mut c, t0 + ms(1_000), params("g", "", "b", &["t"]));
    let mut rb = parked(rb);
    assert_eq!(c.next_deadline(), Some(t0 + ms(3_000)));
    c.expire(t0 + ms(3_000));
    assert!(
        ra.try_recv().is_err(),
        "a member arrived during the delay: delay again"
    );
    c.expire(t0 + ms(6_000));
    let ja = ra.try_recv().expect("a");
    let jb = rb.try_recv().expect("b");
    assert_eq!(ja.generation_id, 1);
    assert_eq!(jb.generation_id, 1);
}

#[test]
fn pending_members_that_never_rejoin_expire() {
    let mut c = coord();
    let t0 = Instant::now();
    let a = stable_single(&mut c, t0);
    let first = answered(c.join(t0, params("g", "", "b", &["t"])));
    assert_eq!(first.error, Some(ResponseError::MemberIdRequired));
    // a rejoins (as leader it rebalances); the pending member holds the round open.
    let mut ra = parked(c.join(t0, params("g", &a, "client-a", &["t"])));
    assert!(ra.try_recv().is_err());
    c.expire(t0 + ms(10_000));
    let j = ra.try_recv().expect("pending member expired");
    assert_eq!(j.generation_id, 2);
    assert_eq!(j.members.len(), 1);
}

#[test]
fn offsets_commit_fetch_and_survive_the_group_becoming_empty() {
    let mut c = coord();
    let t0 = Instant::now();
    let simple = Committer {
        member_id: String::new(),
        group_instance_id: None,
        generation_id: -1,
    };
    let e = |p, o, md: Option<&str>| OffsetCommitEntry {
        topic: "t".into(),
        partition: p,
        offset: o,
        leader_epoch: 3,
        metadata: md.map(String::from),
    };
    // A generation-aware commit to a group that does not exist.
    let who = Committer {
        member_id: "m".into(),
        group_instance_id: None,
        generation_id: 1,
    };
    assert_eq!(
        c.commit_offsets(t0, "s", &who, &[e(0, 1, None)]),
        vec![Some(ResponseError::IllegalGeneration)]
    );
    // A simple commit creates an Empty group.
    assert_eq!(
        c.commit_offsets(t0, "s", &simple, &[e(0, 42, Some("hi")), e(1, 7, None)]),
        vec![None, None]
    );
    assert_eq!(state(&c, "s"), GroupState::Empty);
    let got = c.fetch_offsets("s", Some(&[("t".into(), 0), ("t".into(), 9)]));
    assert_eq!(
        got[0]
            .2
            .as_ref()
            .map(|o| (o.offset, o.leader_epoch, o.metadata.as_str())),
        Some((42, 3, "hi"))
    );
    assert!(got[1].2.is_none());
    assert_eq!(c.fetch_offsets("s", None).len(), 2);
    assert!(c.fetch_offsets("nobody", Some(&[("t".into(), 0)]))[0]
        .2
        .is_none());
    let big = "x".repeat(4097);
    assert_eq!(
        c.commit_offsets(t0, "s", &simple, &[e(0, 1, Some(&big))]),
        vec![Some(ResponseError::OffsetMetadataTooLarge)]
    );

    // A group with members refuses simple commits and wrong generations.
    let a = stable_single(&mut c, t0);
    assert_eq!(
        c.commit_offsets(t0, "g", &simple, &[e(0, 1, None)]),
        vec![Some(ResponseError::UnknownMemberId)]
    );
    let bad = Committer {
        member_id: a.clone(),
        group_instance_id: None,
        generation_id: 0,
    };
    assert_eq!(
        c.commit_offsets(t0, "g", &bad, &[e(0, 1, None)]),
        vec![Some(ResponseError::IllegalGeneration)]
    );
    let good = Committer {
        member_id: a.clone(),
        group_instance_id: None,
        generation_id: 1,
    };
    assert_eq!(
        c.commit_offsets(t0, "g", &good, &[e(0, 50, None)]),
        vec![None]
    );
    // The group is busy: it cannot be deleted, nor its subscribed topic's offsets.
    assert_eq!(
        c.delete_groups(&["g".into(), "nope".into()]),
        vec![
            Some(ResponseError::NonEmptyGroup),
            Some(ResponseError::GroupIdNotFound)
        ]
    );
    assert_eq!(
        c.delete_offsets("g", &[("t".into(), 0), ("other".into(), 0)]),
        Ok(vec![Some(ResponseError::GroupSubscribedToTopic), None])
    );
    assert_eq!(
        c.delete_offsets("nope", &[]),
        Err(ResponseError::GroupIdNotFound)
    );
    // The member leaves: Empty, offsets stay.
    let left = c.leave(
        t0,
        "g",
        &[LeavingMember {
            member_id: a.clone(),
            group_instance_id: None,
        }],
    );
    assert_eq!(left, Ok(vec![None]));
    let v = c.view("g").expect("g");
    assert_eq!(v.state, GroupState::Empty);
    assert_eq!(v.generation, 2);
    assert_eq!(c.committed("g", "t", 0).map(|o| o.offset), Some(50));
    // Now it can be deleted, with its offsets.
    assert_eq!(c.delete_offsets("g", &[("t".into(), 0)]), Ok(vec![None]));
    assert_eq!(
        c.commit_offsets(t0, "g", &simple, &[e(0, 60, None)]),
        vec![None]
    );
    assert_eq!(c.delete_groups(&["g".into()]), vec![None]);
    assert!(c.committed("g", "t", 0).is_none());
    assert_eq!(c.describe("g").state, GroupState::Dead);
}

#[test]
fn leave_group_batched_by_member_and_instance_id() {
    let mut c = coord();
    let t0 = Instant::now();
    let ja = answered(c.join(t0, static_params("", "ia")));
    let a = ja.member_id;
    let res = c.leave(
        t0,
        "g",
        &[
            LeavingMember {
                member_id: "ghost".into(),
                group_instance_id: None,
            },
            LeavingMember {
                member_id: String::new(),
                group_instance_id: Some("ia".into()),
            },
            LeavingMember {
                member_id: String::new(),
                group_instance_id: Some("ib".into()),
            },
        ],
    );
    assert_eq!(
        res,
        Ok(vec![
            Some(ResponseError::UnknownMemberId),
            None,
            Some(ResponseError::UnknownMemberId)
        ])
    );
    assert!(c.view("g").expect("g").members.is_empty());
    assert_eq!(
        c.heartbeat(t0, "g", &a, Some("ia"), 1),
        Err(ResponseError::UnknownMemberId)
    );
    assert_eq!(
        c.leave(
            t0,
            "none",
            &[LeavingMember {
                member_id: "x".into(),
                group_instance_id: None
            }]
        ),
        Ok(vec![Some(ResponseError::UnknownMemberId)])
    );
}

#[test]
fn moving_the_coordinator_keeps_stable_groups_and_cancels_rebalances() {
    let mut c = coord();
    let t0 = Instant::now();
    let a = stable_single(&mut c, t0);
    let who = Committer {
        member_id: a.clone(),
        group_instance_id: None,
        generation_id: 1,
    };
    let e = OffsetCommitEntry {
        topic: "t".into(),
        partition: 0,
        offset: 9,
        leader_epoch: -1,
        metadata: None,
    };
    assert_eq!(c.commit_offsets(t0, "g", &who, &[e]), vec![None]);
    let (_, rb) = join_new(&mut c, t0, params("g", "", "b", &["t"]));
    let mut rb = parked(rb);
    let old = c.coordinator_for("g");
    let new = if old == 1 { 2 } else { 1 };
    assert!(c.move_coordinator(t0, "g", new));
    assert_eq!(c.coordinator_for("g"), new);
    assert_eq!(
        rb.try_recv().expect("b").error,
        Some(ResponseError::NotCoordinator)
    );
    let v = c.view("g").expect("g");
    assert_eq!(v.state, GroupState::Stable);
    assert_eq!(v.generation, 1);
    assert_eq!(v.members.len(), 1);
    assert!(v.owns(&a, "t", 0));
    assert_eq!(c.heartbeat(t0, "g", &a, None, 1), Ok(()));
    assert_eq!(c.committed("g", "t", 0).map(|o| o.offset), Some(9));
    // Stopping the coordinator's broker moves it to a live one.
    c.broker_stopped(t0, new, &[1, 2, 3]);
    assert_ne!(c.coordinator_for("g"), new);
    assert_eq!(c.committed("g", "t", 0).map(|o| o.offset), Some(9));
}

#[test]
fn list_and_describe() {
    let mut c = coord();
    let t0 = Instant::now();
    let a = stable_single(&mut c, t0);
    let simple = Committer {
        member_id: String::new(),
        group_instance_id: None,
        generation_id: -1,
    };
    let e = OffsetCommitEntry {
        topic: "t".into(),
        partition: 0,
        offset: 1,
        leader_epoch: -1,
        metadata: None,
    };
    c.commit_offsets(t0, "s", &simple, &[e]);
    let all = c.list(&[], |_| true);
    assert_eq!(all.len(), 2);
    let stable = c.list(&["stable".into()], |_| true);
    assert_eq!(
        stable,
        vec![("g".to_string(), "consumer".to_string(), GroupState::Stable)]
    );
    assert_eq!(c.list(&["Empty".into()], |_| true)[0].0, "s");
    assert!(c.list(&[], |g| g == "none").is_empty());
    let d = c.describe("g");
    assert_eq!(d.state, GroupState::Stable);
    assert_eq!(d.protocol_name, "range");
    assert_eq!(d.members[0].member_id, a);
    assert_eq!(d.members[0].client_id, "client-a");
    assert_eq!(d.members[0].assignment, assignment(&[("t", &[0, 1])]));
    assert_eq!(d.members[0].metadata, subscription(&["t"]));
}

#[test]
fn joins_beyond_the_maximum_group_size_are_refused() {
    let cfg = GroupConfig {
        max_group_size: 1,
        ..GroupConfig::default()
    };
    let mut c = GroupCoordinator::new(cfg, &[1]);
    let t0 = Instant::now();
    let a = stable_single(&mut c, t0);
    let j = answered(c.join(t0, params("g", "", "client-b", &["t"])));
    assert_eq!(j.error, Some(ResponseError::GroupMaxSizeReached));
    // The member already in the group may rejoin.
    let j = answered(c.join(t0, params("g", &a, "client-a", &["t"])));
    assert_eq!((j.error, j.generation_id), (None, 2));
    assert_eq!(c.view("g").expect("g").members.len(), 1);
}

#[test]
fn a_member_that_never_syncs_is_removed_after_the_rebalance_timeout() {
    let mut c = coord();
    let t0 = Instant::now();
    let a = stable_single(&mut c, t0);
    let (b, rb) = join_new(&mut c, t0, params("g", "", "client-b", &["t"]));
    let mut rb = parked(rb);
    let _ = answered(c.join(t0, params("g", &a, "client-a", &["t"])));
    assert_eq!(rb.try_recv().expect("b joined").generation_id, 2);
    // The leader syncs and keeps heartbeating; b joined but never sends SyncGroup.
    let _ = answered(sync(
        &mut c,
        t0,
        "g",
        &a,
        2,
        vec![
            (a.clone(), assignment(&[("t", &[0])])),
            (b.clone(), assignment(&[("t", &[1])])),
        ],
    ));
    assert_eq!(state(&c, "g"), GroupState::Stable);
    // (b heartbeats, so only the missing SyncGroup can remove it.)
    for s in 1..=4 {
        let now = t0 + ms(s * 7_000);
        assert_eq!(c.heartbeat(now, "g", &a, None, 2), Ok(()));
        assert_eq!(c.heartbeat(now, "g", &b, None, 2), Ok(()));
        c.expire(now);
    }
    assert_eq!(c.view("g").expect("g").members.len(), 2);
    c.expire(t0 + ms(30_000));
    let v = c.view("g").expect("g");
    assert_eq!(v.members.len(), 1, "b is dropped at the rebalance timeout");
    assert_eq!(v.state, GroupState::PreparingRebalance);
    assert_eq!(
        c.heartbeat(t0 + ms(30_001), "g", &a, None, 2),
        Err(ResponseError::RebalanceInProgress)
    );
}

#[test]
fn a_leader_rejoining_a_stable_group_rebalances_a_follower_does_not() {
    let mut c = coord();
    let t0 = Instant::now();
    let a = stable_single(&mut c, t0);
    let (b, rb) = join_new(&mut c, t0, params("g", "", "client-b", &["t"]));
    let mut rb = parked(rb);
    let _ = answered(c.join(t0, params("g", &a, "client-a", &["t"])));
    let _ = rb.try_recv().expect("b joined");
    let _ = answered(sync(
        &mut c,
        t0,
        "g",
        &a,
        2,
        vec![
            (a.clone(), assignment(&[("t", &[0])])),
            (b.clone(), assignment(&[("t", &[1])])),
        ],
    ));
    let _ = answered(sync(&mut c, t0, "g", &b, 2, vec![]));
    // A follower with unchanged metadata gets the current generation back.
    let j = answered(c.join(t0, params("g", &b, "client-b", &["t"])));
    assert_eq!((j.error, j.generation_id), (None, 2));
    assert_eq!(state(&c, "g"), GroupState::Stable);
    // A follower with new metadata, or the leader, starts a rebalance.
    let _b_rejoin = parked(c.join(t0, params("g", &b, "client-b", &["t", "u"])));
    assert_eq!(state(&c, "g"), GroupState::PreparingRebalance);
    let j = answered(c.join(t0, params("g", &a, "client-a", &["t"])));
    assert_eq!(j.generation_id, 3);
    assert_eq!(c.view("g").expect("g").generation, 3);
}

#[test]
fn a_static_member_rejoining_during_completing_rebalance_restarts_the_rebalance() {
    let mut c = coord();
    let t0 = Instant::now();
    let ja = answered(c.join(t0, static_params("", "ia")));
    assert_eq!(state(&c, "g"), GroupState::CompletingRebalance);
    // Restarted before its SyncGroup: the leader may assign the old id, so rebalance.
    let j = answered(c.join(t0, static_params("", "ia")));
    assert_ne!(j.member_id, ja.member_id);
    assert_eq!(j.generation_id, 2);
    assert_eq!(
        c.heartbeat(t0, "g", &ja.member_id, Some("ia"), 1),
        Err(ResponseError::FencedInstanceId)
    );
}

#[derive(Debug, Clone)]
enum Op {
    Join(usize),
    Sync(usize),
    Heartbeat(usize),
    Leave(usize),
    Advance(u64),
    MoveCoordinator(i32),
    /// A static member (clients 3 and 4) restarts: joins with its instance id, no member id.
    StaticRestart(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize).prop_map(Op::Join),
        (0..3usize).prop_map(Op::Sync),
        (0..3usize).prop_map(Op::Heartbeat),
        (0..3usize).prop_map(Op::Leave),
        (0..12_000u64).prop_map(Op::Advance),
        (1..4i32).prop_map(Op::MoveCoordinator),
        (3..5usize).prop_map(Op::StaticRestart),
        (3..5usize).prop_map(Op::Join),
        (3..5usize).prop_map(Op::Sync),
        (3..5usize).prop_map(Op::Heartbeat),
    ]
}

#[derive(Default)]
struct Client {
    instance_id: Option<String>,
    member_id: String,
    generation: i32,
    leader: bool,
    members: Vec<String>,
    join: Option<oneshot::Receiver<JoinResult>>,
    sync: Option<oneshot::Receiver<SyncResult>>,
}

impl Client {
    fn on_join(&mut self, j: JoinResult) {
        match j.error {
            None => {
                self.member_id = j.member_id.clone();
                self.generation = j.generation_id;
                self.leader = j.leader_id == j.member_id;
                self.members = j.members.iter().map(|m| m.member_id.clone()).collect();
            }
            Some(ResponseError::MemberIdRequired) => self.member_id = j.member_id,
            // Rediscovers the coordinator and rejoins with the same member id.
            Some(ResponseError::NotCoordinator) => {}
            Some(_) => self.member_id.clear(),
        }
    }
    fn poll(&mut self) {
        if let Some(rx) = &mut self.join {
            if let Ok(j) = rx.try_recv() {
                self.join = None;
                self.on_join(j);
            }
        }
        if let Some(rx) = &mut self.sync {
            if rx.try_recv().is_ok() {
                self.sync = None;
            }
        }
    }
}

proptest! {
    #[test]
    fn random_sequences_keep_the_group_invariants(ops in proptest::collection::vec(op(), 1..80)) {
        let mut c = coord();
        let mut now = Instant::now();
        let mut clients: Vec<Client> = (0..5)
            .map(|i| Client { instance_id: (i >= 3).then(|| format!("static-{i}")), ..Client::default() })
            .collect();
        let mut last_generation = 0;
        for op in ops {
            match op {
                Op::Join(i) => {
                    let cl = &mut clients[i];
                    if cl.join.is_none() {
                        let mut p = params("g", &cl.member_id.clone(), &format!("c{i}"), &["t"]);
                        if cl.instance_id.is_some() {
                            p.group_instance_id = cl.instance_id.clone();
                            p.require_known_member_id = false;
                        }
                        match ready(c.join(now, p)) {
                            Ok(j) => cl.on_join(j),
                            Err(rx) => cl.join = Some(rx),
                        }
                    }
                }
                Op::Sync(i) => {
                    let cl = &mut clients[i];
                    if cl.sync.is_none() && !cl.member_id.is_empty() {
                        let a = if cl.leader {
                            cl.members.iter().map(|m| (m.clone(), Bytes::from(m.clone()))).collect()
                        } else {
                            vec![]
                        };
                        let params = SyncParams {
                            group_id: "g".into(),
                            member_id: cl.member_id.clone(),
                            group_instance_id: cl.instance_id.clone(),
                            generation_id: cl.generation,
                            protocol_type: None,
                            protocol_name: None,
                            assignments: a,
                        };
                        match ready(c.sync(now, params)) {
                            Ok(_) => {}
                            Err(rx) => cl.sync = Some(rx),
                        }
                    }
                }
                Op::Heartbeat(i) => {
                    let cl = &clients[i];
                    let _ = c.heartbeat(now, "g", &cl.member_id, cl.instance_id.as_deref(), cl.generation);
                }
                Op::StaticRestart(i) => {
                    let cl = &mut clients[i];
                    cl.join = None;
                    cl.sync = None;
                    let p = JoinParams {
                        group_instance_id: cl.instance_id.clone(),
                        require_known_member_id: false,
                        ..params("g", "", &format!("c{i}"), &["t"])
                    };
                    match ready(c.join(now, p)) {
                        Ok(j) => cl.on_join(j),
                        Err(rx) => cl.join = Some(rx),
                    }
                }
                Op::Leave(i) => {
                    let cl = &mut clients[i];
                    let _ = c.leave(now, "g", &[LeavingMember { member_id: cl.member_id.clone(), group_instance_id: None }]);
                    cl.member_id.clear();
                }
                Op::Advance(d) => {
                    now += ms(d);
                    c.expire(now);
                }
                Op::MoveCoordinator(b) => {
                    // The next coordinator loads the last stored generation, which (as in
                    // Kafka) may be older than an unsynced rebalance that was in progress.
                    if c.move_coordinator(now, "g", b) {
                        last_generation = c.groups.get("g").and_then(|g| g.stored.as_ref()).map_or(0, |s| s.generation);
                    }
                }
            }
            for cl in &mut clients {
                cl.poll();
            }
            let Some(g) = c.groups.get("g") else { continue };
            // One leader, a member, iff there are members.
            prop_assert_eq!(g.leader.is_some(), !g.members.is_empty());
            if let Some(l) = &g.leader {
                prop_assert!(g.members.contains_key(l));
            }
            // Generations only go up.
            prop_assert!(g.generation >= last_generation);
            last_generation = g.generation;
            // Only members are parked.
            prop_assert!(g.join_waiters.keys().all(|id| g.members.contains_key(id)));
            prop_assert!(g.sync_waiters.keys().all(|id| g.members.contains_key(id)));
            prop_assert!(g.members.len() <= 5);
            // The static member map and the members agree.
            for (iid, id) in &g.static_members {
                prop_assert_eq!(g.members.get(id).and_then(|m| m.group_instance_id.as_ref()), Some(iid));
            }
            prop_assert_eq!(g.static_members.len(), g.members.values().filter(|m| m.is_static()).count());
            // Empty means no members; a group without members is Empty, or Preparing while a
            // member handed an id by MEMBER_ID_REQUIRED may still come back (as Kafka).
            if g.state == GroupState::Empty {
                prop_assert!(g.members.is_empty());
            }
            if g.members.is_empty() && g.state != GroupState::Empty {
                prop_assert_eq!(g.state, GroupState::PreparingRebalance);
                prop_assert!(!g.pending_members.is_empty());
            }
            prop_assert!(g.state != GroupState::Dead);
            if g.state == GroupState::Stable {
                for m in g.members.values() {
                    // Assigned by the leader to this member, or to the static member it replaced.
                    prop_assert!(!m.assignment.is_empty(), "every Stable member has its assignment");
                    if !m.is_static() {
                        prop_assert_eq!(&m.assignment, &Bytes::from(m.member_id.clone()));
                    }
                }
            }
            if g.state == GroupState::PreparingRebalance {
                prop_assert!(g.join_timer.is_some());
            }
        }
    }
}
