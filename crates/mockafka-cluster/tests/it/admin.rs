//! CreateTopics, DeleteTopics, CreatePartitions, DeleteRecords, DescribeConfigs,
//! DescribeCluster.

use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use kafka_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use mockafka_cluster::{BrokerId, Cluster};

use crate::util::*;

fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_owned()))
}

fn creatable(n: &str, partitions: i32, rf: i16) -> CreatableTopic {
    CreatableTopic::default()
        .with_name(name(n))
        .with_num_partitions(partitions)
        .with_replication_factor(rf)
}

#[tokio::test]
async fn create_topics_validates_like_kafka() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("exists", 1)
        .default_partitions(2)
        .start()
        .await?;
    let mut conn = Conn::to_broker(&cluster, 2).await?;
    let lat = creatable("lat", 3, 3).with_configs(vec![CreatableTopicConfig::default()
        .with_name(StrBytes::from_static_str("message.timestamp.type"))
        .with_value(Some(StrBytes::from_static_str("LogAppendTime")))]);
    let assigned = CreatableTopic::default()
        .with_name(name("assigned"))
        .with_num_partitions(-1)
        .with_replication_factor(-1)
        .with_assignments(vec![
            CreatableReplicaAssignment::default()
                .with_partition_index(0)
                .with_broker_ids(vec![BrokerId(2)]),
            CreatableReplicaAssignment::default()
                .with_partition_index(1)
                .with_broker_ids(vec![BrokerId(1), BrokerId(0)]),
        ]);
    let bad_config = creatable("badcfg", 1, 1).with_configs(vec![CreatableTopicConfig::default()
        .with_name(StrBytes::from_static_str("no.such.config"))
        .with_value(Some(StrBytes::from_static_str("1")))]);
    let req = CreateTopicsRequest::default()
        .with_timeout_ms(1_000)
        .with_topics(vec![
            lat,
            creatable("defaults", -1, -1),
            creatable("exists", 1, 1),
            creatable("zero", 0, 1),
            creatable("rf", 1, 4),
            creatable("bad/name", 1, 1),
            bad_config,
            creatable("dup", 1, 1),
            creatable("dup", 1, 1),
            assigned,
            CreatableTopic::default()
                .with_name(name("badassign"))
                .with_num_partitions(-1)
                .with_replication_factor(-1)
                .with_assignments(vec![CreatableReplicaAssignment::default()
                    .with_partition_index(0)
                    .with_broker_ids(vec![BrokerId(9)])]),
        ]);
    let resp = conn.send(7, &req).await?;
    let codes: Vec<(String, i16)> = resp
        .topics
        .iter()
        .map(|t| (t.name.to_string(), t.error_code))
        .collect();
    let expected: Vec<(String, i16)> = [
        ("lat", 0),
        ("defaults", 0),
        ("exists", 36),
        ("zero", 37),
        ("rf", 38),
        ("bad/name", 17),
        ("badcfg", 40),
        ("dup", 42),
        ("dup", 42),
        ("assigned", 0),
        ("badassign", 39),
    ]
    .iter()
    .map(|(n, c)| ((*n).to_owned(), *c))
    .collect();
    assert_eq!(codes, expected);
    let lat = &resp.topics[0];
    assert_eq!(lat.num_partitions, 3);
    assert_eq!(
        lat.topic_id,
        cluster.topic("lat").map(|t| t.id).unwrap_or_default()
    );
    let configs = lat.configs.as_ref().ok_or("configs")?;
    let ts = configs
        .iter()
        .find(|c| c.name.as_str() == "message.timestamp.type")
        .ok_or("ts")?;
    assert_eq!(
        (ts.value.as_deref(), ts.config_source),
        (Some("LogAppendTime"), 1)
    );
    assert_eq!(
        cluster.topic("defaults").map(|t| t.partitions.len()),
        Some(2)
    );
    let leaders: Vec<i32> = (0..2).map(|p| leader(&cluster, "assigned", p)).collect();
    assert_eq!(leaders, vec![2, 1]);
    // validate_only creates nothing.
    let resp = conn
        .send(
            7,
            &CreateTopicsRequest::default()
                .with_validate_only(true)
                .with_topics(vec![creatable("dry", 2, 1)]),
        )
        .await?;
    assert_eq!(resp.topics[0].error_code, 0);
    assert_eq!(resp.topics[0].num_partitions, 2);
    assert!(cluster.topic("dry").is_none());
    Ok(())
}

