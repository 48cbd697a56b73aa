//! The producer: [`Producer::builder`], [`Producer::send`], [`Producer::flush`],
//! [`Producer::close`].
//!
//! `send` serializes the record, picks its partition (explicit, murmur2 of the key, or
//! sticky), waits only for metadata of a topic it has not seen and for buffer memory when the
//! buffer is full, appends the record to its partition's open batch, and returns a
//! [`DeliveryFuture`]. One sender task per producer sends batches to partition leaders.

mod accumulator;
mod record;
mod sender;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};

pub use mockafka_protocol::batch::Compression;
pub use record::{DeliveryFuture, Header, ProducerRecord, RecordMetadata};

use self::accumulator::{AccumConfig, Accumulator, PendingRecord, BATCH_OVERHEAD};
use self::record::DeliverySlot;
use crate::connection::ConnConfig;
use crate::error::ClientError;
use crate::partitioner::{partition_for_key, Sticky};
use crate::pool::Pool;
use crate::serializer::{BytesSerializer, Serializer};

/// How many replicas must acknowledge a write before the producer counts it as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Acks {
    /// `acks=0`: the broker does not answer; offsets are reported as -1.
    None,
    /// `acks=1`: the leader has appended it.
    Leader,
    /// `acks=all` (the default): every in-sync replica has it.
    #[default]
    All,
}

impl Acks {
    fn code(self) -> i16 {
        match self {
            Self::None => 0,
            Self::Leader => 1,
            Self::All => -1,
        }
    }
}

#[derive(Debug, Clone)]
struct ProducerConfig {
    bootstrap: Vec<String>,
    client_id: String,
    acks: Acks,
    compression: Compression,
    linger: Duration,
    batch_size: usize,
    max_in_flight: usize,
    retries: u32,
    retry_backoff: Duration,
    retry_backoff_max: Duration,
    request_timeout: Duration,
    delivery_timeout: Duration,
    max_block: Duration,
    idempotence: Option<bool>,
    buffer_memory: usize,
    max_request_size: usize,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self {
            bootstrap: Vec::new(),
            client_id: "mockafka-producer".into(),
            acks: Acks::All,
            compression: Compression::None,
            linger: Duration::from_millis(5),
            batch_size: 16_384,
            max_in_flight: 5,
            retries: u32::MAX,
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_secs(1),
            request_timeout: Duration::from_secs(30),
            delivery_timeout: Duration::from_secs(120),
            max_block: Duration::from_secs(60),
            idempotence: None,
            buffer_memory: 32 * 1024 * 1024,
            max_request_size: 1024 * 1024,
        }
    }
}

/// Builds a [`Producer`]. Every option has Kafka's default unless stated.
#[derive(Debug)]
#[must_use]
pub struct ProducerBuilder<K = BytesSerializer, V = BytesSerializer> {
    cfg: ProducerConfig,
    key: K,
    value: V,
}

impl ProducerBuilder<BytesSerializer, BytesSerializer> {
    fn new() -> Self {
        Self {
            cfg: ProducerConfig::default(),
            key: BytesSerializer,
            value: BytesSerializer,
        }
    }
}

impl<K: Serializer, V: Serializer> ProducerBuilder<K, V> {
    /// The brokers to bootstrap from (`host:port`); any that answers will do, so some may
    /// be down. Required.
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

