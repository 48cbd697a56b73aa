//! Produce (API key 0), versions 3-11.
//!
//! Per partition, in Kafka's order: unknown topic or partition; the request-level record
//! checks (exactly one magic-2 batch, zstd only from v7); leadership; then the log checks
//! (batch size against `max.message.bytes`, CRC, record count, control and sequence
//! fields, the records themselves, keys on compacted topics); for acks=-1, fewer live
//! brokers (the in-sync replicas) than `min.insync.replicas` gives NOT_ENOUGH_REPLICAS;
//! idempotent producer state
//! (a retried batch is acknowledged with its original offset); and the append, which
//! writes base offset and leader epoch and, for LogAppendTime topics, the timestamp.
//! acks=0 gets no response, and when any partition failed the connection is closed, as
//! Kafka does so that the client refreshes its metadata.
//!
//! Differences from Kafka: acks=-1 and acks=1 both answer once the batch is appended
//! (every replica is in sync at once). Batches are stored as sent: a topic's
//! `compression.type` does not recompress, and a compressed batch whose inner offsets are
//! not 0..n-1 is refused with INVALID_RECORD instead of being rewritten. Transactional
//! batches get INVALID_TXN_STATE (transactions are not modelled) and an undefined codec id
//! UNSUPPORTED_COMPRESSION_TYPE. No per-record `record_errors` or error messages.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::produce_request::PartitionProduceData;
use kafka_protocol::messages::produce_response::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{BrokerId, ProduceRequest, ProduceResponse, TopicName};
use kafka_protocol::ResponseError;
use mockafka_protocol::batch::{
    BatchError, BatchHeader, Compression, DecodeLimits, RecordBatch, BATCH_HEADER_LEN, MAGIC_V2,
};

use super::str_bytes;
use crate::dispatch::RequestCtx;
use crate::log::producer::{last_sequence, BatchMeta, SequenceCheck};
use crate::topics::TimestampKind;

/// What the connection does with a Produce request.
#[derive(Debug)]
pub(crate) enum ProduceOutcome {
    /// Send this response.
    Respond(ProduceResponse),
    /// acks=0 and everything was appended: send nothing.
    Silent,
    /// acks=0 and some partition failed: close the connection.
    Close,
}

/// Bytes before the `batchLength` field's coverage starts.
const LOG_OVERHEAD: usize = 12;

/// The request-level check of Kafka's `ProduceRequest.validateRecords`: exactly one batch,
/// magic 2, and zstd only from v7. Returns the batch.
fn single_batch(version: i16, records: &Bytes) -> Result<(BatchHeader, Bytes), ResponseError> {
    let length = records
        .get(8..12)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(i32::from_be_bytes);
    let Some(length) = length else {
        // Not even one batch's size: no batch at all.
        return Err(ResponseError::InvalidRecord);
    };
    let min = i32::try_from(BATCH_HEADER_LEN - LOG_OVERHEAD).unwrap_or(i32::MAX);
    if length < min {
        return Err(ResponseError::CorruptMessage);
    }
    let total = usize::try_from(length)
        .ok()
        .and_then(|l| l.checked_add(LOG_OVERHEAD))
        .ok_or(ResponseError::CorruptMessage)?;
    let batch = records.get(..total).ok_or(ResponseError::InvalidRecord)?;
    if total != records.len() {
        // A second batch (or trailing bytes) after the first.
        return Err(ResponseError::InvalidRecord);
    }
    let header = BatchHeader::parse(batch).map_err(|e| match e {
        BatchError::UnsupportedMagic(m) if (0..MAGIC_V2).contains(&m) => {
            ResponseError::InvalidRecord
        }
        _ => ResponseError::CorruptMessage,
    })?;
    match header.compression() {
        Ok(Compression::Zstd) if version < 7 => {
            return Err(ResponseError::UnsupportedCompressionType)
        }
        Ok(_) => {}
        Err(_) => return Err(ResponseError::UnsupportedCompressionType),
    }
    Ok((header, records.slice(..total)))
}

