//! Integration tests of mockafka-protocol.

mod hazards;
mod roundtrip;
mod wire;
