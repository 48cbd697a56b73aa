//! Fault injection: per-request faults matched by API key (and optionally broker,
//! topic-partition, group or client id), broker faults (refused connections, latency,
//! crash), and the request log.
//!
//! Every request passes through [`serve`] on its way from the connection to dispatch:
//! it is logged, matched against the fault table, and then served, answered with an
//! error, delayed, dropped or its connection closed, as the first matching fault says.
//! Faults are tried in the order they were added; a fault with a count stops matching
//! once it has been applied that many times.
//!
//! Differences from a real broker under the same conditions:
//! - an error fault whose matcher names a topic (or topic-partition) answers the code on
//!   the partitions it names and serves the others for Produce and ListOffsets; for the
//!   other APIs (Fetch included, whose session state must stay whole) it answers the code
//!   on every partition of the matching request;
//! - a throttle sets `throttle_time_ms` in the answer but does not mute the connection
//!   (clients of the KIP-219 versions back off by themselves);
//! - a refused connection is accepted and closed at once (the client sees the connection
//!   reset), as the listener stays bound so that the broker keeps its port.

mod split;
mod wire;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use kafka_protocol::messages::{ApiKey, BrokerId};
use kafka_protocol::ResponseError;
use mockafka_protocol::request::Request;

use crate::cluster::{Cluster, Shared};
use crate::dispatch::{self, Reply, RequestCtx};
use crate::error::ClusterError;
use crate::request_log::{RequestAnswer, RequestLog};

/// What a fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer with this error code without applying the request (the code goes where
    /// the API carries one: each partition of Produce, Fetch, ListOffsets, OffsetCommit
    /// and the other partition APIs, each topic or group of the topic and group APIs,
    /// top level for JoinGroup, SyncGroup, Heartbeat, LeaveGroup, InitProducerId...).
    Error(ResponseError),
    /// Apply the request, then hold its response this long (tokio's clock).
    Delay(Duration),
    /// Close the connection without applying the request.
    CloseConnection,
    /// Never answer (the request is not applied, and the connection, which answers in
    /// order, answers nothing more until the client closes it).
    NoResponse,
    /// Apply the request, then answer with this error code instead of its real answer:
    /// the client retries what was in fact done (the case idempotence exists for).
    ApplyThenError(ResponseError),
    /// Apply the request, then close the connection instead of answering: the client
    /// never learns the outcome.
    ApplyThenClose,
    /// Apply the request and never answer it (the client times out).
    ApplyThenNoResponse,
    /// Apply the request and answer it with this `throttle_time_ms`.
    Throttle(Duration),
}

/// How many times a fault applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultCount {
    /// To this many matching requests, then it is gone.
    Times(u32),
    /// To every matching request until cleared.
    Always,
}

/// A fault to add with [`Faults::add`]: an API key, optional matchers, an action and a
/// count.
///
/// ```
/// use std::time::Duration;
/// use mockafka_cluster::{ApiKey, BrokerId, Fault, FaultAction, ResponseError};
///
/// let f = Fault::new(ApiKey::Produce, FaultAction::Error(ResponseError::NotLeaderOrFollower))
///     .broker(BrokerId(1))
///     .partition("orders", 0)
///     .times(3);
/// let slow = Fault::new(ApiKey::Fetch, FaultAction::Delay(Duration::from_millis(200))).always();
/// # let _ = (f, slow);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    api_key: ApiKey,
    broker: Option<i32>,
    topic: Option<String>,
    partition: Option<i32>,
    group: Option<String>,
    client_id: Option<String>,
    action: FaultAction,
    count: FaultCount,
}

impl Fault {
    /// A fault on every request of `api_key`, applied once. Default matchers: any broker,
    /// topic, group and client.
    pub fn new(api_key: ApiKey, action: FaultAction) -> Self {
        Self {
            api_key,
            broker: None,
            topic: None,
            partition: None,
            group: None,
            client_id: None,
            action,
            count: FaultCount::Times(1),
        }
    }

    /// Only requests received by this broker. Default: any broker.
    #[must_use]
    pub fn broker(mut self, broker: BrokerId) -> Self {
        self.broker = Some(broker.0);
        self
    }

