//! What goes in (a [`ProducerRecord`]) and what comes back (a [`DeliveryFuture`] resolving to
//! [`RecordMetadata`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;

use crate::error::ClientError;

/// One record header. Headers are ordered and keys may repeat, as in Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The header key.
    pub key: String,
    /// The header value (`None` is a null value, distinct from empty).
    pub value: Option<Bytes>,
}

/// A record to send: topic, optional partition, optional key, value, headers and an
/// optional timestamp. `K` and `V` are what the producer's serializers accept.
///
/// ```
/// use bytes::Bytes;
/// use mockafka_client::ProducerRecord;
/// let r: ProducerRecord<Bytes, Bytes> = ProducerRecord::new("foobar", Bytes::from_static(b"v"))
///     .with_key(Bytes::from_static(b"k"))
///     .with_header("content-encoding", Some(Bytes::from_static(b"base64")));
/// assert_eq!(r.headers.len(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct ProducerRecord<K, V> {
    /// The topic.
    pub topic: String,
    /// The partition; `None` lets the partitioner choose.
    pub partition: Option<i32>,
    /// The key; `None` is a null key (sticky partitioning).
    pub key: Option<K>,
    /// The value; `None` is a null value (a tombstone).
    pub value: Option<V>,
    /// Headers, in order.
    pub headers: Vec<Header>,
    /// Create time in milliseconds since the epoch; `None` means now.
    pub timestamp: Option<i64>,
}

impl<K, V> ProducerRecord<K, V> {
    /// A record for `topic` with `value`, no key, no headers.
    pub fn new(topic: impl Into<String>, value: impl Into<V>) -> Self {
        Self {
            topic: topic.into(),
            partition: None,
            key: None,
            value: Some(value.into()),
            headers: Vec::new(),
            timestamp: None,
        }
    }

    /// A record with a null value (a tombstone on compacted topics).
    pub fn tombstone(topic: impl Into<String>, key: impl Into<K>) -> Self {
        Self {
            topic: topic.into(),
            partition: None,
            key: Some(key.into()),
            value: None,
            headers: Vec::new(),
            timestamp: None,
        }
    }

    /// Sets the key.
    pub fn with_key(mut self, key: impl Into<K>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets an explicit partition, which wins over the partitioner.
    pub fn with_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Appends a header (duplicate keys are kept).
    pub fn with_header(mut self, key: impl Into<String>, value: Option<Bytes>) -> Self {
        self.headers.push(Header {
            key: key.into(),
            value,
        });
        self
    }

    /// Sets the create timestamp (milliseconds since the epoch).
    pub fn with_timestamp(mut self, millis: i64) -> Self {
        self.timestamp = Some(millis);
        self
    }
}

/// Where an acknowledged record was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// The offset, or -1 when unknown (acks=0).
    pub offset: i64,
    /// The record's timestamp: the broker's log append time on topics that use it,
    /// otherwise the create time sent.
    pub timestamp: i64,
}

#[derive(Debug, Default)]
struct SlotState {
    /// Set by the first completion; later ones are ignored.
    done: bool,
    result: Option<Result<RecordMetadata, ClientError>>,
    /// Async waiters (one per pending poll site).
    wakers: Vec<Waker>,
}

/// Where the sender puts a record's outcome. Both async and blocking waiters use it.
#[derive(Debug, Default)]
pub(crate) struct DeliverySlot {
    /// The outcome and the async waiter's waker.
    state: Mutex<SlotState>,
    /// Wakes blocking waiters ([`DeliveryFuture::wait`]).
    cond: Condvar,
}

impl DeliverySlot {
    /// Stores the outcome (the first one wins) and wakes every waiter.
    pub(crate) fn complete(&self, r: Result<RecordMetadata, ClientError>) {
        let waker = {
            let mut st = self.state.lock().expect("delivery slot lock");
            if st.done {
                return;
            }
            st.done = true;
            st.result = Some(r);
            std::mem::take(&mut st.wakers)
        };
        self.cond.notify_all();
        for w in waker {
            w.wake();
        }
    }
}

