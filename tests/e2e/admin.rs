//! The admin client against the cluster: topics, partitions, cluster, configs, offsets,
//! records, groups.

use bytes::Bytes;
use mockafka::client::admin::{ConfigResource, NewTopic, OffsetSpec};
use mockafka::client::{ClientError, Producer, ProducerRecord, TopicPartition};
use mockafka::protocol::kafka_protocol::error::ResponseError;

use crate::{Env, TestResult, WAIT};

#[tokio::test]
async fn topics_are_created_with_configs_listed_grown_and_deleted() -> TestResult {
    let env = Env::start(3).await?;
    let admin = env.admin().await?;
    let name = env.topic("admin-topic");
    admin
        .create_topics(&[NewTopic::new(&name, 2).with_config("retention.ms", "60000")])
        .await?;
    if let Some(c) = &env.cluster {
        let t = c.topic(&name).ok_or("topic not created")?;
        assert_eq!(t.partitions.len(), 2);
        assert_eq!(
            t.configs.get("retention.ms").map(String::as_str),
            Some("60000")
        );
    }
    let listed = admin.list_topics().await?;
    let t = listed.iter().find(|t| t.name == name).ok_or("not listed")?;
    assert_eq!(t.partitions, 2);
    assert!(!t.internal);

    let again = admin
        .create_topics(&[NewTopic::new(&name, 2)])
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some(ResponseError::TopicAlreadyExists));
    assert!(again.to_string().contains(&name), "{again}");

    let configs = admin
        .describe_configs(&ConfigResource::Topic(name.clone()))
        .await?;
    let retention = configs
        .iter()
        .find(|c| c.name == "retention.ms")
        .ok_or("retention.ms not described")?;
    assert_eq!(retention.value.as_deref(), Some("60000"));
    assert!(!retention.is_default);

    admin.create_partitions(&name, 5).await?;
    if let Some(c) = &env.cluster {
        assert_eq!(c.topic(&name).ok_or("gone")?.partitions.len(), 5);
    }
    let shrink = admin.create_partitions(&name, 3).await.unwrap_err();
    assert_eq!(shrink.code(), Some(ResponseError::InvalidPartitions));

    admin.delete_topics(&[&name]).await?;
    if let Some(c) = &env.cluster {
        assert!(c.topic(&name).is_none());
    }
    let missing = admin.delete_topics(&[&name]).await.unwrap_err();
    assert_eq!(missing.code(), Some(ResponseError::UnknownTopicOrPartition));
    Ok(())
}

#[tokio::test]
async fn describe_cluster_names_every_broker_and_the_controller() -> TestResult {
    let env = Env::start(3).await?;
    let admin = env.admin().await?;
    let d = admin.describe_cluster().await?;
    if let Some(c) = &env.cluster {
        let ids: Vec<i32> = d.brokers.iter().map(|b| b.id).collect();
        let want: Vec<i32> = c.brokers().iter().map(|b| b.id.0).collect();
        assert_eq!(ids, want);
        for b in &d.brokers {
            let addr = c
                .broker_addr(mockafka::cluster::BrokerId(b.id))
                .ok_or("no address")?;
            assert_eq!(i32::from(addr.port()), b.port);
        }
    }
    assert!(!d.brokers.is_empty());
    let controller = d.controller.ok_or("no controller")?;
    assert!(d.brokers.iter().any(|b| b.id == controller));
    let broker_configs = admin
        .describe_configs(&ConfigResource::Broker(controller))
        .await?;
    assert!(!broker_configs.is_empty());
    Ok(())
}

#[tokio::test]
async fn offsets_are_listed_by_position_and_time_and_records_deleted() -> TestResult {
    let env = Env::start(3).await?;
    let admin = env.admin().await?;
    let name = env.topic("offsets");
    admin.create_topics(&[NewTopic::new(&name, 1)]).await?;
    let p = Producer::builder()
        .bootstrap_servers(env.bootstrap.split(','))
        .build()
        .await?;
    for i in 0..10i64 {
        // Timestamps 1000, 2000, ... 10000.
        let r = ProducerRecord::new(name.clone(), Bytes::from(format!("{i}")))
            .with_timestamp((i + 1) * 1000);
        p.send(r).await?.get(WAIT).await?;
    }
    let tp = TopicPartition::new(&name, 0);
    let q = [
        (tp.clone(), OffsetSpec::Earliest),
        (TopicPartition::new(&name, 0), OffsetSpec::Latest),
    ];
    // Two specs for one partition: ask separately, as Kafka allows one per partition.
    let earliest = admin.list_offsets(&q[..1]).await?;
    let latest = admin.list_offsets(&q[1..]).await?;
    assert_eq!(earliest[&tp].offset, 0);
    assert_eq!(latest[&tp].offset, 10);
    let by_time = admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Timestamp(4500))])
        .await?;
    assert_eq!(by_time[&tp].offset, 4, "first record at or after 4500 ms");
    assert_eq!(by_time[&tp].timestamp, 5000);
    let after_all = admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Timestamp(99_999))])
        .await?;
    assert_eq!(after_all[&tp].offset, -1);

    let low = admin.delete_records(&[(tp.clone(), 6)]).await?;
    assert_eq!(low[&tp], 6);
    let earliest = admin
        .list_offsets(&[(tp.clone(), OffsetSpec::Earliest)])
        .await?;
    assert_eq!(earliest[&tp].offset, 6);
    if let Some(c) = &env.cluster {
        assert_eq!(c.partition(&name, 0)?.log_start_offset, 6);
    }
    let past = admin.delete_records(&[(tp.clone(), 50)]).await.unwrap_err();
    assert_eq!(past.code(), Some(ResponseError::OffsetOutOfRange));

    let unknown = admin
        .list_offsets(&[(TopicPartition::new(&name, 9), OffsetSpec::Latest)])
        .await
        .unwrap_err();
    assert!(matches!(unknown, ClientError::Broker { .. }), "{unknown:?}");
    Ok(())
}

#[tokio::test]
async fn groups_are_listed_and_described_or_the_coordinator_error_is_named() -> TestResult {
    let env = Env::start(3).await?;
    let admin = env.admin().await?;
    // Without a group coordinator the cluster answers COORDINATOR_NOT_AVAILABLE, which the
    // client reports as a retriable broker error; with one, an unknown group is `Dead`.
    match admin.list_groups().await {
        Ok(groups) => assert!(groups.iter().all(|g| !g.group_id.is_empty())),
        Err(e) => assert_eq!(
            e.code(),
            Some(ResponseError::CoordinatorNotAvailable),
            "{e}"
        ),
    }
    let group = env.topic("no-such-group");
    match admin.describe_groups(&[&group]).await {
        Ok(d) => {
            assert_eq!(d.len(), 1);
            assert_eq!(d[0].group_id, group);
            assert!(d[0].members.is_empty());
        }
        // Until the cluster has a group coordinator, FindCoordinator fails (retriably);
        // describe_groups' decoding is covered against a fake broker in the client's tests.
        Err(e) => assert!(e.is_retriable(), "{e}"),
    }
    Ok(())
}
