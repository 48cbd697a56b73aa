//! The cluster handle: start, shutdown, inspection and control.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use kafka_protocol::messages::BrokerId;
use kafka_protocol::ResponseError;
use mockafka_protocol::batch::BatchHeader;
use tracing::debug;

use crate::broker::{self, BrokerSlot};
use crate::config::{ClusterConfig, TimeSource, TopicSpec};
use crate::error::ClusterError;
use crate::fetch_session::FetchSessions;
use crate::group::{GroupConfig, Groups};
use crate::topics::{Partition, Topic, Topics};
use crate::view::{BatchView, BrokerView, PartitionView, TopicView};

/// Producer ids handed out by InitProducerId.
#[derive(Debug, Default)]
pub(crate) struct ProducerIds {
    next: i64,
    /// Transactional id -> (producer id, epoch).
    transactional: HashMap<String, (i64, i16)>,
}

impl ProducerIds {
    /// A fresh producer id at epoch 0.
    pub(crate) fn allocate(&mut self) -> (i64, i16) {
        let id = self.next;
        self.next = self.next.saturating_add(1);
        (id, 0)
    }

    /// The producer id of a transactional id, with its epoch bumped (fencing older
    /// instances), as the transaction coordinator does.
    pub(crate) fn for_transactional_id(&mut self, tid: &str) -> (i64, i16) {
        if let Some(entry) = self.transactional.get_mut(tid) {
            if entry.1 < i16::MAX - 1 {
                entry.1 += 1;
                return *entry;
            }
        }
        let fresh = self.allocate();
        self.transactional.insert(tid.to_owned(), fresh);
        fresh
    }
}

/// A running broker's address, as Metadata reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BrokerInfo {
    pub(crate) id: i32,
    pub(crate) host: String,
    pub(crate) port: u16,
}

/// State shared by the handle and every task. Lock order: brokers, then topics, then a
/// partition; no lock is held across `.await`.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: ClusterConfig,
    /// Guards the topic registry; handlers lock it to find a partition, clone its `Arc`
    /// and release it before locking the partition.
    topics: Mutex<Topics>,
    /// Guards each broker's address and, while it runs, its stop signal and accept task.
    brokers: Mutex<Vec<BrokerSlot>>,
    /// Guards producer id allocation (InitProducerId).
    pub(crate) producer_ids: Mutex<ProducerIds>,
    /// Every group and committed offset (its own lock, and the timer task's wake-ups).
    pub(crate) groups: Arc<Groups>,
    /// Fetch requests currently parked in a long poll.
    pub(crate) parked_fetches: AtomicUsize,
    /// Guards the incremental fetch sessions of every broker.
    fetch_sessions: Mutex<FetchSessions>,
    /// Injected faults and the request log (see `faults/`).
    pub(crate) faults: crate::faults::FaultState,
}

