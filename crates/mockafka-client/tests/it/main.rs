//! The client against a fake one-broker Kafka (see `fake.rs`): producer mechanics that the
//! top-level e2e suite cannot force on the real cluster, such as a response lost after an
//! append.

mod admin;
mod fake;
mod producer;
