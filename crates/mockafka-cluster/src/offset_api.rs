//! The cluster's offset logic as synchronous calls, with no socket in between: append a
//! batch, commit an offset, list an offset, see what a fetch returns. Each call runs the
//! same code as the request it stands for (Produce, OffsetCommit, ListOffsets, Fetch) on
//! the broker that serves it (the partition's leader, the group's coordinator), at the
//! highest version served, so its answers are the handlers' own. Fast property tests of
//! the offset rules use them (tests/e2e/offset_logic_props.rs).

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::produce_request::PartitionProduceData;
use kafka_protocol::messages::{
    BrokerId, GroupId, ListOffsetsRequest, OffsetCommitRequest, TopicName,
};
use kafka_protocol::ResponseError;
use mockafka_protocol::batch::{decode_all, DecodeLimits, RecordBatch};

use crate::cluster::Cluster;
use crate::dispatch::RequestCtx;
use crate::error::ClusterError;
use crate::fetch_session::PartitionRequest;
use crate::handlers::fetch::{read_all, Target, READ_UNCOMMITTED};
use crate::handlers::{list_offsets, offset_commit, produce, str_bytes};

const PRODUCE_VERSION: i16 = 11;
const OFFSET_COMMIT_VERSION: i16 = 8;
const LIST_OFFSETS_VERSION: i16 = 7;
const FETCH_VERSION: i16 = 12;

/// Which offset [`Cluster::list_offset`] looks up, as ListOffsets' timestamp field says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset (timestamp -2).
    Earliest,
    /// The high watermark (timestamp -1).
    Latest,
    /// The first record whose timestamp is at least this many ms since the epoch.
    Timestamp(i64),
}

impl OffsetSpec {
    fn timestamp(self) -> i64 {
        match self {
            Self::Earliest => -2,
            Self::Latest => -1,
            Self::Timestamp(ms) => ms,
        }
    }
}

fn kafka_error(code: i16, topic: &str, partition: i32) -> Option<ClusterError> {
    if code == 0 {
        return None;
    }
    let e = ResponseError::try_from_code(code).unwrap_or(ResponseError::UnknownServerError);
    Some(ClusterError::kafka(e, topic, Some(partition)))
}

impl Cluster {
    /// The partition's leader, or -1 for an unknown partition (the handlers then answer
    /// UNKNOWN_TOPIC_OR_PARTITION themselves).
    fn leader_of(&self, topic: &str, partition: i32) -> i32 {
        self.shared()
            .topics()
            .partition(topic, partition)
            .map_or(-1, |p| p.lock().leader)
    }

    /// Appends `records` to a partition as a Produce request (acks=-1) to its leader
    /// does, with every check of the Produce path (batch size, CRC, record count,
    /// idempotent sequence, `min.insync.replicas`, keys on compacted topics). Returns the
    /// base offset the batch was written at.
    ///
    /// # Errors
    /// [`ClusterError::Kafka`] with the code Produce answers: UNKNOWN_TOPIC_OR_PARTITION,
    /// NOT_LEADER_OR_FOLLOWER (no live leader), MESSAGE_TOO_LARGE, INVALID_RECORD,
    /// NOT_ENOUGH_REPLICAS, OUT_OF_ORDER_SEQUENCE_NUMBER, ...
    pub fn append(
        &self,
        topic: &str,
        partition: i32,
        records: &RecordBatch,
    ) -> Result<i64, ClusterError> {
        let mut bytes = BytesMut::new();
        records.encode(&mut bytes).map_err(|_| {
            ClusterError::kafka(ResponseError::InvalidRecord, topic, Some(partition))
        })?;
        let leader = self.leader_of(topic, partition);
        let ctx = RequestCtx::internal(self.shared(), leader, PRODUCE_VERSION);
        let data = PartitionProduceData::default()
            .with_index(partition)
            .with_records(Some(bytes.freeze()));
        produce::produce_partition(&ctx, topic, data, -1)
            .map(|a| a.base_offset)
            .map_err(|f| ClusterError::kafka(f.code, topic, Some(partition)))
    }

