//! The consumer: topic, pattern and manual subscriptions, consumer groups run in the
//! background, offsets, and four ways to read records (a batch from [`Consumer::poll`], one
//! record from [`Consumer::recv`], a [`Stream`](futures_core::Stream) from
//! [`Consumer::stream`], and a blocking iterator from [`ConsumerBuilder::build_blocking`]).
//!
//! Where a consumer starts reading a partition is Kafka's rule: the group's committed offset
//! for it if there is one (a committed offset that turns out to be out of range is treated
//! as none), else the [`OffsetReset`] policy: `Earliest` is the log start offset, `Latest`
//! the high watermark, `None` an error naming the partition.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mockafka_client::ClientError> {
//! use mockafka_client::{Consumer, OffsetReset};
//! use std::time::Duration;
//! let consumer = Consumer::builder()
//!     .bootstrap_servers(["localhost:9092", "localhost:9093", "localhost:9094"])
//!     .group_id("group1")
//!     .auto_offset_reset(OffsetReset::Earliest)
//!     .build()
//!     .await?;
//! consumer.subscribe(&["first"])?;
//! for record in consumer.poll(Duration::from_secs(1)).await? {
//!     println!("{}-{}@{}: {:?}", record.topic, record.partition, record.offset, record.value);
//! }
//! consumer.close().await?;
//! # Ok(()) }
//! ```
//!
//! Differences from the Java client: heartbeats run in a background task whether or not
//! the application polls (there is no `max.poll.interval.ms`); Fetch requests carry no
//! leader epoch and there is no log truncation detection (mockafka keeps one replica).

pub mod assignor;
mod blocking;
mod fetch;
mod group;
mod offsets;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use mockafka_protocol::batch::Record;
use tokio::sync::Notify;

pub use assignor::AssignmentStrategy;
pub use blocking::{BlockingConsumer, BlockingIntoIter, BlockingIter};
pub use mockafka_protocol::batch::TimestampType;

use crate::admin::{Admin, TopicPartition};
use crate::connection::ConnConfig;
use crate::deserializer::{BytesDeserializer, Deserializer};
use crate::error::ClientError;
use crate::pool::Pool;
use crate::producer::Header;

/// Where to start when the group has no (valid) committed offset for a partition
/// (`auto.offset.reset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OffsetReset {
    /// The log start offset.
    Earliest,
    /// The high watermark: only records produced from now on. Kafka's default.
    #[default]
    Latest,
    /// No reset: reading the partition fails with [`ClientError::NoOffset`] (no committed
    /// offset) or an `OffsetOutOfRange` broker error naming the partition.
    None,
}

/// Which records a consumer reads (`isolation.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IsolationLevel {
    /// Everything up to the high watermark, including records of open or aborted
    /// transactions. Kafka's default.
    #[default]
    ReadUncommitted,
    /// Only committed transactional records, up to the last stable offset.
    ReadCommitted,
}

impl IsolationLevel {
    fn wire(self) -> i8 {
        match self {
            Self::ReadUncommitted => 0,
            Self::ReadCommitted => 1,
        }
    }
}

/// One consumed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord<K = Bytes, V = Bytes> {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
    /// The timestamp in milliseconds since the epoch.
    pub timestamp: i64,
    /// Whether the timestamp is the producer's create time or the broker's append time.
    pub timestamp_type: TimestampType,
    /// The key, `None` for a null key.
    pub key: Option<K>,
    /// The value, `None` for a null value (a tombstone).
    pub value: Option<V>,
    /// Headers in order; a key may repeat.
    pub headers: Vec<Header>,
    /// The leader epoch of the broker that appended the record, when known.
    pub leader_epoch: Option<i32>,
}

/// Called by the group membership task when partitions are assigned, revoked or lost
/// (Kafka's `ConsumerRebalanceListener`). Callbacks run on the background task: keep them
/// short, and do not call back into the consumer's async methods from them.
pub trait RebalanceListener: Send + Sync + 'static {
    /// Partitions given up in a rebalance, after their positions were committed (with
    /// auto commit on).
    fn on_partitions_revoked(&self, _partitions: &[TopicPartition]) {}
    /// Partitions received in a rebalance.
    fn on_partitions_assigned(&self, _partitions: &[TopicPartition]) {}
    /// Partitions lost without a clean revocation (the member was expired or fenced);
    /// their positions could not be committed. Defaults to
    /// [`RebalanceListener::on_partitions_revoked`], as in Kafka.
    fn on_partitions_lost(&self, partitions: &[TopicPartition]) {
        self.on_partitions_revoked(partitions);
    }
}

/// Every setting, with Kafka's defaults.
#[derive(Clone)]
pub(crate) struct ConsumerConfig {
    pub(crate) bootstrap: Vec<String>,
    pub(crate) client_id: String,
    pub(crate) group_id: Option<String>,
    pub(crate) group_instance_id: Option<String>,
    pub(crate) auto_offset_reset: OffsetReset,
    pub(crate) enable_auto_commit: bool,
    pub(crate) auto_commit_interval: Duration,
    pub(crate) consumer_timeout: Option<Duration>,
    pub(crate) max_poll_records: usize,
    pub(crate) fetch_min_bytes: i32,
    pub(crate) fetch_max_bytes: i32,
    pub(crate) max_partition_fetch_bytes: i32,
    pub(crate) fetch_max_wait: Duration,
    pub(crate) isolation_level: IsolationLevel,
    pub(crate) session_timeout: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) rebalance_timeout: Duration,
    pub(crate) strategies: Vec<AssignmentStrategy>,
    pub(crate) request_timeout: Duration,
    pub(crate) retry_backoff: Duration,
    pub(crate) metadata_max_age: Duration,
    pub(crate) allow_auto_create_topics: bool,
    pub(crate) listener: Option<Arc<dyn RebalanceListener>>,
}

