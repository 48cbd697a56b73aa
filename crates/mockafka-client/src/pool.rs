//! Connections by broker and the metadata cache: what the producer and the admin client
//! share.
//!
//! The pool bootstraps from any listed server that answers (some may be down), keeps one
//! connection per broker address, replaces poisoned connections on next use, and caches
//! topic metadata: partitions, their leaders and leader epochs.
//!
//! Clients route with it: [`Pool::broker`] for a partition leader, [`Pool::any`] for
//! cluster-wide requests, [`Pool::find_coordinator`] for a group's coordinator (the
//! consumer's and the admin client's group calls), [`Pool::refresh`] after
//! NOT_LEADER_OR_FOLLOWER and the like.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiKey, FindCoordinatorRequest, MetadataRequest, MetadataResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::connection::{ConnConfig, Connection};
use crate::error::{ClientError, Target};

/// One partition as metadata describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartitionMeta {
    /// The leader's broker id, or -1 when there is none.
    pub(crate) leader: i32,
    /// The leader epoch, or -1 when the broker does not say.
    pub(crate) leader_epoch: i32,
}

/// One topic's partitions, indexed by partition id.
#[derive(Debug, Clone, Default)]
pub(crate) struct TopicMeta {
    pub(crate) partitions: Vec<PartitionMeta>,
}

impl TopicMeta {
    pub(crate) fn count(&self) -> i32 {
        i32::try_from(self.partitions.len()).unwrap_or(i32::MAX)
    }

    pub(crate) fn available(&self) -> Vec<i32> {
        self.partitions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.leader >= 0)
            .filter_map(|(i, _)| i32::try_from(i).ok())
            .collect()
    }
}

/// The cached view of the cluster.
#[derive(Debug, Default)]
pub(crate) struct Metadata {
    /// Broker id to `host:port`.
    pub(crate) brokers: HashMap<i32, String>,
    pub(crate) topics: HashMap<String, TopicMeta>,
    /// Errors the last refresh reported per topic (cleared when the topic resolves).
    pub(crate) topic_errors: HashMap<String, ResponseError>,
    pub(crate) controller: Option<i32>,
    pub(crate) cluster_id: Option<String>,
    pub(crate) updated: Option<Instant>,
}

impl Metadata {
    /// Applies a metadata response. A partition whose leader epoch went backwards keeps its
    /// cached entry (the answering broker is behind), as the Java client does.
    fn apply(&mut self, resp: &MetadataResponse) {
        let mut brokers = HashMap::new();
        for b in &resp.brokers {
            brokers.insert(b.node_id.0, format!("{}:{}", b.host.as_str(), b.port));
        }
        if !brokers.is_empty() {
            self.brokers = brokers;
        }
        self.controller = (resp.controller_id.0 >= 0).then_some(resp.controller_id.0);
        if let Some(id) = &resp.cluster_id {
            self.cluster_id = Some(id.as_str().to_owned());
        }
        for t in &resp.topics {
            let Some(name) = &t.name else { continue };
            let name = name.0.as_str().to_owned();
            if let Some(code) = ResponseError::try_from_code(t.error_code) {
                self.topic_errors.insert(name.clone(), code);
                if code == ResponseError::UnknownTopicOrPartition {
                    self.topics.remove(&name);
                }
                continue;
            }
            self.topic_errors.remove(&name);
            let mut parts: Vec<(usize, PartitionMeta)> = Vec::new();
            for p in &t.partitions {
                let Ok(idx) = usize::try_from(p.partition_index) else {
                    continue;
                };
                let leader = if ResponseError::try_from_code(p.error_code).is_some() {
                    -1
                } else {
                    p.leader_id.0
                };
                parts.push((
                    idx,
                    PartitionMeta {
                        leader,
                        leader_epoch: p.leader_epoch,
                    },
                ));
            }
            // Partition ids must be exactly 0..n; anything else is ignored as malformed.
            parts.sort_by_key(|(i, _)| *i);
            if parts.iter().enumerate().any(|(n, (i, _))| n != *i) {
                tracing::debug!(topic = %name, "ignoring metadata with gaps in partition ids");
                continue;
            }
            let old = self.topics.get(&name);
            let partitions = parts
                .into_iter()
                .map(|(i, new)| match old.and_then(|o| o.partitions.get(i)) {
                    Some(cached)
                        if new.leader_epoch >= 0 && new.leader_epoch < cached.leader_epoch =>
                    {
                        *cached
                    }
                    _ => new,
                })
                .collect();
            self.topics.insert(name, TopicMeta { partitions });
        }
        self.updated = Some(Instant::now());
    }
}