    /// The client id sent with every request. Default `mockafka-producer`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.cfg.client_id = id.into();
        self
    }

    /// Acknowledgements required. Default [`Acks::All`].
    pub fn acks(mut self, acks: Acks) -> Self {
        self.cfg.acks = acks;
        self
    }

    /// Batch compression. Default [`Compression::None`].
    pub fn compression(mut self, c: Compression) -> Self {
        self.cfg.compression = c;
        self
    }

    /// How long a batch waits for more records before it is sent. Default 5 ms (Kafka 4's
    /// `linger.ms`).
    pub fn linger(mut self, d: Duration) -> Self {
        self.cfg.linger = d;
        self
    }

    /// Bytes per batch and partition before a batch is sent without waiting for linger.
    /// Default 16 384.
    pub fn batch_size(mut self, bytes: usize) -> Self {
        self.cfg.batch_size = bytes.max(1);
        self
    }

    /// Produce requests in flight per broker connection. Default 5. Whatever the value, a
    /// partition has at most one batch in flight, so retries never reorder records.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.cfg.max_in_flight = n.max(1);
        self
    }

    /// Retries of a batch after retriable errors (bounded also by the delivery timeout).
    /// Default `u32::MAX`.
    pub fn retries(mut self, n: u32) -> Self {
        self.cfg.retries = n;
        self
    }

    /// Backoff before the first retry; it doubles per attempt up to `max`. Defaults 100 ms
    /// and 1 s.
    pub fn retry_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.cfg.retry_backoff = first;
        self.cfg.retry_backoff_max = max.max(first);
        self
    }

    /// How long one request may wait for its answer. Default 30 s.
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.cfg.request_timeout = d;
        self
    }

    /// Upper bound from `send` to the record's outcome, retries included. Default 120 s.
    pub fn delivery_timeout(mut self, d: Duration) -> Self {
        self.cfg.delivery_timeout = d;
        self
    }

    /// How long `send` may wait for a new topic's metadata or for buffer memory. Default 60 s
    /// (`max.block.ms`).
    pub fn max_block(mut self, d: Duration) -> Self {
        self.cfg.max_block = d;
        self
    }

    /// Idempotence: InitProducerId and per-partition sequence numbers, so retries never
    /// duplicate. Default on, unless acks is not [`Acks::All`] (then off, as in Kafka).
    pub fn enable_idempotence(mut self, on: bool) -> Self {
        self.cfg.idempotence = Some(on);
        self
    }

    /// Bytes of records buffered before `send` waits (back-pressure). Default 32 MiB.
    pub fn buffer_memory(mut self, bytes: usize) -> Self {
        self.cfg.buffer_memory = bytes.max(1);
        self
    }

    /// Largest produce request, and so the largest record. Default 1 MiB.
    pub fn max_request_size(mut self, bytes: usize) -> Self {
        self.cfg.max_request_size = bytes.max(1);
        self
    }

    /// The key serializer. Default [`BytesSerializer`].
    pub fn key_serializer<K2: Serializer>(self, key: K2) -> ProducerBuilder<K2, V> {
        ProducerBuilder {
            cfg: self.cfg,
            key,
            value: self.value,
        }
    }

    /// The value serializer. Default [`BytesSerializer`].
    pub fn value_serializer<V2: Serializer>(self, value: V2) -> ProducerBuilder<K, V2> {
        ProducerBuilder {
            cfg: self.cfg,
            key: self.key,
            value,
        }
    }

    /// Connects to the cluster (any bootstrap server) and starts the sender task. Call it
    /// inside a tokio runtime.
    ///
    /// # Errors
    /// [`ClientError::Config`] for contradictory options (idempotence with acks other than
    /// all) or no bootstrap server; [`ClientError::NoBrokerAvailable`] when no listed server
    /// answers.
    pub async fn build(self) -> Result<Producer<K, V>, ClientError> {
        let cfg = self.cfg;
        let idempotent = match (cfg.idempotence, cfg.acks) {
            (Some(true), Acks::All) | (None, Acks::All) => true,
            (Some(true), _) => {
                return Err(ClientError::Config("idempotence requires acks=all".into()))
            }
            _ => false,
        };
        let conn = ConnConfig {
            client_id: Some(cfg.client_id.clone()),
            request_timeout: cfg.request_timeout,
            ..ConnConfig::default()
        };
        let pool = Arc::new(Pool::new(cfg.bootstrap.clone(), conn)?);
        pool.refresh(Some(&[]), false).await?;
        let accum = Accumulator::new(AccumConfig {
            batch_size: cfg.batch_size,
            linger: cfg.linger,
            delivery_timeout: cfg.delivery_timeout,
            max_request_size: cfg.max_request_size,
            max_in_flight: cfg.max_in_flight,
            retries: cfg.retries,
            retry_backoff: cfg.retry_backoff,
            retry_backoff_max: cfg.retry_backoff_max,
        });
        let permits = cfg.buffer_memory.min(Semaphore::MAX_PERMITS);
        let inner = Arc::new(Inner {
            idempotent,
            pool,
            accum: Mutex::new(accum),
            wake: Notify::new(),
            flushed: Notify::new(),
            memory: Arc::new(Semaphore::new(permits)),
            sticky: Mutex::new(HashMap::new()),
            topics: Mutex::new(BTreeSet::new()),
            reset_pid: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            sender: Mutex::new(None),
            cfg,
        });
        let task = tokio::spawn(sender::run(inner.clone()));
        *inner.sender.lock().expect("sender handle lock") = Some(task);
        Ok(Producer {
            inner: inner.clone(),
            key: Arc::new(self.key),
            value: Arc::new(self.value),
            _close: Arc::new(CloseOnDrop(inner)),
        })
    }
}