impl std::fmt::Debug for ConsumerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerConfig")
            .field("bootstrap", &self.bootstrap)
            .field("group_id", &self.group_id)
            .field("group_instance_id", &self.group_instance_id)
            .field("auto_offset_reset", &self.auto_offset_reset)
            .field("enable_auto_commit", &self.enable_auto_commit)
            .field("strategies", &self.strategies)
            .finish_non_exhaustive()
    }
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        Self {
            bootstrap: Vec::new(),
            client_id: "mockafka-consumer".into(),
            group_id: None,
            group_instance_id: None,
            auto_offset_reset: OffsetReset::Latest,
            enable_auto_commit: true,
            auto_commit_interval: Duration::from_secs(5),
            consumer_timeout: None,
            max_poll_records: 500,
            fetch_min_bytes: 1,
            fetch_max_bytes: 50 * 1024 * 1024,
            max_partition_fetch_bytes: 1024 * 1024,
            fetch_max_wait: Duration::from_millis(500),
            isolation_level: IsolationLevel::ReadUncommitted,
            session_timeout: Duration::from_secs(45),
            heartbeat_interval: Duration::from_secs(3),
            rebalance_timeout: Duration::from_secs(60),
            strategies: vec![
                AssignmentStrategy::Range,
                AssignmentStrategy::CooperativeSticky,
            ],
            request_timeout: Duration::from_secs(30),
            retry_backoff: Duration::from_millis(100),
            metadata_max_age: Duration::from_secs(300),
            allow_auto_create_topics: true,
            listener: None,
        }
    }
}

/// Builds a [`Consumer`]. Every setting has Kafka's default, stated on its method.
#[derive(Debug)]
#[must_use]
pub struct ConsumerBuilder<K = BytesDeserializer, V = BytesDeserializer> {
    cfg: ConsumerConfig,
    key: K,
    value: V,
}

fn duration_ms(d: Duration) -> i32 {
    i32::try_from(d.as_millis()).unwrap_or(i32::MAX)
}

impl<K, V> ConsumerBuilder<K, V> {
    /// The brokers to bootstrap from (a list, or comma-separated strings); any one that
    /// answers will do. Required.
    pub fn bootstrap_servers<I, S>(mut self, servers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.cfg.bootstrap = servers
            .into_iter()
            .flat_map(|s| {
                s.as_ref()
                    .split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect();
        self
    }

    /// The client id. Default `mockafka-consumer`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.cfg.client_id = id.into();
        self
    }

    /// The consumer group. Default: none (no group membership, no commits; only
    /// [`Consumer::assign`] is possible).
    pub fn group_id(mut self, id: impl Into<String>) -> Self {
        self.cfg.group_id = Some(id.into());
        self
    }

    /// Static membership (`group.instance.id`): a member that rejoins with the same id
    /// within the session timeout gets its partitions back without a rebalance, and
    /// closing does not leave the group. Default: none (dynamic membership).
    pub fn group_instance_id(mut self, id: impl Into<String>) -> Self {
        self.cfg.group_instance_id = Some(id.into());
        self
    }

    /// Where to start without a committed offset. Default [`OffsetReset::Latest`].
    pub fn auto_offset_reset(mut self, reset: OffsetReset) -> Self {
        self.cfg.auto_offset_reset = reset;
        self
    }

    /// Commit consumed positions in the background, in rebalances and on close. Default on.
    pub fn enable_auto_commit(mut self, on: bool) -> Self {
        self.cfg.enable_auto_commit = on;
        self
    }

    /// How often auto commit runs. Default 5 s.
    pub fn auto_commit_interval(mut self, d: Duration) -> Self {
        self.cfg.auto_commit_interval = d;
        self
    }

    /// The tutorial's `consumer_timeout_ms`: the [`Consumer::stream`] and the blocking
    /// iterator end after this long without a record. Default: never.
    pub fn consumer_timeout(mut self, d: Duration) -> Self {
        self.cfg.consumer_timeout = Some(d);
        self
    }

    /// Most records one [`Consumer::poll`] returns. Default 500.
    pub fn max_poll_records(mut self, n: usize) -> Self {
        self.cfg.max_poll_records = n.max(1);
        self
    }

    /// Bytes a broker waits for before answering a fetch. Default 1.
    pub fn fetch_min_bytes(mut self, n: i32) -> Self {
        self.cfg.fetch_min_bytes = n.max(0);
        self
    }

    /// Most bytes one fetch response carries. Default 50 MiB.
    pub fn fetch_max_bytes(mut self, n: i32) -> Self {
        self.cfg.fetch_max_bytes = n.max(1);
        self
    }

    /// Most bytes per partition in one fetch response (`max.partition.fetch.bytes`).
    /// Default 1 MiB (a larger first batch is still returned whole, as in Kafka).
    pub fn max_partition_fetch_bytes(mut self, n: i32) -> Self {
        self.cfg.max_partition_fetch_bytes = n.max(1);
        self
    }

    /// Longest a broker holds a fetch waiting for `fetch_min_bytes`. Default 500 ms.
    pub fn fetch_max_wait(mut self, d: Duration) -> Self {
        self.cfg.fetch_max_wait = d;
        self
    }

    /// Default [`IsolationLevel::ReadUncommitted`].
    pub fn isolation_level(mut self, level: IsolationLevel) -> Self {
        self.cfg.isolation_level = level;
        self
    }

    /// How long the coordinator keeps a silent member. Default 45 s.
    pub fn session_timeout(mut self, d: Duration) -> Self {
        self.cfg.session_timeout = d;
        self
    }

    /// How often the background task heartbeats. Default 3 s.
    pub fn heartbeat_interval(mut self, d: Duration) -> Self {
        self.cfg.heartbeat_interval = d;
        self
    }

    /// How long the coordinator waits for members to rejoin in a rebalance. Default 60 s.
    /// Requests wait at least this plus 5 s for their responses (JoinGroup is parked that
    /// long), as the Java client does.
    pub fn rebalance_timeout(mut self, d: Duration) -> Self {
        self.cfg.rebalance_timeout = d;
        self
    }

    /// The assignors offered to the group, in order of preference. Default
    /// `[Range, CooperativeSticky]`, as the Java client; the rebalance protocol is
    /// cooperative only when every strategy listed is.
    pub fn assignment_strategies(mut self, s: &[AssignmentStrategy]) -> Self {
        if !s.is_empty() {
            self.cfg.strategies = s.to_vec();
        }
        self
    }

    /// Timeout of each request. Default 30 s.
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.cfg.request_timeout = d;
        self
    }

