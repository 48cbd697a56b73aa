//! Injected faults, broker faults, the request log and paused time, with raw frames.

use std::time::Duration;

use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use mockafka_cluster::{Cluster, Fault, FaultAction, RequestAnswer};

use crate::util::*;

const WAIT: Duration = Duration::from_secs(10);

fn code(e: ResponseError) -> i16 {
    e.code()
}

fn metadata_request() -> MetadataRequest {
    MetadataRequest::default().with_topics(None)
}

#[tokio::test]
async fn fail_next_answers_the_partition_error_once_without_applying() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let mut c = Conn::to_broker(&cluster, 0).await?;
    let id = cluster
        .faults()
        .fail_next(ApiKey::Produce, ResponseError::NotLeaderOrFollower);
    let (err, offset) = produce(&mut c, "t", 0, batch(&["a"])).await?;
    assert_eq!(err, code(ResponseError::NotLeaderOrFollower));
    assert_eq!(offset, -1);
    assert_eq!(cluster.partition("t", 0)?.high_watermark, 0, "not applied");
    assert_eq!(cluster.faults().applied(id), 1);
    assert!(
        cluster.faults().list().is_empty(),
        "applied once, then gone"
    );
    let (err, offset) = produce(&mut c, "t", 0, batch(&["a"])).await?;
    assert_eq!((err, offset), (0, 0));

    cluster
        .faults()
        .fail_next(ApiKey::Fetch, ResponseError::NotLeaderOrFollower);
    let r = c.send(12, &fetch_request("t", 0, 0, 0)).await?;
    let p = &r.responses[0].partitions[0];
    assert_eq!(
        r.error_code, 0,
        "the partition carries it, not the top level"
    );
    assert_eq!(p.error_code, code(ResponseError::NotLeaderOrFollower));
    let r = c.send(12, &fetch_request("t", 0, 0, 0)).await?;
    assert_eq!(r.responses[0].partitions[0].error_code, 0);
    assert_eq!(r.responses[0].partitions[0].high_watermark, 1);

    let log = cluster.requests();
    let produces: Vec<_> = log
        .iter()
        .filter(|r| r.api_key == ApiKey::Produce)
        .collect();
    assert_eq!(produces.len(), 2);
    assert_eq!(
        produces[0].error_code(),
        Some(code(ResponseError::NotLeaderOrFollower))
    );
    assert_eq!(produces[0].fault, Some(id));
    assert_eq!(produces[1].error_code(), Some(0));
    assert_eq!(produces[1].fault, None);
    assert_eq!(produces[0].topics, vec![("t".to_owned(), Some(0))]);
    Ok(())
}

#[tokio::test]
async fn matchers_narrow_a_fault_to_a_broker_partition_group_or_client() -> TestResult {
    let cluster = Cluster::builder().brokers(2).topic("t", 2).start().await?;
    let l0 = leader(&cluster, "t", 0);
    let l1 = leader(&cluster, "t", 1);
    // Partition matcher: a produce to partition 1 passes, partition 0 fails.
    cluster.faults().add(
        Fault::new(
            ApiKey::Produce,
            FaultAction::Error(ResponseError::KafkaStorageError),
        )
        .partition("t", 0),
    );
    let mut c1 = Conn::to_broker(&cluster, l1).await?;
    assert_eq!(produce(&mut c1, "t", 1, batch(&["x"])).await?.0, 0);
    let mut c0 = Conn::to_broker(&cluster, l0).await?;
    assert_eq!(
        produce(&mut c0, "t", 0, batch(&["x"])).await?.0,
        code(ResponseError::KafkaStorageError)
    );

    // Broker matcher.
    let other = 1 - l0;
    cluster.faults().add(
        Fault::new(
            ApiKey::Metadata,
            FaultAction::Error(ResponseError::UnknownServerError),
        )
        .broker(mockafka_cluster::BrokerId(other))
        .always(),
    );
    let ok = c0.send(9, &metadata_request()).await?;
    assert!(ok.topics.iter().all(|t| t.error_code == 0));
    let mut co = Conn::to_broker(&cluster, other).await?;
    let failed = co
        .send(
            9,
            &MetadataRequest::default()
                .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
                )
                .with_name(Some(TopicName(StrBytes::from_static_str("t"))))])),
        )
        .await?;
    assert_eq!(
        failed.topics[0].error_code,
        code(ResponseError::UnknownServerError)
    );
    cluster.faults().clear();
    assert!(cluster.faults().list().is_empty());

    // Client id and group matchers: top-level code for Heartbeat.
    cluster.faults().add(
        Fault::new(
            ApiKey::Heartbeat,
            FaultAction::Error(ResponseError::RebalanceInProgress),
        )
        .group("g")
        .client_id("it")
        .times(2),
    );
    let hb = |g: &str| {
        HeartbeatRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(g.to_owned())))
            .with_member_id(StrBytes::from_static_str("m"))
            .with_generation_id(1)
    };
    let coord = cluster.group_coordinator("g").0;
    let mut cg = Conn::to_broker(&cluster, coord).await?;
    let r = cg.send(4, &hb("g")).await?;
    assert_eq!(r.error_code, code(ResponseError::RebalanceInProgress));
    let mut other_client = crate::wire::Conn::open(
        cluster
            .broker_addr(mockafka_cluster::BrokerId(coord))
            .ok_or("addr")?,
        "someone-else",
    )
    .await
    .map_err(|e| e.to_string())?;
    let r = other_client
        .call(4, &hb("g"))
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(
        r.error_code,
        code(ResponseError::UnknownMemberId),
        "served, not faulted"
    );
    let r = cg.send(4, &hb("g")).await?;
    assert_eq!(r.error_code, code(ResponseError::RebalanceInProgress));
    let r = cg.send(4, &hb("g")).await?;
    assert_eq!(
        r.error_code,
        code(ResponseError::UnknownMemberId),
        "twice, then gone"
    );
    Ok(())
}

