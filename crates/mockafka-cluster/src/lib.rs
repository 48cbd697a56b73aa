//! mockafka-cluster (placeholder: filled by its issue).
