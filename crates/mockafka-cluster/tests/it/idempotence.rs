//! InitProducerId and idempotent produce.

use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use mockafka_cluster::Cluster;

use crate::util::*;

async fn init(conn: &mut Conn) -> Result<(i64, i16), Box<dyn std::error::Error>> {
    let resp = conn
        .send(
            4,
            &InitProducerIdRequest::default()
                .with_transactional_id(None)
                .with_transaction_timeout_ms(60_000),
        )
        .await?;
    assert_eq!(resp.error_code, 0);
    Ok((resp.producer_id.0, resp.producer_epoch))
}

#[tokio::test]
async fn producer_ids_are_fresh_and_transactional_ids_bump_epochs() -> TestResult {
    let cluster = Cluster::builder().brokers(2).start().await?;
    let mut a = Conn::to_broker(&cluster, 0).await?;
    let mut b = Conn::to_broker(&cluster, 1).await?;
    let (p1, e1) = init(&mut a).await?;
    let (p2, e2) = init(&mut b).await?;
    assert_ne!(p1, p2);
    assert_eq!((e1, e2), (0, 0));
    let tx = InitProducerIdRequest::default()
        .with_transactional_id(Some(TransactionalId(StrBytes::from_static_str("tx"))))
        .with_transaction_timeout_ms(60_000);
    let first = a.send(4, &tx).await?;
    let second = a.send(4, &tx).await?;
    assert_eq!(first.producer_id, second.producer_id);
    assert_eq!(second.producer_epoch, first.producer_epoch + 1);
    let bad = a
        .send(4, &tx.clone().with_transaction_timeout_ms(0))
        .await?;
    assert_eq!(bad.error_code, 50);
    let empty = tx.with_transactional_id(Some(TransactionalId(StrBytes::from_static_str(""))));
    assert_eq!(a.send(4, &empty).await?.error_code, 42);
    Ok(())
}

#[tokio::test]
async fn retries_are_acknowledged_with_their_original_offset_and_stored_once() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let (pid, epoch) = init(&mut conn).await?;
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, epoch, 0, 3)).await?,
        (0, 0)
    );
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, epoch, 3, 2)).await?,
        (0, 3)
    );
    // Retry of the first batch: same offset, nothing stored.
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, epoch, 0, 3)).await?,
        (0, 0)
    );
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, epoch, 3, 2)).await?,
        (0, 3)
    );
    assert_eq!(cluster.partition("t", 0)?.high_watermark, 5);
    // A gap.
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, epoch, 9, 1))
            .await?
            .0,
        45
    );
    // A repeat that is not one of the retained batches (overlapping sequences).
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, epoch, 1, 2))
            .await?
            .0,
        45
    );
    // In order again.
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, epoch, 5, 1)).await?,
        (0, 5)
    );
    let stored = cluster.batches("t", 0)?;
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|b| b.producer_id == pid));
    Ok(())
}

#[tokio::test]
async fn only_the_last_five_batches_are_remembered() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let (pid, epoch) = init(&mut conn).await?;
    for seq in 0..6 {
        let (code, offset) =
            produce(&mut conn, "t", 0, idempotent_batch(pid, epoch, seq, 1)).await?;
        assert_eq!((code, offset), (0, i64::from(seq)));
    }
    // Batch 1 is among the last five, batch 0 is not.
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, epoch, 1, 1)).await?,
        (0, 1)
    );
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, epoch, 0, 1))
            .await?
            .0,
        45
    );
    assert_eq!(cluster.partition("t", 0)?.high_watermark, 6);
    Ok(())
}

#[tokio::test]
async fn old_epochs_are_fenced_and_new_epochs_start_at_zero() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let (pid, _) = init(&mut conn).await?;
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, 2, 0, 1)).await?,
        (0, 0)
    );
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, 1, 1, 1))
            .await?
            .0,
        47
    );
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, 3, 4, 1))
            .await?
            .0,
        45
    );
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, 3, 0, 1)).await?,
        (0, 1)
    );
    // An idempotent batch without a sequence is invalid.
    assert_eq!(
        produce(&mut conn, "t", 0, idempotent_batch(pid, 3, -1, 1))
            .await?
            .0,
        87
    );
    Ok(())
}