    /// Pause after a failed request before it is retried. Default 100 ms.
    pub fn retry_backoff(mut self, d: Duration) -> Self {
        self.cfg.retry_backoff = d;
        self
    }

    /// How often metadata is refreshed to find new topics matching a pattern and new
    /// partitions (`metadata.max.age.ms`). Default 5 min.
    pub fn metadata_max_age(mut self, d: Duration) -> Self {
        self.cfg.metadata_max_age = d;
        self
    }

    /// Whether subscribing to a missing topic asks the broker to create it (only where
    /// the broker auto-creates topics). Default on, as the Java client.
    pub fn allow_auto_create_topics(mut self, on: bool) -> Self {
        self.cfg.allow_auto_create_topics = on;
        self
    }

    /// Callbacks for assigned, revoked and lost partitions. Default: none.
    pub fn rebalance_listener(mut self, l: impl RebalanceListener) -> Self {
        self.cfg.listener = Some(Arc::new(l));
        self
    }

    /// The key deserializer. Default [`BytesDeserializer`].
    pub fn key_deserializer<K2: Deserializer>(self, key: K2) -> ConsumerBuilder<K2, V> {
        ConsumerBuilder {
            cfg: self.cfg,
            key,
            value: self.value,
        }
    }

    /// The value deserializer. Default [`BytesDeserializer`].
    pub fn value_deserializer<V2: Deserializer>(self, value: V2) -> ConsumerBuilder<K, V2> {
        ConsumerBuilder {
            cfg: self.cfg,
            key: self.key,
            value,
        }
    }
}

impl<K: Deserializer, V: Deserializer> ConsumerBuilder<K, V> {
    /// Connects to the cluster and starts the background task (group membership and
    /// auto commit). Call it inside a tokio runtime.
    ///
    /// # Errors
    /// [`ClientError::Config`] without bootstrap servers, or for a static instance id
    /// without a group; [`ClientError::NoBrokerAvailable`] when no listed server answers.
    pub async fn build(self) -> Result<Consumer<K, V>, ClientError> {
        let cfg = self.cfg;
        if cfg.group_instance_id.is_some() && cfg.group_id.is_none() {
            return Err(ClientError::Config(
                "group_instance_id needs a group_id".into(),
            ));
        }
        let conn = ConnConfig {
            client_id: Some(cfg.client_id.clone()),
            request_timeout: cfg
                .request_timeout
                .max(cfg.rebalance_timeout + Duration::from_secs(5)),
            ..ConnConfig::default()
        };
        let pool = Arc::new(Pool::new(cfg.bootstrap.clone(), conn)?);
        pool.refresh(Some(&[]), false).await?;
        let inner = Arc::new(Inner {
            admin: Admin::from_pool(pool.clone()),
            pool,
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            group_wake: Notify::new(),
            closed: AtomicBool::new(false),
            coordinator: Mutex::new(None),
            task: Mutex::new(None),
            cfg,
        });
        let task = tokio::spawn(group::run(inner.clone()));
        *inner.task.lock().expect("task lock") = Some(task);
        Ok(Consumer {
            inner: inner.clone(),
            key: self.key,
            value: self.value,
            _stop: StopOnDrop(inner),
        })
    }

