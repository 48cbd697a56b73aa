//! Integration tests of mockafka-protocol.

mod batch;
mod vectors;