#[tokio::test]
async fn apply_then_error_stores_once_and_an_idempotent_retry_gets_the_same_offset() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let mut c = Conn::to_broker(&cluster, 0).await?;
    let init = c
        .send(
            4,
            &InitProducerIdRequest::default()
                .with_transactional_id(None)
                .with_transaction_timeout_ms(60_000)
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1),
        )
        .await?;
    assert_eq!(init.error_code, 0);
    let pid = init.producer_id.0;
    assert_eq!(
        produce(&mut c, "t", 0, idempotent_batch(pid, 0, 0, 2)).await?,
        (0, 0)
    );
    cluster
        .faults()
        .apply_then_fail_next(ApiKey::Produce, ResponseError::RequestTimedOut);
    let second = idempotent_batch(pid, 0, 2, 3);
    let (err, _) = produce(&mut c, "t", 0, second.clone()).await?;
    assert_eq!(err, code(ResponseError::RequestTimedOut));
    assert_eq!(cluster.partition("t", 0)?.high_watermark, 5, "applied");
    // The retry is recognised as a duplicate: acknowledged at its original offset.
    assert_eq!(produce(&mut c, "t", 0, second).await?, (0, 2));
    assert_eq!(cluster.partition("t", 0)?.high_watermark, 5, "stored once");
    Ok(())
}

#[tokio::test]
async fn close_and_drop_actions_close_the_connection_with_or_without_applying() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    cluster.faults().close_next(ApiKey::Produce);
    let mut c = Conn::to_broker(&cluster, 0).await?;
    c.write(9, &produce_request("t", 0, batch(&["a"]), -1))
        .await?;
    assert!(c.is_closed().await);
    assert_eq!(
        cluster.partition("t", 0)?.high_watermark,
        0,
        "closed unapplied"
    );

    cluster.faults().drop_response_next(ApiKey::Produce);
    let mut c = Conn::to_broker(&cluster, 0).await?;
    c.write(9, &produce_request("t", 0, batch(&["a"]), -1))
        .await?;
    assert!(c.is_closed().await);
    assert_eq!(
        cluster.partition("t", 0)?.high_watermark,
        1,
        "applied, then closed"
    );
    let answers: Vec<RequestAnswer> = cluster.requests().iter().map(|r| r.answer).collect();
    assert_eq!(answers, vec![RequestAnswer::Closed, RequestAnswer::Closed]);
    Ok(())
}