fn relock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn topics(&self) -> MutexGuard<'_, Topics> {
        relock(&self.topics)
    }

    pub(crate) fn fetch_sessions(&self) -> MutexGuard<'_, FetchSessions> {
        relock(&self.fetch_sessions)
    }

    pub(crate) fn producer_ids(&self) -> MutexGuard<'_, ProducerIds> {
        relock(&self.producer_ids)
    }

    fn brokers(&self) -> MutexGuard<'_, Vec<BrokerSlot>> {
        relock(&self.brokers)
    }

    pub(crate) fn live_brokers(&self) -> Vec<BrokerInfo> {
        self.brokers()
            .iter()
            .filter(|b| b.running.is_some())
            .map(|b| BrokerInfo {
                id: b.id,
                host: b.host.clone(),
                port: b.port,
            })
            .collect()
    }

    pub(crate) fn live_ids(&self) -> Vec<i32> {
        self.live_brokers().iter().map(|b| b.id).collect()
    }

    pub(crate) fn broker_count(&self) -> usize {
        self.brokers().len()
    }

    /// The controller: the live broker with the lowest id, or -1.
    pub(crate) fn controller_id(&self) -> i32 {
        self.live_ids().first().copied().unwrap_or(-1)
    }

    /// Creates a topic (or, with `validate_only`, checks that it could be created).
    ///
    /// # Errors
    /// The Kafka error CreateTopics would answer.
    pub(crate) fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<(), ResponseError> {
        let live = self.live_ids();
        let mut topics = self.topics();
        if validate_only {
            return topics.check_create(name, partitions, &configs);
        }
        topics.create(name, partitions, configs, &live).map(|_| ())
    }

    /// Grows a topic to `count` partitions.
    ///
    /// # Errors
    /// The Kafka error CreatePartitions would answer.
    pub(crate) fn add_partitions(
        &self,
        name: &str,
        count: i32,
        validate_only: bool,
    ) -> Result<(), ResponseError> {
        let live = self.live_ids();
        let mut topics = self.topics();
        if validate_only {
            return topics.check_add_partitions(name, count);
        }
        topics.add_partitions(name, count, &live)
    }

    /// Moves leadership of every partition led by `stopped` to the next live broker (by
    /// id, cyclically), each with a new leader epoch; with no live broker, the leader
    /// becomes -1. Wakes fetches waiting on those partitions.
    fn fail_over(&self, stopped: i32) {
        let live = self.live_ids();
        let partitions: Vec<Arc<Partition>> = self
            .topics()
            .iter()
            .flat_map(|t| t.partitions.iter().cloned())
            .collect();
        let next = live
            .iter()
            .copied()
            .find(|&b| b > stopped)
            .or_else(|| live.first().copied())
            .unwrap_or(-1);
        for p in partitions {
            let mut state = p.lock();
            if state.leader == stopped {
                state.elect(next);
                drop(state);
                p.changed.notify_waiters();
            }
        }
    }

    /// Gives partitions without a leader to `restarted`.
    fn adopt_orphans(&self, restarted: i32) {
        let partitions: Vec<Arc<Partition>> = self
            .topics()
            .iter()
            .flat_map(|t| t.partitions.iter().cloned())
            .collect();
        for p in partitions {
            let mut state = p.lock();
            if state.leader == -1 {
                state.elect(restarted);
                drop(state);
                p.changed.notify_waiters();
            }
        }
    }

    /// Signals every running broker to stop and hands back their tasks.
    fn stop_all(&self) -> Vec<tokio::task::JoinHandle<()>> {
        self.groups.stop();
        self.brokers()
            .iter_mut()
            .filter_map(|b| b.running.take())
            .filter_map(|r| r.stop())
            .collect()
    }
}

/// Stops every broker when the last [`Cluster`] handle is dropped. Tasks hold only
/// `Arc<Shared>`, never this, so they cannot keep the cluster alive.
#[derive(Debug)]
struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // The tasks end on their own once signalled; nobody is left to await them.
        drop(self.0.stop_all());
    }
}

/// An in-process Kafka cluster. Cheap to clone; every clone is the same cluster. Dropping
/// the last clone (or calling [`Cluster::shutdown`]) stops every listener and task.
#[derive(Debug, Clone)]
pub struct Cluster {
    shared: Arc<Shared>,
    _stop: Arc<StopOnDrop>,
}

/// Builds a [`Cluster`]; see [`Cluster::builder`].
#[derive(Debug, Clone, Default)]
pub struct ClusterBuilder {
    config: ClusterConfig,
}

impl ClusterBuilder {
    /// Number of brokers, with ids `0..n`. Default: 3. At least one broker is started.
    #[must_use]
    pub fn brokers(mut self, n: usize) -> Self {
        self.config.brokers = n.max(1);
        self
    }