/// State shared by producer handles and the sender task.
#[derive(Debug)]
pub(crate) struct Inner {
    cfg: ProducerConfig,
    idempotent: bool,
    pool: Arc<Pool>,
    /// The batches (std mutex, never held across an await; taken before the metadata lock).
    accum: Mutex<Accumulator>,
    /// Wakes the sender: a batch is ready, a request finished, the producer is closing.
    wake: Notify,
    /// Wakes flushers after batches complete.
    flushed: Notify,
    /// Buffer memory in bytes; `send` waits for permits (back-pressure).
    memory: Arc<Semaphore>,
    /// Sticky partition per topic for unkeyed records.
    sticky: Mutex<HashMap<String, Sticky>>,
    /// Topics this producer has sent to: what metadata refreshes ask for.
    topics: Mutex<BTreeSet<String>>,
    /// Set after a sequence error: the sender asks a new producer epoch once nothing is in
    /// flight, and numbers queued batches again.
    reset_pid: AtomicBool,
    closed: AtomicBool,
    /// The sender task, awaited by close.
    sender: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Inner {
    fn topics(&self) -> Vec<String> {
        self.topics
            .lock()
            .expect("topics lock")
            .iter()
            .cloned()
            .collect()
    }

    fn begin_close(&self) {
        self.closed.store(true, Ordering::Release);
        self.accum.lock().expect("accumulator lock").closing = true;
        self.wake.notify_one();
    }
}

/// Tells the sender to deliver what is buffered and stop when the last handle goes.
#[derive(Debug)]
struct CloseOnDrop(Arc<Inner>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.begin_close();
    }
}

/// A Kafka producer. Cheap to clone; every clone sends through the same batches and
/// connections, so sends from many tasks are safe. Dropping the last clone delivers what is
/// buffered in the background; [`Producer::close`] waits for it.
///
/// ```no_run
/// # async fn demo() -> Result<(), mockafka_client::ClientError> {
/// use bytes::Bytes;
/// use mockafka_client::{Producer, ProducerRecord};
/// let producer = Producer::builder()
///     .bootstrap_servers(["localhost:9092", "localhost:9093", "localhost:9094"])
///     .build()
///     .await?;
/// let ack = producer
///     .send(ProducerRecord::new("foobar", Bytes::from_static(b"some_message_bytes")))
///     .await?;
/// let meta = ack.await?;
/// println!("stored at {}-{}@{}", meta.topic, meta.partition, meta.offset);
/// producer.close().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Producer<K = BytesSerializer, V = BytesSerializer> {
    inner: Arc<Inner>,
    key: Arc<K>,
    value: Arc<V>,
    _close: Arc<CloseOnDrop>,
}

impl<K, V> Clone for Producer<K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            key: self.key.clone(),
            value: self.value.clone(),
            _close: self._close.clone(),
        }
    }
}

