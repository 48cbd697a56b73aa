//! Integration tests of mockafka-protocol.

mod roundtrip;
mod wire;