/// A connection slot: `None` until connected, or after the connection was given up.
type Slot = Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>;

/// Connections and metadata shared by one producer or admin client.
#[derive(Debug)]
pub(crate) struct Pool {
    cfg: ConnConfig,
    bootstrap: Vec<String>,
    /// One slot per broker address; the tokio mutex serialises (re)connecting to it, so that
    /// concurrent callers share one connection.
    slots: Mutex<HashMap<String, Slot>>,
    /// The metadata cache (std mutex, never held across an await).
    metadata: Mutex<Metadata>,
    /// Serialises metadata refreshes so that a burst of errors causes one request.
    refreshing: tokio::sync::Mutex<()>,
}

impl Pool {
    pub(crate) fn new(bootstrap: Vec<String>, cfg: ConnConfig) -> Result<Self, ClientError> {
        if bootstrap.is_empty() {
            return Err(ClientError::Config("no bootstrap servers".into()));
        }
        Ok(Self {
            cfg,
            bootstrap,
            slots: Mutex::new(HashMap::new()),
            metadata: Mutex::new(Metadata::default()),
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    pub(crate) fn config(&self) -> &ConnConfig {
        &self.cfg
    }

    /// A live connection to `addr`, connecting if there is none or the last one failed.
    pub(crate) async fn connect(&self, addr: &str) -> Result<Arc<Connection>, ClientError> {
        let slot = {
            let mut slots = self.slots.lock().expect("pool slots lock");
            slots.entry(addr.to_owned()).or_default().clone()
        };
        let mut guard = slot.lock().await;
        if let Some(c) = guard.as_ref() {
            if !c.is_poisoned() {
                return Ok(c.clone());
            }
        }
        *guard = None;
        let c = Connection::connect(addr, &self.cfg).await?;
        *guard = Some(c.clone());
        Ok(c)
    }

    /// The address of broker `id`, from metadata.
    pub(crate) fn broker_addr(&self, id: i32) -> Option<String> {
        self.metadata
            .lock()
            .expect("metadata lock")
            .brokers
            .get(&id)
            .cloned()
    }

    /// A live connection to broker `id`.
    pub(crate) async fn broker(&self, id: i32) -> Result<Arc<Connection>, ClientError> {
        // Retriable: the next metadata refresh may name the broker (or another leader).
        let addr = self
            .broker_addr(id)
            .ok_or_else(|| ClientError::NoBrokerAvailable {
                tried: vec![format!("broker {id} (not in the cluster metadata)")],
                last: None,
            })?;
        self.connect(&addr).await
    }

    /// A connection to any broker: known brokers first, then the bootstrap list, in order.
    pub(crate) async fn any(&self) -> Result<Arc<Connection>, ClientError> {
        let mut addrs: Vec<String> = {
            let md = self.metadata.lock().expect("metadata lock");
            let mut ids: Vec<_> = md.brokers.iter().collect();
            ids.sort();
            ids.into_iter().map(|(_, a)| a.clone()).collect()
        };
        for b in &self.bootstrap {
            if !addrs.contains(b) {
                addrs.push(b.clone());
            }
        }
        let mut last = None;
        for a in &addrs {
            match self.connect(a).await {
                Ok(c) => return Ok(c),
                Err(e) => {
                    tracing::debug!(broker = %a, error = %e, "broker unreachable");
                    last = Some(Box::new(e));
                }
            }
        }
        Err(ClientError::NoBrokerAvailable { tried: addrs, last })
    }

    /// Finds the group coordinator of `group` (FindCoordinator, key type group) and
    /// connects to it. One attempt; callers retry retriable errors.
    ///
    /// # Errors
    /// The coordinator error (COORDINATOR_NOT_AVAILABLE while it loads) naming the group,
    /// or a connection error.
    pub(crate) async fn find_coordinator(
        &self,
        group: &str,
    ) -> Result<(i32, Arc<Connection>), ClientError> {
        let conn = self.any().await?;
        let v = conn.version(ApiKey::FindCoordinator)?;
        let key = StrBytes::from_string(group.to_owned());
        let req = if v >= 4 {
            FindCoordinatorRequest::default().with_coordinator_keys(vec![key])
        } else {
            FindCoordinatorRequest::default().with_key(key)
        };
        let resp = conn.call_at(&req, v).await?;
        let target = || Target::Group(group.to_owned());
        let (code, node, host, port, message) = if v >= 4 {
            let Some(c) = resp.coordinators.first() else {
                return Err(ClientError::broker(
                    ResponseError::CoordinatorNotAvailable,
                    target(),
                ));
            };
            (
                c.error_code,
                c.node_id.0,
                c.host.clone(),
                c.port,
                c.error_message.clone(),
            )
        } else {
            (
                resp.error_code,
                resp.node_id.0,
                resp.host.clone(),
                resp.port,
                resp.error_message.clone(),
            )
        };
        if let Some(code) = ResponseError::try_from_code(code) {
            return Err(ClientError::broker(code, target())
                .with_message(message.as_ref().map(|m| m.as_str())));
        }
        let addr = format!("{}:{port}", host.as_str());
        Ok((node, self.connect(&addr).await?))
    }

    /// Reads the cache.
    pub(crate) fn with_metadata<T>(&self, f: impl FnOnce(&Metadata) -> T) -> T {
        f(&self.metadata.lock().expect("metadata lock"))
    }

    /// Forgets a partition's leader (after NOT_LEADER_OR_FOLLOWER or a lost connection), so
    /// that nothing is routed to it until the next refresh.
    pub(crate) fn invalidate_leader(&self, topic: &str, partition: i32) {
        let mut md = self.metadata.lock().expect("metadata lock");
        if let Some(p) = md.topics.get_mut(topic).and_then(|t| {
            usize::try_from(partition)
                .ok()
                .and_then(|i| t.partitions.get_mut(i))
        }) {
            p.leader = -1;
        }
    }

    /// Records a leader that a broker named in a response (Produce v10+ `current_leader`),
    /// when its epoch is newer than the cached one.
    pub(crate) fn update_leader(&self, topic: &str, partition: i32, leader: i32, epoch: i32) {
        let mut md = self.metadata.lock().expect("metadata lock");
        if leader < 0 || !md.brokers.contains_key(&leader) {
            return;
        }
        if let Some(p) = md.topics.get_mut(topic).and_then(|t| {
            usize::try_from(partition)
                .ok()
                .and_then(|i| t.partitions.get_mut(i))
        }) {
            if epoch > p.leader_epoch {
                *p = PartitionMeta {
                    leader,
                    leader_epoch: epoch,
                };
            }
        }
    }

    /// Asks any broker for metadata of `topics` (all topics when `None`) and updates the
    /// cache. With `auto_create`, brokers that allow it create missing topics.
    ///
    /// # Errors
    /// When no broker answers.
    pub(crate) async fn refresh(
        &self,
        topics: Option<&[String]>,
        auto_create: bool,
    ) -> Result<MetadataResponse, ClientError> {
        let _one = self.refreshing.lock().await;
        let req = MetadataRequest::default()
            .with_topics(topics.map(|ts| {
                ts.iter()
                    .map(|t| {
                        MetadataRequestTopic::default()
                            .with_name(Some(TopicName(StrBytes::from_string(t.clone()))))
                    })
                    .collect()
            }))
            .with_allow_auto_topic_creation(auto_create);
        let mut last = None;
        // Two passes: a connection that was poisoned since we picked it gets one retry.
        for _ in 0..2 {
            let conn = self.any().await?;
            match conn.call(&req).await {
                Ok(resp) => {
                    self.metadata.lock().expect("metadata lock").apply(&resp);
                    return Ok(resp);
                }
                Err(e) => {
                    tracing::debug!(broker = %conn.addr(), error = %e, "metadata request failed");
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or(ClientError::Closed))
    }

    /// The topic's metadata, refreshing (with auto-creation) until it is known or
    /// `deadline` passes. Non-retriable topic errors are returned at once.
    ///
    /// # Errors
    /// [`ClientError::Timeout`] or the topic's non-retriable error.
    pub(crate) async fn topic(
        &self,
        topic: &str,
        timeout: Duration,
        backoff: Duration,
    ) -> Result<TopicMeta, ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut last_err: Option<ClientError> = None;
        loop {
            let cached = self.with_metadata(|md| {
                md.topics
                    .get(topic)
                    .filter(|t| !t.partitions.is_empty())
                    .cloned()
            });
            if let Some(t) = cached {
                return Ok(t);
            }
            if let Some(code) = self.with_metadata(|md| md.topic_errors.get(topic).copied()) {
                if !code.is_retriable() {
                    return Err(ClientError::broker(code, Target::Topic(topic.to_owned())));
                }
                last_err = Some(ClientError::broker(code, Target::Topic(topic.to_owned())));
            }
            if tokio::time::Instant::now() >= deadline {
                tracing::debug!(topic, error = ?last_err, "metadata wait timed out");
                return Err(ClientError::Timeout {
                    what: format!("waiting for metadata of topic {topic}"),
                    after: timeout,
                });
            }
            let names = [topic.to_owned()];
            let fut = self.refresh(Some(&names), true);
            match tokio::time::timeout_at(deadline, fut).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => last_err = Some(e),
                Err(_) => continue,
            }
            let known = self.with_metadata(|md| {
                md.topics
                    .get(topic)
                    .is_some_and(|t| !t.partitions.is_empty())
            });
            if !known {
                tokio::time::sleep_until(deadline.min(tokio::time::Instant::now() + backoff)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };

    fn resp(epochs: &[(i32, i32)]) -> MetadataResponse {
        let parts = epochs
            .iter()
            .enumerate()
            .map(|(i, (leader, epoch))| {
                MetadataResponsePartition::default()
                    .with_partition_index(i32::try_from(i).unwrap())
                    .with_leader_id((*leader).into())
                    .with_leader_epoch(*epoch)
            })
            .collect();
        MetadataResponse::default()
            .with_brokers(vec![MetadataResponseBroker::default()
                .with_node_id(1.into())
                .with_host(StrBytes::from_static_str("127.0.0.1"))
                .with_port(9092)])
            .with_topics(vec![MetadataResponseTopic::default()
                .with_name(Some(TopicName(StrBytes::from_static_str("t"))))
                .with_partitions(parts)])
    }

    #[test]
    fn stale_leader_epochs_are_ignored() {
        let mut md = Metadata::default();
        md.apply(&resp(&[(1, 5), (2, 5)]));
        md.apply(&resp(&[(3, 4), (2, 6)]));
        let t = &md.topics["t"];
        assert_eq!(
            t.partitions[0],
            PartitionMeta {
                leader: 1,
                leader_epoch: 5
            }
        );
        assert_eq!(
            t.partitions[1],
            PartitionMeta {
                leader: 2,
                leader_epoch: 6
            }
        );
        assert_eq!(md.brokers[&1], "127.0.0.1:9092");
    }

    #[test]
    fn gapped_partition_ids_are_rejected() {
        let mut md = Metadata::default();
        let mut r = resp(&[(1, 0), (1, 0)]);
        r.topics[0].partitions[1].partition_index = 7;
        md.apply(&r);
        assert!(!md.topics.contains_key("t"));
    }
}
