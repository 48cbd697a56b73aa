//! # mockafka
//!
//! A Kafka cluster that runs inside a test process and speaks the real wire protocol, plus a
//! Rust Kafka client. This facade re-exports the member crates.

pub use mockafka_client as client;
pub use mockafka_cluster as cluster;
pub use mockafka_protocol as protocol;

// The README's Rust examples run as doctests of this crate.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
