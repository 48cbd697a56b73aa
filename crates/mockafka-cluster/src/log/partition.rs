//! One partition's log: record batches as the producer sent them, offsets, the log start
//! offset, and the leader epoch cache.
//!
//! Every replica is in sync at once (the cluster holds one copy), so the high watermark is
//! the log end offset.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use kafka_protocol::ResponseError;
use mockafka_protocol::batch;

/// Kafka's "no epoch" value.
pub(crate) const UNDEFINED_EPOCH: i32 = -1;

/// One stored batch. `bytes` is the whole batch (from base offset to the end), with the
/// offsets and leader epoch of the log written in.
#[derive(Debug, Clone)]
pub(crate) struct StoredBatch {
    pub(crate) last_offset: i64,
    pub(crate) max_timestamp: i64,
    pub(crate) leader_epoch: i32,
    pub(crate) bytes: Bytes,
}

/// What a read returned: whole batches, in offset order.
#[derive(Debug, Default)]
pub(crate) struct ReadBatches {
    pub(crate) batches: Vec<Bytes>,
    pub(crate) bytes: usize,
}

impl ReadBatches {
    /// The batches as one record set (no copy when there is exactly one).
    pub(crate) fn into_records(self) -> Bytes {
        match self.batches.len() {
            0 => Bytes::new(),
            1 => self.batches.into_iter().next().unwrap_or_default(),
            _ => {
                let mut out = BytesMut::with_capacity(self.bytes);
                for b in &self.batches {
                    out.extend_from_slice(b);
                }
                out.freeze()
            }
        }
    }
}

/// A partition log. See the module docs.
#[derive(Debug)]
pub(crate) struct PartitionLog {
    batches: VecDeque<StoredBatch>,
    log_start_offset: i64,
    log_end_offset: i64,
    /// Leader epoch cache: (epoch, start offset), both strictly ascending.
    epochs: Vec<(i32, i64)>,
    retained_bytes: usize,
}

impl PartitionLog {
    /// An empty log whose first leader has `epoch`.
    pub(crate) fn new(epoch: i32) -> Self {
        Self {
            batches: VecDeque::new(),
            log_start_offset: 0,
            log_end_offset: 0,
            epochs: vec![(epoch, 0)],
            retained_bytes: 0,
        }
    }

    pub(crate) fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    /// The high watermark, equal to the log end offset.
    pub(crate) fn high_watermark(&self) -> i64 {
        self.log_end_offset
    }

    /// Bytes of batches retained.
    pub(crate) fn retained_bytes(&self) -> usize {
        self.retained_bytes
    }

    /// The stored batches, oldest first.
    pub(crate) fn batches(&self) -> impl Iterator<Item = &StoredBatch> {
        self.batches.iter()
    }

    /// Records that a new leader epoch starts at the log end offset (Kafka does this when
    /// a replica becomes leader). Entries with a later or equal start are replaced.
    pub(crate) fn begin_epoch(&mut self, epoch: i32) {
        let start = self.log_end_offset;
        self.epochs.retain(|&(e, s)| e < epoch && s < start);
        self.epochs.push((epoch, start));
    }

    /// Appends one validated batch: writes its base offset and leader epoch (outside the
    /// CRC) and, when `log_append_time` is given, the LogAppendTime timestamp (CRC
    /// recomputed). Returns the stored batch's base offset.
    ///
    /// # Errors
    /// INVALID_RECORD if the bytes are not a whole batch (callers validate first).
    pub(crate) fn append(
        &mut self,
        mut bytes: BytesMut,
        last_offset_delta: i32,
        max_timestamp: i64,
        leader_epoch: i32,
        log_append_time: Option<i64>,
    ) -> Result<i64, ResponseError> {
        let base = self.log_end_offset;
        let last = base
            .checked_add(i64::from(last_offset_delta))
            .ok_or(ResponseError::InvalidRecord)?;
        let next = last.checked_add(1).ok_or(ResponseError::InvalidRecord)?;
        batch::set_base_offset(&mut bytes, base).map_err(|_| ResponseError::InvalidRecord)?;
        batch::set_partition_leader_epoch(&mut bytes, leader_epoch)
            .map_err(|_| ResponseError::InvalidRecord)?;
        let max_timestamp = match log_append_time {
            Some(now) => {
                batch::set_log_append_time(&mut bytes, now)
                    .map_err(|_| ResponseError::InvalidRecord)?;
                now
            }
            None => max_timestamp,
        };
        self.retained_bytes = self.retained_bytes.saturating_add(bytes.len());
        self.batches.push_back(StoredBatch {
            last_offset: last,
            max_timestamp,
            leader_epoch,
            bytes: bytes.freeze(),
        });
        self.log_end_offset = next;
        Ok(base)
    }