#[tokio::test]
async fn delete_topics_by_name_and_id() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("a", 1)
        .topic("b", 1)
        .start()
        .await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let resp = conn
        .send(
            5,
            &DeleteTopicsRequest::default().with_topic_names(vec![name("a"), name("nope")]),
        )
        .await?;
    let codes: Vec<i16> = resp.responses.iter().map(|r| r.error_code).collect();
    assert_eq!(codes, vec![0, 3]);
    assert!(cluster.topic("a").is_none());
    let id = cluster.topic("b").map(|t| t.id).unwrap_or_default();
    let resp = conn
        .send(
            6,
            &DeleteTopicsRequest::default().with_topics(vec![
                DeleteTopicState::default().with_topic_id(id),
                DeleteTopicState::default().with_topic_id(mockafka_cluster::Uuid::from_u128(7)),
            ]),
        )
        .await?;
    let codes: Vec<i16> = resp.responses.iter().map(|r| r.error_code).collect();
    assert_eq!(codes, vec![0, 100]);
    assert_eq!(
        resp.responses[0].name.as_ref().map(|n| n.as_str()),
        Some("b")
    );
    assert!(cluster.topics().is_empty());
    Ok(())
}

#[tokio::test]
async fn create_partitions_grows_topics() -> TestResult {
    let cluster = Cluster::builder().brokers(3).topic("t", 2).start().await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let grow = |n: &str, count: i32| {
        CreatePartitionsTopic::default()
            .with_name(name(n))
            .with_count(count)
            .with_assignments(None)
    };
    let req = CreatePartitionsRequest::default()
        .with_timeout_ms(1_000)
        .with_topics(vec![grow("t", 4), grow("nope", 4)]);
    let resp = conn.send(3, &req).await?;
    let codes: Vec<i16> = resp.results.iter().map(|r| r.error_code).collect();
    assert_eq!(codes, vec![0, 3]);
    assert_eq!(cluster.topic("t").map(|t| t.partitions.len()), Some(4));
    let leaders: Vec<i32> = (0..4).map(|p| leader(&cluster, "t", p)).collect();
    assert_eq!(leaders, vec![0, 1, 2, 0]);
    let resp = conn
        .send(
            3,
            &CreatePartitionsRequest::default().with_topics(vec![grow("t", 3)]),
        )
        .await?;
    assert_eq!(resp.results[0].error_code, 37);
    let assigned = grow("t", 5).with_assignments(Some(vec![
        CreatePartitionsAssignment::default().with_broker_ids(vec![BrokerId(2)])
    ]));
    let resp = conn
        .send(
            3,
            &CreatePartitionsRequest::default().with_topics(vec![assigned]),
        )
        .await?;
    assert_eq!(resp.results[0].error_code, 0);
    assert_eq!(leader(&cluster, "t", 4), 2);
    let wrong = grow("t", 7).with_assignments(Some(vec![
        CreatePartitionsAssignment::default().with_broker_ids(vec![BrokerId(2)])
    ]));
    let resp = conn
        .send(
            3,
            &CreatePartitionsRequest::default().with_topics(vec![wrong]),
        )
        .await?;
    assert_eq!(resp.results[0].error_code, 39);
    let dry = CreatePartitionsRequest::default()
        .with_validate_only(true)
        .with_topics(vec![grow("t", 9)]);
    assert_eq!(conn.send(3, &dry).await?.results[0].error_code, 0);
    assert_eq!(cluster.topic("t").map(|t| t.partitions.len()), Some(5));
    Ok(())
}

