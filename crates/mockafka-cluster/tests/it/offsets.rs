//! ListOffsets and OffsetForLeaderEpoch.

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use mockafka_cluster::{BrokerId, Cluster, Compression};

use crate::util::*;

fn list(partitions: &[(i32, i64)]) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(TopicName(StrBytes::from_static_str("t")))
            .with_partitions(
                partitions
                    .iter()
                    .map(|&(p, ts)| {
                        ListOffsetsPartition::default()
                            .with_partition_index(p)
                            .with_current_leader_epoch(-1)
                            .with_timestamp(ts)
                    })
                    .collect(),
            )])
}

async fn one(conn: &mut Conn, ts: i64) -> Result<(i16, i64, i64, i32), Box<dyn std::error::Error>> {
    let resp = conn.send(7, &list(&[(0, ts)])).await?;
    let p = &resp.topics[0].partitions[0];
    Ok((p.error_code, p.timestamp, p.offset, p.leader_epoch))
}

#[tokio::test]
async fn earliest_latest_by_timestamp_and_max_timestamp() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    assert_eq!(one(&mut conn, -2).await?, (0, -1, 0, 0));
    assert_eq!(one(&mut conn, -1).await?, (0, -1, 0, 0));
    assert_eq!(one(&mut conn, -3).await?, (0, -1, -1, -1));
    // Timestamps 100,101,102 then 50,51 (gzip) then 300.
    produce(
        &mut conn,
        "t",
        0,
        batch_with(&["a", "b", "c"], 100, Compression::None),
    )
    .await?;
    produce(
        &mut conn,
        "t",
        0,
        batch_with(&["d", "e"], 50, Compression::Gzip),
    )
    .await?;
    produce(&mut conn, "t", 0, batch_with(&["f"], 300, Compression::Lz4)).await?;
    assert_eq!(one(&mut conn, -1).await?, (0, -1, 6, 0));
    assert_eq!(one(&mut conn, 101).await?, (0, 101, 1, 0));
    assert_eq!(one(&mut conn, 0).await?, (0, 100, 0, 0));
    assert_eq!(one(&mut conn, 103).await?, (0, 300, 5, 0));
    assert_eq!(one(&mut conn, 301).await?, (0, -1, -1, -1));
    assert_eq!(one(&mut conn, -3).await?, (0, 300, 5, 0));
    cluster.delete_records("t", 0, 2)?;
    assert_eq!(one(&mut conn, -2).await?, (0, -1, 2, 0));
    assert_eq!(one(&mut conn, 0).await?, (0, 102, 2, 0));
    Ok(())
}

#[tokio::test]
async fn list_offsets_errors() -> TestResult {
    let cluster = Cluster::builder().brokers(2).topic("t", 1).start().await?;
    let mut at_leader = Conn::to_broker(&cluster, leader(&cluster, "t", 0)).await?;
    let mut at_follower = Conn::to_broker(&cluster, follower(&cluster, "t", 0)).await?;
    assert_eq!(one(&mut at_follower, -1).await?.0, 6);
    let resp = at_leader
        .send(7, &list(&[(0, -1), (0, -2), (9, -1)]))
        .await?;
    let codes: Vec<i16> = resp.topics[0]
        .partitions
        .iter()
        .map(|p| p.error_code)
        .collect();
    assert_eq!(codes, vec![42, 42, 3]);
    let mut fenced = list(&[(0, -1)]);
    fenced.topics[0].partitions[0].current_leader_epoch = 4;
    let resp = at_leader.send(7, &fenced).await?;
    assert_eq!(resp.topics[0].partitions[0].error_code, 75);
    // The debugging replica id may ask any broker.
    let resp = at_follower
        .send(7, &list(&[(0, -1)]).with_replica_id(BrokerId(-2)))
        .await?;
    assert_eq!(resp.topics[0].partitions[0].error_code, 0);
    Ok(())
}

fn epoch_request(current: i32, epoch: i32) -> OffsetForLeaderEpochRequest {
    OffsetForLeaderEpochRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![OffsetForLeaderTopic::default()
            .with_topic(TopicName(StrBytes::from_static_str("t")))
            .with_partitions(vec![OffsetForLeaderPartition::default()
                .with_partition(0)
                .with_current_leader_epoch(current)
                .with_leader_epoch(epoch)])])
}

#[tokio::test]
async fn offset_for_leader_epoch_follows_leader_changes() -> TestResult {
    let cluster = Cluster::builder().brokers(2).topic("t", 1).start().await?;
    let first = leader(&cluster, "t", 0);
    let second = follower(&cluster, "t", 0);
    let mut conn = Conn::to_broker(&cluster, first).await?;
    produce(&mut conn, "t", 0, batch(&["a", "b"])).await?;
    cluster.move_leader("t", 0, BrokerId(second))?;
    let mut conn2 = Conn::to_broker(&cluster, second).await?;
    produce(&mut conn2, "t", 0, batch(&["c"])).await?;
    let ask = |c: i32, e: i32| epoch_request(c, e);
    let resp = conn2.send(4, &ask(-1, 0)).await?;
    let p = &resp.topics[0].partitions[0];
    assert_eq!((p.error_code, p.leader_epoch, p.end_offset), (0, 0, 2));
    let resp = conn2.send(4, &ask(1, 1)).await?;
    let p = &resp.topics[0].partitions[0];
    assert_eq!((p.error_code, p.leader_epoch, p.end_offset), (0, 1, 3));
    let resp = conn2.send(4, &ask(0, 0)).await?;
    assert_eq!(resp.topics[0].partitions[0].error_code, 74);
    let resp = conn.send(4, &ask(-1, 0)).await?;
    assert_eq!(resp.topics[0].partitions[0].error_code, 6);
    let mut unknown = ask(-1, 0);
    unknown.topics[0].topic = TopicName(StrBytes::from_static_str("nope"));
    let resp = conn2.send(4, &unknown).await?;
    assert_eq!(resp.topics[0].partitions[0].error_code, 3);
    Ok(())
}
