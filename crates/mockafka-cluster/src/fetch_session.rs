//! Incremental fetch sessions (KIP-227), as Kafka's `FetchSessionCache` keeps them: per
//! broker, a session remembers the partitions a client fetches, their fetch positions and
//! the high watermark and log start offset last sent, so that later fetches list only what
//! changed and answers carry only partitions with news.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

/// Kafka's `max.incremental.fetch.session.cache.slots` default.
pub(crate) const MAX_SESSIONS: usize = 1000;
/// Kafka's `min.incremental.fetch.session.eviction.ms` default.
const EVICTION_AGE: Duration = Duration::from_secs(120);

/// The epoch after `epoch`, wrapping past `i32::MAX` to 1 as Kafka's `nextEpoch`.
pub(crate) fn next_epoch(epoch: i32) -> i32 {
    if epoch < 0 {
        -1
    } else if epoch == i32::MAX {
        1
    } else {
        epoch + 1
    }
}

/// What a session remembers of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CachedPartition {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) fetch_offset: i64,
    pub(crate) max_bytes: i32,
    pub(crate) current_leader_epoch: i32,
    pub(crate) last_fetched_epoch: i32,
    /// High watermark last sent (-1 after an error, so the next answer includes it).
    pub(crate) high_watermark: i64,
    /// Log start offset last sent.
    pub(crate) log_start_offset: i64,
}

/// The fetch position a client sends for one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionRequest {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) fetch_offset: i64,
    pub(crate) max_bytes: i32,
    pub(crate) current_leader_epoch: i32,
    pub(crate) last_fetched_epoch: i32,
}

/// What one partition's answer says, for deciding whether it goes into an incremental
/// response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartitionAnswer {
    pub(crate) has_records: bool,
    pub(crate) error: bool,
    pub(crate) diverging: bool,
    pub(crate) high_watermark: i64,
    pub(crate) log_start_offset: i64,
}

impl CachedPartition {
    fn new(req: &PartitionRequest, answer: &PartitionAnswer) -> Self {
        let mut p = Self {
            topic: req.topic.clone(),
            partition: req.partition,
            fetch_offset: req.fetch_offset,
            max_bytes: req.max_bytes,
            current_leader_epoch: req.current_leader_epoch,
            last_fetched_epoch: req.last_fetched_epoch,
            high_watermark: -1,
            log_start_offset: -1,
        };
        p.must_respond(answer);
        p
    }

    fn update(&mut self, req: &PartitionRequest) {
        self.fetch_offset = req.fetch_offset;
        self.max_bytes = req.max_bytes;
        self.current_leader_epoch = req.current_leader_epoch;
        self.last_fetched_epoch = req.last_fetched_epoch;
    }

    /// Whether an incremental response must carry this partition (new records, a changed
    /// high watermark or log start offset, an error, a diverging epoch); remembers what
    /// was sent.
    fn must_respond(&mut self, a: &PartitionAnswer) -> bool {
        let mut must = a.has_records || a.diverging;
        if self.high_watermark != a.high_watermark {
            must = true;
            self.high_watermark = a.high_watermark;
        }
        if self.log_start_offset != a.log_start_offset {
            must = true;
            self.log_start_offset = a.log_start_offset;
        }
        if a.error {
            // Re-send once the error is gone.
            self.high_watermark = -1;
            must = true;
        }
        must
    }

    pub(crate) fn request(&self) -> PartitionRequest {
        PartitionRequest {
            topic: self.topic.clone(),
            partition: self.partition,
            fetch_offset: self.fetch_offset,
            max_bytes: self.max_bytes,
            current_leader_epoch: self.current_leader_epoch,
            last_fetched_epoch: self.last_fetched_epoch,
        }
    }
}

/// One session.
#[derive(Debug)]
pub(crate) struct FetchSession {
    /// The epoch the next request must carry.
    pub(crate) epoch: i32,
    /// Partitions in fetch order; those that returned records move to the end.
    pub(crate) partitions: Vec<CachedPartition>,
    last_used: Instant,
}

/// How a Fetch request relates to the session cache.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SessionContext {
    /// No session (epoch -1, or a version without sessions): answer everything.
    Sessionless,
    /// A full fetch (epoch 0): answer everything, then try to create a session.
    Full,
    /// An incremental fetch in session `id`: read these partitions, answer what changed.
    Incremental {
        id: i32,
        partitions: Vec<PartitionRequest>,
    },
    /// FETCH_SESSION_ID_NOT_FOUND or INVALID_FETCH_SESSION_EPOCH.
    Error(kafka_protocol::ResponseError),
}

/// All sessions of all brokers.
#[derive(Debug)]
pub(crate) struct FetchSessions {
    sessions: HashMap<(i32, i32), FetchSession>,
    ids: crate::seed::IdHasher,
    counter: u64,
    max: usize,
}

impl Default for FetchSessions {
    fn default() -> Self {
        Self::with_capacity(MAX_SESSIONS)
    }
}

