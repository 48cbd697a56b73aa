//! Fetch: reading batches, limits, errors, long polling, sessions.

use std::time::Duration;

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use mockafka_cluster::{BrokerId, Cluster};

use crate::util::*;

async fn seeded(batches: usize) -> Result<(Cluster, Conn), Box<dyn std::error::Error>> {
    let cluster = Cluster::builder().brokers(1).topic("t", 2).start().await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    for i in 0..batches {
        let v = format!("{i}");
        let (code, _) = produce(&mut conn, "t", 0, batch(&[v.as_str(), "x", "y"])).await?;
        assert_eq!(code, 0);
    }
    Ok((cluster, conn))
}

#[tokio::test]
async fn a_fetch_inside_a_batch_returns_that_whole_batch() -> TestResult {
    let (_cluster, mut conn) = seeded(2).await?;
    let resp = conn.send(12, &fetch_request("t", 0, 4, 0)).await?;
    let p = &resp.responses[0].partitions[0];
    assert_eq!(
        (
            p.error_code,
            p.high_watermark,
            p.last_stable_offset,
            p.log_start_offset
        ),
        (0, 6, 6, 0)
    );
    let batches = decode_records(p.records.as_ref().ok_or("records")?);
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].base_offset, 3);
    assert_eq!(batches[0].records.len(), 3);
    // At the high watermark: nothing, no error.
    let resp = conn.send(12, &fetch_request("t", 0, 6, 0)).await?;
    let p = &resp.responses[0].partitions[0];
    assert_eq!(p.error_code, 0);
    assert!(p.records.as_ref().is_some_and(|r| r.is_empty()));
    Ok(())
}

#[tokio::test]
async fn offsets_outside_the_log_are_out_of_range() -> TestResult {
    let (cluster, mut conn) = seeded(2).await?;
    let resp = conn.send(12, &fetch_request("t", 0, 7, 0)).await?;
    assert_eq!(resp.responses[0].partitions[0].error_code, 1);
    assert_eq!(resp.responses[0].partitions[0].high_watermark, 6);
    cluster.delete_records("t", 0, 3)?;
    let resp = conn.send(12, &fetch_request("t", 0, 2, 0)).await?;
    assert_eq!(resp.responses[0].partitions[0].error_code, 1);
    assert_eq!(resp.responses[0].partitions[0].log_start_offset, 3);
    Ok(())
}

#[tokio::test]
async fn max_bytes_limits_whole_batches_but_the_first_always_comes() -> TestResult {
    let (_cluster, mut conn) = seeded(4).await?;
    let one = conn.send(12, &fetch_request("t", 0, 0, 0)).await?;
    let all = one.responses[0].partitions[0]
        .records
        .clone()
        .ok_or("records")?;
    let batch_len = all.len() / 4;
    // max_bytes below one batch: still exactly one batch.
    let req = fetch_request("t", 0, 0, 0).with_max_bytes(10);
    let resp = conn.send(12, &req).await?;
    assert_eq!(
        decode_records(
            resp.responses[0].partitions[0]
                .records
                .as_ref()
                .ok_or("r")?
        )
        .len(),
        1
    );
    // Room for two and a half batches: two.
    let req = fetch_request("t", 0, 0, 0).with_max_bytes(i32::try_from(batch_len * 5 / 2)?);
    let resp = conn.send(12, &req).await?;
    assert_eq!(
        decode_records(
            resp.responses[0].partitions[0]
                .records
                .as_ref()
                .ok_or("r")?
        )
        .len(),
        2
    );
    // partition_max_bytes limits too.
    let mut req = fetch_request("t", 0, 0, 0);
    req.topics[0].partitions[0].partition_max_bytes = i32::try_from(batch_len * 3)?;
    let resp = conn.send(12, &req).await?;
    assert_eq!(
        decode_records(
            resp.responses[0].partitions[0]
                .records
                .as_ref()
                .ok_or("r")?
        )
        .len(),
        3
    );
    Ok(())
}

