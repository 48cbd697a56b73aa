//! Integration tests of mockafka-protocol.