impl FetchSessions {
    /// Derives session ids from a seed from now on ([`crate::ClusterBuilder::seed`]).
    pub(crate) fn seed_ids(&mut self, ids: crate::seed::IdHasher) {
        self.ids = ids;
    }

    pub(crate) fn with_capacity(max: usize) -> Self {
        Self {
            sessions: HashMap::new(),
            ids: crate::seed::IdHasher::default(),
            counter: 0,
            max,
        }
    }

    /// Decides the context of a request to `broker` as Kafka's `FetchManager.newContext`,
    /// applying an incremental request's changes (`partitions` added or updated, then
    /// `forgotten` removed) to its session and advancing the session's epoch.
    pub(crate) fn context(
        &mut self,
        broker: i32,
        session_id: i32,
        epoch: i32,
        partitions: &[PartitionRequest],
        forgotten: &[(String, i32)],
        now: Instant,
    ) -> SessionContext {
        use kafka_protocol::ResponseError;
        if epoch == 0 || epoch == -1 {
            if session_id != 0 {
                self.sessions.remove(&(broker, session_id));
            }
            return if epoch == -1 {
                SessionContext::Sessionless
            } else {
                SessionContext::Full
            };
        }
        let Some(session) = self.sessions.get_mut(&(broker, session_id)) else {
            return SessionContext::Error(ResponseError::FetchSessionIdNotFound);
        };
        if session.epoch != epoch {
            return SessionContext::Error(ResponseError::InvalidFetchSessionEpoch);
        }
        for req in partitions {
            match session
                .partitions
                .iter_mut()
                .find(|p| p.topic == req.topic && p.partition == req.partition)
            {
                Some(cached) => cached.update(req),
                None => {
                    let unknown = PartitionAnswer {
                        has_records: false,
                        error: true,
                        diverging: false,
                        high_watermark: -1,
                        log_start_offset: -1,
                    };
                    session.partitions.push(CachedPartition::new(req, &unknown));
                }
            }
        }
        session.partitions.retain(|p| {
            !forgotten
                .iter()
                .any(|(t, i)| *t == p.topic && *i == p.partition)
        });
        if session.partitions.is_empty() {
            self.sessions.remove(&(broker, session_id));
            return SessionContext::Sessionless;
        }
        session.epoch = next_epoch(session.epoch);
        session.last_used = now;
        SessionContext::Incremental {
            id: session_id,
            partitions: session
                .partitions
                .iter()
                .map(CachedPartition::request)
                .collect(),
        }
    }

    /// Creates a session after a full fetch, if the cache has room (evicting an idle
    /// session, or a smaller one, as Kafka does); returns its id, or 0 for none.
    pub(crate) fn create(
        &mut self,
        broker: i32,
        partitions: &[(PartitionRequest, PartitionAnswer)],
        now: Instant,
    ) -> i32 {
        if partitions.is_empty() {
            return 0;
        }
        if self.sessions.len() >= self.max && !self.evict_for(partitions.len(), now) {
            return 0;
        }
        let id = loop {
            self.counter = self.counter.wrapping_add(1);
            let mut h = self.ids.build_hasher();
            h.write_u64(self.counter);
            let candidate = i32::try_from(h.finish() & 0x7fff_ffff).unwrap_or(1);
            if candidate != 0 && !self.sessions.contains_key(&(broker, candidate)) {
                break candidate;
            }
        };
        let session = FetchSession {
            epoch: next_epoch(0),
            partitions: partitions
                .iter()
                .map(|(req, answer)| CachedPartition::new(req, answer))
                .collect(),
            last_used: now,
        };
        self.sessions.insert((broker, id), session);
        id
    }

    fn evict_for(&mut self, size: usize, now: Instant) -> bool {
        let stale = self
            .sessions
            .iter()
            .filter(|(_, s)| now.saturating_duration_since(s.last_used) >= EVICTION_AGE)
            .min_by_key(|(_, s)| s.last_used)
            .map(|(k, _)| *k);
        let victim = stale.or_else(|| {
            self.sessions
                .iter()
                .filter(|(_, s)| s.partitions.len() < size)
                .min_by_key(|(_, s)| (s.partitions.len(), s.last_used))
                .map(|(k, _)| *k)
        });
        match victim {
            Some(k) => {
                self.sessions.remove(&k);
                true
            }
            None => false,
        }
    }

    /// Filters an incremental answer: for each partition read (in session order), whether
    /// it goes into the response; partitions that returned records move to the end of
    /// the session's order. A session gone meanwhile keeps everything.
    pub(crate) fn select(
        &mut self,
        broker: i32,
        id: i32,
        answers: &[PartitionAnswer],
    ) -> Vec<bool> {
        let Some(session) = self.sessions.get_mut(&(broker, id)) else {
            return vec![true; answers.len()];
        };
        let mut keep = Vec::with_capacity(answers.len());
        let mut moved = Vec::new();
        let mut stay = Vec::with_capacity(session.partitions.len());
        for (mut cached, answer) in session.partitions.drain(..).zip(answers) {
            keep.push(cached.must_respond(answer));
            if answer.has_records {
                moved.push(cached);
            } else {
                stay.push(cached);
            }
        }
        stay.extend(moved);
        session.partitions = stay;
        keep
    }

