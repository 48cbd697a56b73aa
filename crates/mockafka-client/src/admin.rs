//! The admin client: topics, partitions, cluster and configs, groups, offsets, records.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mockafka_client::ClientError> {
//! use mockafka_client::admin::{Admin, NewTopic, OffsetSpec};
//! use mockafka_client::TopicPartition;
//! let admin = Admin::builder().bootstrap_servers(["localhost:9092"]).build().await?;
//! admin.create_topics(&[NewTopic::new("first", 3).with_config("retention.ms", "60000")]).await?;
//! let tp = TopicPartition::new("first", 0);
//! let end = admin.list_offsets(&[(tp.clone(), OffsetSpec::Latest)]).await?;
//! println!("log end of first-0: {}", end[&tp].offset);
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{
    ApiKey, CreatePartitionsRequest, CreateTopicsRequest, DeleteRecordsRequest,
    DeleteTopicsRequest, DescribeConfigsRequest, DescribeGroupsRequest, GroupId, ListGroupsRequest,
    ListOffsetsRequest, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::connection::{ConnConfig, Connection};
use crate::error::{ClientError, Target};
use crate::pool::Pool;

/// A topic and partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
}

impl TopicPartition {
    /// `topic`-`partition`.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

/// A topic to create.
#[derive(Debug, Clone)]
pub struct NewTopic {
    /// The name.
    pub name: String,
    /// Partitions (-1: the broker's default).
    pub partitions: i32,
    /// Replication factor (-1: the broker's default).
    pub replication_factor: i16,
    /// Topic configs, such as `retention.ms`.
    pub configs: Vec<(String, String)>,
}

impl NewTopic {
    /// A topic with `partitions` partitions and the broker's default replication factor.
    pub fn new(name: impl Into<String>, partitions: i32) -> Self {
        Self {
            name: name.into(),
            partitions,
            replication_factor: -1,
            configs: Vec::new(),
        }
    }

    /// Sets the replication factor.
    pub fn with_replication_factor(mut self, rf: i16) -> Self {
        self.replication_factor = rf;
        self
    }

    /// Adds a topic config.
    pub fn with_config(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.configs.push((name.into(), value.into()));
        self
    }
}

/// A topic as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicListing {
    /// The name.
    pub name: String,
    /// Number of partitions.
    pub partitions: i32,
    /// Whether it is internal (such as `__consumer_offsets`).
    pub internal: bool,
}

/// One broker of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerInfo {
    /// Broker id.
    pub id: i32,
    /// Host.
    pub host: String,
    /// Port.
    pub port: i32,
    /// Rack, if set.
    pub rack: Option<String>,
}

/// The cluster as metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterDescription {
    /// The cluster id.
    pub cluster_id: Option<String>,
    /// The controller's broker id.
    pub controller: Option<i32>,
    /// Every live broker, by id.
    pub brokers: Vec<BrokerInfo>,
}

/// What to describe configs of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigResource {
    /// A topic.
    Topic(String),
    /// A broker, by id.
    Broker(i32),
}

impl ConfigResource {
    fn wire(&self) -> (i8, String) {
        match self {
            Self::Topic(t) => (2, t.clone()),
            Self::Broker(id) => (4, id.to_string()),
        }
    }
}

/// One config entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    /// Config name.
    pub name: String,
    /// Value (`None` for sensitive or unset values).
    pub value: Option<String>,
    /// Whether it is read-only.
    pub read_only: bool,
    /// Whether the value is the default.
    pub is_default: bool,
    /// Whether the value is sensitive.
    pub sensitive: bool,
}

/// A group as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupListing {
    /// The group id.
    pub group_id: String,
    /// The protocol type (`consumer` for consumer groups).
    pub protocol_type: String,
    /// The state (`Stable`, `Empty`, ...), when the broker reports it.
    pub state: Option<String>,
}

/// One member of a described group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: String,
    /// Static membership instance id.
    pub group_instance_id: Option<String>,
    /// Client id.
    pub client_id: String,
    /// Client host.
    pub client_host: String,
    /// The member's assignment, as the group's protocol encodes it.
    pub assignment: Bytes,
}

/// A described group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDescription {
    /// The group id.
    pub group_id: String,
    /// The state (`Stable`, `Empty`, `Dead`, ...).
    pub state: String,
    /// The protocol type.
    pub protocol_type: String,
    /// The chosen protocol (assignor) name.
    pub protocol: String,
    /// The members.
    pub members: Vec<MemberDescription>,
    /// The coordinator's broker id.
    pub coordinator: i32,
}