#[tokio::test]
async fn a_later_partition_gets_nothing_once_max_bytes_is_used_up() -> TestResult {
    let (_cluster, mut conn) = seeded(2).await?;
    produce(&mut conn, "t", 1, batch(&["p1"])).await?;
    let mut req = fetch_request("t", 0, 0, 0).with_max_bytes(10);
    let p1 = FetchPartition::default()
        .with_partition(1)
        .with_current_leader_epoch(-1)
        .with_fetch_offset(0)
        .with_last_fetched_epoch(-1)
        .with_partition_max_bytes(1 << 20);
    req.topics[0].partitions.push(p1);
    let resp = conn.send(12, &req).await?;
    let parts = &resp.responses[0].partitions;
    assert_eq!(parts.len(), 2);
    assert_eq!(
        decode_records(parts[0].records.as_ref().ok_or("r")?).len(),
        1
    );
    assert!(parts[1].records.as_ref().is_some_and(|r| r.is_empty()));
    assert_eq!(parts[1].high_watermark, 1);
    Ok(())
}

#[tokio::test]
async fn unknown_topics_wrong_brokers_and_leader_epochs() -> TestResult {
    let cluster = Cluster::builder().brokers(2).topic("t", 1).start().await?;
    let l = leader(&cluster, "t", 0);
    let mut at_leader = Conn::to_broker(&cluster, l).await?;
    let mut at_follower = Conn::to_broker(&cluster, follower(&cluster, "t", 0)).await?;
    let resp = at_leader.send(12, &fetch_request("nope", 0, 0, 0)).await?;
    assert_eq!(resp.responses[0].partitions[0].error_code, 3);
    let resp = at_leader.send(12, &fetch_request("t", 5, 0, 0)).await?;
    assert_eq!(resp.responses[0].partitions[0].error_code, 3);
    let resp = at_follower
        .send(12, &fetch_request("t", 0, 0, 1_000))
        .await?;
    let p = &resp.responses[0].partitions[0];
    assert_eq!(p.error_code, 6);
    // Only v16+ names the current leader (KIP-951).
    assert_eq!(p.current_leader.leader_id.0, -1);
    let mut req = fetch_request("t", 0, 0, 0);
    req.topics[0].partitions[0].current_leader_epoch = 3;
    let resp = at_leader.send(12, &req).await?;
    assert_eq!(resp.responses[0].partitions[0].error_code, 75);
    cluster.move_leader("t", 0, BrokerId(l))?;
    req.topics[0].partitions[0].current_leader_epoch = 0;
    let resp = at_leader.send(12, &req).await?;
    assert_eq!(resp.responses[0].partitions[0].error_code, 74);
    req.topics[0].partitions[0].current_leader_epoch = 1;
    let resp = at_leader.send(12, &req).await?;
    assert_eq!(resp.responses[0].partitions[0].error_code, 0);
    Ok(())
}

#[tokio::test]
async fn a_long_poll_is_woken_by_an_append() -> TestResult {
    let (cluster, mut conn) = seeded(1).await?;
    let started = tokio::time::Instant::now();
    let waiting = tokio::spawn(async move {
        let resp = conn.send(12, &fetch_request("t", 0, 3, 30_000)).await;
        (resp, conn)
    });
    wait_until(|| cluster.parked_fetches() == 1).await?;
    let mut producer = Conn::to_broker(&cluster, 0).await?;
    produce(&mut producer, "t", 0, batch(&["late"])).await?;
    let (resp, _conn) = tokio::time::timeout(Duration::from_secs(10), waiting).await??;
    let resp = resp?;
    assert!(started.elapsed() < Duration::from_secs(10));
    let batches = decode_records(
        resp.responses[0].partitions[0]
            .records
            .as_ref()
            .ok_or("r")?,
    );
    assert_eq!(batches[0].base_offset, 3);
    assert_eq!(batches[0].records[0].value.as_deref(), Some(&b"late"[..]));
    Ok(())
}

#[tokio::test]
async fn a_long_poll_without_data_answers_empty_after_max_wait() -> TestResult {
    let (_cluster, mut conn) = seeded(1).await?;
    let started = tokio::time::Instant::now();
    let resp = conn.send(12, &fetch_request("t", 0, 3, 150)).await?;
    assert!(started.elapsed() >= Duration::from_millis(150));
    let p = &resp.responses[0].partitions[0];
    assert_eq!(p.error_code, 0);
    assert!(p.records.as_ref().is_some_and(|r| r.is_empty()));
    Ok(())
}