    /// Builds a consumer for synchronous code: it owns a small tokio runtime, and
    /// iterating over it reads like the tutorial's `for msg in consumer`. Do not call it
    /// from inside an async runtime.
    ///
    /// # Errors
    /// As [`ConsumerBuilder::build`], or an I/O error creating the runtime.
    pub fn build_blocking(self) -> Result<BlockingConsumer<K, V>, ClientError> {
        BlockingConsumer::new(self)
    }
}

/// What a consumer reads.
#[derive(Debug, Clone, Default)]
pub(crate) enum Subscription {
    /// Nothing yet (or after unsubscribe).
    #[default]
    None,
    /// These topics, through the group.
    Topics(BTreeSet<String>),
    /// Topics matching a regex, through the group.
    Pattern(regex::Regex),
    /// These partitions, without group membership.
    Manual,
}

impl Subscription {
    fn uses_group(&self) -> bool {
        matches!(self, Self::Topics(_) | Self::Pattern(_))
    }
}

/// One assigned partition.
#[derive(Debug, Default)]
pub(crate) struct PartState {
    /// The offset of the next record to hand out; `None` until resolved.
    pub(crate) position: Option<i64>,
    /// The leader epoch of the last record handed out (committed with the offset).
    pub(crate) last_epoch: Option<i32>,
    /// Set after OFFSET_OUT_OF_RANGE: the next resolution skips the committed offset.
    pub(crate) reset_needed: bool,
    pub(crate) paused: bool,
    /// A fetch for this partition is in flight.
    pub(crate) fetching: bool,
    /// A position look-up for this partition is in flight.
    pub(crate) resolving: bool,
    /// Bumped by every seek and reset, so that answers to older requests are dropped.
    pub(crate) version: u64,
    /// Fetched records not yet handed out, offsets from `position` up.
    pub(crate) buffer: VecDeque<Buffered>,
    /// An error to hand to the application at the next poll (a reset policy of `None`).
    pub(crate) error: Option<ClientError>,
}

/// A fetched record waiting to be handed out.
#[derive(Debug)]
pub(crate) struct Buffered {
    pub(crate) record: Record,
    pub(crate) timestamp_type: TimestampType,
    pub(crate) leader_epoch: i32,
}

/// The group membership as the background task last established it.
#[derive(Debug, Clone)]
pub(crate) struct Membership {
    pub(crate) member_id: String,
    pub(crate) generation: i32,
}

/// Everything the application's calls and the background tasks share.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) subscription: Subscription,
    pub(crate) assignment: BTreeMap<TopicPartition, PartState>,
    /// Set while the consumer is a member of a stable generation (commits use it).
    pub(crate) membership: Option<Membership>,
    /// Set by subscribe/unsubscribe: the background task must (re)join or leave.
    pub(crate) subscription_changed: bool,
    /// A fatal group error (such as FENCED_INSTANCE_ID) for the next poll.
    pub(crate) fatal: Option<ClientError>,
    /// Where the next poll starts draining, so that every partition gets its turn.
    pub(crate) rotate: usize,
    /// Partitions taken away by unsubscribe, with their positions, for the background
    /// task to commit and revoke before it leaves the group.
    pub(crate) unsubscribed: Vec<TopicPartition>,
    /// The positions of `unsubscribed`.
    pub(crate) unsubscribed_positions: offsets::ToCommit,
}

/// State shared by the consumer handle and its background tasks.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) cfg: ConsumerConfig,
    pub(crate) pool: Arc<Pool>,
    pub(crate) admin: Admin,
    /// Subscription, assignment, positions and buffers (std mutex, never held across an
    /// await).
    pub(crate) state: Mutex<State>,
    /// Woken when records arrive, a fetch or look-up finishes, or the assignment
    /// changes; pollers wait on it.
    pub(crate) changed: Notify,
    /// Wakes the background task: the subscription changed or the consumer closes.
    pub(crate) group_wake: Notify,
    pub(crate) closed: AtomicBool,
    /// The group coordinator's connection, once found; dropped when it moves.
    pub(crate) coordinator: Mutex<Option<Arc<crate::connection::Connection>>>,
    /// The background task, awaited by close.
    pub(crate) task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Inner {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("consumer state lock")
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Replaces the assignment with `parts`: kept partitions keep their state, new ones
    /// start without a position.
    pub(crate) fn set_assignment(&self, parts: &[TopicPartition]) {
        let mut st = self.lock();
        let keep: BTreeSet<&TopicPartition> = parts.iter().collect();
        st.assignment.retain(|tp, _| keep.contains(tp));
        for tp in parts {
            st.assignment.entry(tp.clone()).or_default();
        }
        drop(st);
        self.changed.notify_waiters();
    }
}

/// Stops the background task when the consumer is dropped without close.
#[derive(Debug)]
struct StopOnDrop(Arc<Inner>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if !self.0.closed.swap(true, Ordering::AcqRel) {
            self.0.group_wake.notify_one();
        }
    }
}

/// A Kafka consumer.
///
/// Methods take `&self`, so one consumer can be shared between tasks, but records are
/// handed out once: two tasks polling the same consumer split its records.
#[derive(Debug)]
pub struct Consumer<K = BytesDeserializer, V = BytesDeserializer> {
    inner: Arc<Inner>,
    key: K,
    value: V,
    _stop: StopOnDrop,
}