/// Which offset to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetSpec {
    /// The log start offset.
    Earliest,
    /// The log end offset (the high watermark).
    Latest,
    /// The first offset whose timestamp is at or after this time (ms since the epoch).
    Timestamp(i64),
}

impl OffsetSpec {
    fn wire(self) -> i64 {
        match self {
            Self::Earliest => -2,
            Self::Latest => -1,
            Self::Timestamp(t) => t,
        }
    }
}

/// A listed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedOffset {
    /// The offset (-1 when no record is at or after the timestamp asked for).
    pub offset: i64,
    /// The record's timestamp for timestamp queries, else -1.
    pub timestamp: i64,
    /// The leader epoch, or -1.
    pub leader_epoch: i32,
}

/// Builds an [`Admin`].
#[derive(Debug, Default)]
#[must_use]
pub struct AdminBuilder {
    bootstrap: Vec<String>,
    client_id: Option<String>,
    request_timeout: Option<Duration>,
}

impl AdminBuilder {
    /// The brokers to bootstrap from; any that answers will do. Required.
    pub fn bootstrap_servers<I, S>(mut self, servers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.bootstrap = servers
            .into_iter()
            .flat_map(|s| {
                s.as_ref()
                    .split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
            })
            .collect();
        self
    }

    /// The client id. Default `mockafka-admin`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Timeout of each request, also sent as the broker-side timeout of topic operations.
    /// Default 30 s.
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = Some(d);
        self
    }

    /// Connects to any bootstrap server and reads the cluster metadata.
    ///
    /// # Errors
    /// [`ClientError::NoBrokerAvailable`] when no listed server answers;
    /// [`ClientError::Config`] without bootstrap servers.
    pub async fn build(self) -> Result<Admin, ClientError> {
        let cfg = ConnConfig {
            client_id: Some(self.client_id.unwrap_or_else(|| "mockafka-admin".into())),
            request_timeout: self.request_timeout.unwrap_or(Duration::from_secs(30)),
            ..ConnConfig::default()
        };
        let pool = Arc::new(Pool::new(self.bootstrap, cfg)?);
        pool.refresh(Some(&[]), false).await?;
        Ok(Admin { pool })
    }
}

/// The admin client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Admin {
    pool: Arc<Pool>,
}

/// Attempts of a call that failed with a retriable error (wrong broker, lost connection).
const ATTEMPTS: u32 = 5;
const BACKOFF: Duration = Duration::from_millis(100);

fn name(s: &str) -> TopicName {
    TopicName(StrBytes::from_string(s.to_owned()))
}

fn msg(m: &Option<StrBytes>) -> Option<&str> {
    m.as_ref().map(|s| s.as_str())
}

impl Admin {
    /// A builder.
    pub fn builder() -> AdminBuilder {
        AdminBuilder::default()
    }

    /// An admin client over an existing pool (the consumer's offset look-ups).
    pub(crate) fn from_pool(pool: Arc<Pool>) -> Admin {
        Admin { pool }
    }

    fn timeout_ms(&self) -> i32 {
        i32::try_from(self.pool.config().request_timeout.as_millis()).unwrap_or(i32::MAX)
    }

    /// A connection to the controller (or any broker when none is known).
    async fn controller(&self) -> Result<Arc<Connection>, ClientError> {
        match self.pool.with_metadata(|md| md.controller) {
            Some(id) => match self.pool.broker(id).await {
                Ok(c) => Ok(c),
                Err(_) => self.pool.any().await,
            },
            None => self.pool.any().await,
        }
    }

