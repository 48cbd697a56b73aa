//! A consumer for synchronous code: it owns a small tokio runtime (one worker thread, which
//! also runs the group membership task between calls), and `for record in &consumer` reads
//! like the tutorial's `for msg in consumer`, ending after the consumer timeout.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use super::{ConsumerBuilder, ConsumerRecord};
use crate::admin::TopicPartition;
use crate::deserializer::Deserializer;
use crate::error::ClientError;
use crate::Consumer;

/// A [`Consumer`] with its own runtime, for code without one. See
/// [`ConsumerBuilder::build_blocking`].
///
/// ```no_run
/// # fn demo() -> Result<(), mockafka_client::ClientError> {
/// use mockafka_client::Consumer;
/// use std::time::Duration;
/// let consumer = Consumer::builder()
///     .bootstrap_servers(["localhost:9092", "localhost:9093", "localhost:9094"])
///     .consumer_timeout(Duration::from_secs(1))
///     .build_blocking()?;
/// consumer.assign(&[mockafka_client::TopicPartition::new("first", 0)])?;
/// for msg in &consumer {
///     println!("{:?}", msg?);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BlockingConsumer<K: Deserializer, V: Deserializer> {
    // Dropped before the runtime: the consumer's drop signals its task.
    consumer: Option<Consumer<K, V>>,
    runtime: tokio::runtime::Runtime,
}

impl<K: Deserializer, V: Deserializer> BlockingConsumer<K, V> {
    pub(crate) fn new(builder: ConsumerBuilder<K, V>) -> Result<Self, ClientError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mockafka-consumer")
            .enable_all()
            .build()
            .map_err(|e| ClientError::io("runtime", e))?;
        let consumer = runtime.block_on(builder.build())?;
        Ok(Self {
            consumer: Some(consumer),
            runtime,
        })
    }

    /// The async consumer inside, for calls not mirrored here (run them with
    /// [`BlockingConsumer::block_on`]).
    pub fn consumer(&self) -> &Consumer<K, V> {
        self.consumer.as_ref().expect("consumer present until drop")
    }

    /// Runs a future on the consumer's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// See [`Consumer::subscribe`].
    ///
    /// # Errors
    /// As [`Consumer::subscribe`].
    pub fn subscribe(&self, topics: &[&str]) -> Result<(), ClientError> {
        self.consumer().subscribe(topics)
    }

    /// See [`Consumer::subscribe_pattern`].
    ///
    /// # Errors
    /// As [`Consumer::subscribe_pattern`].
    pub fn subscribe_pattern(&self, pattern: &str) -> Result<(), ClientError> {
        self.consumer().subscribe_pattern(pattern)
    }

    /// See [`Consumer::assign`].
    ///
    /// # Errors
    /// As [`Consumer::assign`].
    pub fn assign(&self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.consumer().assign(partitions)
    }

    /// See [`Consumer::assignment`].
    pub fn assignment(&self) -> BTreeSet<TopicPartition> {
        self.consumer().assignment()
    }

    /// See [`Consumer::poll`].
    ///
    /// # Errors
    /// As [`Consumer::poll`].
    pub fn poll(&self, timeout: Duration) -> Result<super::Records<K, V>, ClientError> {
        self.block_on(self.consumer().poll(timeout))
    }

    /// See [`Consumer::commit`].
    ///
    /// # Errors
    /// As [`Consumer::commit`].
    pub fn commit(&self) -> Result<(), ClientError> {
        self.block_on(self.consumer().commit())
    }

    /// See [`Consumer::commit_offsets`].
    ///
    /// # Errors
    /// As [`Consumer::commit`].
    pub fn commit_offsets(
        &self,
        offsets: &BTreeMap<TopicPartition, i64>,
    ) -> Result<(), ClientError> {
        self.block_on(self.consumer().commit_offsets(offsets))
    }

    /// See [`Consumer::position`].
    ///
    /// # Errors
    /// As [`Consumer::position`].
    pub fn position(&self, tp: &TopicPartition) -> Result<i64, ClientError> {
        self.block_on(self.consumer().position(tp))
    }

    /// See [`Consumer::seek`].
    ///
    /// # Errors
    /// As [`Consumer::seek`].
    pub fn seek(&self, tp: &TopicPartition, offset: i64) -> Result<(), ClientError> {
        self.consumer().seek(tp, offset)
    }

    /// See [`Consumer::close`].
    ///
    /// # Errors
    /// As [`Consumer::close`].
    pub fn close(&self) -> Result<(), ClientError> {
        self.block_on(self.consumer().close())
    }

    /// Iterates over records; see [`BlockingIter`].
    pub fn iter(&self) -> BlockingIter<'_, K, V> {
        BlockingIter {
            consumer: self,
            pending: VecDeque::new(),
            done: false,
        }
    }
}

