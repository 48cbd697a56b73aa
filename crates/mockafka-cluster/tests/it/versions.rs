//! Every API answers at every version it is served at: each response encodes in that
//! version (fields a version lacks are left at their defaults).

use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic,
};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use mockafka_cluster::{BrokerId, Cluster};
use mockafka_protocol::versions::SERVED;

use crate::util::*;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_owned())
}

fn t(v: &str) -> TopicName {
    TopicName(s(v))
}

async fn ask(conn: &mut Conn, key: ApiKey, v: i16, n: i16) -> std::io::Result<()> {
    let fresh = format!("fresh-{}-{v}", key as i16);
    match key {
        ApiKey::Produce => {
            // Every other version asks the wrong broker, to encode the error shape too.
            let (topic, p) = if n % 2 == 0 { ("t", 0) } else { ("t", 1) };
            let codec = if v >= 7 {
                mockafka_cluster::Compression::Zstd
            } else {
                mockafka_cluster::Compression::Gzip
            };
            conn.send(
                v,
                &produce_request(topic, p, batch_with(&["a"], 1, codec), -1),
            )
            .await
            .map(drop)
        }
        ApiKey::Fetch => {
            let mut req = fetch_request("t", 0, 0, 0);
            let other = req.topics[0].partitions[0].clone().with_partition(1);
            req.topics[0].partitions.push(other);
            req.session_epoch = if v >= 7 { 0 } else { -1 };
            conn.send(v, &req).await.map(drop)
        }
        ApiKey::ListOffsets => conn
            .send(
                v,
                &ListOffsetsRequest::default()
                    .with_replica_id(BrokerId(-1))
                    .with_topics(vec![ListOffsetsTopic::default()
                        .with_name(t("t"))
                        .with_partitions(vec![
                            ListOffsetsPartition::default()
                                .with_partition_index(0)
                                .with_timestamp(-1),
                            ListOffsetsPartition::default()
                                .with_partition_index(1)
                                .with_timestamp(-2),
                        ])]),
            )
            .await
            .map(drop),
        ApiKey::Metadata => {
            let topics = if v == 0 {
                Some(vec![])
            } else {
                Some(vec![
                    MetadataRequestTopic::default().with_name(Some(t("t"))),
                    MetadataRequestTopic::default().with_name(Some(t(&fresh))),
                ])
            };
            conn.send(
                v,
                &MetadataRequest::default()
                    .with_topics(topics)
                    .with_allow_auto_topic_creation(true),
            )
            .await
            .map(drop)
        }
        ApiKey::OffsetCommit => conn
            .send(
                v,
                &OffsetCommitRequest::default()
                    .with_group_id(GroupId(s("g")))
                    .with_topics(vec![OffsetCommitRequestTopic::default()
                        .with_name(t("t"))
                        .with_partitions(vec![OffsetCommitRequestPartition::default()
                            .with_partition_index(0)
                            .with_committed_offset(1)])]),
            )
            .await
            .map(drop),
        ApiKey::OffsetFetch => {
            let req = if v >= 8 {
                OffsetFetchRequest::default().with_groups(vec![
                    OffsetFetchRequestGroup::default().with_group_id(GroupId(s("g")))
                ])
            } else {
                OffsetFetchRequest::default()
                    .with_group_id(GroupId(s("g")))
                    .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                        .with_name(t("t"))
                        .with_partition_indexes(vec![0])]))
            };
            conn.send(v, &req).await.map(drop)
        }
        ApiKey::FindCoordinator => {
            let req = if v >= 4 {
                FindCoordinatorRequest::default().with_coordinator_keys(vec![s("g")])
            } else {
                FindCoordinatorRequest::default().with_key(s("g"))
            };
            conn.send(v, &req).await.map(drop)
        }
        ApiKey::JoinGroup => conn
            .send(
                v,
                &JoinGroupRequest::default()
                    .with_group_id(GroupId(s("g")))
                    .with_protocol_type(s("consumer"))
                    .with_session_timeout_ms(10_000),
            )
            .await
            .map(drop),
        ApiKey::Heartbeat => conn
            .send(
                v,
                &HeartbeatRequest::default().with_group_id(GroupId(s("g"))),
            )
            .await
            .map(drop),
        ApiKey::LeaveGroup => conn
            .send(
                v,
                &LeaveGroupRequest::default().with_group_id(GroupId(s("g"))),
            )
            .await
            .map(drop),
        ApiKey::SyncGroup => conn
            .send(
                v,
                &SyncGroupRequest::default().with_group_id(GroupId(s("g"))),
            )
            .await
            .map(drop),
        ApiKey::DescribeGroups => conn
            .send(
                v,
                &DescribeGroupsRequest::default().with_groups(vec![GroupId(s("g"))]),
            )
            .await
            .map(drop),
        ApiKey::ListGroups => conn.send(v, &ListGroupsRequest::default()).await.map(drop),
        ApiKey::ApiVersions => conn
            .send(
                v,
                &ApiVersionsRequest::default()
                    .with_client_software_name(s("it"))
                    .with_client_software_version(s("1")),
            )
            .await
            .map(drop),
        ApiKey::CreateTopics => conn
            .send(
                v,
                &CreateTopicsRequest::default().with_topics(vec![
                    CreatableTopic::default()
                        .with_name(t(&fresh))
                        .with_num_partitions(2)
                        .with_replication_factor(1),
                    CreatableTopic::default()
                        .with_name(t("t"))
                        .with_num_partitions(2)
                        .with_replication_factor(1),
                ]),
            )
            .await
            .map(drop),
        ApiKey::DeleteTopics => {
            let gone = format!("gone-{v}");
            let req = if v >= 6 {
                DeleteTopicsRequest::default().with_topics(vec![
                    DeleteTopicState::default().with_name(Some(t(&gone))),
                    DeleteTopicState::default().with_name(Some(t("nope"))),
                ])
            } else {
                DeleteTopicsRequest::default().with_topic_names(vec![t(&gone), t("nope")])
            };
            conn.send(v, &req).await.map(drop)
        }
        ApiKey::DeleteRecords => conn
            .send(
                v,
                &DeleteRecordsRequest::default().with_topics(vec![DeleteRecordsTopic::default()
                    .with_name(t("t"))
                    .with_partitions(vec![
                        DeleteRecordsPartition::default()
                            .with_partition_index(0)
                            .with_offset(0),
                        DeleteRecordsPartition::default()
                            .with_partition_index(1)
                            .with_offset(0),
                    ])]),
            )
            .await
            .map(drop),
        ApiKey::InitProducerId => conn
            .send(
                v,
                &InitProducerIdRequest::default()
                    .with_transactional_id(None)
                    .with_transaction_timeout_ms(1_000),
            )
            .await
            .map(drop),
        ApiKey::OffsetForLeaderEpoch => conn
            .send(
                v,
                &OffsetForLeaderEpochRequest::default()
                    .with_replica_id(BrokerId(-1))
                    .with_topics(vec![OffsetForLeaderTopic::default()
                        .with_topic(t("t"))
                        .with_partitions(vec![OffsetForLeaderPartition::default()
                            .with_partition(0)
                            .with_leader_epoch(0)
                            .with_current_leader_epoch(-1)])]),
            )
            .await
            .map(drop),
        ApiKey::DescribeConfigs => conn
            .send(
                v,
                &DescribeConfigsRequest::default()
                    .with_include_synonyms(true)
                    .with_include_documentation(v >= 3)
                    .with_resources(vec![
                        DescribeConfigsResource::default()
                            .with_resource_type(2)
                            .with_resource_name(s("t"))
                            .with_configuration_keys(None),
                        DescribeConfigsResource::default()
                            .with_resource_type(4)
                            .with_resource_name(s("0"))
                            .with_configuration_keys(None),
                    ]),
            )
            .await
            .map(drop),
        ApiKey::CreatePartitions => conn
            .send(
                v,
                &CreatePartitionsRequest::default().with_topics(vec![
                    CreatePartitionsTopic::default()
                        .with_name(t(&fresh))
                        .with_count(3)
                        .with_assignments(None),
                ]),
            )
            .await
            .map(drop),
        ApiKey::DeleteGroups => conn
            .send(
                v,
                &DeleteGroupsRequest::default().with_groups_names(vec![GroupId(s("g"))]),
            )
            .await
            .map(drop),
        ApiKey::OffsetDelete => conn
            .send(
                v,
                &OffsetDeleteRequest::default().with_group_id(GroupId(s("g"))),
            )
            .await
            .map(drop),
        ApiKey::DescribeCluster => conn
            .send(
                v,
                &DescribeClusterRequest::default()
                    .with_endpoint_type(1)
                    .with_include_cluster_authorized_operations(true),
            )
            .await
            .map(drop),
        other => panic!("no request built for {other:?}: add one here"),
    }
}

#[tokio::test]
async fn every_api_answers_at_every_served_version() -> TestResult {
    let cluster = Cluster::builder().brokers(3).topic("t", 2).start().await?;
    for v in 0..8 {
        cluster.create_topic(mockafka_cluster::TopicSpec::new(format!("gone-{v}"), 1))?;
    }
    let mut seed = Conn::to_broker(&cluster, 0).await?;
    produce(&mut seed, "t", 0, batch(&["x", "y"])).await?;
    // A stopped broker, so that offline replicas and failed-over epochs are answered too.
    cluster.stop_broker(BrokerId(2)).await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let mut n = 0;
    for range in SERVED {
        for v in range.min..=range.max {
            n += 1;
            if let Err(e) = ask(&mut conn, range.key, v, n).await {
                return Err(format!("{:?} v{v}: {e}", range.key).into());
            }
        }
    }
    Ok(())
}
