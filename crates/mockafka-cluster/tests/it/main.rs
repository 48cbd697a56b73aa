//! Integration tests of mockafka-cluster: raw Kafka frames over TCP, no client library.

mod groups;
mod wire;