/// The outcome of one [`crate::Producer::send`]: await it, or block on it with
/// [`DeliveryFuture::wait`] (kafka-python's `future.get(timeout=60)`).
#[derive(Debug)]
#[must_use = "a record's outcome is only known through its DeliveryFuture"]
pub struct DeliveryFuture {
    slot: Arc<DeliverySlot>,
}

impl DeliveryFuture {
    pub(crate) fn new(slot: Arc<DeliverySlot>) -> Self {
        Self { slot }
    }

    /// Waits up to `timeout` for the outcome (async). It can be called again after a
    /// timeout, like Java's `Future.get(timeout)`.
    ///
    /// # Errors
    /// The record's delivery error, or [`ClientError::Timeout`] when `timeout` elapses
    /// first (the record may still be delivered later).
    pub async fn get(&self, timeout: Duration) -> Result<RecordMetadata, ClientError> {
        let outcome = std::future::poll_fn(|cx| self.slot.poll(cx));
        match tokio::time::timeout(timeout, outcome).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout {
                what: "waiting for delivery".into(),
                after: timeout,
            }),
        }
    }

    /// Blocks the current thread up to `timeout` for the outcome. Call it from outside
    /// the runtime (or from `spawn_blocking`): blocking a runtime thread stalls the tasks
    /// that would deliver the record.
    ///
    /// # Errors
    /// As [`DeliveryFuture::get`].
    pub fn wait(&self, timeout: Duration) -> Result<RecordMetadata, ClientError> {
        let st = self.slot.state.lock().expect("delivery slot lock");
        let (st, _) = self
            .slot
            .cond
            .wait_timeout_while(st, timeout, |s| s.result.is_none())
            .expect("delivery slot lock");
        st.result.clone().unwrap_or(Err(ClientError::Timeout {
            what: "waiting for delivery".into(),
            after: timeout,
        }))
    }

    /// The outcome, if it is already known (does not wait).
    pub fn try_result(&self) -> Option<Result<RecordMetadata, ClientError>> {
        self.slot
            .state
            .lock()
            .expect("delivery slot lock")
            .result
            .clone()
    }
}

impl DeliverySlot {
    fn poll(&self, cx: &mut Context<'_>) -> Poll<Result<RecordMetadata, ClientError>> {
        let mut st = self.state.lock().expect("delivery slot lock");
        match &st.result {
            Some(r) => Poll::Ready(r.clone()),
            None => {
                if !st.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                    // A waiter that timed out leaves its waker here until completion;
                    // that is one entry per abandoned `get`, woken harmlessly.
                    st.wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata, ClientError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.slot.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> RecordMetadata {
        RecordMetadata {
            topic: "t".into(),
            partition: 0,
            offset: 7,
            timestamp: 1,
        }
    }

    #[test]
    fn blocking_wait_sees_a_completion_from_another_thread() {
        let slot = Arc::new(DeliverySlot::default());
        let f = DeliveryFuture::new(slot.clone());
        let t = std::thread::spawn(move || slot.complete(Ok(meta())));
        assert_eq!(f.wait(Duration::from_secs(10)).unwrap(), meta());
        t.join().unwrap();
    }

    #[test]
    fn blocking_wait_times_out() {
        let f = DeliveryFuture::new(Arc::new(DeliverySlot::default()));
        let e = f.wait(Duration::from_millis(1)).unwrap_err();
        assert!(matches!(e, ClientError::Timeout { .. }));
    }

    #[tokio::test]
    async fn the_future_resolves_once_completed_and_first_outcome_wins() {
        let slot = Arc::new(DeliverySlot::default());
        let f = DeliveryFuture::new(slot.clone());
        assert!(f.try_result().is_none());
        let timed_out = f.get(Duration::from_millis(1)).await.unwrap_err();
        assert!(matches!(timed_out, ClientError::Timeout { .. }));
        let s2 = slot.clone();
        tokio::spawn(async move { s2.complete(Ok(meta())) });
        // After a timeout the same future can be awaited again.
        assert_eq!(f.get(Duration::from_secs(10)).await.unwrap(), meta());
        slot.complete(Err(ClientError::Closed));
        assert_eq!(
            f.try_result().unwrap().unwrap(),
            meta(),
            "first outcome wins"
        );
        assert_eq!(f.wait(Duration::ZERO).unwrap(), meta());
    }
}
