//! Bad input: garbage frames on one connection harm nobody else.

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::*;
use mockafka_cluster::Cluster;
use tokio::io::AsyncWriteExt;

use crate::util::*;

/// Deterministic pseudo-random bytes (xorshift).
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x & 0xff) as u8
        })
        .collect()
}

#[tokio::test]
async fn garbage_on_one_connection_leaves_others_and_the_data_intact() -> TestResult {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().await?;
    let mut producer = Conn::to_broker(&cluster, 0).await?;
    let mut consumer = Conn::to_broker(&cluster, 0).await?;
    let mut closed = 0;
    for round in 0..40u64 {
        // A burst of garbage: a plausible size prefix then noise, a valid header with a
        // noise body, or a frame of pure noise.
        let mut garbage = Conn::to_broker(&cluster, 0).await?;
        let mut frame = BytesMut::new();
        let body = noise(round + 1, 64 + usize::try_from(round)? * 13);
        match round % 4 {
            0 => {
                frame.put_i32(i32::try_from(body.len())?);
                frame.put_slice(&body);
            }
            1 => {
                // Produce v9 header, noise body.
                frame.put_i32(i32::try_from(body.len() + 12)?);
                frame.put_i16(0);
                frame.put_i16(9);
                frame.put_i32(1);
                frame.put_u8(0);
                frame.put_u8(0);
                frame.put_u16(0);
                frame.put_slice(&body);
            }
            2 => {
                frame.put_i32(-5);
                frame.put_slice(&body);
            }
            _ => {
                // A size far beyond the limit.
                frame.put_i32(i32::MAX);
                frame.put_slice(&body);
            }
        }
        garbage.stream.write_all(&frame).await?;
        if garbage.is_closed().await {
            closed += 1;
        }
        // Meanwhile the others keep working.
        let v = format!("r{round}");
        assert_eq!(
            produce(&mut producer, "t", 0, batch(&[v.as_str()])).await?,
            (0, i64::try_from(round)?)
        );
        let fetched = consumer
            .send(12, &fetch_request("t", 0, i64::try_from(round)?, 0))
            .await?;
        let batches = decode_records(
            fetched.responses[0].partitions[0]
                .records
                .as_ref()
                .ok_or("r")?,
        );
        assert_eq!(batches[0].records[0].value.as_deref(), Some(v.as_bytes()));
    }
    assert_eq!(closed, 40);
    let records = cluster.records("t", 0)?;
    assert_eq!(records.len(), 40);
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.offset, i64::try_from(i)?);
        assert_eq!(r.value.as_deref(), Some(format!("r{i}").as_bytes()));
    }
    Ok(())
}

#[tokio::test]
async fn a_frame_cut_short_closes_only_that_connection() -> TestResult {
    let cluster = Cluster::builder()
        .brokers(1)
        .max_frame_size(1_000)
        .start()
        .await?;
    let mut other = Conn::to_broker(&cluster, 0).await?;
    let mut cut = Conn::to_broker(&cluster, 0).await?;
    let mut frame = BytesMut::new();
    frame.put_i32(100);
    frame.put_slice(&[1, 2, 3]);
    cut.stream.write_all(&frame).await?;
    cut.stream.shutdown().await?;
    let mut big = Conn::to_broker(&cluster, 0).await?;
    let mut frame = BytesMut::new();
    frame.put_i32(1_001);
    big.stream.write_all(&frame).await?;
    assert!(big.is_closed().await);
    assert_eq!(
        other
            .send(2, &ApiVersionsRequest::default())
            .await?
            .error_code,
        0
    );
    Ok(())
}
