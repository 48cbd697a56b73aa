//! The sender task: one per producer. It drains ready batches from the accumulator, routes
//! them to partition leaders, and applies each broker answer (success, retry, failure).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{InitProducerIdRequest, ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use mockafka_protocol::batch::{Record, RecordBatch, RecordHeader, TimestampType};
use tokio::time::Instant;

use super::accumulator::{Batch, Outcome};
use super::{Acks, Inner};
use crate::error::{ClientError, Target};

/// Metadata older than this is refreshed (Kafka's `metadata.max.age.ms` default), so that
/// added partitions are picked up.
const METADATA_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(300);

/// Sent with InitProducerId as the Java client does (its `transaction.timeout.ms`
/// default); brokers validate it even without a transactional id.
const TRANSACTION_TIMEOUT_MS: i32 = 60_000;

/// Producer id and epoch from InitProducerId.
type Pid = (i64, i16);

pub(super) async fn run(inner: Arc<Inner>) {
    let mut pid: Option<Pid> = None;
    let mut refresh_running = false;
    // Refreshes started here are at least `retry_backoff` apart (Kafka's metadata refresh
    // backoff), so that a partition without a leader does not spin.
    let mut last_refresh: Option<Instant> = None;
    let (refresh_done_tx, mut refresh_done) = tokio::sync::mpsc::unbounded_channel::<()>();
    loop {
        let notified = inner.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();

        if inner.idempotent {
            let (reset, in_flight) = {
                let a = inner.accum.lock().expect("accumulator lock");
                (inner.reset_pid.load(Ordering::Acquire), a.any_in_flight())
            };
            if (pid.is_none() || reset) && !in_flight {
                let had_work = !inner.accum.lock().expect("accumulator lock").is_empty();
                if had_work || pid.is_some() {
                    match init_producer_id(&inner, pid).await {
                        Ok(p) => {
                            tracing::debug!(producer_id = p.0, epoch = p.1, "producer id");
                            pid = Some(p);
                            inner.reset_pid.store(false, Ordering::Release);
                            let mut a = inner.accum.lock().expect("accumulator lock");
                            a.reset_sequences();
                        }
                        Err(e) if e.is_retriable() => {
                            tracing::debug!(error = %e, "InitProducerId failed; retrying");
                            tokio::time::sleep(inner.cfg.retry_backoff).await;
                            if inner
                                .accum
                                .lock()
                                .expect("accumulator lock")
                                .expire(Instant::now())
                            {
                                inner.reset_pid.store(true, Ordering::Release);
                            }
                            inner.flushed.notify_waiters();
                            continue;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "InitProducerId failed");
                            inner
                                .accum
                                .lock()
                                .expect("accumulator lock")
                                .fail_all_queued(&e);
                            inner.flushed.notify_waiters();
                        }
                    }
                }
            }
        }

        let now = Instant::now();
        let (drained, done) = {
            let mut a = inner.accum.lock().expect("accumulator lock");
            if a.expire(now) && inner.idempotent {
                inner.reset_pid.store(true, Ordering::Release);
            }
            let waiting_for_pid =
                inner.idempotent && (pid.is_none() || inner.reset_pid.load(Ordering::Acquire));
            let drained = if waiting_for_pid {
                Default::default()
            } else {
                inner.pool.with_metadata(|md| {
                    a.drain(
                        now,
                        |t, p| {
                            md.topics
                                .get(t)
                                .and_then(|tm| {
                                    usize::try_from(p).ok().and_then(|i| tm.partitions.get(i))
                                })
                                .map(|pm| pm.leader)
                                .filter(|l| md.brokers.contains_key(l))
                        },
                        pid.filter(|_| inner.idempotent),
                    )
                })
            };
            (drained, a.closing && a.is_empty())
        };
        inner.flushed.notify_waiters();
        if done {
            tracing::debug!("producer sender stopped");
            return;
        }
        let stale = inner
            .pool
            .with_metadata(|md| md.updated.is_none_or(|u| u.elapsed() >= METADATA_MAX_AGE));
        let mut next_wakeup = drained.next_wakeup;
        let backoff_until = last_refresh.map(|t| t + inner.cfg.retry_backoff);
        if (drained.needs_metadata || stale) && !refresh_running {
            if let Some(at) = backoff_until.filter(|at| *at > now) {
                next_wakeup = Some(next_wakeup.map_or(at, |w| w.min(at)));
            } else {
                last_refresh = Some(now);
                refresh_running = true;
                let inner2 = inner.clone();
                let tx = refresh_done_tx.clone();
                tokio::spawn(async move {
                    let topics = inner2.topics();
                    if let Err(e) = inner2.pool.refresh(Some(&topics), true).await {
                        tracing::debug!(error = %e, "metadata refresh failed");
                        tokio::time::sleep(inner2.cfg.retry_backoff).await;
                    }
                    let _ = tx.send(());
                });
            }
        }
        for (broker, batches) in drained.requests {
            tokio::spawn(send_request(inner.clone(), broker, batches));
        }
        let sleep_until = next_wakeup.unwrap_or_else(|| {
            now + inner
                .cfg
                .delivery_timeout
                .min(std::time::Duration::from_secs(1))
        });
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(sleep_until) => {}
            Some(()) = refresh_done.recv(), if refresh_running => { refresh_running = false; }
        }
    }
}

