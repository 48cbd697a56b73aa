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
            Self::Kafka { code, .. } => Some(*code),
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
