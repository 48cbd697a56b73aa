//! Idempotent producer state of one partition: per producer id, its epoch and the last
//! five batches appended (Kafka's `ProducerStateManager`).

use std::collections::{HashMap, VecDeque};

use kafka_protocol::ResponseError;

/// How many batches per producer and partition are remembered for duplicate detection
/// (Kafka's `NUM_BATCHES_TO_RETAIN`; also the client's max in-flight requests).
pub(crate) const BATCHES_RETAINED: usize = 5;

/// What Kafka remembers of an appended batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchMeta {
    pub(crate) first_seq: i32,
    pub(crate) last_seq: i32,
    pub(crate) base_offset: i64,
    pub(crate) timestamp: i64,
}

#[derive(Debug, Clone)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<BatchMeta>,
}

/// The verdict on an idempotent batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SequenceCheck {
    /// Append it.
    Append,
    /// A retry of a batch already appended: acknowledge it with its original offset.
    Duplicate(BatchMeta),
}

/// The last sequence number of a batch, wrapping as Kafka's `incrementSequence` does.
pub(crate) fn last_sequence(first_seq: i32, last_offset_delta: i32) -> i32 {
    if first_seq > i32::MAX - last_offset_delta {
        // Wraps past i32::MAX back to 0.
        last_offset_delta - (i32::MAX - first_seq) - 1
    } else {
        first_seq + last_offset_delta
    }
}

fn in_sequence(last_seq: i32, next_seq: i32) -> bool {
    (last_seq != i32::MAX && next_seq == last_seq + 1) || (next_seq == 0 && last_seq == i32::MAX)
}

/// Producer states of one partition.
#[derive(Debug, Default)]
pub(crate) struct ProducerStates {
    producers: HashMap<i64, ProducerEntry>,
}

impl ProducerStates {
    /// Checks a batch of `producer_id` at `epoch` with sequences `first_seq..=last_seq`,
    /// in Kafka's order: duplicate of a retained batch, then epoch, then sequence.
    ///
    /// # Errors
    /// INVALID_PRODUCER_EPOCH for an epoch older than the partition has seen;
    /// OUT_OF_ORDER_SEQUENCE_NUMBER for a gap or a repeat that is not a retained batch.
    pub(crate) fn check(
        &self,
        producer_id: i64,
        epoch: i16,
        first_seq: i32,
        last_seq: i32,
    ) -> Result<SequenceCheck, ResponseError> {
        let Some(entry) = self.producers.get(&producer_id) else {
            // Unknown producer (new, or its state was removed): any sequence is accepted,
            // as Kafka does since KIP-360.
            return Ok(SequenceCheck::Append);
        };
        if epoch == entry.epoch {
            if let Some(dup) = entry
                .batches
                .iter()
                .find(|b| b.first_seq == first_seq && b.last_seq == last_seq)
            {
                return Ok(SequenceCheck::Duplicate(*dup));
            }
        }
        if epoch < entry.epoch {
            return Err(ResponseError::InvalidProducerEpoch);
        }
        if epoch != entry.epoch {
            // A new epoch must start at sequence 0.
            return if first_seq == 0 {
                Ok(SequenceCheck::Append)
            } else {
                Err(ResponseError::OutOfOrderSequenceNumber)
            };
        }
        match entry.batches.back() {
            Some(last) if !in_sequence(last.last_seq, first_seq) => {
                Err(ResponseError::OutOfOrderSequenceNumber)
            }
            _ => Ok(SequenceCheck::Append),
        }
    }

    /// Records an appended batch (after [`Self::check`] said `Append`).
    pub(crate) fn record(&mut self, producer_id: i64, epoch: i16, meta: BatchMeta) {
        let entry = self
            .producers
            .entry(producer_id)
            .or_insert_with(|| ProducerEntry {
                epoch,
                batches: VecDeque::new(),
            });
        if entry.epoch != epoch {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        if entry.batches.len() == BATCHES_RETAINED {
            entry.batches.pop_front();
        }
        entry.batches.push_back(meta);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(first: i32, last: i32, offset: i64) -> BatchMeta {
        BatchMeta {
            first_seq: first,
            last_seq: last,
            base_offset: offset,
            timestamp: -1,
        }
    }

    #[test]
    fn sequences_must_follow_on() {
        let mut s = ProducerStates::default();
        assert_eq!(s.check(7, 0, 0, 2), Ok(SequenceCheck::Append));
        s.record(7, 0, meta(0, 2, 0));
        assert_eq!(s.check(7, 0, 3, 3), Ok(SequenceCheck::Append));
        assert_eq!(
            s.check(7, 0, 5, 5),
            Err(ResponseError::OutOfOrderSequenceNumber)
        );
        assert_eq!(
            s.check(7, 0, 1, 2),
            Err(ResponseError::OutOfOrderSequenceNumber)
        );
    }

    #[test]
    fn a_retained_batch_is_a_duplicate_with_its_offset() {
        let mut s = ProducerStates::default();
        for i in 0..6 {
            s.record(1, 0, meta(i, i, i64::from(i) * 10));
        }
        assert_eq!(
            s.check(1, 0, 3, 3),
            Ok(SequenceCheck::Duplicate(meta(3, 3, 30)))
        );
        // The oldest of six fell out of the five retained.
        assert_eq!(
            s.check(1, 0, 0, 0),
            Err(ResponseError::OutOfOrderSequenceNumber)
        );
    }

    #[test]
    fn epochs_fence_and_reset() {
        let mut s = ProducerStates::default();
        s.record(1, 3, meta(0, 4, 0));
        assert_eq!(
            s.check(1, 2, 5, 5),
            Err(ResponseError::InvalidProducerEpoch)
        );
        assert_eq!(
            s.check(1, 4, 5, 5),
            Err(ResponseError::OutOfOrderSequenceNumber)
        );
        assert_eq!(s.check(1, 4, 0, 0), Ok(SequenceCheck::Append));
        s.record(1, 4, meta(0, 0, 5));
        assert_eq!(s.check(1, 4, 1, 1), Ok(SequenceCheck::Append));
    }

    #[test]
    fn sequences_wrap_at_i32_max() {
        assert_eq!(last_sequence(i32::MAX, 0), i32::MAX);
        assert_eq!(last_sequence(i32::MAX, 1), 0);
        assert_eq!(last_sequence(i32::MAX - 1, 3), 1);
        let mut s = ProducerStates::default();
        s.record(1, 0, meta(i32::MAX - 1, i32::MAX, 0));
        assert_eq!(s.check(1, 0, 0, 0), Ok(SequenceCheck::Append));
    }
}
