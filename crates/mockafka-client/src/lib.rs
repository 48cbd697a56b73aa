//! # mockafka-client
//!
//! A Kafka client that speaks only the wire protocol: a [`Producer`], a [`Consumer`] and an
//! [`Admin`] client. It works against an embedded mockafka cluster and, unchanged, against real
//! Kafka.
//!
//! - Producer: acks 0/1/all, gzip/snappy/lz4/zstd compression, linger and batch size,
//!   retries with backoff, request and delivery timeouts, idempotence (on by default),
//!   bounded buffer memory with back-pressure, key and value [`serializer`]s (bytes,
//!   strings, JSON and MessagePack behind the `json` and `msgpack` features), the Java
//!   client's partitioner (murmur2 for keyed records, sticky for unkeyed ones).
//! - Consumer: topic, pattern and manual subscriptions; consumer groups (range,
//!   roundrobin and cooperative-sticky assignors, static membership) run in the
//!   background; Kafka's offset reset rules; commits (auto, sync, async); `poll`, `recv`, a
//!   `Stream`, and a blocking iterator; key and value [`deserializer`]s.
//! - Admin: create, delete and list topics; add partitions; describe the cluster and
//!   configs; list and describe groups; list offsets; delete records.
//! - Connections: one per broker, owned by a reader task that matches responses to
//!   requests by correlation id; a failed connection fails its pending requests and is
//!   replaced on next use. API versions are negotiated on connect.
//! - Errors: one [`ClientError`] enum with [`ClientError::is_retriable`]; nothing a broker
//!   sends can panic the client.
//! - Logging goes through `tracing`: nothing is printed unless the application installs a
//!   subscriber.
//!
//! ```no_run
//! use bytes::Bytes;
//! use mockafka_client::serializer::StringSerializer;
//! use mockafka_client::{Compression, Producer, ProducerRecord};
//! use std::time::Duration;
//!
//! # async fn demo() -> Result<(), mockafka_client::ClientError> {
//! // The tutorial's three brokers; any of them may be down.
//! let producer = Producer::builder()
//!     .bootstrap_servers(["localhost:9092", "localhost:9093", "localhost:9094"])
//!     .compression(Compression::Lz4)
//!     .key_serializer(StringSerializer)
//!     .value_serializer(StringSerializer)
//!     .build()
//!     .await?;
//! let record = ProducerRecord::new("foobar", "some value".to_owned())
//!     .with_key("ping".to_owned())
//!     .with_header("content-encoding", Some(Bytes::from_static(b"base64")));
//! // send() returns at once; the future resolves when the broker acknowledges.
//! let meta = producer.send(record).await?.get(Duration::from_secs(60)).await?;
//! println!("{}-{} @ {}", meta.topic, meta.partition, meta.offset);
//! producer.flush().await?;
//! producer.close().await?;
//! # Ok(()) }
//! ```
//!
//! ## Testing against real Kafka (conformance mode)
//! The end-to-end suite of the `mockafka` package (`tests/e2e`) runs each client test
//! against an embedded mockafka cluster. When the environment variable
//! `MOCKAFKA_TEST_BOOTSTRAP` names an external cluster (`host:port[,host:port...]`), the
//! client tests run against that cluster instead (checks that need mockafka's inspection
//! API are then made through the client's own admin calls, or skipped):
//!
//! ```text
//! MOCKAFKA_TEST_BOOTSTRAP=localhost:9092 cargo test --test e2e
//! ```

pub mod admin;
mod connection;
pub mod consumer;
pub mod deserializer;
pub mod error;
pub mod partitioner;
mod pool;
pub mod producer;
pub mod serializer;

pub use admin::{Admin, TopicPartition};
pub use consumer::Consumer;
pub use consumer::{
    AssignmentStrategy, BlockingConsumer, ConsumerBuilder, ConsumerRecord, IsolationLevel,
    OffsetReset, RebalanceListener, TimestampType,
};
pub use error::{ClientError, Target};
pub use producer::{
    Acks, Compression, DeliveryFuture, Header, Producer, ProducerBuilder, ProducerRecord,
    RecordMetadata,
};