impl Consumer {
    /// A builder with Kafka's defaults and byte deserializers.
    pub fn builder() -> ConsumerBuilder {
        ConsumerBuilder {
            cfg: ConsumerConfig::default(),
            key: BytesDeserializer,
            value: BytesDeserializer,
        }
    }
}

pub(crate) type Records<K, V> =
    Vec<ConsumerRecord<<K as Deserializer>::Output, <V as Deserializer>::Output>>;

impl<K: Deserializer, V: Deserializer> Consumer<K, V> {
    fn check_open(&self) -> Result<(), ClientError> {
        if self.inner.is_closed() {
            Err(ClientError::Closed)
        } else {
            Ok(())
        }
    }

    fn needs_group(&self, what: &str) -> Result<(), ClientError> {
        if self.inner.cfg.group_id.is_none() {
            return Err(ClientError::Config(format!("{what} needs a group_id")));
        }
        Ok(())
    }

    fn set_subscription(&self, sub: Subscription) {
        let mut st = self.inner.lock();
        st.subscription = sub;
        st.subscription_changed = true;
        drop(st);
        self.inner.group_wake.notify_one();
    }

    /// Subscribes to `topics` through the group (replacing any earlier subscription); the
    /// partitions arrive with the next rebalance, in the background. Without a group id,
    /// every partition of the topics is assigned, without membership (kafka-python's
    /// `group_id=None`).
    ///
    /// # Errors
    /// [`ClientError::Config`] without topics, or after [`Consumer::assign`] (call
    /// [`Consumer::unsubscribe`] first, as in Kafka).
    pub fn subscribe(&self, topics: &[&str]) -> Result<(), ClientError> {
        self.check_open()?;
        if topics.is_empty() {
            return Err(ClientError::Config(
                "subscribe needs at least one topic".into(),
            ));
        }
        if matches!(self.inner.lock().subscription, Subscription::Manual) {
            return Err(ClientError::Config(
                "subscribe after assign: unsubscribe first".into(),
            ));
        }
        let set = topics.iter().map(|t| (*t).to_owned()).collect();
        self.set_subscription(Subscription::Topics(set));
        Ok(())
    }

    /// Subscribes to every topic whose whole name matches `pattern` (as Java's
    /// `Pattern.matcher().matches()`; `^my.*` and `my.*` behave alike). Topics created
    /// later are picked up at the next metadata refresh (see
    /// [`ConsumerBuilder::metadata_max_age`]). Internal topics are never matched.
    ///
    /// # Errors
    /// [`ClientError::Config`] for an invalid regex, or after assign.
    pub fn subscribe_pattern(&self, pattern: &str) -> Result<(), ClientError> {
        self.check_open()?;
        let re = regex::Regex::new(&format!("^(?:{pattern})$"))
            .map_err(|e| ClientError::Config(format!("invalid pattern {pattern}: {e}")))?;
        if matches!(self.inner.lock().subscription, Subscription::Manual) {
            return Err(ClientError::Config(
                "subscribe after assign: unsubscribe first".into(),
            ));
        }
        self.set_subscription(Subscription::Pattern(re));
        Ok(())
    }

    /// Reads exactly these partitions, without group membership (commits still work with
    /// a group id, as Kafka's simple consumers do). Replaces an earlier assignment.
    ///
    /// # Errors
    /// [`ClientError::Config`] while subscribed (unsubscribe first).
    pub fn assign(&self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.check_open()?;
        if self.inner.lock().subscription.uses_group() {
            return Err(ClientError::Config(
                "assign while subscribed: unsubscribe first".into(),
            ));
        }
        self.inner.lock().subscription = Subscription::Manual;
        self.inner.set_assignment(partitions);
        Ok(())
    }

    /// Drops the subscription or assignment; a group member leaves its group in the
    /// background (after committing, with auto commit on).
    pub fn unsubscribe(&self) {
        let manual = matches!(self.inner.lock().subscription, Subscription::Manual);
        if manual {
            self.inner.lock().subscription = Subscription::None;
            self.inner.set_assignment(&[]);
        } else {
            // Take the partitions now, so that an assign() right after cannot mix with
            // them; the background task commits their positions and leaves the group.
            let mut st = self.inner.lock();
            let taken = std::mem::take(&mut st.assignment);
            for (tp, p) in taken {
                if let Some(o) = p.position {
                    st.unsubscribed_positions
                        .insert(tp.clone(), (o, p.last_epoch));
                }
                st.unsubscribed.push(tp);
            }
            drop(st);
            self.inner.changed.notify_waiters();
            self.set_subscription(Subscription::None);
        }
    }

    /// The partitions currently assigned.
    pub fn assignment(&self) -> BTreeSet<TopicPartition> {
        self.inner.lock().assignment.keys().cloned().collect()
    }

