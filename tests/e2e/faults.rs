//! Injected faults with the mockafka producer and consumer: every record stored exactly
//! once and in order through retriable errors, lost answers and a broker crash; a consumer
//! loses and repeats nothing through fetch errors, a coordinator move and a leader move.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mockafka::client::{
    ClientError, Consumer, OffsetReset, Producer, ProducerRecord, RecordMetadata,
};
use mockafka::cluster::{
    ApiKey, BrokerId, Cluster, Fault, FaultAction, FaultId, GroupState, ResponseError, TopicSpec,
};

use crate::{TestResult, WAIT};

async fn producer(cluster: &Cluster, client_id: &str) -> Result<Producer, ClientError> {
    Producer::builder()
        .bootstrap_servers(cluster.bootstrap_servers().split(','))
        .client_id(client_id)
        .enable_idempotence(true)
        .retry_backoff(Duration::from_millis(5), Duration::from_millis(50))
        .request_timeout(Duration::from_millis(500))
        .build()
        .await
}

/// Waits until the fault has hit a request, answered or not.
async fn hit(cluster: &Cluster, id: FaultId) -> TestResult {
    cluster
        .wait_for_request(WAIT, |r| r.fault == Some(id))
        .await?;
    Ok(())
}

/// The values stored in each partition, as numbers.
fn stored(
    cluster: &Cluster,
    topic: &str,
    partitions: i32,
) -> Result<Vec<Vec<usize>>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    for p in 0..partitions {
        let mut values = Vec::new();
        for r in cluster.records(topic, p)? {
            let v = std::str::from_utf8(r.value.as_deref().unwrap_or_default())?;
            values.push(v.parse::<usize>()?);
        }
        out.push(values);
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_producing_through_errors_lost_answers_and_a_crash_stores_each_record_once(
) -> TestResult {
    const RECORDS: usize = 3_000;
    let cluster = Cluster::builder()
        .brokers(3)
        .topic_spec(TopicSpec::new("f", 3))
        .start()
        .await?;
    let p = producer(&cluster, "faulty-producer").await?;
    let sent = Arc::new(AtomicUsize::new(0));
    let sender = {
        let p = p.clone();
        let sent = sent.clone();
        tokio::spawn(async move {
            let mut acks = Vec::with_capacity(RECORDS);
            for i in 0..RECORDS {
                let r = ProducerRecord::new("f", Bytes::from(i.to_string()))
                    .with_key(Bytes::from(format!("key-{}", i % 31)));
                acks.push(p.send(r).await?);
                sent.store(i + 1, Ordering::Release);
                if i % 50 == 0 {
                    // Let the faults below interleave with the stream.
                    tokio::task::yield_now().await;
                }
            }
            p.flush().await?;
            let mut metas: Vec<RecordMetadata> = Vec::with_capacity(RECORDS);
            for a in acks {
                metas.push(a.get(WAIT).await?);
            }
            Ok::<_, ClientError>(metas)
        })
    };
    let faults = cluster.faults();
    // Retriable errors, not applied.
    let not_leader = faults.add(
        Fault::new(
            ApiKey::Produce,
            FaultAction::Error(ResponseError::NotLeaderOrFollower),
        )
        .times(3),
    );
    hit(&cluster, not_leader).await?;
    // Applied, then answered with a retriable error: the retry is a duplicate.
    let timed_out = faults.apply_then_fail_next(ApiKey::Produce, ResponseError::RequestTimedOut);
    hit(&cluster, timed_out).await?;
    // Applied, then the connection closes unanswered.
    let dropped = faults.drop_response_next(ApiKey::Produce);
    hit(&cluster, dropped).await?;
    // Applied and never answered: the client's request timeout fires.
    let silent = faults.add(Fault::new(
        ApiKey::Produce,
        FaultAction::ApplyThenNoResponse,
    ));
    hit(&cluster, silent).await?;
    // A broker crashes mid-stream; its partitions move with a new leader epoch.
    let victim = cluster.partition("f", 2)?.leader.ok_or("no leader")?;
    let epoch = cluster.partition("f", 2)?.leader_epoch;
    cluster.crash_broker(victim).await?;
    assert!(cluster.partition("f", 2)?.leader_epoch > epoch);

    let metas = sender.await??;
    assert!(
        sent.load(Ordering::Acquire) == RECORDS && metas.len() == RECORDS,
        "every record acknowledged"
    );
    for id in [timed_out, dropped, silent] {
        assert_eq!(faults.applied(id), 1);
    }
    assert_eq!(faults.applied(not_leader), 3);
    // Exactly once, in send order per partition, at the acknowledged offsets.
    let stored = stored(&cluster, "f", 3)?;
    let mut expected: Vec<Vec<usize>> = vec![Vec::new(); 3];
    for (i, m) in metas.iter().enumerate() {
        let slot = usize::try_from(m.partition)?;
        assert_eq!(
            m.offset,
            i64::try_from(expected[slot].len())?,
            "acknowledged offset of record {i}"
        );
        expected[slot].push(i);
    }
    assert_eq!(stored, expected);
    // The request log saw the errors answered.
    let errors: Vec<i16> = cluster
        .requests()
        .iter()
        .filter(|r| {
            r.api_key == ApiKey::Produce && r.client_id.as_deref() == Some("faulty-producer")
        })
        .filter_map(|r| r.error_code())
        .filter(|&c| c != 0)
        .collect();
    assert!(
        errors
            .iter()
            .filter(|&&c| c == ResponseError::NotLeaderOrFollower.code())
            .count()
            >= 3
    );
    assert!(errors.contains(&ResponseError::RequestTimedOut.code()));
    p.close().await?;
    Ok(())
}

async fn seed(p: &Producer, topic: &str, from: usize, n: usize) -> TestResult {
    let mut acks = Vec::new();
    for i in from..from + n {
        acks.push(
            p.send(
                ProducerRecord::new(topic, Bytes::from(format!("{i:04}")))
                    .with_key(Bytes::from(format!("k{}", i % 7))),
            )
            .await?,
        );
    }
    for a in acks {
        a.get(WAIT).await?;
    }
    Ok(())
}

async fn consume(c: &Consumer, n: usize, into: &mut Vec<String>) -> TestResult {
    let deadline = tokio::time::Instant::now() + WAIT;
    let want = into.len() + n;
    while into.len() < want {
        if tokio::time::Instant::now() > deadline {
            return Err(format!("got {} of {want} records", into.len()).into());
        }
        for r in c.poll(Duration::from_millis(100)).await? {
            into.push(String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned());
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_survives_fetch_faults_a_coordinator_move_and_a_leader_move_mid_stream(
) -> TestResult {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic_spec(TopicSpec::new("c", 3))
        .start()
        .await?;
    let p = producer(&cluster, "seed").await?;
    let c = Consumer::builder()
        .bootstrap_servers(cluster.bootstrap_servers().split(','))
        .client_id("faulty-consumer")
        .group_id("fg")
        .auto_offset_reset(OffsetReset::Earliest)
        .enable_auto_commit(false)
        .heartbeat_interval(Duration::from_millis(50))
        .fetch_max_wait(Duration::from_millis(100))
        .retry_backoff(Duration::from_millis(10))
        .request_timeout(Duration::from_millis(1_000))
        .build()
        .await?;
    c.subscribe(&["c"])?;
    let mut seen = Vec::new();
    seed(&p, "c", 0, 30).await?;
    consume(&c, 30, &mut seen).await?;
    c.commit().await?;
    cluster.wait_group_stable("fg", 1, WAIT).await?;

    // Fetch errors, a dropped fetch connection and a slow fetch while records flow.
    let faults = cluster.faults();
    let fetch_error = faults.add(
        Fault::new(
            ApiKey::Fetch,
            FaultAction::Error(ResponseError::NotLeaderOrFollower),
        )
        .client_id("faulty-consumer")
        .times(3),
    );
    let closed = faults
        .add(Fault::new(ApiKey::Fetch, FaultAction::CloseConnection).client_id("faulty-consumer"));
    let slow = faults.add(
        Fault::new(
            ApiKey::Fetch,
            FaultAction::Delay(Duration::from_millis(200)),
        )
        .client_id("faulty-consumer"),
    );
    // The consumer fetches only while polled: the faults hit during this consume.
    seed(&p, "c", 30, 30).await?;
    consume(&c, 30, &mut seen).await?;
    for id in [fetch_error, closed, slow] {
        hit(&cluster, id).await?;
    }
    // Committed before the rebalance below (no auto-commit): a rejoin resumes here.
    c.commit().await?;

    // The coordinator moves, and a heartbeat is told to rejoin. Everything consumed is
    // committed, so the rejoin (which resumes at the committed offsets, as Kafka's does
    // without auto-commit) repeats nothing.
    let generation = cluster.wait_group_stable("fg", 1, WAIT).await?.generation;
    let old = cluster.group_coordinator("fg");
    cluster.move_group_coordinator("fg", BrokerId((old.0 + 1) % 3))?;
    let rejoin = faults.add(
        Fault::new(
            ApiKey::Heartbeat,
            FaultAction::Error(ResponseError::RebalanceInProgress),
        )
        .group("fg"),
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        // Polling drives the heartbeats and the rejoin.
        for r in c.poll(Duration::from_millis(50)).await? {
            seen.push(String::from_utf8_lossy(r.value.as_deref().unwrap_or_default()).into_owned());
        }
        let rejoined = faults.applied(rejoin) == 1
            && cluster
                .group("fg")
                .is_some_and(|g| g.generation > generation && g.state == GroupState::Stable);
        if rejoined {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            return Err("the consumer did not rejoin".into());
        }
    }
    seed(&p, "c", 60, 30).await?;
    consume(&c, 30, &mut seen).await?;
    c.commit().await?;

    // Every partition's leader moves mid-stream.
    seed(&p, "c", 90, 15).await?;
    for part in 0..3 {
        let leader = cluster.partition("c", part)?.leader.ok_or("no leader")?;
        cluster.move_leader("c", part, BrokerId((leader.0 + 1) % 3))?;
    }
    seed(&p, "c", 105, 15).await?;
    consume(&c, 30, &mut seen).await?;
    c.commit().await?;

    let mut sorted = seen.clone();
    sorted.sort();
    let expected: Vec<String> = (0..120).map(|i| format!("{i:04}")).collect();
    assert_eq!(sorted, expected, "every record exactly once");
    assert_eq!(faults.applied(fetch_error), 3);
    let committed: i64 = cluster
        .committed_offsets("fg")
        .iter()
        .map(|(_, _, o)| o.offset)
        .sum();
    assert_eq!(committed, 120);
    c.close().await?;
    p.close().await?;
    Ok(())
}

#[tokio::test]
async fn throttles_latency_and_refused_connections_slow_the_producer_but_lose_nothing() -> TestResult
{
    let cluster = Cluster::builder()
        .brokers(2)
        .topic_spec(TopicSpec::new("s", 2))
        .start()
        .await?;
    let faults = cluster.faults();
    let throttle = faults.add(
        Fault::new(
            ApiKey::Produce,
            FaultAction::Throttle(Duration::from_millis(20)),
        )
        .times(5),
    );
    faults.broker_latency(BrokerId(0), Duration::from_millis(5));
    let refused = cluster.partition("s", 1)?.leader.ok_or("no leader")?;
    faults.refuse_connections(refused, true);
    let p = producer(&cluster, "slow").await?;
    let mut acks = Vec::new();
    for i in 0..20usize {
        let part = i32::try_from(i % 2)?;
        let leader = cluster.partition("s", part)?.leader.ok_or("no leader")?;
        if leader == refused {
            continue;
        }
        acks.push(
            p.send(ProducerRecord::new("s", Bytes::from(i.to_string())).with_partition(part))
                .await?,
        );
    }
    for a in acks {
        a.get(WAIT).await?;
    }
    // The refusing broker closed every connection the producer tried.
    faults.refuse_connections(refused, false);
    let refused_part = cluster
        .topic("s")
        .ok_or("no topic")?
        .partitions
        .iter()
        .find(|v| v.leader == Some(refused))
        .map(|v| v.partition)
        .ok_or("no partition on the refusing broker")?;
    let meta = p
        .send(ProducerRecord::new("s", Bytes::from_static(b"late")).with_partition(refused_part))
        .await?
        .get(WAIT)
        .await?;
    assert_eq!(meta.partition, refused_part);
    let throttled: Vec<_> = cluster
        .requests()
        .into_iter()
        .filter(|r| r.fault == Some(throttle))
        .collect();
    assert!(!throttled.is_empty());
    assert!(throttled.iter().all(|r| r.error_code() == Some(0)));
    let total: i64 = (0..2)
        .map(|part| cluster.partition("s", part).map(|v| v.high_watermark))
        .sum::<Result<i64, _>>()?;
    assert_eq!(total, 11);
    p.close().await?;
    Ok(())
}
