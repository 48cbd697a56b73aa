//! The cluster crate's one public error type.

use std::fmt;

use kafka_protocol::ResponseError;

/// What went wrong in a call to the cluster's Rust API.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClusterError {
    /// A listener could not be bound.
    Bind {
        /// The address asked for.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// No broker has this id.
    UnknownBroker {
        /// The id asked for.
        broker: i32,
    },
    /// The broker is not in the state the call needs (stopping a stopped broker, moving a
    /// leader to a stopped broker).
    BrokerState {
        /// The broker.
        broker: i32,
        /// Whether it is running.
        running: bool,
    },
    /// Kafka would refuse the same request with this error code (unknown topic, topic
    /// already exists, invalid partitions, offset out of range, ...).
    Kafka {
        /// The Kafka error.
        code: ResponseError,
        /// The topic the call named.
        topic: String,
        /// The partition, when the call named one.
        partition: Option<i32>,
    },
    /// Kafka would refuse the same group request with this error code (deleting a group
    /// that has members, or that does not exist).
    Group {
        /// The Kafka error.
        code: ResponseError,
        /// The group the call named.
        group_id: String,
    },
    /// A wait (e.g. [`crate::Cluster::wait_group_stable`]) did not see its condition in time.
    Timeout {
        /// How long it waited.
        after: std::time::Duration,
        /// What it waited for.
        waiting_for: String,
    },
}

impl ClusterError {
    pub(crate) fn kafka(code: ResponseError, topic: &str, partition: Option<i32>) -> Self {
        Self::Kafka {
            code,
            topic: topic.to_owned(),
            partition,
        }
    }

    /// The Kafka error code, when the error is a Kafka outcome.
    pub fn code(&self) -> Option<ResponseError> {
        match self {
            Self::Kafka { code, .. } | Self::Group { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bind { addr, .. } => write!(f, "cannot bind a listener on {addr}"),
            Self::UnknownBroker { broker } => write!(f, "no broker with id {broker}"),
            Self::BrokerState { broker, running } => {
                let state = if *running { "running" } else { "stopped" };
                write!(f, "broker {broker} is {state}")
            }
            Self::Kafka {
                code,
                topic,
                partition,
            } => {
                let code = code.code();
                match partition {
                    Some(p) => write!(f, "kafka error {code} for {topic}-{p}"),
                    None => write!(f, "kafka error {code} for topic {topic}"),
                }
            }
            Self::Group { code, group_id } => {
                write!(f, "kafka error {} for group {group_id}", code.code())
            }
            Self::Timeout { after, waiting_for } => {
                write!(f, "timed out after {after:?} waiting for {waiting_for}")
            }
        }
    }
}

impl std::error::Error for ClusterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Bind { source, .. } => Some(source),
            _ => None,
        }
    }
}