#[tokio::test]
async fn delete_records_moves_the_log_start() -> TestResult {
    let cluster = Cluster::builder().brokers(2).topic("t", 1).start().await?;
    let l = leader(&cluster, "t", 0);
    let mut conn = Conn::to_broker(&cluster, l).await?;
    produce(&mut conn, "t", 0, batch(&["a", "b", "c"])).await?;
    produce(&mut conn, "t", 0, batch(&["d", "e"])).await?;
    let req = |offset: i64| {
        DeleteRecordsRequest::default()
            .with_timeout_ms(1_000)
            .with_topics(vec![DeleteRecordsTopic::default()
                .with_name(name("t"))
                .with_partitions(vec![DeleteRecordsPartition::default()
                    .with_partition_index(0)
                    .with_offset(offset)])])
    };
    let resp = conn.send(2, &req(4)).await?;
    let p = &resp.topics[0].partitions[0];
    assert_eq!((p.error_code, p.low_watermark), (0, 4));
    assert_eq!(cluster.batches("t", 0)?.len(), 1);
    assert_eq!(
        cluster
            .records("t", 0)?
            .iter()
            .map(|r| r.offset)
            .collect::<Vec<_>>(),
        vec![4]
    );
    let resp = conn.send(2, &req(2)).await?;
    assert_eq!(resp.topics[0].partitions[0].low_watermark, 4);
    let resp = conn.send(2, &req(9)).await?;
    assert_eq!(resp.topics[0].partitions[0].error_code, 1);
    let resp = conn.send(2, &req(-1)).await?;
    assert_eq!(resp.topics[0].partitions[0].low_watermark, 5);
    let mut other = Conn::to_broker(&cluster, follower(&cluster, "t", 0)).await?;
    assert_eq!(
        other.send(2, &req(5)).await?.topics[0].partitions[0].error_code,
        6
    );
    let p = cluster.partition("t", 0)?;
    assert_eq!((p.log_start_offset, p.high_watermark), (5, 5));
    Ok(())
}

#[tokio::test]
async fn describe_configs_of_topics_and_brokers() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(2)
        .message_max_bytes(5_000)
        .topic_spec(mockafka_cluster::TopicSpec::new("t", 1).config("retention.ms", "1000"))
        .start()
        .await?;
    let mut conn = Conn::to_broker(&cluster, 1).await?;
    let res = |ty: i8, n: &str| {
        DescribeConfigsResource::default()
            .with_resource_type(ty)
            .with_resource_name(StrBytes::from_string(n.to_owned()))
            .with_configuration_keys(None)
    };
    let req = DescribeConfigsRequest::default()
        .with_include_synonyms(true)
        .with_resources(vec![
            res(2, "t"),
            res(2, "nope"),
            res(4, "1"),
            res(4, "0"),
            res(4, ""),
            res(2, "t")
                .with_configuration_keys(Some(vec![StrBytes::from_static_str("retention.ms")])),
        ]);
    let resp = conn.send(4, &req).await?;
    let codes: Vec<i16> = resp.results.iter().map(|r| r.error_code).collect();
    assert_eq!(codes, vec![0, 3, 0, 42, 0, 0]);
    let get = |r: &kafka_protocol::messages::describe_configs_response::DescribeConfigsResult,
               k: &str| {
        r.configs
            .iter()
            .find(|c| c.name.as_str() == k)
            .map(|c| (c.value.as_ref().map(|v| v.to_string()), c.config_source))
    };
    assert_eq!(
        get(&resp.results[0], "retention.ms"),
        Some((Some("1000".to_owned()), 1))
    );
    assert_eq!(
        get(&resp.results[0], "cleanup.policy"),
        Some((Some("delete".to_owned()), 5))
    );
    assert_eq!(
        get(&resp.results[0], "max.message.bytes"),
        Some((Some("5000".to_owned()), 4))
    );
    assert_eq!(
        get(&resp.results[2], "broker.id"),
        Some((Some("1".to_owned()), 4))
    );
    assert_eq!(
        get(&resp.results[2], "message.max.bytes"),
        Some((Some("5000".to_owned()), 4))
    );
    assert_eq!(resp.results[5].configs.len(), 1);
    assert_eq!(resp.results[5].configs[0].synonyms.len(), 1);
    Ok(())
}

#[tokio::test]
async fn describe_cluster_lists_live_brokers() -> TestResult {
    let cluster = Cluster::builder().brokers(3).start().await?;
    cluster.stop_broker(BrokerId(0)).await?;
    let mut conn = Conn::to_broker(&cluster, 2).await?;
    let resp = conn
        .send(
            1,
            &DescribeClusterRequest::default()
                .with_endpoint_type(1)
                .with_include_cluster_authorized_operations(true),
        )
        .await?;
    assert_eq!(resp.error_code, 0);
    assert_eq!(resp.controller_id, BrokerId(1));
    let ids: Vec<i32> = resp.brokers.iter().map(|b| b.broker_id.0).collect();
    assert_eq!(ids, vec![1, 2]);
    assert_ne!(resp.cluster_authorized_operations, i32::MIN);
    let resp = conn
        .send(1, &DescribeClusterRequest::default().with_endpoint_type(2))
        .await?;
    assert_eq!(resp.error_code, 114);
    Ok(())
}
