//! Metadata: brokers, leaders, auto-creation, topic ids.

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use mockafka_cluster::{BrokerId, Cluster};

use crate::util::{Conn, TestResult};

fn topic(name: &str) -> MetadataRequestTopic {
    MetadataRequestTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(name.to_owned()))))
}

#[tokio::test]
async fn brokers_controller_and_leaders_spread_round_robin() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("first", 3)
        .start()
        .await?;
    let mut conn = Conn::to_broker(&cluster, 1).await?;
    let resp = conn
        .send(
            12,
            &MetadataRequest::default().with_topics(Some(vec![topic("first")])),
        )
        .await?;
    let ports: Vec<i32> = resp.brokers.iter().map(|b| b.port).collect();
    let expected: Vec<i32> = cluster
        .brokers()
        .iter()
        .map(|b| i32::from(b.port))
        .collect();
    assert_eq!(ports, expected);
    assert_eq!(resp.controller_id, BrokerId(0));
    assert_eq!(resp.cluster_id.as_deref(), Some("mockafka-cluster"));
    let t = &resp.topics[0];
    assert_eq!(t.error_code, 0);
    assert_eq!(
        t.topic_id,
        cluster.topic("first").map(|t| t.id).unwrap_or_default()
    );
    let leaders: Vec<i32> = t.partitions.iter().map(|p| p.leader_id.0).collect();
    assert_eq!(leaders, vec![0, 1, 2]);
    for p in &t.partitions {
        assert_eq!(p.leader_epoch, 0);
        assert_eq!(p.replica_nodes.len(), 3);
        assert_eq!(p.isr_nodes.len(), 3);
    }
    Ok(())
}

#[tokio::test]
async fn unknown_topics_are_created_when_allowed() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(2)
        .default_partitions(4)
        .start()
        .await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let no = MetadataRequest::default()
        .with_topics(Some(vec![topic("nope")]))
        .with_allow_auto_topic_creation(false);
    let resp = conn.send(12, &no).await?;
    assert_eq!(resp.topics[0].error_code, 3);
    assert!(cluster.topic("nope").is_none());

    let yes = MetadataRequest::default()
        .with_topics(Some(vec![topic("foobar"), topic("bad name!")]))
        .with_allow_auto_topic_creation(true);
    let resp = conn.send(12, &yes).await?;
    assert_eq!(resp.topics[0].error_code, 0);
    assert_eq!(resp.topics[0].partitions.len(), 4);
    assert_eq!(resp.topics[1].error_code, 17);
    assert_eq!(cluster.topic("foobar").map(|t| t.partitions.len()), Some(4));
    // v1-3 always auto-create.
    let resp = conn
        .send(
            3,
            &MetadataRequest::default().with_topics(Some(vec![topic("old")])),
        )
        .await?;
    assert_eq!(resp.topics[0].error_code, 0);
    Ok(())
}

#[tokio::test]
async fn auto_creation_can_be_switched_off() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(1)
        .auto_create_topics(false)
        .start()
        .await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let req = MetadataRequest::default()
        .with_topics(Some(vec![topic("x")]))
        .with_allow_auto_topic_creation(true);
    let resp = conn.send(12, &req).await?;
    assert_eq!(resp.topics[0].error_code, 3);
    Ok(())
}

#[tokio::test]
async fn all_topics_null_list_and_topic_ids() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("a", 1)
        .topic("b", 2)
        .start()
        .await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let all = conn
        .send(12, &MetadataRequest::default().with_topics(None))
        .await?;
    let names: Vec<String> = all
        .topics
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| n.to_string()))
        .collect();
    assert_eq!(names, vec!["a", "b"]);
    let none = conn
        .send(12, &MetadataRequest::default().with_topics(Some(vec![])))
        .await?;
    assert!(none.topics.is_empty());
    let v0_all = conn
        .send(0, &MetadataRequest::default().with_topics(Some(vec![])))
        .await?;
    assert_eq!(v0_all.topics.len(), 2);
    let id = cluster.topic("b").map(|t| t.id).unwrap_or_default();
    let by_id = conn
        .send(
            12,
            &MetadataRequest::default().with_topics(Some(vec![MetadataRequestTopic::default()
                .with_name(None)
                .with_topic_id(id)])),
        )
        .await?;
    assert_eq!(by_id.topics[0].name.as_ref().map(|n| n.as_str()), Some("b"));
    let unknown = conn
        .send(
            12,
            &MetadataRequest::default().with_topics(Some(vec![MetadataRequestTopic::default()
                .with_name(None)
                .with_topic_id(mockafka_cluster::Uuid::from_u128(99))])),
        )
        .await?;
    assert_eq!(unknown.topics[0].error_code, 100);
    Ok(())
}