    /// Waits until at least one partition is assigned (handy in tests: the group's first
    /// rebalance runs in the background).
    ///
    /// # Errors
    /// [`ClientError::Timeout`], or a fatal group error.
    pub async fn wait_for_assignment(
        &self,
        timeout: Duration,
    ) -> Result<BTreeSet<TopicPartition>, ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut st = self.inner.lock();
                if let Some(e) = st.fatal.take() {
                    return Err(e);
                }
                if !st.assignment.is_empty() {
                    return Ok(st.assignment.keys().cloned().collect());
                }
            }
            self.check_open()?;
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(ClientError::Timeout {
                    what: "waiting for an assignment".into(),
                    after: timeout,
                });
            }
        }
    }

    /// Stops fetching these partitions (their buffered records are kept for later).
    pub fn pause(&self, partitions: &[TopicPartition]) {
        let mut st = self.inner.lock();
        for tp in partitions {
            if let Some(p) = st.assignment.get_mut(tp) {
                p.paused = true;
            }
        }
    }

    /// Resumes fetching paused partitions.
    pub fn resume(&self, partitions: &[TopicPartition]) {
        let mut st = self.inner.lock();
        for tp in partitions {
            if let Some(p) = st.assignment.get_mut(tp) {
                p.paused = false;
            }
        }
        drop(st);
        self.inner.changed.notify_waiters();
    }

    /// The paused partitions.
    pub fn paused(&self) -> BTreeSet<TopicPartition> {
        let st = self.inner.lock();
        st.assignment
            .iter()
            .filter(|(_, p)| p.paused)
            .map(|(tp, _)| tp.clone())
            .collect()
    }

    /// Waits up to `timeout` for records and returns those available (at most
    /// `max_poll_records`), possibly none.
    ///
    /// # Errors
    /// [`ClientError::Deserialization`] (the position stays at the bad record),
    /// [`ClientError::NoOffset`] or `OffsetOutOfRange` with a reset policy of `None`, a
    /// fatal group error, or [`ClientError::Closed`].
    pub async fn poll(&self, timeout: Duration) -> Result<Records<K, V>, ClientError> {
        let max = self.inner.cfg.max_poll_records;
        self.poll_max(timeout, max).await
    }

    async fn poll_max(&self, timeout: Duration, max: usize) -> Result<Records<K, V>, ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            self.check_open()?;
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let raw = fetch::drain(&self.inner, max)?;
            if !raw.is_empty() {
                return self.deserialize(raw);
            }
            fetch::start_fetches(&self.inner);
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    /// Turns drained records into consumer records. On a deserialization failure, the
    /// records from the failing one on are given back (positions rewound, buffers dropped)
    /// and the ones before it are returned; with none before it, the error is.
    fn deserialize(
        &self,
        raw: Vec<(TopicPartition, Buffered)>,
    ) -> Result<Records<K, V>, ClientError> {
        let mut out = Vec::with_capacity(raw.len());
        for (i, (tp, b)) in raw.iter().enumerate() {
            let r = &b.record;
            let key = match r.key.clone().map(|k| self.key.deserialize(&tp.topic, k)) {
                None => Ok(None),
                Some(Ok(k)) => Ok(Some(k)),
                Some(Err(e)) => Err(e),
            };
            let value = match r
                .value
                .clone()
                .map(|v| self.value.deserialize(&tp.topic, v))
            {
                None => Ok(None),
                Some(Ok(v)) => Ok(Some(v)),
                Some(Err(e)) => Err(e),
            };
            let (key, value) = match (key, value) {
                (Ok(k), Ok(v)) => (k, v),
                (Err(e), _) | (_, Err(e)) => {
                    fetch::rewind(&self.inner, &raw[i..]);
                    if out.is_empty() {
                        return Err(ClientError::Deserialization {
                            topic: tp.topic.clone(),
                            partition: tp.partition,
                            offset: r.offset,
                            source: Arc::from(e),
                        });
                    }
                    return Ok(out);
                }
            };
            out.push(ConsumerRecord {
                topic: tp.topic.clone(),
                partition: tp.partition,
                offset: r.offset,
                timestamp: r.timestamp,
                timestamp_type: b.timestamp_type,
                key,
                value,
                headers: r
                    .headers
                    .iter()
                    .map(|h| Header {
                        key: h.key.clone(),
                        value: h.value.clone(),
                    })
                    .collect(),
                leader_epoch: (b.leader_epoch >= 0).then_some(b.leader_epoch),
            });
        }
        Ok(out)
    }

    /// The next record, waiting as long as it takes.
    ///
    /// # Errors
    /// As [`Consumer::poll`].
    pub async fn recv(&self) -> Result<ConsumerRecord<K::Output, V::Output>, ClientError> {
        loop {
            if let Some(r) = self.recv_timeout(Duration::from_secs(3600)).await? {
                return Ok(r);
            }
        }
    }

    /// The next record, or `None` if none arrives within `timeout`.
    ///
    /// # Errors
    /// As [`Consumer::poll`].
    pub async fn recv_timeout(
        &self,
        timeout: Duration,
    ) -> Result<Option<ConsumerRecord<K::Output, V::Output>>, ClientError> {
        Ok(self.poll_max(timeout, 1).await?.into_iter().next())
    }

    /// The records as a [`Stream`](futures_core::Stream). It ends after the consumer
    /// timeout passes without a record (never, by default), or after an error.
    pub fn stream(&self) -> RecordStream<'_, K, V> {
        RecordStream {
            consumer: self,
            pending: VecDeque::new(),
            fut: None,
            done: false,
        }
    }

    /// Commits the positions of every assigned partition (the offset of the next record
    /// each would hand out), and waits for the coordinator.
    ///
    /// # Errors
    /// [`ClientError::Config`] without a group id; the coordinator's errors, naming the
    /// group or partition (a commit during a rebalance fails with `RebalanceInProgress`
    /// or `IllegalGeneration`, as in Kafka).
    pub async fn commit(&self) -> Result<(), ClientError> {
        self.needs_group("commit")?;
        let offsets = offsets::consumed(&self.inner);
        offsets::commit(&self.inner, &offsets).await
    }

    /// Commits the given offsets (each the offset of the next record to read).
    ///
    /// # Errors
    /// As [`Consumer::commit`].
    pub async fn commit_offsets(
        &self,
        offsets: &BTreeMap<TopicPartition, i64>,
    ) -> Result<(), ClientError> {
        self.needs_group("commit")?;
        let with_epochs = offsets
            .iter()
            .map(|(tp, o)| (tp.clone(), (*o, None)))
            .collect();
        offsets::commit(&self.inner, &with_epochs).await
    }

    /// Starts committing the consumed positions in the background and returns at once;
    /// await the handle for the outcome, or drop it. Call it inside a tokio runtime.
    pub fn commit_async(&self) -> CommitHandle {
        let inner = self.inner.clone();
        let offsets = offsets::consumed(&inner);
        let group = inner.cfg.group_id.is_some();
        CommitHandle(tokio::spawn(async move {
            if !group {
                return Err(ClientError::Config("commit needs a group_id".into()));
            }
            offsets::commit(&inner, &offsets).await
        }))
    }

    /// Starts committing the given offsets in the background; see
    /// [`Consumer::commit_async`].
    pub fn commit_offsets_async(&self, offsets: &BTreeMap<TopicPartition, i64>) -> CommitHandle {
        let inner = self.inner.clone();
        let offsets: offsets::ToCommit = offsets
            .iter()
            .map(|(tp, o)| (tp.clone(), (*o, None)))
            .collect();
        let group = inner.cfg.group_id.is_some();
        CommitHandle(tokio::spawn(async move {
            if !group {
                return Err(ClientError::Config("commit needs a group_id".into()));
            }
            offsets::commit(&inner, &offsets).await
        }))
    }

    /// The group's committed offset for `tp` (`None` when it has none).
    ///
    /// # Errors
    /// [`ClientError::Config`] without a group id, or the coordinator's errors.
    pub async fn committed(&self, tp: &TopicPartition) -> Result<Option<i64>, ClientError> {
        self.needs_group("committed")?;
        let got = offsets::fetch_committed(&self.inner, std::slice::from_ref(tp)).await?;
        Ok(got.get(tp).copied())
    }

    /// The offset of the next record this consumer will hand out for `tp`, resolving it
    /// (committed offset, else the reset policy) if it is not known yet.
    ///
    /// # Errors
    /// [`ClientError::Config`] if `tp` is not assigned, or what the resolution fails with.
    pub async fn position(&self, tp: &TopicPartition) -> Result<i64, ClientError> {
        loop {
            {
                let st = self.inner.lock();
                let Some(p) = st.assignment.get(tp) else {
                    return Err(ClientError::Config(format!(
                        "partition {}-{} is not assigned",
                        tp.topic, tp.partition
                    )));
                };
                if let Some(pos) = p.position {
                    return Ok(pos);
                }
            }
            offsets::resolve(&self.inner, std::slice::from_ref(tp)).await?;
            let mut st = self.inner.lock();
            if let Some(e) = st.assignment.get_mut(tp).and_then(|p| p.error.take()) {
                return Err(e);
            }
        }
    }

    /// Makes `offset` the next record handed out for `tp` (dropping what is buffered).
    ///
    /// # Errors
    /// [`ClientError::Config`] if `tp` is not assigned or `offset` is negative.
    pub fn seek(&self, tp: &TopicPartition, offset: i64) -> Result<(), ClientError> {
        if offset < 0 {
            return Err(ClientError::Config(format!(
                "cannot seek to offset {offset}"
            )));
        }
        let mut st = self.inner.lock();
        let Some(p) = st.assignment.get_mut(tp) else {
            return Err(ClientError::Config(format!(
                "partition {}-{} is not assigned",
                tp.topic, tp.partition
            )));
        };
        p.position = Some(offset);
        p.reset_needed = false;
        p.error = None;
        p.buffer.clear();
        p.version += 1;
        drop(st);
        self.inner.changed.notify_waiters();
        Ok(())
    }

    /// Seeks each partition to its log start offset.
    ///
    /// # Errors
    /// As [`Consumer::seek`], or the ListOffsets errors.
    pub async fn seek_to_beginning(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<(), ClientError> {
        for (tp, o) in self.beginning_offsets(partitions).await? {
            self.seek(&tp, o)?;
        }
        Ok(())
    }

    /// Seeks each partition to its high watermark.
    ///
    /// # Errors
    /// As [`Consumer::seek_to_beginning`].
    pub async fn seek_to_end(&self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        for (tp, o) in self.end_offsets(partitions).await? {
            self.seek(&tp, o)?;
        }
        Ok(())
    }

    /// Each partition's log start offset.
    ///
    /// # Errors
    /// A partition's non-retriable ListOffsets error, naming it.
    pub async fn beginning_offsets(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, i64>, ClientError> {
        offsets::list(&self.inner, partitions, crate::admin::OffsetSpec::Earliest).await
    }

    /// Each partition's high watermark (the offset the next record will get).
    ///
    /// # Errors
    /// As [`Consumer::beginning_offsets`].
    pub async fn end_offsets(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<BTreeMap<TopicPartition, i64>, ClientError> {
        offsets::list(&self.inner, partitions, crate::admin::OffsetSpec::Latest).await
    }

    /// For each partition, the first offset whose timestamp is at or after the given time
    /// (ms since the epoch), with that record's timestamp; `None` when there is none.
    ///
    /// # Errors
    /// As [`Consumer::beginning_offsets`].
    pub async fn offsets_for_times(
        &self,
        times: &BTreeMap<TopicPartition, i64>,
    ) -> Result<BTreeMap<TopicPartition, Option<(i64, i64)>>, ClientError> {
        let req: Vec<_> = times
            .iter()
            .map(|(tp, t)| (tp.clone(), crate::admin::OffsetSpec::Timestamp(*t)))
            .collect();
        let got = self.inner.admin.list_offsets(&req).await?;
        Ok(got
            .into_iter()
            .map(|(tp, o)| (tp, (o.offset >= 0).then_some((o.offset, o.timestamp))))
            .collect())
    }

    /// The member id this consumer has in its group, once it joined.
    pub fn member_id(&self) -> Option<String> {
        self.inner
            .lock()
            .membership
            .as_ref()
            .map(|m| m.member_id.clone())
    }

    /// Commits (with auto commit on), leaves the group (unless static) and stops the
    /// background task. Later calls fail with [`ClientError::Closed`].
    ///
    /// # Errors
    /// Never for the leave itself (best effort, as in Kafka); the final auto commit's
    /// error is logged.
    pub async fn close(&self) -> Result<(), ClientError> {
        if !self.inner.closed.swap(true, Ordering::AcqRel) {
            self.inner.group_wake.notify_one();
        }
        let task = self.inner.task.lock().expect("task lock").take();
        if let Some(t) = task {
            let _ = t.await;
        }
        self.inner.changed.notify_waiters();
        Ok(())
    }
}

/// The outcome of [`Consumer::commit_async`].
#[derive(Debug)]
pub struct CommitHandle(tokio::task::JoinHandle<Result<(), ClientError>>);

impl Future for CommitHandle {
    type Output = Result<(), ClientError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(ClientError::Closed)))
    }
}