#[tokio::test]
async fn a_long_poll_is_woken_by_a_leader_move() -> TestResult {
    let cluster = Cluster::builder().brokers(2).topic("t", 1).start().await?;
    let l = leader(&cluster, "t", 0);
    let mut conn = Conn::to_broker(&cluster, l).await?;
    let waiting =
        tokio::spawn(async move { conn.send(12, &fetch_request("t", 0, 0, 30_000)).await });
    wait_until(|| cluster.parked_fetches() == 1).await?;
    cluster.move_leader("t", 0, BrokerId(follower(&cluster, "t", 0)))?;
    let resp = tokio::time::timeout(Duration::from_secs(10), waiting).await???;
    assert_eq!(resp.responses[0].partitions[0].error_code, 6);
    assert_eq!(cluster.parked_fetches(), 0);
    Ok(())
}

#[tokio::test]
async fn incremental_fetch_sessions_answer_only_what_changed() -> TestResult {
    let (_cluster, mut conn) = seeded(1).await?;
    let mut full = fetch_request("t", 0, 0, 0)
        .with_session_id(0)
        .with_session_epoch(0);
    full.topics[0].partitions.push(
        FetchPartition::default()
            .with_partition(1)
            .with_current_leader_epoch(-1)
            .with_fetch_offset(0)
            .with_last_fetched_epoch(-1)
            .with_partition_max_bytes(1 << 20),
    );
    let resp = conn.send(12, &full).await?;
    assert_eq!(resp.error_code, 0);
    let id = resp.session_id;
    assert_ne!(id, 0);
    assert_eq!(resp.responses[0].partitions.len(), 2);
    // Epoch 1, position of partition 0 moved to 3: nothing changed, nothing answered.
    let mut incremental = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(0)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_session_id(id)
        .with_session_epoch(1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_static_str("t")))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(0)
                .with_current_leader_epoch(-1)
                .with_fetch_offset(3)
                .with_last_fetched_epoch(-1)
                .with_partition_max_bytes(1 << 20)])]);
    let resp = conn.send(12, &incremental).await?;
    assert_eq!((resp.error_code, resp.session_id), (0, id));
    assert!(resp.responses.is_empty());
    // New records on partition 1 only: only partition 1 is answered (from its cached
    // position 0), with no partition listed in the request.
    produce(&mut conn, "t", 1, batch(&["new"])).await?;
    incremental.session_epoch = 2;
    incremental.topics.clear();
    let resp = conn.send(12, &incremental).await?;
    assert_eq!(resp.responses.len(), 1);
    let parts = &resp.responses[0].partitions;
    assert_eq!(parts.len(), 1);
    assert_eq!((parts[0].partition_index, parts[0].high_watermark), (1, 1));
    assert_eq!(
        decode_records(parts[0].records.as_ref().ok_or("r")?)[0].records[0]
            .value
            .as_deref(),
        Some(&b"new"[..])
    );
    // A repeated epoch, an unknown session.
    let resp = conn.send(12, &incremental).await?;
    assert_eq!(resp.error_code, 71);
    let resp = conn
        .send(
            12,
            &incremental
                .clone()
                .with_session_id(id ^ 0x55)
                .with_session_epoch(3),
        )
        .await?;
    assert_eq!(resp.error_code, 70);
    // Epoch -1 closes the session and answers sessionless.
    let resp = conn
        .send(
            12,
            &fetch_request("t", 0, 0, 0)
                .with_session_id(id)
                .with_session_epoch(-1),
        )
        .await?;
    assert_eq!((resp.error_code, resp.session_id), (0, 0));
    let resp = conn
        .send(12, &incremental.clone().with_session_epoch(3))
        .await?;
    assert_eq!(resp.error_code, 70);
    // v4 (no sessions) works too.
    let resp = conn.send(4, &fetch_request("t", 0, 0, 0)).await?;
    assert_eq!(resp.responses[0].partitions[0].high_watermark, 3);
    Ok(())
}