    /// Only requests naming this topic (any partition). Default: any topic.
    #[must_use]
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self.partition = None;
        self
    }

    /// Only requests naming this topic-partition. Default: any.
    #[must_use]
    pub fn partition(mut self, topic: impl Into<String>, partition: i32) -> Self {
        self.topic = Some(topic.into());
        self.partition = Some(partition);
        self
    }

    /// Only requests naming this group (group APIs, OffsetCommit/Fetch/Delete,
    /// FindCoordinator for a group). Default: any.
    #[must_use]
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Only requests whose header carries this client id. Default: any.
    #[must_use]
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// Applies to the next `n` matching requests. Default: 1.
    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.count = FaultCount::Times(n);
        self
    }

    /// Applies to every matching request until removed or cleared. Default: once.
    #[must_use]
    pub fn always(mut self) -> Self {
        self.count = FaultCount::Always;
        self
    }

    /// Sets the count.
    #[must_use]
    pub fn count(mut self, count: FaultCount) -> Self {
        self.count = count;
        self
    }

    fn matches(
        &self,
        req: &Request,
        broker: i32,
        client_id: Option<&str>,
        shared: &Shared,
    ) -> bool {
        if req.api_key() != self.api_key
            || self.broker.is_some_and(|b| b != broker)
            || self
                .client_id
                .as_deref()
                .is_some_and(|c| Some(c) != client_id)
        {
            return false;
        }
        if let Some(group) = &self.group {
            if !wire::groups_of(req).iter().any(|g| g == group) {
                return false;
            }
        }
        if let Some(topic) = &self.topic {
            let named = wire::topics_of(req, &shared.topics());
            let hit = named.iter().any(|(t, p)| {
                t == topic && (self.partition.is_none() || p.is_none() || *p == self.partition)
            });
            if !hit {
                return false;
            }
        }
        true
    }
}

/// The id of an added fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FaultId(pub u64);

/// A fault in the table, as [`Faults::list`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultView {
    /// Its id.
    pub id: FaultId,
    /// The API key it matches.
    pub api_key: ApiKey,
    /// The broker it matches, if any.
    pub broker: Option<BrokerId>,
    /// The topic it matches, if any.
    pub topic: Option<String>,
    /// The partition it matches, if any.
    pub partition: Option<i32>,
    /// The group it matches, if any.
    pub group: Option<String>,
    /// The client id it matches, if any.
    pub client_id: Option<String>,
    /// What it does.
    pub action: FaultAction,
    /// Applications left (`None`: until cleared).
    pub remaining: Option<u32>,
    /// Times applied so far.
    pub applied: u64,
}

#[derive(Debug)]
struct Entry {
    id: FaultId,
    fault: Fault,
    remaining: Option<u32>,
    applied: u64,
}

/// Faults of one broker (refused connections, latency).
#[derive(Debug, Default, Clone, Copy)]
struct BrokerFaults {
    refuse_connections: bool,
    latency: Duration,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    entries: Vec<Entry>,
    brokers: HashMap<i32, BrokerFaults>,
    /// Applications of removed faults, so `applied(id)` still answers.
    applied_gone: HashMap<FaultId, u64>,
}

/// The fault table and the request log of a cluster (a field of `Shared`).
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    /// Guards the per-request faults and broker faults; locked once per request, never
    /// across `.await`.
    table: Mutex<Table>,
    /// Every request, in arrival order.
    pub(crate) log: RequestLog,
}

impl FaultState {
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether broker `id` refuses new connections (the accept loop closes them).
    pub(crate) fn refuses_connections(&self, id: i32) -> bool {
        self.table()
            .brokers
            .get(&id)
            .is_some_and(|b| b.refuse_connections)
    }

    fn latency(&self, id: i32) -> Duration {
        self.table()
            .brokers
            .get(&id)
            .map_or(Duration::ZERO, |b| b.latency)
    }

