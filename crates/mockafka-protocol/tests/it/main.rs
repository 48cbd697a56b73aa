//! Integration tests of mockafka-protocol.

mod corpus;
mod differential;
mod frames;
mod hazards;
mod roundtrip;
mod typed;
mod wire;
