//! # mockafka-cluster
//!
//! An in-process Kafka cluster for tests: N brokers, each listening on its own loopback
//! port and speaking the real Kafka wire protocol, sharing one in-memory store of topics
//! and partition logs. Any unmodified Kafka client can produce to it and consume from it,
//! and a test can read the cluster's state directly and steer it (move leaders, stop
//! brokers, delete records).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mockafka_cluster::ClusterError> {
//! use mockafka_cluster::Cluster;
//!
//! let cluster = Cluster::builder().brokers(3).topic("first", 3).start().await?;
//! assert_eq!(cluster.bootstrap_servers().split(',').count(), 3);
//! let p = cluster.partition("first", 2)?;
//! assert_eq!(p.high_watermark, 0);
//! assert!(p.leader.is_some());
//! cluster.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Layout: [`Cluster`] and [`ClusterBuilder`] (in `cluster.rs`) hold the handle; each
//! broker is an accept loop (`broker.rs`) spawning one task per connection
//! (`connection.rs`) that decodes a request, dispatches it (`dispatch.rs`) to its handler
//! (`handlers/`, one file per API) and writes the answer. Domain state lives in `topics.rs`
//! (registry, leaders) and `log/` (partition logs, idempotent producer state), each behind
//! a small `std::sync::Mutex` never held across `.await`. The classic group coordinator
//! and committed offsets live in `group/` and `offsets.rs`: see [`GroupView`].

mod broker;
mod cluster;
mod config;
mod connection;
mod dispatch;
mod error;
mod faults;
mod fetch_session;
mod group;
mod handlers;
mod log;
mod offsets;
mod records;
mod request_log;
mod topics;
mod view;

pub use cluster::{Cluster, ClusterBuilder};
pub use config::{ManualClock, TimeSource, TopicSpec, DEFAULT_MESSAGE_MAX_BYTES};
pub use error::ClusterError;
pub use faults::{Fault, FaultAction, FaultCount, FaultId, FaultView, Faults};
pub use group::{CommittedOffsetView, GroupConfig, GroupState, GroupView, MemberView};
pub use kafka_protocol::messages::ApiKey;
pub use kafka_protocol::messages::BrokerId;
pub use kafka_protocol::ResponseError;
pub use mockafka_protocol::batch::{Compression, TimestampType};
pub use request_log::{RequestAnswer, RequestRecord, REQUEST_LOG_CAPACITY};
pub use uuid::Uuid;
pub use view::{BatchView, BrokerView, PartitionView, RecordView, TopicView};