    /// Takes the first fault matching the request (counting it), if any.
    fn take(
        &self,
        req: &Request,
        broker: i32,
        client_id: Option<&str>,
        shared: &Shared,
    ) -> Option<Taken> {
        let mut table = self.table();
        if table.entries.is_empty() {
            return None;
        }
        let i = table
            .entries
            .iter()
            .position(|e| e.fault.matches(req, broker, client_id, shared))?;
        let entry = table.entries.get_mut(i)?;
        entry.applied = entry.applied.saturating_add(1);
        let found = Taken {
            id: entry.id,
            action: entry.fault.action.clone(),
            topic: entry.fault.topic.clone(),
            partition: entry.fault.partition,
        };
        if let Some(left) = entry.remaining.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                let gone = table.entries.remove(i);
                table.applied_gone.insert(gone.id, gone.applied);
            }
        }
        Some(found)
    }
}

/// A fault taken for one request.
#[derive(Debug)]
struct Taken {
    id: FaultId,
    action: FaultAction,
    topic: Option<String>,
    partition: Option<i32>,
}

/// Serves the partitions a topic-matching fault does not name and answers `code` on the
/// others (`apply`: serve them all first). `Err(body)` when the request does not split.
async fn serve_split(
    ctx: &RequestCtx<'_>,
    correlation_id: i32,
    body: Request,
    code: ResponseError,
    fault: &Taken,
    apply: bool,
) -> Result<Reply, Request> {
    let Some(topic) = fault.topic.as_deref() else {
        return Err(body);
    };
    let hit = |t: &str, p: i32| t == topic && fault.partition.is_none_or(|want| want == p);
    let Some((kept, faulted)) = split::split(&body, &hit) else {
        return Err(body);
    };
    let key = body.api_key();
    let version = ctx.version;
    let served = dispatch::dispatch(ctx, correlation_id, if apply { body } else { kept }).await;
    let Reply::Frame(served) = served else {
        return Ok(served);
    };
    let merged = wire::error_response(&faulted, version, correlation_id, code.code())
        .and_then(|extra| split::merge(key, version, correlation_id, &served, &extra));
    Ok(merged.map_or(Reply::Close, Reply::Frame))
}

/// Serves one request through the fault table and the request log: called by the
/// connection task in place of [`dispatch::dispatch`].
pub(crate) async fn serve(ctx: &RequestCtx<'_>, correlation_id: i32, body: Request) -> Reply {
    let shared = ctx.shared();
    let key = body.api_key();
    let version = ctx.version;
    let faults = &shared.faults;
    let seq = faults.log.arrived(ctx, key, correlation_id, &body);
    let fault = faults.take(&body, ctx.broker_id, ctx.client_id, shared);
    if let Some(taken) = &fault {
        faults.log.faulted(seq, taken.id);
    }
    let reply = match fault.as_ref().map(|t| t.action.clone()) {
        None => dispatch::dispatch(ctx, correlation_id, body).await,
        Some(FaultAction::Error(code)) => {
            let taken = fault.as_ref().expect("matched above");
            match serve_split(ctx, correlation_id, body, code, taken, false).await {
                Ok(reply) => reply,
                Err(body) => error_reply(&body, version, correlation_id, code),
            }
        }
        Some(FaultAction::Delay(d)) => {
            let reply = dispatch::dispatch(ctx, correlation_id, body).await;
            tokio::time::sleep(d).await;
            reply
        }
        Some(FaultAction::CloseConnection) => Reply::Close,
        Some(FaultAction::NoResponse) => {
            faults.log.answered(seq, RequestAnswer::NoResponse);
            std::future::pending::<()>().await;
            Reply::Close
        }
        Some(FaultAction::ApplyThenError(code)) => {
            let taken = fault.as_ref().expect("matched above");
            match serve_split(ctx, correlation_id, body, code, taken, true).await {
                Ok(reply) => reply,
                Err(body) => {
                    let reply = error_reply(&body, version, correlation_id, code);
                    let _ = dispatch::dispatch(ctx, correlation_id, body).await;
                    reply
                }
            }
        }
        Some(FaultAction::ApplyThenClose) => {
            let _ = dispatch::dispatch(ctx, correlation_id, body).await;
            Reply::Close
        }
        Some(FaultAction::ApplyThenNoResponse) => {
            let _ = dispatch::dispatch(ctx, correlation_id, body).await;
            faults.log.answered(seq, RequestAnswer::NoResponse);
            std::future::pending::<()>().await;
            Reply::Close
        }
        Some(FaultAction::Throttle(d)) => {
            let ms = i32::try_from(d.as_millis()).unwrap_or(i32::MAX);
            match dispatch::dispatch(ctx, correlation_id, body).await {
                // Re-encoded with the decoded correlation id and the throttle set.
                Reply::Frame(frame) => {
                    wire::with_throttle(key, version, &frame.clone().freeze(), ms)
                        .map_or(Reply::Frame(frame), Reply::Frame)
                }
                other => other,
            }
        }
    };
    let (reply, answer) = match reply {
        Reply::Frame(frame) => {
            // Frozen and thawed again without a copy: the decoded answer only borrows
            // slices of the frame and is dropped before the thaw.
            let frozen = frame.freeze();
            let error_code = wire::answered_code(key, version, &frozen).unwrap_or(0);
            let frame = frozen
                .try_into_mut()
                .unwrap_or_else(|shared| bytes::BytesMut::from(&shared[..]));
            (Reply::Frame(frame), RequestAnswer::Answered { error_code })
        }
        Reply::NoResponse => (Reply::NoResponse, RequestAnswer::NoResponse),
        Reply::Close => (Reply::Close, RequestAnswer::Closed),
    };
    faults.log.answered(seq, answer);
    let latency = faults.latency(ctx.broker_id);
    if !latency.is_zero() && !matches!(reply, Reply::Close) {
        tokio::time::sleep(latency).await;
    }
    reply
}