#[tokio::test]
async fn no_response_leaves_the_request_unanswered_and_unapplied() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let id = cluster
        .faults()
        .add(Fault::new(ApiKey::Produce, FaultAction::NoResponse));
    let mut c = Conn::to_broker(&cluster, 0).await?;
    c.write(9, &produce_request("t", 0, batch(&["a"]), -1))
        .await?;
    let r = cluster
        .wait_for_request(WAIT, |r| {
            r.fault == Some(id) && r.answer == RequestAnswer::NoResponse
        })
        .await?;
    assert_eq!(r.api_key, ApiKey::Produce);
    assert_eq!(cluster.partition("t", 0)?.high_watermark, 0);
    // Nothing comes back (a bounded wait for an absence).
    assert!(
        tokio::time::timeout(Duration::from_millis(100), c.read_frame())
            .await
            .is_err()
    );
    // Another connection is served.
    let mut other = Conn::to_broker(&cluster, 0).await?;
    assert_eq!(produce(&mut other, "t", 0, batch(&["b"])).await?, (0, 0));

    cluster.faults().add(Fault::new(
        ApiKey::Produce,
        FaultAction::ApplyThenNoResponse,
    ));
    other
        .write(9, &produce_request("t", 0, batch(&["c"]), -1))
        .await?;
    cluster
        .wait_for_request(WAIT, |r| r.answer == RequestAnswer::NoResponse && r.seq > 1)
        .await?;
    wait_until(|| {
        cluster
            .partition("t", 0)
            .is_ok_and(|p| p.high_watermark == 2)
    })
    .await?;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn delay_throttle_and_broker_latency_run_on_tokio_time() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let mut c = Conn::to_broker(&cluster, 0).await?;
    cluster
        .faults()
        .delay_next(ApiKey::Metadata, Duration::from_secs(20));
    let start = tokio::time::Instant::now();
    c.send(9, &metadata_request()).await?;
    assert!(start.elapsed() >= Duration::from_secs(20));

    cluster.faults().add(
        Fault::new(
            ApiKey::Produce,
            FaultAction::Throttle(Duration::from_millis(250)),
        )
        .always(),
    );
    let r = c
        .send(9, &produce_request("t", 0, batch(&["a"]), -1))
        .await?;
    assert_eq!(r.throttle_time_ms, 250);
    assert_eq!(r.responses[0].partition_responses[0].error_code, 0);
    assert_eq!(
        cluster.partition("t", 0)?.high_watermark,
        1,
        "a throttled request is applied"
    );
    cluster.faults().clear();

    cluster
        .faults()
        .broker_latency(mockafka_cluster::BrokerId(0), Duration::from_secs(5));
    let start = tokio::time::Instant::now();
    c.send(9, &metadata_request()).await?;
    c.send(9, &metadata_request()).await?;
    assert!(start.elapsed() >= Duration::from_secs(10));
    cluster
        .faults()
        .broker_latency(mockafka_cluster::BrokerId(0), Duration::ZERO);
    let start = tokio::time::Instant::now();
    c.send(9, &metadata_request()).await?;
    assert!(start.elapsed() < Duration::from_secs(5));
    Ok(())
}

#[tokio::test]
async fn a_broker_refusing_connections_closes_new_ones_and_keeps_old_ones() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let mut old = Conn::to_broker(&cluster, 0).await?;
    // Served once, so the broker has accepted it before it starts refusing.
    old.send(9, &metadata_request()).await?;
    cluster
        .faults()
        .refuse_connections(mockafka_cluster::BrokerId(0), true);
    let mut refused = Conn::to_broker(&cluster, 0).await?;
    assert!(refused.is_closed().await);
    assert_eq!(produce(&mut old, "t", 0, batch(&["a"])).await?, (0, 0));
    cluster
        .faults()
        .refuse_connections(mockafka_cluster::BrokerId(0), false);
    let mut fresh = Conn::to_broker(&cluster, 0).await?;
    assert_eq!(produce(&mut fresh, "t", 0, batch(&["b"])).await?, (0, 1));
    Ok(())
}

#[tokio::test]
async fn a_crashed_broker_loses_in_flight_requests_and_its_partitions_move() -> TestResult {
    let cluster = Cluster::builder().brokers(3).topic("t", 3).start().await?;
    let l = leader(&cluster, "t", 0);
    let before = cluster.partition("t", 0)?;
    let mut c = Conn::to_broker(&cluster, l).await?;
    assert_eq!(produce(&mut c, "t", 0, batch(&["a", "b"])).await?.0, 0);
    // A long poll in flight when the broker crashes is never answered.
    c.write(12, &fetch_request("t", 0, 2, 30_000)).await?;
    wait_until(|| cluster.parked_fetches() == 1).await?;
    cluster.crash_broker(mockafka_cluster::BrokerId(l)).await?;
    assert!(c.is_closed().await);
    let after = cluster.partition("t", 0)?;
    assert_ne!(after.leader, before.leader);
    assert!(after.leader_epoch > before.leader_epoch);
    assert_eq!(after.high_watermark, 2, "data kept");
    let new_leader = after.leader.ok_or("no leader")?.0;
    let mut n = Conn::to_broker(&cluster, new_leader).await?;
    assert_eq!(produce(&mut n, "t", 0, batch(&["c"])).await?, (0, 2));
    cluster
        .restart_broker(mockafka_cluster::BrokerId(l))
        .await?;
    let mut back = Conn::to_broker(&cluster, l).await?;
    let r = back.send(9, &metadata_request()).await?;
    assert_eq!(r.brokers.len(), 3);
    Ok(())
}

