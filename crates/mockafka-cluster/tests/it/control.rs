//! The Rust control and inspection API: topics, leader moves, broker stop and restart,
//! shutdown.

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use mockafka_cluster::{BrokerId, Cluster, ClusterError, TopicSpec};
use tokio::net::TcpStream;

use crate::util::*;

#[tokio::test]
async fn topics_are_created_deleted_and_grown() -> TestResult {
    let cluster = Cluster::builder().brokers(3).start().await?;
    cluster.create_topic(TopicSpec::new("a", 3).config("retention.ms", "10"))?;
    let t = cluster.topic("a").ok_or("topic")?;
    assert_eq!(t.partitions.len(), 3);
    assert_eq!(
        t.configs.get("retention.ms").map(String::as_str),
        Some("10")
    );
    let err = cluster
        .create_topic(TopicSpec::new("a", 1))
        .err()
        .and_then(|e| e.code());
    assert_eq!(err, Some(kafka_protocol::ResponseError::TopicAlreadyExists));
    cluster.add_partitions("a", 5)?;
    assert_eq!(cluster.topic("a").map(|t| t.partitions.len()), Some(5));
    cluster.delete_topic("a")?;
    assert!(cluster.topic("a").is_none());
    assert!(matches!(
        cluster.delete_topic("a"),
        Err(ClusterError::Kafka { .. })
    ));
    Ok(())
}

#[tokio::test]
async fn stopping_a_broker_fails_its_partitions_over_with_new_epochs() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("first", 3)
        .start()
        .await?;
    let mut conn = Conn::to_broker(&cluster, 1).await?;
    assert_eq!(
        produce(&mut conn, "first", 1, batch(&["a", "b"])).await?,
        (0, 0)
    );
    let addr = cluster.broker_addr(BrokerId(1)).ok_or("addr")?;
    cluster.stop_broker(BrokerId(1)).await?;
    // Its connections and listener are closed.
    assert!(conn.is_closed().await);
    assert!(TcpStream::connect(addr).await.is_err());
    let p = cluster.partition("first", 1)?;
    assert_eq!(p.leader, Some(BrokerId(2)));
    assert_eq!(p.leader_epoch, 1);
    assert_eq!(p.high_watermark, 2);
    // Others unchanged.
    assert_eq!(cluster.partition("first", 0)?.leader_epoch, 0);
    // Metadata from a live broker shows it.
    let mut live = Conn::to_broker(&cluster, 0).await?;
    let md = live
        .send(
            12,
            &MetadataRequest::default().with_topics(Some(vec![MetadataRequestTopic::default()
                .with_name(Some(TopicName(StrBytes::from_static_str("first"))))])),
        )
        .await?;
    let ids: Vec<i32> = md.brokers.iter().map(|b| b.node_id.0).collect();
    assert_eq!(ids, vec![0, 2]);
    let p1 = &md.topics[0].partitions[1];
    assert_eq!((p1.leader_id.0, p1.leader_epoch), (2, 1));
    assert_eq!(p1.offline_replicas, vec![BrokerId(1)]);
    // The new leader serves the data; appends continue after the old offsets.
    let mut new_leader = Conn::to_broker(&cluster, 2).await?;
    let fetched = new_leader
        .send(12, &fetch_request("first", 1, 0, 0))
        .await?;
    assert_eq!(
        decode_records(
            fetched.responses[0].partitions[0]
                .records
                .as_ref()
                .ok_or("r")?
        )[0]
        .records
        .len(),
        2
    );
    assert_eq!(
        produce(&mut new_leader, "first", 1, batch(&["c"])).await?,
        (0, 2)
    );
    assert!(matches!(
        cluster.stop_broker(BrokerId(1)).await,
        Err(ClusterError::BrokerState { .. })
    ));
    assert!(matches!(
        cluster.move_leader("first", 0, BrokerId(1)),
        Err(ClusterError::BrokerState { .. })
    ));
    // Restart: same port, serves again; leaders stay where they failed over.
    cluster.restart_broker(BrokerId(1)).await?;
    let mut back = Conn::connect(addr).await?;
    let md = back
        .send(12, &MetadataRequest::default().with_topics(None))
        .await?;
    assert_eq!(md.brokers.len(), 3);
    assert_eq!(leader(&cluster, "first", 1), 2);
    cluster.move_leader("first", 1, BrokerId(1))?;
    assert_eq!(cluster.partition("first", 1)?.leader_epoch, 2);
    assert_eq!(produce(&mut back, "first", 1, batch(&["d"])).await?, (0, 3));
    Ok(())
}

#[tokio::test]
async fn with_every_broker_stopped_partitions_have_no_leader_until_one_returns() -> TestResult {
    let cluster = Cluster::builder().brokers(2).topic("t", 2).start().await?;
    cluster.stop_broker(BrokerId(0)).await?;
    cluster.stop_broker(BrokerId(1)).await?;
    assert_eq!(cluster.partition("t", 0)?.leader, None);
    cluster.restart_broker(BrokerId(1)).await?;
    assert_eq!(cluster.partition("t", 0)?.leader, Some(BrokerId(1)));
    assert_eq!(cluster.partition("t", 1)?.leader, Some(BrokerId(1)));
    Ok(())
}

#[tokio::test]
async fn shutdown_and_drop_close_every_listener() -> TestResult {
    let cluster = Cluster::builder().brokers(2).start().await?;
    let addrs: Vec<_> = (0..2)
        .filter_map(|i| cluster.broker_addr(BrokerId(i)))
        .collect();
    let mut conn = Conn::connect(addrs[0]).await?;
    let clone = cluster.clone();
    drop(clone);
    // A clone's drop changes nothing.
    assert!(conn.send(2, &ApiVersionsRequest::default()).await.is_ok());
    cluster.shutdown().await;
    for a in &addrs {
        assert!(TcpStream::connect(a).await.is_err());
        // The port is free again.
        drop(std::net::TcpListener::bind(a)?);
    }
    assert!(conn.is_closed().await);

    let dropped = Cluster::builder().brokers(1).start().await?;
    let addr = dropped.broker_addr(BrokerId(0)).ok_or("addr")?;
    drop(dropped);
    wait_until(|| std::net::TcpStream::connect(addr).is_err()).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_on_the_multi_thread_runtime_and_with_a_base_port() -> TestResult {
    // Find two free consecutive ports.
    let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
    let base = probe.local_addr()?.port();
    drop(probe);
    let Ok(cluster) = Cluster::builder().brokers(2).base_port(base).start().await else {
        // Someone took the port meanwhile; nothing to check.
        return Ok(());
    };
    let servers = cluster.bootstrap_servers();
    assert_eq!(servers, format!("127.0.0.1:{base},127.0.0.1:{}", base + 1));
    let mut conn = Conn::to_broker(&cluster, 1).await?;
    assert_eq!(
        conn.send(2, &ApiVersionsRequest::default())
            .await?
            .error_code,
        0
    );
    cluster.shutdown().await;
    Ok(())
}
