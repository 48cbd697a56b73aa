//! The `mockafka` binary.
fn main() {}
