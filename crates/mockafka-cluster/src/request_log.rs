//! The request log: every request a broker received, in arrival order, with the answer it
//! got; readable by a test and awaitable ("wait until a request matching P arrives").

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use kafka_protocol::messages::{ApiKey, BrokerId};
use mockafka_protocol::request::Request;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::cluster::Cluster;
use crate::dispatch::RequestCtx;
use crate::error::ClusterError;
use crate::faults::FaultId;

/// Records kept; older ones are dropped first (a long-running binary must not grow
/// without bound). [`Cluster::clear_requests`] empties the log.
pub const REQUEST_LOG_CAPACITY: usize = 100_000;

/// What a logged request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestAnswer {
    /// Still being served (a long poll, a parked join, a delay).
    Pending,
    /// Answered; `error_code` is the response's error code (top-level if set, else the
    /// first non-zero per-topic/partition one; 0 when none).
    Answered {
        /// The Kafka error code (0: none).
        error_code: i16,
    },
    /// Not answered: Produce with acks=0, or a "no response" fault.
    NoResponse,
    /// The connection was closed instead of answering.
    Closed,
}

/// One request in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestRecord {
    /// Position in the log since the cluster started (0, 1, 2, ...).
    pub seq: u64,
    /// The broker that received it.
    pub broker: BrokerId,
    /// Its API key.
    pub api_key: ApiKey,
    /// Its API version.
    pub api_version: i16,
    /// The header's client id.
    pub client_id: Option<String>,
    /// The header's correlation id.
    pub correlation_id: i32,
    /// Arrival time on the cluster's time source (ms since the epoch).
    pub at_ms: i64,
    /// Arrival time on tokio's clock, since the cluster started.
    pub elapsed: Duration,
    /// The topic-partitions it names (`None`: the whole topic, or a topic-level API).
    pub topics: Vec<(String, Option<i32>)>,
    /// The groups it names.
    pub groups: Vec<String>,
    /// The fault applied to it, if any.
    pub fault: Option<FaultId>,
    /// Its answer.
    pub answer: RequestAnswer,
}

impl RequestRecord {
    /// The error code it was answered with (`None` while pending or when unanswered).
    pub fn error_code(&self) -> Option<i16> {
        match self.answer {
            RequestAnswer::Answered { error_code } => Some(error_code),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    next_seq: u64,
    records: VecDeque<RequestRecord>,
}

/// The log (a field of the cluster's fault state).
#[derive(Debug)]
pub(crate) struct RequestLog {
    /// Guards the records; locked twice per request (arrival, answer), never across
    /// `.await`.
    inner: Mutex<Inner>,
    /// Woken on every arrival and answer; `wait_for_request` waits on it.
    changed: Notify,
    started: Instant,
}

impl Default for RequestLog {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            changed: Notify::new(),
            started: Instant::now(),
        }
    }
}

impl RequestLog {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Logs a request's arrival; returns its sequence number.
    pub(crate) fn arrived(
        &self,
        ctx: &RequestCtx<'_>,
        api_key: ApiKey,
        correlation_id: i32,
        body: &Request,
    ) -> u64 {
        let topics = super::faults::topics_named(body, ctx);
        let groups = super::faults::groups_named(body);
        let elapsed = Instant::now().saturating_duration_since(self.started);
        let mut inner = self.inner();
        let seq = inner.next_seq;
        inner.next_seq = seq.saturating_add(1);
        if inner.records.len() >= REQUEST_LOG_CAPACITY {
            inner.records.pop_front();
        }
        inner.records.push_back(RequestRecord {
            seq,
            broker: BrokerId(ctx.broker_id),
            api_key,
            api_version: ctx.version,
            client_id: ctx.client_id.map(str::to_owned),
            correlation_id,
            at_ms: ctx.now(),
            elapsed,
            topics,
            groups,
            fault: None,
            answer: RequestAnswer::Pending,
        });
        drop(inner);
        self.changed.notify_waiters();
        seq
    }

    fn update(&self, seq: u64, f: impl FnOnce(&mut RequestRecord)) {
        let mut inner = self.inner();
        let first = inner.records.front().map_or(0, |r| r.seq);
        let found = seq
            .checked_sub(first)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| inner.records.get_mut(i))
            .filter(|r| r.seq == seq);
        if let Some(r) = found {
            f(r);
        }
        drop(inner);
        self.changed.notify_waiters();
    }

    pub(crate) fn faulted(&self, seq: u64, id: FaultId) {
        self.update(seq, |r| r.fault = Some(id));
    }

    pub(crate) fn answered(&self, seq: u64, answer: RequestAnswer) {
        self.update(seq, |r| {
            if r.answer == RequestAnswer::Pending {
                r.answer = answer;
            }
        });
    }

    fn find(&self, pred: &impl Fn(&RequestRecord) -> bool) -> Option<RequestRecord> {
        self.inner().records.iter().find(|r| pred(r)).cloned()
    }
}

impl Cluster {
    /// Every request received since the cluster started (or since
    /// [`Cluster::clear_requests`]), in arrival order; the newest
    /// [`REQUEST_LOG_CAPACITY`] are kept.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared()
            .faults
            .log
            .inner()
            .records
            .iter()
            .cloned()
            .collect()
    }

    /// Empties the request log (sequence numbers go on).
    pub fn clear_requests(&self) {
        self.shared().faults.log.inner().records.clear();
    }

    /// Waits until the log holds a request for which `pred` holds (checked now, and on
    /// every arrival and answer), and returns it as it then was. A predicate on
    /// [`RequestRecord::answer`] waits for the answer too.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mockafka_cluster::ClusterError> {
    /// use std::time::Duration;
    /// use mockafka_cluster::{ApiKey, Cluster, ClusterError};
    ///
    /// let cluster = Cluster::builder().brokers(1).start().await?;
    /// let waited = cluster
    ///     .wait_for_request(Duration::from_millis(10), |r| r.api_key == ApiKey::Produce)
    ///     .await;
    /// assert!(matches!(waited, Err(ClusterError::Timeout { .. })));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`ClusterError::Timeout`] if none arrives within `timeout` (tokio's clock).
    pub async fn wait_for_request(
        &self,
        timeout: Duration,
        pred: impl Fn(&RequestRecord) -> bool,
    ) -> Result<RequestRecord, ClusterError> {
        let log = &self.shared().faults.log;
        let wait = async {
            loop {
                let notified = log.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if let Some(r) = log.find(&pred) {
                    return r;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| ClusterError::Timeout {
                after: timeout,
                waiting_for: "a matching request".to_owned(),
            })
    }
}