async fn init_producer_id(inner: &Inner, previous: Option<Pid>) -> Result<Pid, ClientError> {
    let conn = inner.pool.any().await?;
    let (prev_id, prev_epoch) = previous.unwrap_or((-1, -1));
    let req = InitProducerIdRequest::default()
        // The library's default is an empty transactional id, which brokers refuse.
        .with_transactional_id(None)
        .with_transaction_timeout_ms(TRANSACTION_TIMEOUT_MS)
        .with_producer_id(prev_id.into())
        .with_producer_epoch(prev_epoch);
    let version = conn.version(kafka_protocol::messages::ApiKey::InitProducerId)?;
    // Bumping the epoch of an existing id needs v3+; older brokers get a fresh id.
    let req = if version < 3 {
        req.with_producer_id((-1).into()).with_producer_epoch(-1)
    } else {
        req
    };
    let resp = conn.call(&req).await?;
    if let Some(code) = ResponseError::try_from_code(resp.error_code) {
        // Epoch bump refused (e.g. the broker forgot the id): ask for a fresh one next time.
        if previous.is_some() && !code.is_retriable() {
            let fresh = InitProducerIdRequest::default()
                .with_transactional_id(None)
                .with_transaction_timeout_ms(TRANSACTION_TIMEOUT_MS)
                .with_producer_id((-1).into())
                .with_producer_epoch(-1);
            let resp = conn.call(&fresh).await?;
            if let Some(code) = ResponseError::try_from_code(resp.error_code) {
                return Err(ClientError::broker(code, Target::Cluster));
            }
            return Ok((resp.producer_id.0, resp.producer_epoch));
        }
        return Err(ClientError::broker(code, Target::Cluster));
    }
    Ok((resp.producer_id.0, resp.producer_epoch))
}