/// The log's checks of one batch from a client (Kafka's `analyzeAndValidateRecords` and
/// `LogValidator.validateBatch`/`validateRecord`).
fn validate_batch(
    header: &BatchHeader,
    batch: &[u8],
    max_message_bytes: i32,
    compacted: bool,
) -> Result<(), ResponseError> {
    let max = usize::try_from(max_message_bytes).unwrap_or(0);
    if header.total_size() > max {
        return Err(ResponseError::MessageTooLarge);
    }
    mockafka_protocol::batch::verify_crc(batch).map_err(|_| ResponseError::CorruptMessage)?;
    let count_from_offsets = i64::from(header.last_offset_delta) + 1;
    if header.record_count <= 0 || count_from_offsets != i64::from(header.record_count) {
        return Err(ResponseError::InvalidRecord);
    }
    if header.is_control() {
        return Err(ResponseError::InvalidRecord);
    }
    if header.producer_id >= 0 && header.base_sequence < 0 {
        return Err(ResponseError::InvalidRecord);
    }
    if header.is_transactional() {
        return Err(ResponseError::InvalidTxnState);
    }
    // Default limits: 64 MiB decompressed, 1 Mi records (a decompression bomb stops there).
    let decoded = RecordBatch::decode(batch, &DecodeLimits::default()).map_err(|e| match e {
        BatchError::Decompression(_) | BatchError::CorruptCrc { .. } | BatchError::Truncated => {
            ResponseError::CorruptMessage
        }
        BatchError::UnsupportedCompression(_) => ResponseError::UnsupportedCompressionType,
        _ => ResponseError::InvalidRecord,
    })?;
    if compacted && decoded.records.iter().any(|r| r.key.is_none()) {
        return Err(ResponseError::InvalidRecord);
    }
    Ok(())
}

/// The outcome for one partition.
pub(crate) struct Appended {
    pub(crate) base_offset: i64,
    log_append_time: i64,
    log_start_offset: i64,
}

/// A failed partition, with the leader to point the client at (v10+).
pub(crate) struct Failed {
    pub(crate) code: ResponseError,
    leader: Option<(i32, i32)>,
}

impl From<ResponseError> for Failed {
    fn from(code: ResponseError) -> Self {
        Self { code, leader: None }
    }
}

