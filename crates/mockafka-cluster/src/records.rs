//! Decoded records of a partition, for inspection.

use mockafka_protocol::batch::{BatchHeader, DecodeLimits, RecordBatch};

use crate::cluster::{batch_view, Cluster};
use crate::error::ClusterError;
use crate::view::RecordView;

impl Cluster {
    /// The records of a partition from its log start offset on, decoded from the stored
    /// (possibly compressed) batches: offset, timestamp and type, key, value, headers and
    /// the batch's attributes. Records before the log start offset that share a batch with
    /// later ones are left out.
    ///
    /// # Errors
    /// [`ClusterError::Kafka`] with UNKNOWN_TOPIC_OR_PARTITION.
    pub fn records(&self, topic: &str, partition: i32) -> Result<Vec<RecordView>, ClusterError> {
        let p = self
            .shared()
            .topics()
            .partition(topic, partition)
            .map_err(|code| ClusterError::kafka(code, topic, Some(partition)))?;
        let (start, batches): (i64, Vec<bytes::Bytes>) = {
            let state = p.lock();
            (
                state.log.log_start_offset(),
                state.log.batches().map(|b| b.bytes.clone()).collect(),
            )
        };
        let mut out = Vec::new();
        for bytes in batches {
            let (Ok(header), Ok(batch)) = (
                BatchHeader::parse(&bytes),
                RecordBatch::decode(&bytes, &DecodeLimits::default()),
            ) else {
                continue;
            };
            let view = batch_view(&header);
            for r in batch.records.into_iter().filter(|r| r.offset >= start) {
                out.push(RecordView {
                    offset: r.offset,
                    timestamp: r.timestamp,
                    timestamp_type: batch.timestamp_type,
                    key: r.key,
                    value: r.value,
                    headers: r.headers.into_iter().map(|h| (h.key, h.value)).collect(),
                    batch: view.clone(),
                });
            }
        }
        Ok(out)
    }
}
