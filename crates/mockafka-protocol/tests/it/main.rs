//! Integration tests of mockafka-protocol.

mod vectors;
