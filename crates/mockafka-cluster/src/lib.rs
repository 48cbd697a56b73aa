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
//! The offset logic can also be called without a socket: [`Cluster::append`],
//! [`Cluster::commit_offset`], [`Cluster::list_offset`] and [`Cluster::fetch_offsets`] run
//! the Produce, OffsetCommit, ListOffsets and Fetch handlers' own code (`offset_api.rs`).
//!
//! ## Faults and the request log
//!
//! [`Cluster::faults`] injects per-request faults ([`Fault`], [`FaultAction`]: an error
//! code in the right place of the response, a delay, a closed connection, no answer, an
//! "outcome unknown" answer after applying, a throttle) and broker faults (refused
//! connections, latency); [`Cluster::crash_broker`] and [`Cluster::restart_broker`] take a
//! broker away and back. [`Cluster::requests`] is the ordered log of every request and
//! [`Cluster::wait_for_request`] awaits one.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), mockafka_cluster::ClusterError> {
//! use mockafka_cluster::{ApiKey, BrokerId, Cluster, Fault, FaultAction, ResponseError};
//!
//! let cluster = Cluster::builder().brokers(3).topic("orders", 3).start().await?;
//! cluster.faults().fail_next(ApiKey::Fetch, ResponseError::NotLeaderOrFollower);
//! cluster.faults().add(
//!     Fault::new(ApiKey::Produce, FaultAction::ApplyThenError(ResponseError::RequestTimedOut))
//!         .partition("orders", 0)
//!         .times(2),
//! );
//! let before = cluster.partition("orders", 1)?;
//! cluster.crash_broker(before.leader.unwrap_or(BrokerId(0))).await?;
//! let after = cluster.partition("orders", 1)?;
//! assert!(after.leader_epoch > before.leader_epoch);
//! # Ok(())
//! # }
//! ```
//!
//! ## Deterministic tests
//!
//! Every timeout, delay and long poll in the cluster runs on tokio's clock (Fetch
//! `max_wait_ms`, session and rebalance timeouts, the initial rebalance delay, fetch
//! session eviction, injected delays and broker latency), so on a paused runtime they
//! take no wall time and fire in a reproducible order. What remains is wall-clock record
//! time and generated ids: a [`ManualClock`] fixes the first (LogAppendTime, ListOffsets by
//! timestamp; CreateTime is the client's), [`ClusterBuilder::seed`] the second (topic ids,
//! member ids and so the member order assignors see, fetch session ids). A test that pins
//! all three:
//!
//! ```
//! use std::time::Duration;
//! use mockafka_cluster::{ApiKey, Cluster, ClusterError, ManualClock, TimeSource};
//!
//! # fn main() -> Result<(), ClusterError> {
//! // #[tokio::test(start_paused = true)] does the same.
//! let rt = tokio::runtime::Builder::new_current_thread()
//!     .enable_all()
//!     .start_paused(true)
//!     .build()
//!     .map_err(|e| ClusterError::Bind { addr: "runtime".into(), source: e })?;
//! rt.block_on(async {
//!     let clock = ManualClock::new(1_700_000_000_000);
//!     let cluster = Cluster::builder()
//!         .seed(7)
//!         .time_source(TimeSource::Manual(clock.clone()))
//!         .topic("t", 1)
//!         .start()
//!         .await?;
//!     let id = cluster.topic("t").map(|t| t.id);
//!     // An hour of tokio time passes at once: a session timeout, a long poll or an
//!     // injected delay in that hour would have fired, in deadline order.
//!     let start = tokio::time::Instant::now();
//!     let waited = cluster
//!         .wait_for_request(Duration::from_secs(3600), |r| r.api_key == ApiKey::Produce)
//!         .await;
//!     assert!(matches!(waited, Err(ClusterError::Timeout { .. })));
//!     assert!(start.elapsed() >= Duration::from_secs(3600));
//!     assert_eq!(cluster.now_ms(), 1_700_000_000_000);
//!     // The same seed gives the same ids on every run.
//!     let again = Cluster::builder().seed(7).topic("t", 1).start().await?;
//!     assert_eq!(again.topic("t").map(|t| t.id), id);
//!     Ok(())
//! })
//! # }
//! ```
//!
//! In a test, randomness of your own should come from a seeded generator too (proptest
//! prints its seed on failure; the cluster crate's tests use a fixed xorshift), and the
//! clients' timers must be on the same paused runtime (the mockafka client's are; its
//! record CreateTime is wall-clock).

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
mod offset_api;
mod offsets;
mod records;
mod request_log;
mod seed;
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
pub use mockafka_protocol::batch::{Compression, Record, RecordBatch, TimestampType};
pub use offset_api::OffsetSpec;
pub use request_log::{RequestAnswer, RequestRecord, REQUEST_LOG_CAPACITY};
pub use uuid::Uuid;
pub use view::{BatchView, BrokerView, PartitionView, RecordView, TopicView};