    /// Host the listeners bind to and advertise. Default: `127.0.0.1`.
    #[must_use]
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.config.host = host.into();
        self
    }

    /// Port of broker 0; broker `i` listens on `base_port + i`. Default: 0 (every broker
    /// on an ephemeral port).
    #[must_use]
    pub fn base_port(mut self, port: u16) -> Self {
        self.config.base_port = port;
        self
    }

    /// Partitions of auto-created topics (Kafka's `num.partitions`). Default: 1.
    #[must_use]
    pub fn default_partitions(mut self, n: i32) -> Self {
        self.config.default_partitions = n.max(1);
        self
    }

    /// Whether Metadata creates unknown topics (`auto.create.topics.enable`). Default: on.
    #[must_use]
    pub fn auto_create_topics(mut self, on: bool) -> Self {
        self.config.auto_create_topics = on;
        self
    }

    /// A topic to create at start, with default configs. Default: none.
    #[must_use]
    pub fn topic(self, name: impl Into<String>, partitions: i32) -> Self {
        self.topic_spec(TopicSpec::new(name, partitions))
    }

    /// A topic to create at start, with configs. Default: none.
    #[must_use]
    pub fn topic_spec(mut self, spec: TopicSpec) -> Self {
        self.config.topics.push(spec);
        self
    }

    /// The broker's `message.max.bytes` (largest batch accepted, unless a topic's
    /// `max.message.bytes` says otherwise). Default: 1048588, as Kafka.
    #[must_use]
    pub fn message_max_bytes(mut self, bytes: i32) -> Self {
        self.config.message_max_bytes = bytes;
        self
    }

    /// Where wall-clock time comes from. Default: [`TimeSource::System`].
    #[must_use]
    pub fn time_source(mut self, time: TimeSource) -> Self {
        self.config.time = time;
        self
    }

    /// Largest request frame accepted (`socket.request.max.bytes`); larger frames close
    /// the connection. Default: 100 MiB.
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.config.max_frame_size = bytes;
        self
    }

    /// Group coordinator settings (session timeout bounds, initial rebalance delay).
    /// Default: [`GroupConfig::default`]: no initial rebalance delay (Kafka: 3 s) and
    /// session timeouts from 1 ms to 30 min (Kafka: 6 s to 30 min).
    #[must_use]
    pub fn group_config(mut self, config: GroupConfig) -> Self {
        self.config.groups = config;
        self
    }

    /// `group.initial.rebalance.delay.ms`: how long a new group's first rebalance waits for
    /// more members. Default: 0 (Kafka: 3 s).
    #[must_use]
    pub fn initial_rebalance_delay(mut self, delay: Duration) -> Self {
        self.config.groups.initial_rebalance_delay = delay;
        self
    }

    /// Seeds the generated ids (topic ids, member ids, fetch session ids), so that a test
    /// sees the same ids, member order and assignments on every run. Default: random per
    /// process, as Kafka's.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = Some(seed);
        self
    }

    /// Binds every listener, creates the configured topics and starts serving. Must be
    /// called within a tokio runtime (either flavour).
    ///
    /// # Errors
    /// [`ClusterError::Bind`] when a listener cannot be bound; [`ClusterError::Kafka`]
    /// when a configured topic is invalid.
    pub async fn start(self) -> Result<Cluster, ClusterError> {
        let config = self.config;
        let mut listeners = Vec::with_capacity(config.brokers);
        let mut slots = Vec::with_capacity(config.brokers);
        for i in 0..config.brokers {
            let port = if config.base_port == 0 {
                0
            } else {
                u16::try_from(usize::from(config.base_port).saturating_add(i)).map_err(|_| {
                    ClusterError::Bind {
                        addr: format!("{}:{}+{i}", config.host, config.base_port),
                        source: std::io::Error::other("port out of range"),
                    }
                })?
            };
            let listener =
                broker::bind(&config.host, port).map_err(|source| ClusterError::Bind {
                    addr: format!("{}:{port}", config.host),
                    source,
                })?;
            let port = listener
                .local_addr()
                .map_err(|source| ClusterError::Bind {
                    addr: format!("{}:{port}", config.host),
                    source,
                })?
                .port();
            let id = i32::try_from(i).unwrap_or(i32::MAX);
            slots.push(BrokerSlot {
                id,
                host: config.host.clone(),
                port,
                running: None,
            });
            listeners.push(listener);
        }
        let topics_to_create = config.topics.clone();
        let group_config = config.groups.clone();
        let broker_ids: Vec<i32> = slots.iter().map(|s| s.id).collect();
        let shared = Arc::new(Shared {
            config,
            topics: Mutex::new(Topics::default()),
            brokers: Mutex::new(slots),
            producer_ids: Mutex::new(ProducerIds::default()),
            groups: Arc::new(Groups::new(group_config, &broker_ids)),
            parked_fetches: AtomicUsize::new(0),
            fetch_sessions: Mutex::new(FetchSessions::default()),
            faults: crate::faults::FaultState::default(),
        });
        if let Some(seed) = shared.config.seed {
            crate::seed::apply(&shared, seed);
        }
        shared.groups.spawn_timer();
        let cluster = Cluster {
            _stop: Arc::new(StopOnDrop(Arc::clone(&shared))),
            shared,
        };
        for (i, listener) in listeners.into_iter().enumerate() {
            let id = i32::try_from(i).unwrap_or(i32::MAX);
            let running =
                broker::start(Arc::clone(&cluster.shared), id, listener).map_err(|source| {
                    ClusterError::Bind {
                        addr: format!("broker {id}"),
                        source,
                    }
                })?;
            if let Some(slot) = cluster.shared.brokers().get_mut(i) {
                slot.running = Some(running);
            }
        }
        for spec in topics_to_create {
            cluster.create_topic(spec)?;
        }
        Ok(cluster)
    }
}

