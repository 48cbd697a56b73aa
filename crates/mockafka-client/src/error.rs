//! The client's one public error type.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::ApiKey;
use mockafka_protocol::ProtocolError;

/// What a broker error was about: the thing the request named.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// One partition of a topic.
    Partition {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// A whole topic.
    Topic(String),
    /// A consumer group.
    Group(String),
    /// A config resource (type and name as sent).
    Config {
        /// Kafka's resource type code (2 topic, 4 broker).
        resource_type: i8,
        /// The resource name.
        name: String,
    },
    /// The cluster (or the broker that answered).
    Cluster,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Partition { topic, partition } => write!(f, "partition {topic}-{partition}"),
            Self::Topic(t) => write!(f, "topic {t}"),
            Self::Group(g) => write!(f, "group {g}"),
            Self::Config {
                resource_type,
                name,
            } => write!(f, "config resource {name} (type {resource_type})"),
            Self::Cluster => f.write_str("the cluster"),
        }
    }
}

/// Everything that can go wrong in the client.
///
/// Errors are `Clone` because one failure (a lost connection, a batch rejected by a broker)
/// is reported to every record or request it affects.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ClientError {
    /// Connecting to, reading from or writing to a broker failed. Retriable: the client
    /// reconnects.
    Io {
        /// The broker's address (`host:port`).
        broker: String,
        /// The underlying error.
        source: Arc<std::io::Error>,
    },
    /// A broker sent bytes that do not decode as the expected response. The connection is
    /// closed; retriable.
    Protocol {
        /// The broker's address.
        broker: String,
        /// What the decoder said.
        source: ProtocolError,
    },
    /// A broker answered with an error code.
    Broker {
        /// The error code.
        code: ResponseError,
        /// What the request was about.
        target: Target,
        /// The broker's error message, when it sent one.
        message: Option<String>,
    },
    /// A broker does not serve any version of an API this client speaks.
    UnsupportedApi {
        /// The broker's address.
        broker: String,
        /// The API.
        api: ApiKey,
    },
    /// No listed bootstrap server (and no known broker) could be reached.
    NoBrokerAvailable {
        /// The addresses tried.
        tried: Vec<String>,
        /// The last connection error, if any.
        last: Option<Box<ClientError>>,
    },
    /// An operation did not finish in time.
    Timeout {
        /// What timed out (naming the topic where there is one).
        what: String,
        /// The limit that elapsed.
        after: Duration,
    },
    /// A key or value could not be serialized.
    Serialization {
        /// The topic the record was for.
        topic: String,
        /// The serializer's error.
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// A consumed key or value could not be deserialized. The consumer's position stays at
    /// this record; seek past it to skip it (as with the Java client).
    Deserialization {
        /// The record's topic.
        topic: String,
        /// The record's partition.
        partition: i32,
        /// The record's offset.
        offset: i64,
        /// The deserializer's error.
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// A consumer has no position for a partition: the group has no committed offset for it
    /// (or it is out of range) and the offset reset policy is `None`.
    NoOffset {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// A record is larger than the producer's `batch_size` limit allows.
    RecordTooLarge {
        /// The record's encoded size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// An invalid configuration, caught before anything was sent.
    Config(String),
    /// The producer (or client) was closed.
    Closed,
}

impl ClientError {
    /// Whether retrying the same operation may succeed: lost connections, malformed
    /// responses, timeouts, and Kafka error codes that Kafka itself marks retriable.
    pub fn is_retriable(&self) -> bool {
        match self {
            Self::Io { .. } | Self::Protocol { .. } | Self::Timeout { .. } => true,
            Self::NoBrokerAvailable { .. } => true,
            Self::Broker { code, .. } => code.is_retriable(),
            _ => false,
        }
    }

    /// The Kafka error code, when a broker sent one.
    pub fn code(&self) -> Option<ResponseError> {
        match self {
            Self::Broker { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub(crate) fn io(broker: &str, e: std::io::Error) -> Self {
        Self::Io {
            broker: broker.to_owned(),
            source: Arc::new(e),
        }
    }

    pub(crate) fn broker(code: ResponseError, target: Target) -> Self {
        Self::Broker {
            code,
            target,
            message: None,
        }
    }

    pub(crate) fn partition(code: ResponseError, topic: &str, partition: i32) -> Self {
        Self::broker(
            code,
            Target::Partition {
                topic: topic.to_owned(),
                partition,
            },
        )
    }

    pub(crate) fn with_message(mut self, msg: Option<&str>) -> Self {
        if let Self::Broker { message, .. } = &mut self {
            *message = msg.filter(|m| !m.is_empty()).map(str::to_owned);
        }
        self
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { broker, source } => write!(f, "connection to {broker} failed: {source}"),
            Self::Protocol { broker, .. } => write!(f, "malformed response from {broker}"),
            Self::Broker {
                code,
                target,
                message,
            } => {
                write!(f, "broker error {code} for {target}")?;
                if let Some(m) = message {
                    write!(f, ": {m}")?;
                }
                Ok(())
            }
            Self::UnsupportedApi { broker, api } => {
                write!(f, "broker {broker} serves no common version of {api:?}")
            }
            Self::NoBrokerAvailable { tried, .. } => {
                write!(f, "no broker available (tried {})", tried.join(", "))
            }
            Self::Timeout { what, after } => write!(f, "{what} timed out after {after:?}"),
            Self::Serialization { topic, .. } => {
                write!(f, "cannot serialize a record for topic {topic}")
            }
            Self::Deserialization {
                topic,
                partition,
                offset,
                ..
            } => write!(
                f,
                "cannot deserialize the record at {topic}-{partition}@{offset}"
            ),
            Self::NoOffset { topic, partition } => write!(
                f,
                "no valid offset for partition {topic}-{partition} and no reset policy"
            ),
            Self::RecordTooLarge { size, max } => {
                write!(f, "record of {size} bytes exceeds the limit of {max}")
            }
            Self::Config(m) => write!(f, "invalid configuration: {m}"),
            Self::Closed => f.write_str("client closed"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source.as_ref()),
            Self::Protocol { source, .. } => Some(source),
            Self::Broker { code, .. } => Some(code),
            Self::NoBrokerAvailable { last, .. } => last
                .as_deref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            Self::Serialization { source, .. } => Some(source.as_ref()),
            Self::Deserialization { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retriability_follows_kafka_and_display_names_the_partition() {
        let e = ClientError::partition(ResponseError::NotLeaderOrFollower, "first", 2);
        assert!(e.is_retriable());
        assert_eq!(
            e.to_string(),
            "broker error NotLeaderOrFollower for partition first-2"
        );
        let e = ClientError::partition(ResponseError::MessageTooLarge, "first", 0)
            .with_message(Some("too big"));
        assert!(!e.is_retriable());
        assert!(e.to_string().ends_with(": too big"));
        assert!(!ClientError::Closed.is_retriable());
        assert!(ClientError::io("h:1", std::io::ErrorKind::BrokenPipe.into()).is_retriable());
    }
}