    /// Forgets every session of a broker (it stopped; Kafka's cache does not survive).
    pub(crate) fn clear_broker(&mut self, broker: i32) {
        self.sessions.retain(|(b, _), _| *b != broker);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.sessions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::ResponseError;

    fn req(p: i32, offset: i64) -> PartitionRequest {
        PartitionRequest {
            topic: "t".to_owned(),
            partition: p,
            fetch_offset: offset,
            max_bytes: 1 << 20,
            current_leader_epoch: -1,
            last_fetched_epoch: -1,
        }
    }

    fn answer(hw: i64, records: bool) -> PartitionAnswer {
        PartitionAnswer {
            has_records: records,
            error: false,
            diverging: false,
            high_watermark: hw,
            log_start_offset: 0,
        }
    }

    #[test]
    fn full_then_incremental_answers_only_what_changed() {
        let now = Instant::now();
        let mut s = FetchSessions::default();
        assert_eq!(
            s.context(0, 0, 0, &[req(0, 0), req(1, 0)], &[], now),
            SessionContext::Full
        );
        let id = s.create(
            0,
            &[(req(0, 0), answer(5, true)), (req(1, 0), answer(0, false))],
            now,
        );
        assert_ne!(id, 0);
        // Epoch 1, nothing listed: both partitions read from their cached positions.
        let SessionContext::Incremental { partitions, .. } = s.context(0, id, 1, &[], &[], now)
        else {
            panic!("incremental");
        };
        assert_eq!(partitions, vec![req(0, 0), req(1, 0)]);
        // Partition 0 has nothing new, partition 1 got records.
        assert_eq!(
            s.select(0, id, &[answer(5, false), answer(2, true)]),
            vec![false, true]
        );
        // The position moves for partition 0; partition 1 went to the end.
        let SessionContext::Incremental { partitions, .. } =
            s.context(0, id, 2, &[req(0, 5)], &[], now)
        else {
            panic!("incremental");
        };
        assert_eq!(partitions, vec![req(0, 5), req(1, 0)]);
        // Wrong epoch, unknown id.
        assert_eq!(
            s.context(0, id, 2, &[], &[], now),
            SessionContext::Error(ResponseError::InvalidFetchSessionEpoch)
        );
        assert_eq!(
            s.context(1, id, 3, &[], &[], now),
            SessionContext::Error(ResponseError::FetchSessionIdNotFound)
        );
        // Forgetting every partition ends the session.
        assert_eq!(
            s.context(
                0,
                id,
                3,
                &[],
                &[("t".to_owned(), 0), ("t".to_owned(), 1)],
                now
            ),
            SessionContext::Sessionless
        );
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn errors_are_always_answered_and_resent_when_gone() {
        let now = Instant::now();
        let mut s = FetchSessions::default();
        let id = s.create(0, &[(req(0, 0), answer(0, false))], now);
        assert!(matches!(
            s.context(0, id, 1, &[], &[], now),
            SessionContext::Incremental { .. }
        ));
        let mut err = answer(-1, false);
        err.error = true;
        assert_eq!(s.select(0, id, &[err]), vec![true]);
        assert!(matches!(
            s.context(0, id, 2, &[], &[], now),
            SessionContext::Incremental { .. }
        ));
        assert_eq!(s.select(0, id, &[answer(0, false)]), vec![true]);
        assert!(matches!(
            s.context(0, id, 3, &[], &[], now),
            SessionContext::Incremental { .. }
        ));
        assert_eq!(s.select(0, id, &[answer(0, false)]), vec![false]);
    }

    #[test]
    fn a_full_cache_evicts_idle_or_smaller_sessions_only() {
        let start = Instant::now();
        let mut s = FetchSessions::with_capacity(1);
        let big = [(req(0, 0), answer(0, false)), (req(1, 0), answer(0, false))];
        let small = [(req(0, 0), answer(0, false))];
        let a = s.create(0, &big, start);
        assert_ne!(a, 0);
        assert_eq!(
            s.create(0, &small, start),
            0,
            "smaller session does not evict"
        );
        let later = start + EVICTION_AGE;
        let b = s.create(0, &small, later);
        assert_ne!(b, 0, "an idle session is evicted");
        assert_eq!(s.len(), 1);
        // A full fetch naming an old session closes it.
        assert_eq!(s.context(0, b, 0, &[], &[], later), SessionContext::Full);
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn epochs_wrap_to_one() {
        assert_eq!(next_epoch(0), 1);
        assert_eq!(next_epoch(i32::MAX), 1);
        assert_eq!(next_epoch(-1), -1);
    }
}
