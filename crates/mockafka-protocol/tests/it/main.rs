//! Integration tests of mockafka-protocol.

mod batch;
mod batch_corpus;
mod capped;
mod corpus;
mod differential;
mod frames;
mod hazards;
mod roundtrip;
mod typed;
mod vectors;
mod wire;