    /// Runs `f` against the controller, refreshing metadata and retrying when it answers
    /// NOT_CONTROLLER or the connection fails.
    async fn with_controller<T, F, Fut>(&self, f: F) -> Result<T, ClientError>
    where
        F: Fn(Arc<Connection>) -> Fut,
        Fut: std::future::Future<Output = Result<T, ClientError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let r = match self.controller().await {
                Ok(c) => f(c).await,
                Err(e) => Err(e),
            };
            match r {
                Err(e) if attempt < ATTEMPTS && retry_at_controller(&e) => {
                    tracing::debug!(error = %e, "admin call retried");
                    let _ = self.pool.refresh(Some(&[]), false).await;
                    tokio::time::sleep(BACKOFF).await;
                }
                other => return other,
            }
        }
    }

    /// Creates topics. Fails with the first topic's error (for example
    /// `TopicAlreadyExists`, see [`ClientError::code`]).
    ///
    /// # Errors
    /// Connection errors or a per-topic broker error naming the topic.
    pub async fn create_topics(&self, topics: &[NewTopic]) -> Result<(), ClientError> {
        let req = CreateTopicsRequest::default()
            .with_timeout_ms(self.timeout_ms())
            .with_topics(
                topics
                    .iter()
                    .map(|t| {
                        CreatableTopic::default()
                            .with_name(name(&t.name))
                            .with_num_partitions(t.partitions)
                            .with_replication_factor(t.replication_factor)
                            .with_configs(
                                t.configs
                                    .iter()
                                    .map(|(k, v)| {
                                        CreatableTopicConfig::default()
                                            .with_name(StrBytes::from_string(k.clone()))
                                            .with_value(Some(StrBytes::from_string(v.clone())))
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            );
        let resp = self
            .with_controller(|c| {
                let req = &req;
                async move { c.call(req).await }
            })
            .await?;
        for t in &resp.topics {
            if let Some(code) = ResponseError::try_from_code(t.error_code) {
                return Err(
                    ClientError::broker(code, Target::Topic(t.name.0.to_string()))
                        .with_message(msg(&t.error_message)),
                );
            }
        }
        let names: Vec<String> = topics.iter().map(|t| t.name.clone()).collect();
        let _ = self.pool.refresh(Some(&names), false).await;
        Ok(())
    }

    /// Deletes topics.
    ///
    /// # Errors
    /// As [`Admin::create_topics`] (`UnknownTopicOrPartition` for a missing topic).
    pub async fn delete_topics(&self, topics: &[&str]) -> Result<(), ClientError> {
        let timeout_ms = self.timeout_ms();
        let resp = self
            .with_controller(|c| async move {
                let v = c.version(ApiKey::DeleteTopics)?;
                let mut req = DeleteTopicsRequest::default().with_timeout_ms(timeout_ms);
                if v >= 6 {
                    req.topics = topics
                        .iter()
                        .map(|t| DeleteTopicState::default().with_name(Some(name(t))))
                        .collect();
                } else {
                    req.topic_names = topics.iter().map(|t| name(t)).collect();
                }
                c.call_at(&req, v).await
            })
            .await?;
        for t in &resp.responses {
            if let Some(code) = ResponseError::try_from_code(t.error_code) {
                let topic = t.name.as_ref().map(|n| n.0.to_string()).unwrap_or_default();
                return Err(ClientError::broker(code, Target::Topic(topic))
                    .with_message(msg(&t.error_message)));
            }
        }
        Ok(())
    }

    /// Lists topics (internal ones included, flagged).
    ///
    /// # Errors
    /// When no broker answers.
    pub async fn list_topics(&self) -> Result<Vec<TopicListing>, ClientError> {
        let resp = self.pool.refresh(None, false).await?;
        let mut out: Vec<TopicListing> = resp
            .topics
            .iter()
            .filter(|t| t.error_code == 0)
            .filter_map(|t| {
                Some(TopicListing {
                    name: t.name.as_ref()?.0.to_string(),
                    partitions: i32::try_from(t.partitions.len()).unwrap_or(i32::MAX),
                    internal: t.is_internal,
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Grows `topic` to `total` partitions.
    ///
    /// # Errors
    /// `InvalidPartitions` when `total` is not larger than today's count, and the like.
    pub async fn create_partitions(&self, topic: &str, total: i32) -> Result<(), ClientError> {
        let req = CreatePartitionsRequest::default()
            .with_timeout_ms(self.timeout_ms())
            .with_topics(vec![CreatePartitionsTopic::default()
                .with_name(name(topic))
                .with_count(total)
                .with_assignments(None)]);
        let resp = self
            .with_controller(|c| {
                let req = &req;
                async move { c.call(req).await }
            })
            .await?;
        for r in &resp.results {
            if let Some(code) = ResponseError::try_from_code(r.error_code) {
                return Err(
                    ClientError::broker(code, Target::Topic(r.name.0.to_string()))
                        .with_message(msg(&r.error_message)),
                );
            }
        }
        let _ = self.pool.refresh(Some(&[topic.to_owned()]), false).await;
        Ok(())
    }

    /// The cluster id, controller and brokers.
    ///
    /// # Errors
    /// When no broker answers.
    pub async fn describe_cluster(&self) -> Result<ClusterDescription, ClientError> {
        let resp = self.pool.refresh(Some(&[]), false).await?;
        let mut brokers: Vec<BrokerInfo> = resp
            .brokers
            .iter()
            .map(|b| BrokerInfo {
                id: b.node_id.0,
                host: b.host.to_string(),
                port: b.port,
                rack: b.rack.as_ref().map(|r| r.to_string()),
            })
            .collect();
        brokers.sort_by_key(|b| b.id);
        Ok(ClusterDescription {
            cluster_id: resp.cluster_id.as_ref().map(|c| c.to_string()),
            controller: (resp.controller_id.0 >= 0).then_some(resp.controller_id.0),
            brokers,
        })
    }

    /// The configs of a topic or broker (all of them).
    ///
    /// # Errors
    /// The resource's error (`UnknownTopicOrPartition` for a missing topic).
    pub async fn describe_configs(
        &self,
        resource: &ConfigResource,
    ) -> Result<Vec<ConfigEntry>, ClientError> {
        let (resource_type, rname) = resource.wire();
        let req = DescribeConfigsRequest::default().with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(resource_type)
                .with_resource_name(StrBytes::from_string(rname.clone()))
                .with_configuration_keys(None),
        ]);
        let conn = match resource {
            ConfigResource::Broker(id) => self.pool.broker(*id).await?,
            ConfigResource::Topic(_) => self.pool.any().await?,
        };
        let resp = conn.call(&req).await?;
        let Some(r) = resp.results.first() else {
            return Err(ClientError::broker(
                ResponseError::UnknownServerError,
                Target::Config {
                    resource_type,
                    name: rname,
                },
            ));
        };
        if let Some(code) = ResponseError::try_from_code(r.error_code) {
            return Err(ClientError::broker(
                code,
                Target::Config {
                    resource_type,
                    name: rname,
                },
            )
            .with_message(msg(&r.error_message)));
        }
        Ok(r.configs
            .iter()
            .map(|c| ConfigEntry {
                name: c.name.to_string(),
                value: c.value.as_ref().map(|v| v.to_string()),
                read_only: c.read_only,
                // Config source 5 is DEFAULT_CONFIG (DescribeConfigs v1+).
                is_default: c.config_source == 5,
                sensitive: c.is_sensitive,
            })
            .collect())
    }

    /// Every group of every broker.
    ///
    /// # Errors
    /// When a broker cannot be reached or answers with an error.
    pub async fn list_groups(&self) -> Result<Vec<GroupListing>, ClientError> {
        let ids: Vec<i32> = self.pool.with_metadata(|md| {
            let mut v: Vec<i32> = md.brokers.keys().copied().collect();
            v.sort_unstable();
            v
        });
        let mut out = Vec::new();
        for id in ids {
            let conn = self.pool.broker(id).await?;
            let resp = conn.call(&ListGroupsRequest::default()).await?;
            if let Some(code) = ResponseError::try_from_code(resp.error_code) {
                return Err(ClientError::broker(code, Target::Cluster)
                    .with_message(Some(&format!("listing groups on broker {id}"))));
            }
            for g in &resp.groups {
                out.push(GroupListing {
                    group_id: g.group_id.0.to_string(),
                    protocol_type: g.protocol_type.to_string(),
                    state: Some(g.group_state.to_string()).filter(|s| !s.is_empty()),
                });
            }
        }
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        out.dedup_by(|a, b| a.group_id == b.group_id);
        Ok(out)
    }

    /// The coordinator of `group`, retrying retriable errors a few times.
    async fn coordinator(&self, group: &str) -> Result<(i32, Arc<Connection>), ClientError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.pool.find_coordinator(group).await {
                Err(e) if e.is_retriable() && attempt < ATTEMPTS => {
                    tokio::time::sleep(BACKOFF).await;
                }
                other => return other,
            }
        }
    }

    /// Describes groups: state, protocol, members and their assignments.
    ///
    /// # Errors
    /// A group's error (such as `GroupAuthorizationFailed`); an unknown group is reported
    /// by Kafka as state `Dead` with no members, not as an error.
    pub async fn describe_groups(
        &self,
        groups: &[&str],
    ) -> Result<Vec<GroupDescription>, ClientError> {
        let mut out = Vec::new();
        for g in groups {
            let mut attempt = 0;
            let described = loop {
                attempt += 1;
                let (node, conn) = self.coordinator(g).await?;
                let req = DescribeGroupsRequest::default()
                    .with_groups(vec![GroupId(StrBytes::from_string((*g).to_owned()))]);
                let resp = conn.call(&req).await?;
                let Some(d) = resp.groups.into_iter().next() else {
                    return Err(ClientError::broker(
                        ResponseError::UnknownServerError,
                        Target::Group((*g).to_owned()),
                    ));
                };
                match ResponseError::try_from_code(d.error_code) {
                    Some(code) if code.is_retriable() && attempt < ATTEMPTS => {
                        tokio::time::sleep(BACKOFF).await;
                        continue;
                    }
                    Some(code) => {
                        return Err(ClientError::broker(code, Target::Group((*g).to_owned()))
                            .with_message(msg(&d.error_message)))
                    }
                    None => break (node, d),
                }
            };
            let (node, d) = described;
            out.push(GroupDescription {
                group_id: d.group_id.0.to_string(),
                state: d.group_state.to_string(),
                protocol_type: d.protocol_type.to_string(),
                protocol: d.protocol_data.to_string(),
                members: d
                    .members
                    .iter()
                    .map(|m| MemberDescription {
                        member_id: m.member_id.to_string(),
                        group_instance_id: m.group_instance_id.as_ref().map(|s| s.to_string()),
                        client_id: m.client_id.to_string(),
                        client_host: m.client_host.to_string(),
                        assignment: m.member_assignment.clone(),
                    })
                    .collect(),
                coordinator: node,
            });
        }
        Ok(out)
    }

    /// Groups partitions by their leader, refreshing metadata for unknown ones.
    async fn by_leader<T: Clone>(
        &self,
        items: &[(TopicPartition, T)],
    ) -> Result<HashMap<i32, Vec<(TopicPartition, T)>>, ClientError> {
        let topics: Vec<String> = {
            let mut t: Vec<String> = items.iter().map(|(tp, _)| tp.topic.clone()).collect();
            t.sort();
            t.dedup();
            t
        };
        let lookup = |tp: &TopicPartition| {
            self.pool.with_metadata(|md| {
                md.topics
                    .get(&tp.topic)
                    .and_then(|t| {
                        usize::try_from(tp.partition)
                            .ok()
                            .and_then(|i| t.partitions.get(i))
                    })
                    .map(|p| p.leader)
                    .filter(|l| *l >= 0)
            })
        };
        if items.iter().any(|(tp, _)| lookup(tp).is_none()) {
            self.pool.refresh(Some(&topics), false).await?;
        }
        let mut out: HashMap<i32, Vec<(TopicPartition, T)>> = HashMap::new();
        for (tp, v) in items {
            let Some(leader) = lookup(tp) else {
                let code = self
                    .pool
                    .with_metadata(|md| md.topic_errors.get(&tp.topic).copied())
                    .unwrap_or(ResponseError::UnknownTopicOrPartition);
                return Err(ClientError::partition(code, &tp.topic, tp.partition));
            };
            out.entry(leader).or_default().push((tp.clone(), v.clone()));
        }
        Ok(out)
    }

    /// Runs a leader-routed call, retrying when leadership moved or a connection failed.
    async fn leader_call<T: Clone, R>(
        &self,
        items: &[(TopicPartition, T)],
        call: impl Fn(
            Arc<Connection>,
            Vec<(TopicPartition, T)>,
        ) -> std::pin::Pin<
            Box<
                dyn std::future::Future<
                        Output = Result<Vec<(TopicPartition, Result<R, ClientError>)>, ClientError>,
                    > + Send,
            >,
        >,
    ) -> Result<HashMap<TopicPartition, R>, ClientError> {
        let mut todo: Vec<(TopicPartition, T)> = items.to_vec();
        let mut done = HashMap::new();
        let mut attempt = 0;
        while !todo.is_empty() {
            attempt += 1;
            let groups = self.by_leader(&todo).await?;
            let mut retry = Vec::new();
            for (leader, batch) in groups {
                let conn = match self.pool.broker(leader).await {
                    Ok(c) => c,
                    Err(e) if e.is_retriable() && attempt < ATTEMPTS => {
                        for (tp, _) in &batch {
                            self.pool.invalidate_leader(&tp.topic, tp.partition);
                        }
                        retry.extend(batch);
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let values: HashMap<TopicPartition, T> = batch.iter().cloned().collect();
                let results = match call(conn, batch.clone()).await {
                    Ok(r) => r,
                    Err(e) if e.is_retriable() && attempt < ATTEMPTS => {
                        retry.extend(batch);
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                for (tp, r) in results {
                    match r {
                        Ok(v) => {
                            done.insert(tp, v);
                        }
                        Err(e) if e.is_retriable() && attempt < ATTEMPTS => {
                            self.pool.invalidate_leader(&tp.topic, tp.partition);
                            if let Some(v) = values.get(&tp) {
                                retry.push((tp, v.clone()));
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
                for (tp, _) in &batch {
                    if !done.contains_key(tp) && !retry.iter().any(|(r, _)| r == tp) {
                        return Err(ClientError::partition(
                            ResponseError::UnknownServerError,
                            &tp.topic,
                            tp.partition,
                        )
                        .with_message(Some("partition missing from the response")));
                    }
                }
            }
            if !retry.is_empty() {
                tokio::time::sleep(BACKOFF).await;
            }
            todo = retry;
        }
        Ok(done)
    }

    /// Lists offsets: earliest (log start), latest (high watermark) or the first at or
    /// after a timestamp, per partition, asking each partition's leader.
    ///
    /// # Errors
    /// A partition's non-retriable error, naming it.
    pub async fn list_offsets(
        &self,
        partitions: &[(TopicPartition, OffsetSpec)],
    ) -> Result<HashMap<TopicPartition, ListedOffset>, ClientError> {
        self.leader_call(partitions, |conn, batch| {
            Box::pin(async move {
                let mut topics: Vec<ListOffsetsTopic> = Vec::new();
                for (tp, spec) in &batch {
                    let p = ListOffsetsPartition::default()
                        .with_partition_index(tp.partition)
                        .with_current_leader_epoch(-1)
                        .with_timestamp(spec.wire());
                    match topics.iter_mut().find(|t| t.name.0.as_str() == tp.topic) {
                        Some(t) => t.partitions.push(p),
                        None => topics.push(
                            ListOffsetsTopic::default()
                                .with_name(name(&tp.topic))
                                .with_partitions(vec![p]),
                        ),
                    }
                }
                let req = ListOffsetsRequest::default()
                    .with_replica_id((-1).into())
                    .with_topics(topics);
                let resp = conn.call(&req).await?;
                let mut out = Vec::new();
                for t in &resp.topics {
                    for p in &t.partitions {
                        let tp = TopicPartition::new(t.name.0.to_string(), p.partition_index);
                        let r = match ResponseError::try_from_code(p.error_code) {
                            Some(code) => {
                                Err(ClientError::partition(code, &tp.topic, tp.partition))
                            }
                            None => Ok(ListedOffset {
                                offset: p.offset,
                                timestamp: p.timestamp,
                                leader_epoch: p.leader_epoch,
                            }),
                        };
                        out.push((tp, r));
                    }
                }
                Ok(out)
            })
        })
        .await
    }

    /// Deletes records before the given offsets (moves the log start offset); returns each
    /// partition's new low watermark. `-1` deletes up to the high watermark.
    ///
    /// # Errors
    /// A partition's non-retriable error (`OffsetOutOfRange` past the high watermark).
    pub async fn delete_records(
        &self,
        before: &[(TopicPartition, i64)],
    ) -> Result<HashMap<TopicPartition, i64>, ClientError> {
        let timeout_ms = self.timeout_ms();
        self.leader_call(before, move |conn, batch| {
            Box::pin(async move {
                let mut topics: Vec<DeleteRecordsTopic> = Vec::new();
                for (tp, offset) in &batch {
                    let p = DeleteRecordsPartition::default()
                        .with_partition_index(tp.partition)
                        .with_offset(*offset);
                    match topics.iter_mut().find(|t| t.name.0.as_str() == tp.topic) {
                        Some(t) => t.partitions.push(p),
                        None => topics.push(
                            DeleteRecordsTopic::default()
                                .with_name(name(&tp.topic))
                                .with_partitions(vec![p]),
                        ),
                    }
                }
                let req = DeleteRecordsRequest::default()
                    .with_timeout_ms(timeout_ms)
                    .with_topics(topics);
                let resp = conn.call(&req).await?;
                let mut out = Vec::new();
                for t in &resp.topics {
                    for p in &t.partitions {
                        let tp = TopicPartition::new(t.name.0.to_string(), p.partition_index);
                        let r = match ResponseError::try_from_code(p.error_code) {
                            Some(code) => {
                                Err(ClientError::partition(code, &tp.topic, tp.partition))
                            }
                            None => Ok(p.low_watermark),
                        };
                        out.push((tp, r));
                    }
                }
                Ok(out)
            })
        })
        .await
    }
}

fn retry_at_controller(e: &ClientError) -> bool {
    match e {
        ClientError::Broker { code, .. } => {
            *code == ResponseError::NotController || code.is_retriable()
        }
        other => other.is_retriable(),
    }
}
