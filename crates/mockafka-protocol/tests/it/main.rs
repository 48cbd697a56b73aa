//! Integration tests of mockafka-protocol.

mod corpus;
mod hazards;
mod roundtrip;
mod typed;
mod wire;