impl<K: Deserializer, V: Deserializer> Drop for BlockingConsumer<K, V> {
    fn drop(&mut self) {
        if let Some(c) = self.consumer.take() {
            // Commit and leave, as kafka-python does when a consumer is closed.
            let _ = self.runtime.block_on(c.close());
        }
    }
}

/// Records of a [`BlockingConsumer`], one at a time; ends after the consumer timeout
/// without a record (never, by default) or after yielding an error.
#[derive(Debug)]
pub struct BlockingIter<'a, K: Deserializer, V: Deserializer> {
    consumer: &'a BlockingConsumer<K, V>,
    pending: VecDeque<ConsumerRecord<K::Output, V::Output>>,
    done: bool,
}

/// What the iterators yield.
type Item<K, V> =
    Result<ConsumerRecord<<K as Deserializer>::Output, <V as Deserializer>::Output>, ClientError>;

/// One step of iteration, shared by the borrowing and the owning iterator.
fn next_record<K: Deserializer, V: Deserializer>(
    consumer: &BlockingConsumer<K, V>,
    pending: &mut VecDeque<ConsumerRecord<K::Output, V::Output>>,
    done: &mut bool,
) -> Option<Item<K, V>> {
    loop {
        if let Some(r) = pending.pop_front() {
            return Some(Ok(r));
        }
        if *done {
            return None;
        }
        let limit = consumer.consumer().inner.cfg.consumer_timeout;
        match consumer.poll(limit.unwrap_or(Duration::from_secs(3600))) {
            Ok(batch) if batch.is_empty() => {
                if limit.is_some() {
                    *done = true;
                }
            }
            Ok(batch) => pending.extend(batch),
            Err(e) => {
                *done = true;
                return Some(Err(e));
            }
        }
    }
}

impl<K: Deserializer, V: Deserializer> Iterator for BlockingIter<'_, K, V> {
    type Item = Item<K, V>;

    fn next(&mut self) -> Option<Self::Item> {
        next_record(self.consumer, &mut self.pending, &mut self.done)
    }
}

impl<'a, K: Deserializer, V: Deserializer> IntoIterator for &'a BlockingConsumer<K, V> {
    type Item = Item<K, V>;
    type IntoIter = BlockingIter<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// The owning form of [`BlockingIter`], for `for msg in consumer`; the consumer is closed
/// when the iterator is dropped.
#[derive(Debug)]
pub struct BlockingIntoIter<K: Deserializer, V: Deserializer> {
    consumer: BlockingConsumer<K, V>,
    pending: VecDeque<ConsumerRecord<K::Output, V::Output>>,
    done: bool,
}

impl<K: Deserializer, V: Deserializer> Iterator for BlockingIntoIter<K, V> {
    type Item = Item<K, V>;

    fn next(&mut self) -> Option<Self::Item> {
        next_record(&self.consumer, &mut self.pending, &mut self.done)
    }
}

impl<K: Deserializer, V: Deserializer> IntoIterator for BlockingConsumer<K, V> {
    type Item = Item<K, V>;
    type IntoIter = BlockingIntoIter<K, V>;
    fn into_iter(self) -> Self::IntoIter {
        BlockingIntoIter {
            consumer: self,
            pending: VecDeque::new(),
            done: false,
        }
    }
}