/// The topic-partitions a request names (for the request log).
pub(crate) fn topics_named(req: &Request, ctx: &RequestCtx<'_>) -> Vec<(String, Option<i32>)> {
    wire::topics_of(req, &ctx.topics())
}

/// The groups a request names (for the request log).
pub(crate) fn groups_named(req: &Request) -> Vec<String> {
    wire::groups_of(req)
}

fn error_reply(req: &Request, version: i16, correlation_id: i32, code: ResponseError) -> Reply {
    match wire::error_response(req, version, correlation_id, code.code()) {
        Some(frame) => Reply::Frame(frame),
        None => Reply::Close,
    }
}

/// The fault controls of a cluster: see [`Cluster::faults`].
#[derive(Debug, Clone)]
pub struct Faults {
    shared: Arc<Shared>,
}

impl Faults {
    fn state(&self) -> &FaultState {
        &self.shared.faults
    }

    /// Adds a fault after those already in the table (the first match wins).
    pub fn add(&self, fault: Fault) -> FaultId {
        let mut table = self.state().table();
        table.next_id = table.next_id.saturating_add(1);
        let id = FaultId(table.next_id);
        let remaining = match fault.count {
            FaultCount::Times(n) => Some(n),
            FaultCount::Always => None,
        };
        if remaining != Some(0) {
            table.entries.push(Entry {
                id,
                fault,
                remaining,
                applied: 0,
            });
        }
        id
    }

    /// The next request of `api_key`, on any broker, is answered with `code` (not applied).
    pub fn fail_next(&self, api_key: ApiKey, code: ResponseError) -> FaultId {
        self.add(Fault::new(api_key, FaultAction::Error(code)))
    }

    /// The next `n` requests of `api_key` are answered with `code` (not applied).
    pub fn fail_times(&self, api_key: ApiKey, code: ResponseError, n: u32) -> FaultId {
        self.add(Fault::new(api_key, FaultAction::Error(code)).times(n))
    }

    /// The next request of `api_key` is applied, then answered with `code`.
    pub fn apply_then_fail_next(&self, api_key: ApiKey, code: ResponseError) -> FaultId {
        self.add(Fault::new(api_key, FaultAction::ApplyThenError(code)))
    }