/// Encodes a batch (once: retries reuse the bytes).
fn encode(inner: &Inner, b: &mut Batch) -> Result<Bytes, ClientError> {
    if let Some(e) = &b.encoded {
        return Ok(e.clone());
    }
    let first_ts = b.records.first().map_or(0, |r| r.timestamp);
    let max_ts = b
        .records
        .iter()
        .map(|r| r.timestamp)
        .max()
        .unwrap_or(first_ts);
    let seq = b.sequence;
    let records = b
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| Record {
            offset: i64::try_from(i).unwrap_or(i64::MAX),
            timestamp: r.timestamp,
            key: r.key.clone(),
            value: r.value.clone(),
            headers: r
                .headers
                .iter()
                .map(|h| RecordHeader {
                    key: h.key.clone(),
                    value: h.value.clone(),
                })
                .collect(),
        })
        .collect();
    let batch = RecordBatch {
        base_offset: 0,
        partition_leader_epoch: -1,
        compression: inner.cfg.compression,
        timestamp_type: TimestampType::CreateTime,
        transactional: false,
        control: false,
        producer_id: seq.map_or(-1, |s| s.producer_id),
        producer_epoch: seq.map_or(-1, |s| s.producer_epoch),
        base_sequence: seq.map_or(-1, |s| s.base_sequence),
        base_timestamp: first_ts,
        max_timestamp: max_ts,
        records,
    };
    let mut out = BytesMut::with_capacity(b.size);
    batch.encode(&mut out).map_err(|e| ClientError::Protocol {
        broker: "(local encoder)".into(),
        source: e.into(),
    })?;
    let bytes = out.freeze();
    b.encoded = Some(bytes.clone());
    Ok(bytes)
}

async fn send_request(inner: Arc<Inner>, broker: i32, mut batches: Vec<Batch>) {
    let result = produce(&inner, broker, &mut batches).await;
    let now = Instant::now();
    let mut reset = false;
    let mut refresh = false;
    {
        let mut a = inner.accum.lock().expect("accumulator lock");
        a.request_done(broker);
        match result {
            Err(e) => {
                // The whole request failed (connection lost, timeout): every batch in it.
                refresh = true;
                for b in batches {
                    inner.pool.invalidate_leader(&b.tp.0, b.tp.1);
                    let e = match &e {
                        ClientError::Broker { code, .. } => {
                            ClientError::partition(*code, &b.tp.0, b.tp.1)
                        }
                        other => other.clone(),
                    };
                    if a.failed(now, b, &e) == Outcome::Failed && inner.idempotent {
                        reset = true;
                    }
                }
            }
            Ok(None) => {
                for b in batches {
                    a.succeeded(b, -1, -1);
                }
            }
            Ok(Some(answers)) => {
                for (b, answer) in batches.into_iter().zip(answers) {
                    match answer {
                        Answer::Ok {
                            base_offset,
                            log_append_time,
                        } => a.succeeded(b, base_offset, log_append_time),
                        Answer::Err {
                            code,
                            message,
                            leader,
                        } => {
                            let (topic, partition) = (b.tp.0.clone(), b.tp.1);
                            let b = if matches!(
                                code,
                                ResponseError::MessageTooLarge | ResponseError::RecordListTooLarge
                            ) {
                                match a.split(b) {
                                    None => continue,
                                    Some(b) => b,
                                }
                            } else {
                                b
                            };
                            if code == ResponseError::DuplicateSequenceNumber {
                                // Already appended by an earlier attempt; the offset is unknown.
                                a.succeeded(b, -1, -1);
                                continue;
                            }
                            if matches!(
                                code,
                                ResponseError::NotLeaderOrFollower
                                    | ResponseError::UnknownTopicOrPartition
                                    | ResponseError::LeaderNotAvailable
                                    | ResponseError::FencedLeaderEpoch
                                    | ResponseError::UnknownLeaderEpoch
                            ) {
                                refresh = true;
                                inner.pool.invalidate_leader(&topic, partition);
                                if let Some((l, epoch)) = leader {
                                    inner.pool.update_leader(&topic, partition, l, epoch);
                                }
                            }
                            let err = ClientError::partition(code, &topic, partition)
                                .with_message(message.as_deref());
                            let fatal_seq = matches!(
                                code,
                                ResponseError::OutOfOrderSequenceNumber
                                    | ResponseError::UnknownProducerId
                                    | ResponseError::InvalidProducerEpoch
                            );
                            if (a.failed(now, b, &err) == Outcome::Failed || fatal_seq)
                                && inner.idempotent
                            {
                                reset = true;
                            }
                        }
                    }
                }
            }
        }
    }
    if reset {
        inner.reset_pid.store(true, Ordering::Release);
    }
    if refresh {
        let inner2 = inner.clone();
        tokio::spawn(async move {
            let topics = inner2.topics();
            if let Err(e) = inner2.pool.refresh(Some(&topics), true).await {
                tracing::debug!(error = %e, "metadata refresh failed");
            }
            inner2.wake.notify_one();
        });
    }
    inner.wake.notify_one();
    inner.flushed.notify_waiters();
}