impl Cluster {
    /// A builder with test defaults: 3 brokers on ephemeral ports of 127.0.0.1,
    /// auto-created topics with 1 partition.
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder::default()
    }

    /// `host:port` of every broker, comma-separated, for a client's `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> String {
        self.shared
            .brokers()
            .iter()
            .map(|b| format!("{}:{}", b.host, b.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Every broker, running or stopped.
    pub fn brokers(&self) -> Vec<BrokerView> {
        self.shared
            .brokers()
            .iter()
            .map(|b| BrokerView {
                id: BrokerId(b.id),
                host: b.host.clone(),
                port: b.port,
                running: b.running.is_some(),
            })
            .collect()
    }

    /// The listener address of a broker.
    pub fn broker_addr(&self, id: BrokerId) -> Option<SocketAddr> {
        let brokers = self.shared.brokers();
        let b = brokers.iter().find(|b| b.id == id.0)?;
        format!("{}:{}", b.host, b.port).parse().ok()
    }

    /// Stops every broker and waits until every listener and connection task has ended.
    /// Other clones of this handle see a cluster with no running broker.
    pub async fn shutdown(self) {
        for task in self.shared.stop_all() {
            let _ = task.await;
        }
    }

    // ---- inspection ----

    /// Every topic, by name.
    pub fn topics(&self) -> Vec<TopicView> {
        self.shared.topics().iter().map(topic_view).collect()
    }

    /// One topic.
    pub fn topic(&self, name: &str) -> Option<TopicView> {
        self.shared.topics().get(name).map(topic_view)
    }

    fn partition_arc(&self, topic: &str, partition: i32) -> Result<Arc<Partition>, ClusterError> {
        self.shared
            .topics()
            .partition(topic, partition)
            .map_err(|code| ClusterError::kafka(code, topic, Some(partition)))
    }

    /// Leader, leader epoch, log start offset and high watermark of a partition.
    ///
    /// # Errors
    /// [`ClusterError::Kafka`] with UNKNOWN_TOPIC_OR_PARTITION.
    pub fn partition(&self, topic: &str, partition: i32) -> Result<PartitionView, ClusterError> {
        let p = self.partition_arc(topic, partition)?;
        let view = partition_view(&p);
        Ok(view)
    }

    /// The stored batches of a partition, header fields only, oldest first.
    ///
    /// # Errors
    /// [`ClusterError::Kafka`] with UNKNOWN_TOPIC_OR_PARTITION.
    pub fn batches(&self, topic: &str, partition: i32) -> Result<Vec<BatchView>, ClusterError> {
        let p = self.partition_arc(topic, partition)?;
        let state = p.lock();
        Ok(state
            .log
            .batches()
            .filter_map(|b| BatchHeader::parse(&b.bytes).ok())
            .map(|h| batch_view(&h))
            .collect())
    }

    // ---- control ----

    /// Creates a topic, leaders spread round-robin over the live brokers.
    ///
    /// # Errors
    /// [`ClusterError::Kafka`] with TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION,
    /// INVALID_PARTITIONS or INVALID_CONFIG.
    pub fn create_topic(&self, spec: TopicSpec) -> Result<(), ClusterError> {
        self.shared
            .create_topic(&spec.name, spec.partitions, spec.configs, false)
            .map_err(|code| ClusterError::kafka(code, &spec.name, None))
    }

    /// Deletes a topic and its records.
    ///
    /// # Errors
    /// [`ClusterError::Kafka`] with UNKNOWN_TOPIC_OR_PARTITION.
    pub fn delete_topic(&self, name: &str) -> Result<(), ClusterError> {
        self.shared
            .topics()
            .delete(name)
            .map_err(|code| ClusterError::kafka(code, name, None))?;
        self.shared.groups.update(|g, _| g.topic_deleted(name));
        Ok(())
    }

    /// Grows a topic to `total` partitions.
    ///
    /// # Errors
    /// [`ClusterError::Kafka`] with UNKNOWN_TOPIC_OR_PARTITION or INVALID_PARTITIONS.
    pub fn add_partitions(&self, name: &str, total: i32) -> Result<(), ClusterError> {
        self.shared
            .add_partitions(name, total, false)
            .map_err(|code| ClusterError::kafka(code, name, None))
    }

    /// Makes `broker` the leader of a partition, with a new leader epoch (even when it
    /// already leads, as a leader election does).
    ///
    /// # Errors
    /// [`ClusterError::UnknownBroker`], [`ClusterError::BrokerState`] for a stopped
    /// broker, [`ClusterError::Kafka`] with UNKNOWN_TOPIC_OR_PARTITION.
    pub fn move_leader(
        &self,
        topic: &str,
        partition: i32,
        broker: BrokerId,
    ) -> Result<(), ClusterError> {
        self.check_broker(broker.0, true)?;
        let p = self.partition_arc(topic, partition)?;
        p.lock().elect(broker.0);
        p.changed.notify_waiters();
        Ok(())
    }

    fn check_broker(&self, id: i32, want_running: bool) -> Result<(), ClusterError> {
        let brokers = self.shared.brokers();
        let slot = brokers
            .iter()
            .find(|b| b.id == id)
            .ok_or(ClusterError::UnknownBroker { broker: id })?;
        let running = slot.running.is_some();
        if running != want_running {
            return Err(ClusterError::BrokerState {
                broker: id,
                running,
            });
        }
        Ok(())
    }

    /// Stops a broker: its listener and connections close, and the partitions it led
    /// fail over to the next live broker with a new leader epoch. Returns once the
    /// listener is closed.
    ///
    /// # Errors
    /// [`ClusterError::UnknownBroker`], or [`ClusterError::BrokerState`] if it is
    /// already stopped.
    pub async fn stop_broker(&self, broker: BrokerId) -> Result<(), ClusterError> {
        let running = {
            let mut brokers = self.shared.brokers();
            let slot = brokers
                .iter_mut()
                .find(|b| b.id == broker.0)
                .ok_or(ClusterError::UnknownBroker { broker: broker.0 })?;
            slot.running.take().ok_or(ClusterError::BrokerState {
                broker: broker.0,
                running: false,
            })?
        };
        let task = running.stop();
        self.shared.fail_over(broker.0);
        let live = self.shared.live_ids();
        self.shared
            .groups
            .update(|g, now| g.broker_stopped(now, broker.0, &live));
        self.shared.fetch_sessions().clear_broker(broker.0);
        if let Some(task) = task {
            let _ = task.await;
        }
        debug!(broker = broker.0, "stopped");
        Ok(())
    }

    /// Restarts a stopped broker on its old port. It takes over partitions that had no
    /// live leader; others stay where they failed over to (use [`Cluster::move_leader`]).
    ///
    /// # Errors
    /// [`ClusterError::UnknownBroker`], [`ClusterError::BrokerState`] if it is running,
    /// [`ClusterError::Bind`] if the port is taken.
    pub async fn restart_broker(&self, broker: BrokerId) -> Result<(), ClusterError> {
        let mut brokers = self.shared.brokers();
        let slot = brokers
            .iter_mut()
            .find(|b| b.id == broker.0)
            .ok_or(ClusterError::UnknownBroker { broker: broker.0 })?;
        if slot.running.is_some() {
            return Err(ClusterError::BrokerState {
                broker: broker.0,
                running: true,
            });
        }
        let addr = format!("{}:{}", slot.host, slot.port);
        let listener =
            broker::bind(&slot.host, slot.port).map_err(|source| ClusterError::Bind {
                addr: addr.clone(),
                source,
            })?;
        let running = broker::start(Arc::clone(&self.shared), broker.0, listener)
            .map_err(|source| ClusterError::Bind { addr, source })?;
        slot.running = Some(running);
        drop(brokers);
        self.shared.adopt_orphans(broker.0);
        self.shared
            .groups
            .update(|g, now| g.broker_restarted(now, broker.0));
        Ok(())
    }

    /// Deletes the records of a partition before `offset` (-1: the high watermark), as
    /// DeleteRecords does. Returns the new log start offset.
    ///
    /// # Errors
    /// [`ClusterError::Kafka`] with UNKNOWN_TOPIC_OR_PARTITION or OFFSET_OUT_OF_RANGE.
    pub fn delete_records(
        &self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<i64, ClusterError> {
        let p = self.partition_arc(topic, partition)?;
        let mut state = p.lock();
        let target = if offset == -1 {
            state.log.high_watermark()
        } else {
            offset
        };
        let low = state
            .log
            .delete_before(target)
            .map_err(|code| ClusterError::kafka(code, topic, Some(partition)))?;
        drop(state);
        p.changed.notify_waiters();
        Ok(low)
    }

    /// Fetch requests currently waiting for data (long polls parked on `max_wait_ms`), so a
    /// test can produce exactly when a consumer is waiting.
    pub fn parked_fetches(&self) -> usize {
        self.shared.parked_fetches.load(Ordering::SeqCst)
    }

    /// Wall-clock time of the cluster's time source, in ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.shared.config.time.now_ms()
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

fn topic_view(t: &Topic) -> TopicView {
    TopicView {
        name: t.name.to_string(),
        id: t.id,
        partitions: t.partitions.iter().map(|p| partition_view(p)).collect(),
        configs: t.configs.clone(),
    }
}

fn partition_view(p: &Partition) -> PartitionView {
    let state = p.lock();
    PartitionView {
        topic: p.topic.to_string(),
        partition: p.index,
        leader: (state.leader >= 0).then_some(BrokerId(state.leader)),
        leader_epoch: state.leader_epoch,
        log_start_offset: state.log.log_start_offset(),
        high_watermark: state.log.high_watermark(),
        retained_bytes: state.log.retained_bytes(),
    }
}

pub(crate) fn batch_view(h: &BatchHeader) -> BatchView {
    BatchView {
        base_offset: h.base_offset,
        last_offset: h.last_offset(),
        partition_leader_epoch: h.partition_leader_epoch,
        compression: h.compression().ok(),
        timestamp_type: h.timestamp_type(),
        transactional: h.is_transactional(),
        control: h.is_control(),
        producer_id: h.producer_id,
        producer_epoch: h.producer_epoch,
        base_sequence: h.base_sequence,
        base_timestamp: h.base_timestamp,
        max_timestamp: h.max_timestamp,
        record_count: h.record_count,
        size_bytes: h.total_size(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_is_clone_send_sync() {
        fn is<T: Send + Sync + Clone + 'static>() {}
        is::<Cluster>();
    }

    #[test]
    fn transactional_ids_keep_their_producer_id_and_bump_the_epoch() {
        let mut ids = ProducerIds::default();
        assert_eq!(ids.allocate(), (0, 0));
        assert_eq!(ids.for_transactional_id("t"), (1, 0));
        assert_eq!(ids.for_transactional_id("t"), (1, 1));
        assert_eq!(ids.allocate(), (2, 0));
    }
}