    /// The next request of `api_key` is applied, then its connection closes unanswered.
    pub fn drop_response_next(&self, api_key: ApiKey) -> FaultId {
        self.add(Fault::new(api_key, FaultAction::ApplyThenClose))
    }

    /// The response to the next request of `api_key` is held for `delay`.
    pub fn delay_next(&self, api_key: ApiKey, delay: Duration) -> FaultId {
        self.add(Fault::new(api_key, FaultAction::Delay(delay)))
    }

    /// The next request of `api_key` closes its connection, unapplied.
    pub fn close_next(&self, api_key: ApiKey) -> FaultId {
        self.add(Fault::new(api_key, FaultAction::CloseConnection))
    }

    /// Removes a fault. Returns whether it was still in the table.
    pub fn remove(&self, id: FaultId) -> bool {
        let mut table = self.state().table();
        let before = table.entries.len();
        if let Some(i) = table.entries.iter().position(|e| e.id == id) {
            let gone = table.entries.remove(i);
            table.applied_gone.insert(gone.id, gone.applied);
        }
        table.entries.len() != before
    }

    /// Removes every per-request fault and every broker fault.
    pub fn clear(&self) {
        let mut table = self.state().table();
        let gone: Vec<(FaultId, u64)> =
            table.entries.drain(..).map(|e| (e.id, e.applied)).collect();
        table.applied_gone.extend(gone);
        table.brokers.clear();
    }

    /// The per-request faults still in the table, in match order.
    pub fn list(&self) -> Vec<FaultView> {
        self.state()
            .table()
            .entries
            .iter()
            .map(|e| FaultView {
                id: e.id,
                api_key: e.fault.api_key,
                broker: e.fault.broker.map(BrokerId),
                topic: e.fault.topic.clone(),
                partition: e.fault.partition,
                group: e.fault.group.clone(),
                client_id: e.fault.client_id.clone(),
                action: e.fault.action.clone(),
                remaining: e.remaining,
                applied: e.applied,
            })
            .collect()
    }

    /// How many requests a fault has been applied to (also after it is gone).
    pub fn applied(&self, id: FaultId) -> u64 {
        let table = self.state().table();
        table
            .entries
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.applied)
            .or_else(|| table.applied_gone.get(&id).copied())
            .unwrap_or(0)
    }

    /// While on, the broker accepts connections and closes them at once (its metadata and
    /// open connections are unchanged). Default: off.
    pub fn refuse_connections(&self, broker: BrokerId, on: bool) {
        self.state()
            .table()
            .brokers
            .entry(broker.0)
            .or_default()
            .refuse_connections = on;
    }

    /// Holds everything the broker sends for `latency` (tokio's clock) before writing it.
    /// `Duration::ZERO` removes it. Default: none.
    pub fn broker_latency(&self, broker: BrokerId, latency: Duration) {
        self.state()
            .table()
            .brokers
            .entry(broker.0)
            .or_default()
            .latency = latency;
    }
}

impl Cluster {
    /// The fault controls: per-request faults, refused connections, broker latency.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mockafka_cluster::ClusterError> {
    /// use mockafka_cluster::{ApiKey, Cluster, ResponseError};
    ///
    /// let cluster = Cluster::builder().brokers(1).start().await?;
    /// let id = cluster.faults().fail_next(ApiKey::Fetch, ResponseError::NotLeaderOrFollower);
    /// assert_eq!(cluster.faults().list().len(), 1);
    /// assert_eq!(cluster.faults().applied(id), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn faults(&self) -> Faults {
        Faults {
            shared: Arc::clone(self.shared()),
        }
    }

    /// Crashes a broker: its listener and every connection close at once, requests in
    /// flight are lost unanswered, and the partitions it led move to live brokers with a
    /// new leader epoch, as Kafka's controller moves them when a broker's session ends.
    /// Stored data is kept (the log is shared by the replicas). The same as
    /// [`Cluster::stop_broker`], which never shuts down gracefully either.
    ///
    /// # Errors
    /// As [`Cluster::stop_broker`].
    pub async fn crash_broker(&self, broker: BrokerId) -> Result<(), ClusterError> {
        self.stop_broker(broker).await
    }
}