impl Producer {
    /// A builder with Kafka's defaults and byte serializers.
    pub fn builder() -> ProducerBuilder {
        ProducerBuilder::new()
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl<K: Serializer, V: Serializer> Producer<K, V> {
    /// Queues a record and returns its [`DeliveryFuture`]. Returns at once unless the topic
    /// is new to this producer (it waits for metadata, creating the topic where the cluster
    /// auto-creates) or the buffer is full (it waits for room: back-pressure); both waits
    /// are bounded by `max_block`.
    ///
    /// # Errors
    /// [`ClientError::Serialization`], [`ClientError::RecordTooLarge`],
    /// [`ClientError::Timeout`] (metadata or buffer), [`ClientError::Closed`], or the
    /// topic's non-retriable metadata error. Delivery errors come through the future.
    pub async fn send(
        &self,
        record: ProducerRecord<K::Input, V::Input>,
    ) -> Result<DeliveryFuture, ClientError> {
        let inner = &*self.inner;
        if inner.closed.load(Ordering::Acquire) {
            return Err(ClientError::Closed);
        }
        let topic = record.topic;
        let ser_err = |e: crate::serializer::SerializeError| ClientError::Serialization {
            topic: topic.clone(),
            source: Arc::from(e),
        };
        let key = match record.key {
            Some(k) => Some(self.key.serialize(&topic, k).map_err(ser_err)?),
            None => None,
        };
        let value = match record.value {
            Some(v) => Some(self.value.serialize(&topic, v).map_err(ser_err)?),
            None => None,
        };
        let headers = record.headers;
        let size = accumulator::record_size(key.as_ref(), value.as_ref(), &headers);
        let max = inner.cfg.max_request_size.min(inner.cfg.buffer_memory);
        if size + BATCH_OVERHEAD > max {
            return Err(ClientError::RecordTooLarge {
                size: size + BATCH_OVERHEAD,
                max,
            });
        }
        let partition = self
            .choose_partition(&topic, record.partition, key.as_ref(), size)
            .await?;
        let permits = u32::try_from(size).unwrap_or(u32::MAX);
        let permit = match tokio::time::timeout(
            inner.cfg.max_block,
            inner.memory.clone().acquire_many_owned(permits),
        )
        .await
        {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Err(ClientError::Closed),
            Err(_) => {
                return Err(ClientError::Timeout {
                    what: "waiting for buffer memory".into(),
                    after: inner.cfg.max_block,
                })
            }
        };
        let slot = Arc::new(DeliverySlot::default());
        let pending = PendingRecord {
            timestamp: record.timestamp.unwrap_or_else(now_millis),
            key,
            value,
            headers,
            slot: slot.clone(),
        };
        let wake = {
            let mut a = inner.accum.lock().expect("accumulator lock");
            if a.closing {
                return Err(ClientError::Closed);
            }
            a.append(
                tokio::time::Instant::now(),
                (Arc::from(topic.as_str()), partition),
                pending,
                permit,
            )
        };
        if wake {
            inner.wake.notify_one();
        }
        Ok(DeliveryFuture::new(slot))
    }

    async fn choose_partition(
        &self,
        topic: &str,
        explicit: Option<i32>,
        key: Option<&bytes::Bytes>,
        size: usize,
    ) -> Result<i32, ClientError> {
        let inner = &*self.inner;
        let is_new = inner
            .topics
            .lock()
            .expect("topics lock")
            .insert(topic.to_owned());
        if is_new {
            tracing::debug!(topic, "first send to topic");
        }
        let mut meta = inner
            .pool
            .topic(topic, inner.cfg.max_block, inner.cfg.retry_backoff)
            .await?;
        if let Some(p) = explicit {
            if p < 0 || p >= meta.count() {
                // The topic may have grown: look once more before refusing.
                let names = [topic.to_owned()];
                let _ = inner.pool.refresh(Some(&names), false).await;
                meta = inner
                    .pool
                    .topic(topic, inner.cfg.max_block, inner.cfg.retry_backoff)
                    .await?;
                if p < 0 || p >= meta.count() {
                    return Err(ClientError::Broker {
                        code: kafka_protocol::error::ResponseError::UnknownTopicOrPartition,
                        target: crate::error::Target::Partition {
                            topic: topic.to_owned(),
                            partition: p,
                        },
                        message: Some(format!("topic has {} partitions", meta.count())),
                    });
                }
            }
            return Ok(p);
        }
        if let Some(k) = key {
            return Ok(partition_for_key(k, meta.count()));
        }
        let mut sticky = inner.sticky.lock().expect("sticky lock");
        let s = sticky.entry(topic.to_owned()).or_insert_with(|| {
            let seed = now_millis().unsigned_abs() ^ (topic.len() as u64).rotate_left(32);
            Sticky::new(seed)
        });
        Ok(s.partition(meta.count(), &meta.available(), size, inner.cfg.batch_size))
    }

    /// Sends everything buffered now, without waiting for linger, and waits until each of
    /// those records has its outcome (success or error).
    ///
    /// # Errors
    /// None today; the `Result` leaves room for a flush timeout.
    pub async fn flush(&self) -> Result<(), ClientError> {
        let inner = &*self.inner;
        let mark = inner.accum.lock().expect("accumulator lock").begin_flush();
        let Some(mark) = mark else { return Ok(()) };
        inner.wake.notify_one();
        loop {
            let notified = inner.flushed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if inner.accum.lock().expect("accumulator lock").flushed(mark) {
                return Ok(());
            }
            notified.await;
        }
    }

    /// Flushes, then stops the sender. Later sends (from any clone) fail with
    /// [`ClientError::Closed`].
    ///
    /// # Errors
    /// As [`Producer::flush`].
    pub async fn close(&self) -> Result<(), ClientError> {
        self.flush().await?;
        self.inner.begin_close();
        let task = self.inner.sender.lock().expect("sender handle lock").take();
        if let Some(t) = task {
            let _ = t.await;
        }
        Ok(())
    }

    /// The number of partitions of `topic` (fetching metadata, and auto-creating the topic
    /// where the cluster does, if needed).
    ///
    /// # Errors
    /// As the metadata wait in [`Producer::send`].
    pub async fn partition_count(&self, topic: &str) -> Result<i32, ClientError> {
        let inner = &*self.inner;
        inner
            .topics
            .lock()
            .expect("topics lock")
            .insert(topic.to_owned());
        let meta = inner
            .pool
            .topic(topic, inner.cfg.max_block, inner.cfg.retry_backoff)
            .await?;
        Ok(meta.count())
    }
}