    /// Index of the first batch holding offsets at or after `offset`.
    fn index_for(&self, offset: i64) -> usize {
        self.batches.partition_point(|b| b.last_offset < offset)
    }

    /// Whole batches from the one holding `offset`, up to `max_bytes`; the first batch is
    /// returned even when larger if `min_one`.
    ///
    /// # Errors
    /// OFFSET_OUT_OF_RANGE when `offset` lies before the log start or after the end.
    pub(crate) fn read(
        &self,
        offset: i64,
        max_bytes: usize,
        min_one: bool,
    ) -> Result<ReadBatches, ResponseError> {
        if offset < self.log_start_offset || offset > self.log_end_offset {
            return Err(ResponseError::OffsetOutOfRange);
        }
        let mut out = ReadBatches::default();
        for b in self.batches.iter().skip(self.index_for(offset)) {
            let size = b.bytes.len();
            let fits = out.bytes.saturating_add(size) <= max_bytes;
            let first_anyway = min_one && out.batches.is_empty();
            if !(fits || first_anyway) {
                break;
            }
            out.bytes = out.bytes.saturating_add(size);
            out.batches.push(b.bytes.clone());
        }
        Ok(out)
    }

    /// Stored batches holding offsets at or after `offset`.
    pub(crate) fn batches_from(&self, offset: i64) -> impl Iterator<Item = &StoredBatch> {
        self.batches.iter().skip(self.index_for(offset))
    }

    /// Moves the log start offset to `offset` (DeleteRecords), dropping whole batches that
    /// lie before it. Returns the new log start offset (the low watermark).
    ///
    /// # Errors
    /// OFFSET_OUT_OF_RANGE when `offset` is past the high watermark.
    pub(crate) fn delete_before(&mut self, offset: i64) -> Result<i64, ResponseError> {
        if offset < 0 || offset > self.log_end_offset {
            return Err(ResponseError::OffsetOutOfRange);
        }
        if offset <= self.log_start_offset {
            return Ok(self.log_start_offset);
        }
        while self.batches.front().is_some_and(|b| b.last_offset < offset) {
            if let Some(b) = self.batches.pop_front() {
                self.retained_bytes = self.retained_bytes.saturating_sub(b.bytes.len());
            }
        }
        self.log_start_offset = offset;
        // Truncate the epoch cache from the start, as Kafka does: the entry covering the new
        // log start now starts there, and earlier entries go.
        if let Some(keep) = self.epochs.iter().rposition(|&(_, s)| s <= offset) {
            self.epochs.drain(..keep);
            if let Some(first) = self.epochs.first_mut() {
                first.1 = offset;
            }
        }
        Ok(offset)
    }

    /// The latest leader epoch in the cache.
    pub(crate) fn latest_epoch(&self) -> i32 {
        self.epochs.last().map_or(UNDEFINED_EPOCH, |&(e, _)| e)
    }

    /// The epoch whose range holds `offset`.
    pub(crate) fn epoch_for_offset(&self, offset: i64) -> i32 {
        self.epochs
            .iter()
            .rev()
            .find(|&&(_, s)| s <= offset)
            .map_or(UNDEFINED_EPOCH, |&(e, _)| e)
    }