/// One partition's answer.
enum Answer {
    Ok {
        base_offset: i64,
        log_append_time: i64,
    },
    Err {
        code: ResponseError,
        message: Option<String>,
        leader: Option<(i32, i32)>,
    },
}

/// Sends one Produce request. `Ok(None)` for acks=0 (no answer); otherwise one answer per
/// batch, in order. A partition missing from the response is a retriable error for it.
async fn produce(
    inner: &Inner,
    broker: i32,
    batches: &mut [Batch],
) -> Result<Option<Vec<Answer>>, ClientError> {
    let mut topics: Vec<TopicProduceData> = Vec::new();
    let mut encode_failures: HashMap<usize, ClientError> = HashMap::new();
    for (i, b) in batches.iter_mut().enumerate() {
        let records = match encode(inner, b) {
            Ok(r) => r,
            Err(e) => {
                encode_failures.insert(i, e);
                continue;
            }
        };
        let name = TopicName(StrBytes::from_string(b.tp.0.to_string()));
        let part = PartitionProduceData::default()
            .with_index(b.tp.1)
            .with_records(Some(records));
        match topics.iter_mut().find(|t| t.name == name) {
            Some(t) => t.partition_data.push(part),
            None => topics.push(
                TopicProduceData::default()
                    .with_name(name)
                    .with_partition_data(vec![part]),
            ),
        }
    }
    if !encode_failures.is_empty() {
        // Encoding is local and deterministic: report it as a non-retriable error.
        let e = encode_failures.into_values().next().expect("non-empty");
        return Err(ClientError::Config(format!("cannot encode a batch: {e}")));
    }
    let timeout_ms = i32::try_from(inner.cfg.request_timeout.as_millis()).unwrap_or(i32::MAX);
    let req = ProduceRequest::default()
        .with_acks(inner.cfg.acks.code())
        .with_timeout_ms(timeout_ms)
        .with_topic_data(topics);
    let conn = inner.pool.broker(broker).await?;
    if inner.cfg.acks == Acks::None {
        conn.send_only(&req).await?;
        return Ok(None);
    }
    let resp = conn.call(&req).await?;
    let mut answers = Vec::with_capacity(batches.len());
    for b in batches.iter() {
        let found = resp
            .responses
            .iter()
            .filter(|t| t.name.0.as_str() == &*b.tp.0)
            .flat_map(|t| t.partition_responses.iter())
            .find(|p| p.index == b.tp.1);
        let answer = match found {
            None => Answer::Err {
                code: ResponseError::NetworkException,
                message: Some("partition missing from the produce response".into()),
                leader: None,
            },
            Some(p) => match ResponseError::try_from_code(p.error_code) {
                None => Answer::Ok {
                    base_offset: p.base_offset,
                    log_append_time: p.log_append_time_ms,
                },
                Some(code) => Answer::Err {
                    code,
                    message: p
                        .error_message
                        .as_ref()
                        .map(|m| m.as_str().to_owned())
                        .or_else(|| {
                            p.record_errors
                                .first()
                                .and_then(|r| r.batch_index_error_message.as_ref())
                                .map(|m| m.as_str().to_owned())
                        }),
                    leader: (p.current_leader.leader_id.0 >= 0)
                        .then_some((p.current_leader.leader_id.0, p.current_leader.leader_epoch)),
                },
            },
        };
        answers.push(answer);
    }
    Ok(Some(answers))
}
