//! Integration tests of mockafka-cluster: raw Kafka frames over loopback, built and read
//! with mockafka-protocol (no client library).

mod admin;
mod api_versions;
mod control;
mod fault_injection;
mod faults;
mod fetch;
mod groups;
mod idempotence;
mod metadata;
mod offsets;
mod produce;
mod util;
mod versions;
mod wire;
