//! The producer under leader moves and broker loss: every acknowledged record is stored
//! exactly once, in send order per partition.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mockafka::client::{Producer, ProducerRecord, RecordMetadata};
use mockafka::cluster::{BrokerId, TopicSpec};

use crate::{Env, TestResult, WAIT};

const RECORDS: usize = 100_000;

async fn wait_until(what: &str, f: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !f() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_move_and_broker_loss_keep_every_ack_exactly_once_in_order() -> TestResult {
    let env = Env::start(3).await?;
    let Some(cluster) = env.embedded("leader_move_and_broker_loss") else {
        return Ok(());
    };
    let topic = "first";
    cluster.create_topic(TopicSpec::new(topic, 3))?;
    let p = Producer::builder()
        .bootstrap_servers(cluster.bootstrap_servers().split(','))
        .retry_backoff(Duration::from_millis(5), Duration::from_millis(100))
        .build()
        .await?;
    let sent = Arc::new(AtomicUsize::new(0));
    let sender = {
        let p = p.clone();
        let sent = sent.clone();
        tokio::spawn(async move {
            let mut acks = Vec::with_capacity(RECORDS);
            for i in 0..RECORDS {
                let r = ProducerRecord::new(topic, Bytes::from(i.to_string()))
                    .with_key(Bytes::from(format!("key-{}", i % 97)));
                acks.push(p.send(r).await?);
                sent.store(i + 1, Ordering::Release);
            }
            p.flush().await?;
            let mut metas: Vec<RecordMetadata> = Vec::with_capacity(RECORDS);
            for a in acks {
                metas.push(a.get(WAIT).await?);
            }
            Ok::<_, mockafka::client::ClientError>(metas)
        })
    };

    wait_until("30 000 sends", || sent.load(Ordering::Acquire) >= 30_000).await;
    let p0 = cluster.partition(topic, 0)?;
    let old = p0.leader.ok_or("partition 0 has no leader")?;
    let new = BrokerId((old.0 + 1) % 3);
    cluster.move_leader(topic, 0, new)?;

    wait_until("60 000 sends", || sent.load(Ordering::Acquire) >= 60_000).await;
    let victim = cluster
        .partition(topic, 1)?
        .leader
        .ok_or("partition 1 has no leader")?;
    cluster.stop_broker(victim).await?;

    let metas = sender.await??;

    // The faults hit mid-stream: both partitions have batches appended under more than
    // one leader epoch.
    for part in [0, 1] {
        let mut epochs: Vec<i32> = cluster
            .batches(topic, part)?
            .iter()
            .map(|b| b.partition_leader_epoch)
            .collect();
        epochs.dedup();
        assert!(epochs.len() >= 2, "partition {part}: epochs {epochs:?}");
    }
    assert_eq!(metas.len(), RECORDS, "every record acknowledged");

    // Stored exactly once, in send order per partition, at the acknowledged offsets.
    let mut by_partition: Vec<Vec<usize>> = vec![Vec::new(); 3];
    for (i, m) in metas.iter().enumerate() {
        let slot = usize::try_from(m.partition)?;
        by_partition[slot].push(i);
    }
    for (part, sent_here) in by_partition.iter().enumerate() {
        let recs = cluster.records(topic, i32::try_from(part)?)?;
        let mut stored = Vec::with_capacity(recs.len());
        for r in &recs {
            let v = std::str::from_utf8(r.value.as_deref().unwrap_or_default())?;
            stored.push(v.parse::<usize>()?);
        }
        assert_eq!(
            &stored, sent_here,
            "partition {part}: exactly once, in send order"
        );
        for (r, i) in recs.iter().zip(sent_here) {
            assert_eq!(
                r.offset, metas[*i].offset,
                "acknowledged offset of record {i}"
            );
        }
    }
    Ok(())
}