    /// Commits `offset` for `group` as a simple OffsetCommit (generation -1, no member id,
    /// no metadata) to the group's coordinator: accepted for any offset, also one outside
    /// the log, while the group has no members.
    ///
    /// # Errors
    /// [`ClusterError::Kafka`] with the code OffsetCommit answers for the partition:
    /// UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION while the group
    /// has members, COORDINATOR_NOT_AVAILABLE, ...
    pub fn commit_offset(
        &self,
        group: &str,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<(), ClusterError> {
        let coordinator = self.shared().groups.read(|c| c.coordinator_for(group));
        let ctx = RequestCtx::internal(self.shared(), coordinator, OFFSET_COMMIT_VERSION);
        let req = OffsetCommitRequest::default()
            .with_group_id(GroupId(str_bytes(group)))
            .with_generation_id_or_member_epoch(-1)
            .with_member_id(str_bytes(""))
            .with_topics(vec![OffsetCommitRequestTopic::default()
                .with_name(TopicName(str_bytes(topic)))
                .with_partitions(vec![OffsetCommitRequestPartition::default()
                    .with_partition_index(partition)
                    .with_committed_offset(offset)
                    .with_committed_leader_epoch(-1)
                    .with_committed_metadata(Some(str_bytes("")))])]);
        let resp = offset_commit::handle(&ctx, req);
        let code = resp
            .topics
            .first()
            .and_then(|t| t.partitions.first())
            .map_or(ResponseError::UnknownServerError.code(), |p| p.error_code);
        kafka_error(code, topic, partition).map_or(Ok(()), Err)
    }

    /// The offset ListOffsets answers for a partition (asked of its leader): the log start
    /// offset, the high watermark, or the first offset whose record timestamp is at least
    /// the one given (-1 when there is none).
    ///
    /// # Errors
    /// [`ClusterError::Kafka`] with UNKNOWN_TOPIC_OR_PARTITION or NOT_LEADER_OR_FOLLOWER
    /// (no live leader).
    pub fn list_offset(
        &self,
        topic: &str,
        partition: i32,
        spec: OffsetSpec,
    ) -> Result<i64, ClusterError> {
        let leader = self.leader_of(topic, partition);
        let ctx = RequestCtx::internal(self.shared(), leader, LIST_OFFSETS_VERSION);
        let req = ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(TopicName(str_bytes(topic)))
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(partition)
                    .with_current_leader_epoch(-1)
                    .with_timestamp(spec.timestamp())])]);
        let resp = list_offsets::handle(&ctx, req);
        let part = resp
            .topics
            .first()
            .and_then(|t| t.partitions.first())
            .ok_or_else(|| {
                ClusterError::kafka(ResponseError::UnknownServerError, topic, Some(partition))
            })?;
        match kafka_error(part.error_code, topic, partition) {
            Some(e) => Err(e),
            None => Ok(part.offset),
        }
    }

    /// The offsets of the records a Fetch at `offset` (to the partition's leader, no size
    /// limit, no wait) returns, in order. Fetch returns whole batches, so the first ones
    /// may lie before `offset` (a consumer skips them); at the high watermark there are
    /// none.
    ///
    /// # Errors
    /// [`ClusterError::Kafka`] with OFFSET_OUT_OF_RANGE when `offset` lies outside
    /// [log start offset, high watermark], UNKNOWN_TOPIC_OR_PARTITION, or
    /// NOT_LEADER_OR_FOLLOWER (no live leader).
    pub fn fetch_offsets(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<Vec<i64>, ClusterError> {
        let leader = self.leader_of(topic, partition);
        let ctx = RequestCtx::internal(self.shared(), leader, FETCH_VERSION);
        let target = Target {
            topic: TopicName(str_bytes(topic)),
            request: PartitionRequest {
                topic: topic.to_owned(),
                partition,
                fetch_offset: offset,
                max_bytes: i32::MAX,
                current_leader_epoch: -1,
                last_fetched_epoch: -1,
            },
            partition: self.shared().topics().partition(topic, partition).ok(),
        };
        let read = read_all(&ctx, &[target], usize::MAX, READ_UNCOMMITTED);
        let (_, data) = read.partitions.into_iter().next().ok_or_else(|| {
            ClusterError::kafka(ResponseError::UnknownServerError, topic, Some(partition))
        })?;
        if let Some(e) = kafka_error(data.error_code, topic, partition) {
            return Err(e);
        }
        let records: Bytes = data.records.unwrap_or_default();
        let batches = decode_all(&records, &DecodeLimits::default()).map_err(|_| {
            ClusterError::kafka(ResponseError::CorruptMessage, topic, Some(partition))
        })?;
        Ok(batches
            .into_iter()
            .flat_map(|b| b.records.into_iter().map(|r| r.offset))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mockafka_protocol::batch::Record;

    fn batch(n: i64, timestamp: i64) -> RecordBatch {
        RecordBatch::new(
            (0..n)
                .map(|i| Record {
                    offset: i,
                    timestamp: timestamp + i,
                    key: None,
                    value: Some(Bytes::from(format!("v{i}"))),
                    headers: Vec::new(),
                })
                .collect(),
        )
    }

    fn code(r: Result<impl std::fmt::Debug, ClusterError>) -> Option<ResponseError> {
        r.err().and_then(|e| e.code())
    }

    async fn cluster() -> Cluster {
        Cluster::builder()
            .brokers(2)
            .topic("t", 2)
            .start()
            .await
            .expect("cluster starts")
    }

    #[tokio::test(flavor = "current_thread")]
    async fn append_returns_consecutive_base_offsets() {
        let c = cluster().await;
        assert_eq!(c.append("t", 1, &batch(3, 1_000)).ok(), Some(0));
        assert_eq!(c.append("t", 1, &batch(2, 1_000)).ok(), Some(3));
        let p = c.partition("t", 1).expect("partition");
        assert_eq!(p.high_watermark, 5);
        let values: Vec<_> = c
            .records("t", 1)
            .expect("records")
            .into_iter()
            .map(|r| r.offset)
            .collect();
        assert_eq!(values, vec![0, 1, 2, 3, 4]);
        assert_eq!(
            code(c.append("t", 7, &batch(1, 0))),
            Some(ResponseError::UnknownTopicOrPartition)
        );
        assert_eq!(
            code(c.append("t", 0, &RecordBatch::new(Vec::new()))),
            Some(ResponseError::InvalidRecord)
        );
        c.shutdown().await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn commit_offset_is_a_simple_commit() {
        let c = cluster().await;
        // Any offset, also one past the log.
        c.commit_offset("g", "t", 0, 42).expect("commit");
        assert_eq!(c.committed_offset("g", "t", 0).map(|o| o.offset), Some(42));
        c.commit_offset("g", "t", 0, 3).expect("commit again");
        assert_eq!(c.committed_offset("g", "t", 0).map(|o| o.offset), Some(3));
        assert_eq!(
            code(c.commit_offset("g", "nope", 0, 1)),
            Some(ResponseError::UnknownTopicOrPartition)
        );
        assert_eq!(
            code(c.commit_offset("g", "t", 2, 1)),
            Some(ResponseError::UnknownTopicOrPartition)
        );
        c.shutdown().await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn list_offset_answers_earliest_latest_and_by_timestamp() {
        let c = cluster().await;
        assert_eq!(c.list_offset("t", 0, OffsetSpec::Earliest).ok(), Some(0));
        assert_eq!(c.list_offset("t", 0, OffsetSpec::Latest).ok(), Some(0));
        assert_eq!(
            c.list_offset("t", 0, OffsetSpec::Timestamp(0)).ok(),
            Some(-1)
        );
        c.append("t", 0, &batch(4, 1_000)).expect("append");
        c.append("t", 0, &batch(4, 2_000)).expect("append");
        c.delete_records("t", 0, 2).expect("delete");
        assert_eq!(c.list_offset("t", 0, OffsetSpec::Earliest).ok(), Some(2));
        assert_eq!(c.list_offset("t", 0, OffsetSpec::Latest).ok(), Some(8));
        // Timestamps 1000..=1003 at 0..=3 (0, 1 deleted), 2000..=2003 at 4..=7.
        assert_eq!(
            c.list_offset("t", 0, OffsetSpec::Timestamp(0)).ok(),
            Some(2)
        );
        assert_eq!(
            c.list_offset("t", 0, OffsetSpec::Timestamp(1_003)).ok(),
            Some(3)
        );
        assert_eq!(
            c.list_offset("t", 0, OffsetSpec::Timestamp(1_500)).ok(),
            Some(4)
        );
        assert_eq!(
            c.list_offset("t", 0, OffsetSpec::Timestamp(2_003)).ok(),
            Some(7)
        );
        assert_eq!(
            c.list_offset("t", 0, OffsetSpec::Timestamp(9_000)).ok(),
            Some(-1)
        );
        assert_eq!(
            code(c.list_offset("u", 0, OffsetSpec::Latest)),
            Some(ResponseError::UnknownTopicOrPartition)
        );
        c.shutdown().await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn fetch_offsets_is_out_of_range_exactly_outside_the_log() {
        let c = cluster().await;
        assert_eq!(c.fetch_offsets("t", 1, 0).ok(), Some(Vec::new()));
        assert_eq!(
            code(c.fetch_offsets("t", 1, 1)),
            Some(ResponseError::OffsetOutOfRange)
        );
        c.append("t", 1, &batch(3, 0)).expect("append");
        c.append("t", 1, &batch(2, 0)).expect("append");
        assert_eq!(c.fetch_offsets("t", 1, 0).ok(), Some(vec![0, 1, 2, 3, 4]));
        // Whole batches: a fetch inside the first one returns it whole.
        assert_eq!(c.fetch_offsets("t", 1, 1).ok(), Some(vec![0, 1, 2, 3, 4]));
        assert_eq!(c.fetch_offsets("t", 1, 3).ok(), Some(vec![3, 4]));
        assert_eq!(c.fetch_offsets("t", 1, 5).ok(), Some(Vec::new()));
        assert_eq!(
            code(c.fetch_offsets("t", 1, 6)),
            Some(ResponseError::OffsetOutOfRange)
        );
        c.delete_records("t", 1, 4).expect("delete");
        assert_eq!(
            code(c.fetch_offsets("t", 1, 3)),
            Some(ResponseError::OffsetOutOfRange)
        );
        assert_eq!(c.fetch_offsets("t", 1, 4).ok(), Some(vec![3, 4]));
        assert_eq!(
            code(c.fetch_offsets("t", 9, 0)),
            Some(ResponseError::UnknownTopicOrPartition)
        );
        c.shutdown().await;
    }
}
