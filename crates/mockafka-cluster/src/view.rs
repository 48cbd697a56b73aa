//! Inspection types: what a test reads from the cluster without a consumer.

use std::collections::BTreeMap;

use bytes::Bytes;
use kafka_protocol::messages::BrokerId;
use mockafka_protocol::batch::{Compression, TimestampType};
use uuid::Uuid;

/// A broker as [`crate::Cluster::brokers`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerView {
    /// Broker id.
    pub id: BrokerId,
    /// Advertised host.
    pub host: String,
    /// Listener port (kept across a stop and restart).
    pub port: u16,
    /// Whether its listener is open.
    pub running: bool,
}

/// A topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicView {
    /// Name.
    pub name: String,
    /// Topic id (Metadata v10+).
    pub id: Uuid,
    /// Partitions, by index.
    pub partitions: Vec<PartitionView>,
    /// Configs set explicitly (everything else is at Kafka's default).
    pub configs: BTreeMap<String, String>,
}

/// A partition's leadership and offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionView {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
    /// Leader, or `None` while no broker is live.
    pub leader: Option<BrokerId>,
    /// Leader epoch, starting at 0 and bumped by every leader change.
    pub leader_epoch: i32,
    /// Log start offset (moved by DeleteRecords).
    pub log_start_offset: i64,
    /// High watermark (every replica is in sync, so also the log end offset).
    pub high_watermark: i64,
    /// Bytes of record batches retained, as stored (compressed).
    pub retained_bytes: usize,
}

/// The header fields of a stored batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchView {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Offset of the last record.
    pub last_offset: i64,
    /// Leader epoch the batch was appended in.
    pub partition_leader_epoch: i32,
    /// Codec, as the producer sent it (`None` for an undefined codec id, never stored).
    pub compression: Option<Compression>,
    /// Create time or log-append time.
    pub timestamp_type: TimestampType,
    /// Transactional bit.
    pub transactional: bool,
    /// Control bit.
    pub control: bool,
    /// Producer id (-1 for a non-idempotent producer).
    pub producer_id: i64,
    /// Producer epoch.
    pub producer_epoch: i16,
    /// Sequence number of the first record (-1 for a non-idempotent producer).
    pub base_sequence: i32,
    /// Timestamp of the first record.
    pub base_timestamp: i64,
    /// Largest timestamp in the batch (the log-append time for LogAppendTime topics).
    pub max_timestamp: i64,
    /// Number of records.
    pub record_count: i32,
    /// Bytes of the batch as stored.
    pub size_bytes: usize,
}

/// One record of a partition, decoded from its stored batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView {
    /// Offset.
    pub offset: i64,
    /// Timestamp (the log-append time for LogAppendTime topics).
    pub timestamp: i64,
    /// How the timestamp was set.
    pub timestamp_type: TimestampType,
    /// Key.
    pub key: Option<Bytes>,
    /// Value.
    pub value: Option<Bytes>,
    /// Headers, in order, duplicates kept.
    pub headers: Vec<(String, Option<Bytes>)>,
    /// The batch it was stored in.
    pub batch: BatchView,
}