type PollFuture<'a, K, V> =
    Pin<Box<dyn Future<Output = Result<Records<K, V>, ClientError>> + Send + 'a>>;

/// The records of a consumer as a [`Stream`](futures_core::Stream); see
/// [`Consumer::stream`].
pub struct RecordStream<'a, K: Deserializer, V: Deserializer> {
    consumer: &'a Consumer<K, V>,
    pending: VecDeque<ConsumerRecord<K::Output, V::Output>>,
    fut: Option<PollFuture<'a, K, V>>,
    done: bool,
}

impl<K: Deserializer, V: Deserializer> std::fmt::Debug for RecordStream<'_, K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream")
            .field("pending", &self.pending.len())
            .field("done", &self.done)
            .finish()
    }
}

impl<K: Deserializer, V: Deserializer> Unpin for RecordStream<'_, K, V> {}

impl<'a, K, V> futures_core::Stream for RecordStream<'a, K, V>
where
    K: Deserializer,
    V: Deserializer,
    K::Output: Send,
    V::Output: Send,
{
    type Item = Result<ConsumerRecord<K::Output, V::Output>, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(r) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(r)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            let consumer = this.consumer;
            let fut = this.fut.get_or_insert_with(|| {
                let timeout = consumer
                    .inner
                    .cfg
                    .consumer_timeout
                    .unwrap_or(Duration::from_secs(3600));
                Box::pin(consumer.poll(timeout))
            });
            match fut.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => {
                    this.fut = None;
                    match r {
                        Ok(batch) if batch.is_empty() => {
                            if this.consumer.inner.cfg.consumer_timeout.is_some() {
                                this.done = true;
                            }
                        }
                        Ok(batch) => this.pending.extend(batch),
                        Err(e) => {
                            this.done = true;
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}

    #[test]
    fn consumers_and_their_futures_can_move_between_tasks() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let fut = Consumer::builder()
                .bootstrap_servers(["127.0.0.1:1"])
                .request_timeout(Duration::from_millis(10))
                .build();
            send(async {
                if let Ok(c) = fut.await {
                    send_sync(&c);
                    send(c.poll(Duration::ZERO));
                    send(c.recv());
                    send(c.commit());
                    send(c.close());
                }
            });
        });
    }

    #[test]
    fn defaults_are_kafkas() {
        let c = ConsumerConfig::default();
        assert_eq!(c.auto_offset_reset, OffsetReset::Latest);
        assert!(c.enable_auto_commit);
        assert_eq!(c.auto_commit_interval, Duration::from_secs(5));
        assert_eq!(c.consumer_timeout, None);
        assert_eq!(c.max_poll_records, 500);
        assert_eq!(c.isolation_level, IsolationLevel::ReadUncommitted);
        assert_eq!(
            c.strategies,
            vec![
                AssignmentStrategy::Range,
                AssignmentStrategy::CooperativeSticky
            ]
        );
    }
}
