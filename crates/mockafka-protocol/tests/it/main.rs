//! Integration tests of mockafka-protocol.

mod batch;
mod batch_corpus;
mod corpus;
mod hazards;
mod roundtrip;
mod vectors;
mod wire;