pub(crate) fn produce_partition(
    ctx: &RequestCtx<'_>,
    topic: &str,
    data: PartitionProduceData,
    acks: i16,
) -> Result<Appended, Failed> {
    let (partition, kind, max_bytes, compacted, min_isr) = {
        let topics = ctx.topics();
        let t = topics
            .get(topic)
            .ok_or(ResponseError::UnknownTopicOrPartition)?;
        let p = t
            .partition(data.index)
            .ok_or(ResponseError::UnknownTopicOrPartition)?
            .clone();
        let compacted = t
            .configs
            .get("cleanup.policy")
            .is_some_and(|v| v.contains("compact"));
        let min_isr = t
            .configs
            .get("min.insync.replicas")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(1);
        (
            p,
            t.timestamp_kind(),
            t.max_message_bytes(ctx.shared().config.message_max_bytes),
            compacted,
            min_isr,
        )
    };
    let records = data.records.unwrap_or_default();
    let (header, batch) = single_batch(ctx.version, &records)?;
    {
        let state = partition.lock();
        if state.deleted {
            return Err(ResponseError::UnknownTopicOrPartition.into());
        }
        if state.leader != ctx.broker_id {
            return Err(Failed {
                code: ResponseError::NotLeaderOrFollower,
                leader: Some((state.leader, state.leader_epoch)),
            });
        }
    }
    // Decoding (and decompressing) happens outside the partition lock.
    validate_batch(&header, &batch, max_bytes, compacted)?;
    // The in-sync replicas are the live brokers (each holds every partition).
    if acks == -1 && ctx.live_brokers().len() < min_isr {
        return Err(ResponseError::NotEnoughReplicas.into());
    }
    let now = ctx.now();
    let log_append_time = (kind == TimestampKind::LogAppendTime).then_some(now);
    let mut state = partition.lock();
    // Leadership may have moved while the batch was validated.
    if state.deleted {
        return Err(ResponseError::UnknownTopicOrPartition.into());
    }
    if state.leader != ctx.broker_id {
        return Err(Failed {
            code: ResponseError::NotLeaderOrFollower,
            leader: Some((state.leader, state.leader_epoch)),
        });
    }
    let idempotent = header.producer_id >= 0;
    let last_seq = last_sequence(header.base_sequence, header.last_offset_delta);
    if idempotent {
        let check = state.producers.check(
            header.producer_id,
            header.producer_epoch,
            header.base_sequence,
            last_seq,
        )?;
        if let SequenceCheck::Duplicate(dup) = check {
            return Ok(Appended {
                base_offset: dup.base_offset,
                log_append_time: dup.timestamp,
                log_start_offset: state.log.log_start_offset(),
            });
        }
    }
    let epoch = state.leader_epoch;
    let base_offset = state.log.append(
        BytesMut::from(&batch[..]),
        header.last_offset_delta,
        header.max_timestamp,
        epoch,
        log_append_time,
    )?;
    if idempotent {
        state.producers.record(
            header.producer_id,
            header.producer_epoch,
            BatchMeta {
                first_seq: header.base_sequence,
                last_seq,
                base_offset,
                timestamp: log_append_time.unwrap_or(header.max_timestamp),
            },
        );
    }
    let log_start_offset = state.log.log_start_offset();
    drop(state);
    partition.changed.notify_waiters();
    Ok(Appended {
        base_offset,
        log_append_time: log_append_time.unwrap_or(-1),
        log_start_offset,
    })
}

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: ProduceRequest) -> ProduceOutcome {
    let valid_acks = matches!(req.acks, -1..=1);
    let mut any_error = false;
    let mut leaders: Vec<i32> = Vec::new();
    let mut responses = Vec::with_capacity(req.topic_data.len());
    for topic in req.topic_data {
        let mut parts = Vec::with_capacity(topic.partition_data.len());
        for data in topic.partition_data {
            let index = data.index;
            let outcome = if valid_acks {
                produce_partition(ctx, &topic.name, data, req.acks)
            } else {
                Err(ResponseError::InvalidRequiredAcks.into())
            };
            let part = PartitionProduceResponse::default().with_index(index);
            parts.push(match outcome {
                Ok(a) => part
                    .with_base_offset(a.base_offset)
                    .with_log_append_time_ms(a.log_append_time)
                    .with_log_start_offset(a.log_start_offset),
                Err(f) => {
                    any_error = true;
                    let mut part = part
                        .with_error_code(f.code.code())
                        .with_base_offset(-1)
                        .with_log_append_time_ms(-1)
                        .with_log_start_offset(-1);
                    if let Some((leader, epoch)) = f.leader.filter(|&(l, _)| l >= 0) {
                        part = part.with_current_leader(
                            LeaderIdAndEpoch::default()
                                .with_leader_id(BrokerId(leader))
                                .with_leader_epoch(epoch),
                        );
                        if !leaders.contains(&leader) {
                            leaders.push(leader);
                        }
                    }
                    part
                }
            });
        }
        responses.push(
            TopicProduceResponse::default()
                .with_name(TopicName(topic.name.0))
                .with_partition_responses(parts),
        );
    }
    if req.acks == 0 {
        return if any_error {
            ProduceOutcome::Close
        } else {
            ProduceOutcome::Silent
        };
    }
    let mut resp = ProduceResponse::default().with_responses(responses);
    if ctx.version >= 10 && !leaders.is_empty() {
        let endpoints = ctx
            .live_brokers()
            .into_iter()
            .filter(|b| leaders.contains(&b.id))
            .map(|b| {
                NodeEndpoint::default()
                    .with_node_id(BrokerId(b.id))
                    .with_host(str_bytes(&b.host))
                    .with_port(i32::from(b.port))
            })
            .collect();
        resp = resp.with_node_endpoints(endpoints);
    }
    ProduceOutcome::Respond(resp)
}