#[tokio::test]
async fn the_request_log_records_every_request_in_order_and_can_be_awaited() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let waiter = {
        let cluster = cluster.clone();
        tokio::spawn(async move {
            cluster
                .wait_for_request(WAIT, |r| {
                    r.api_key == ApiKey::ListOffsets && r.error_code().is_some()
                })
                .await
        })
    };
    let mut c = Conn::to_broker(&cluster, 0).await?;
    c.send(9, &metadata_request()).await?;
    produce(&mut c, "t", 0, batch(&["a"])).await?;
    let lo = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![list_offsets_request::ListOffsetsTopic::default()
            .with_name(TopicName(StrBytes::from_static_str("t")))
            .with_partitions(vec![
                list_offsets_request::ListOffsetsPartition::default()
                    .with_partition_index(7)
                    .with_timestamp(-1),
            ])]);
    c.send(5, &lo).await?;
    let seen = waiter.await??;
    assert_eq!(
        seen.error_code(),
        Some(code(ResponseError::UnknownTopicOrPartition))
    );
    let log = cluster.requests();
    let keys: Vec<(ApiKey, i16, i32)> = log
        .iter()
        .map(|r| (r.api_key, r.api_version, r.correlation_id))
        .collect();
    assert_eq!(
        keys,
        vec![
            (ApiKey::Metadata, 9, 1),
            (ApiKey::Produce, 9, 2),
            (ApiKey::ListOffsets, 5, 3)
        ]
    );
    assert!(log
        .iter()
        .all(|r| r.client_id.as_deref() == Some("it") && r.broker.0 == 0));
    assert!(log
        .windows(2)
        .all(|w| w[0].seq < w[1].seq && w[0].elapsed <= w[1].elapsed));
    assert!(log.iter().all(|r| r.at_ms > 0));
    cluster.clear_requests();
    assert!(cluster.requests().is_empty());
    // A wait that never matches times out on the deadline.
    let none = cluster
        .wait_for_request(Duration::from_millis(20), |r| {
            r.api_key == ApiKey::DeleteGroups
        })
        .await;
    assert!(none.is_err());
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_30_s_session_timeout_expires_in_no_wall_time() -> TestResult {
    let wall = std::time::Instant::now();
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let mut c = crate::wire::Conn::open(
        cluster
            .broker_addr(mockafka_cluster::BrokerId(0))
            .ok_or("addr")?,
        "paused",
    )
    .await
    .map_err(|e| e.to_string())?;
    let join = |member: &str| {
        JoinGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_static_str("g")))
            .with_session_timeout_ms(30_000)
            .with_rebalance_timeout_ms(30_000)
            .with_member_id(StrBytes::from_string(member.to_owned()))
            .with_protocol_type(StrBytes::from_static_str("consumer"))
            .with_protocols(vec![join_group_request::JoinGroupRequestProtocol::default(
            )
            .with_name(StrBytes::from_static_str("range"))])
    };
    let first = c.call(7, &join("")).await.map_err(|e| e.to_string())?;
    let joined = c
        .call(7, &join(first.member_id.as_str()))
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(joined.error_code, 0);
    let sync = SyncGroupRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("g")))
        .with_generation_id(joined.generation_id)
        .with_member_id(joined.member_id.clone());
    let synced = c.call(5, &sync).await.map_err(|e| e.to_string())?;
    assert_eq!(synced.error_code, 0);
    let start = tokio::time::Instant::now();
    let g = cluster
        .wait_for_group("g", Duration::from_secs(60), |g| g.members.is_empty())
        .await?;
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(30),
        "expired after {waited:?} of tokio time"
    );
    assert!(waited < Duration::from_secs(31));
    assert_eq!(g.state, mockafka_cluster::GroupState::Empty);
    // 30 s of session timeout took no wall time to speak of.
    assert!(wall.elapsed() < Duration::from_secs(30));
    Ok(())
}