    /// OffsetForLeaderEpoch: the largest epoch at most `requested` and the offset where it
    /// ends, exactly as Kafka's leader epoch cache answers.
    pub(crate) fn end_offset_for_epoch(&self, requested: i32) -> (i32, i64) {
        if requested == UNDEFINED_EPOCH {
            return (UNDEFINED_EPOCH, -1);
        }
        if requested == self.latest_epoch() {
            return (requested, self.log_end_offset);
        }
        let Some(&(_, higher_start)) = self.epochs.iter().find(|&&(e, _)| e > requested) else {
            return (UNDEFINED_EPOCH, -1);
        };
        match self.epochs.iter().rev().find(|&&(e, _)| e <= requested) {
            Some(&(floor, _)) => (floor, higher_start),
            None => (requested, higher_start),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mockafka_protocol::batch::{BatchHeader, DecodeLimits, Record, RecordBatch};

    fn batch(n: usize) -> (BytesMut, i32) {
        let records = (0..n)
            .map(|i| Record {
                offset: i64::try_from(i).unwrap_or(0),
                timestamp: 100,
                key: None,
                value: Some(bytes::Bytes::from_static(b"value")),
                headers: Vec::new(),
            })
            .collect();
        let mut out = BytesMut::new();
        RecordBatch::new(records).encode(&mut out).unwrap();
        let delta = BatchHeader::parse(&out).unwrap().last_offset_delta;
        (out, delta)
    }

    fn log_with(sizes: &[usize]) -> PartitionLog {
        let mut log = PartitionLog::new(0);
        for &n in sizes {
            let (b, d) = batch(n);
            log.append(b, d, 100, log.latest_epoch(), None).unwrap();
        }
        log
    }

    #[test]
    fn appends_assign_offsets_and_write_them_into_the_batch() {
        let log = log_with(&[3, 2]);
        assert_eq!(log.high_watermark(), 5);
        let stored: Vec<_> = log.batches().collect();
        let second = BatchHeader::parse(&stored[1].bytes).unwrap();
        assert_eq!((second.base_offset, second.partition_leader_epoch), (3, 0));
        // Offsets and epoch lie outside the CRC: the batch still decodes.
        let decoded = RecordBatch::decode(&stored[1].bytes, &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.records[1].offset, 4);
    }

    #[test]
    fn log_append_time_rewrites_timestamps_and_crc() {
        let mut log = PartitionLog::new(0);
        let (b, d) = batch(2);
        log.append(b, d, 100, 0, Some(777)).unwrap();
        let stored = log.batches().next().unwrap();
        assert_eq!(stored.max_timestamp, 777);
        let decoded = RecordBatch::decode(&stored.bytes, &DecodeLimits::default()).unwrap();
        assert!(decoded.records.iter().all(|r| r.timestamp == 777));
    }

    #[test]
    fn reads_return_whole_batches_within_limits_and_at_least_one() {
        let log = log_with(&[3, 3, 3]);
        let size = log.batches().next().unwrap().bytes.len();
        assert_eq!(log.read(4, usize::MAX, false).unwrap().batches.len(), 2);
        assert_eq!(log.read(0, size * 2, false).unwrap().batches.len(), 2);
        assert_eq!(log.read(0, 1, true).unwrap().batches.len(), 1);
        assert_eq!(log.read(0, 1, false).unwrap().batches.len(), 0);
        assert_eq!(log.read(9, usize::MAX, true).unwrap().bytes, 0);
        assert_eq!(
            log.read(10, 1, true).unwrap_err(),
            ResponseError::OffsetOutOfRange
        );
        assert_eq!(
            log.read(-1, 1, true).unwrap_err(),
            ResponseError::OffsetOutOfRange
        );
    }

    #[test]
    fn delete_before_moves_the_log_start_and_drops_whole_batches() {
        let mut log = log_with(&[3, 3]);
        assert_eq!(log.delete_before(4), Ok(4));
        assert_eq!(log.batches().count(), 1);
        assert_eq!(
            log.read(3, 10, true).unwrap_err(),
            ResponseError::OffsetOutOfRange
        );
        assert_eq!(log.read(4, usize::MAX, true).unwrap().batches.len(), 1);
        assert_eq!(log.delete_before(2), Ok(4));
        assert_eq!(log.delete_before(7), Err(ResponseError::OffsetOutOfRange));
        assert_eq!(log.delete_before(6), Ok(6));
        assert_eq!(log.batches().count(), 0);
        assert_eq!(log.retained_bytes(), 0);
    }

    #[test]
    fn the_epoch_cache_answers_as_kafkas() {
        let mut log = log_with(&[2]);
        log.begin_epoch(1);
        let (b, d) = batch(3);
        log.append(b, d, 100, 1, None).unwrap();
        log.begin_epoch(3);
        // Epoch 3 starts at 5 with no records yet; a new epoch at the same offset replaces it.
        log.begin_epoch(4);
        assert_eq!(log.latest_epoch(), 4);
        assert_eq!(log.end_offset_for_epoch(0), (0, 2));
        assert_eq!(log.end_offset_for_epoch(1), (1, 5));
        assert_eq!(log.end_offset_for_epoch(3), (1, 5));
        assert_eq!(log.end_offset_for_epoch(4), (4, 5));
        assert_eq!(log.end_offset_for_epoch(9), (-1, -1));
        assert_eq!(log.end_offset_for_epoch(-1), (-1, -1));
        assert_eq!(log.epoch_for_offset(1), 0);
        assert_eq!(log.epoch_for_offset(3), 1);
        log.delete_before(3).unwrap();
        assert_eq!(log.epoch_for_offset(3), 1);
        assert_eq!(log.end_offset_for_epoch(0), (0, 3));
    }
}