/// A member id handed out by a first JoinGroup (MEMBER_ID_REQUIRED).
async fn first_member_id(cluster: &Cluster) -> Result<String, Box<dyn std::error::Error>> {
    let coord = cluster.group_coordinator("g");
    let mut c = crate::wire::Conn::open(cluster.broker_addr(coord).ok_or("addr")?, "seeded")
        .await
        .map_err(|e| e.to_string())?;
    let r = c
        .call(
            7,
            &JoinGroupRequest::default()
                .with_group_id(GroupId(StrBytes::from_static_str("g")))
                .with_session_timeout_ms(10_000)
                .with_rebalance_timeout_ms(10_000)
                .with_protocol_type(StrBytes::from_static_str("consumer"))
                .with_protocols(vec![join_group_request::JoinGroupRequestProtocol::default(
                )
                .with_name(StrBytes::from_static_str("range"))]),
        )
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(r.error_code, code(ResponseError::MemberIdRequired));
    Ok(r.member_id.to_string())
}

#[tokio::test]
async fn a_seeded_cluster_generates_the_same_ids_on_every_run() -> TestResult {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let cluster = Cluster::builder().seed(42).topic("t", 1).start().await?;
        let topic_id = cluster.topic("t").ok_or("no topic")?.id;
        runs.push((topic_id, first_member_id(&cluster).await?));
    }
    assert_eq!(runs[0], runs[1]);
    let other = Cluster::builder().seed(43).topic("t", 1).start().await?;
    assert_ne!(other.topic("t").ok_or("no topic")?.id, runs[0].0);
    assert_ne!(first_member_id(&other).await?, runs[0].1);
    Ok(())
}

fn produce_two(topic: &str) -> ProduceRequest {
    let mut r = produce_request(topic, 0, batch(&["p0"]), -1);
    r.topic_data[0].partition_data.push(
        produce_request::PartitionProduceData::default()
            .with_index(1)
            .with_records(Some(batch(&["p1"]))),
    );
    r
}

fn codes(r: &ProduceResponse) -> Vec<(i32, i16)> {
    let mut v: Vec<(i32, i16)> = r
        .responses
        .iter()
        .flat_map(|t| {
            t.partition_responses
                .iter()
                .map(|p| (p.index, p.error_code))
        })
        .collect();
    v.sort_unstable();
    v
}

#[tokio::test]
async fn a_partition_matcher_fails_only_that_partition_of_a_request() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 2).start().await?;
    let mut c = Conn::to_broker(&cluster, 0).await?;
    let nl = code(ResponseError::NotLeaderOrFollower);
    cluster.faults().add(
        Fault::new(
            ApiKey::Produce,
            FaultAction::Error(ResponseError::NotLeaderOrFollower),
        )
        .partition("t", 0),
    );
    let r = c.send(9, &produce_two("t")).await?;
    assert_eq!(codes(&r), vec![(0, nl), (1, 0)]);
    assert_eq!(
        cluster.partition("t", 0)?.high_watermark,
        0,
        "faulted partition not applied"
    );
    assert_eq!(
        cluster.partition("t", 1)?.high_watermark,
        1,
        "the other one served"
    );
    assert_eq!(cluster.requests()[0].error_code(), Some(nl));

    cluster.faults().add(
        Fault::new(
            ApiKey::Produce,
            FaultAction::ApplyThenError(ResponseError::RequestTimedOut),
        )
        .partition("t", 1),
    );
    let r = c.send(9, &produce_two("t")).await?;
    assert_eq!(
        codes(&r),
        vec![(0, 0), (1, code(ResponseError::RequestTimedOut))]
    );
    assert_eq!(cluster.partition("t", 0)?.high_watermark, 1);
    assert_eq!(
        cluster.partition("t", 1)?.high_watermark,
        2,
        "applied, then failed"
    );

    cluster.faults().add(
        Fault::new(
            ApiKey::ListOffsets,
            FaultAction::Error(ResponseError::LeaderNotAvailable),
        )
        .partition("t", 1),
    );
    let lo = ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![list_offsets_request::ListOffsetsTopic::default()
            .with_name(TopicName(StrBytes::from_static_str("t")))
            .with_partitions(
                (0..2)
                    .map(|p| {
                        list_offsets_request::ListOffsetsPartition::default()
                            .with_partition_index(p)
                            .with_timestamp(-1)
                    })
                    .collect(),
            )]);
    let r = c.send(5, &lo).await?;
    let mut got: Vec<(i32, i16, i64)> = r.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.error_code, p.offset))
        .collect();
    got.sort_unstable();
    assert_eq!(
        got,
        vec![(0, 0, 1), (1, code(ResponseError::LeaderNotAvailable), -1)]
    );
    Ok(())
}
