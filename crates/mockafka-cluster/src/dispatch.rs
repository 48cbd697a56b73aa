//! `match Request`: one arm per API, each calling its handler and encoding the answer.
//!
//! Decoding already checked the version against [`mockafka_protocol::versions`], so every
//! request that reaches here is served at its version. Handlers see a [`RequestCtx`] that
//! says which broker received the request, so partition requests to a broker that does not
//! lead the partition get NOT_LEADER_OR_FOLLOWER.
//!
//! Group coordination (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
//! OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups, OffsetDelete) goes
//! to the group coordinator (`group/`); each group API answers NOT_COORDINATOR on a broker
//! that does not coordinate the group.

use std::sync::{Arc, MutexGuard};

use bytes::BytesMut;
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::{Encodable, HeaderVersion};
use mockafka_protocol::request::Request;
use mockafka_protocol::response::encode_response;
use tracing::debug;

use crate::cluster::{BrokerInfo, Shared};
use crate::handlers;
use crate::handlers::produce::ProduceOutcome;
use crate::topics::Topics;

/// What the connection does after a request.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Write this response frame.
    Frame(BytesMut),
    /// Send nothing (Produce with acks=0).
    NoResponse,
    /// Close the connection (the response could not be encoded).
    Close,
}

/// What every handler knows about the request besides its body.
#[derive(Debug)]
pub(crate) struct RequestCtx<'a> {
    shared: &'a Arc<Shared>,
    /// The broker that received the request.
    pub(crate) broker_id: i32,
    /// The request's API version.
    pub(crate) version: i16,
    /// The client id from the request header.
    pub(crate) client_id: Option<&'a str>,
    /// The client's address (group members show its host, as Kafka's "/127.0.0.1").
    peer: std::net::SocketAddr,
    now_ms: i64,
}

impl<'a> RequestCtx<'a> {
    pub(crate) fn new(
        shared: &'a Arc<Shared>,
        broker_id: i32,
        header: &'a RequestHeader,
        peer: std::net::SocketAddr,
    ) -> Self {
        Self {
            shared,
            broker_id,
            version: header.request_api_version,
            client_id: header.client_id.as_ref().map(|c| c.as_str()),
            peer,
            now_ms: shared.config.time.now_ms(),
        }
    }

    /// A context for the cluster's own synchronous API ([`crate::Cluster::append`] and
    /// friends): the request is taken as received by `broker_id` at `version`, from no
    /// client (loopback address, port 0).
    pub(crate) fn internal(shared: &'a Arc<Shared>, broker_id: i32, version: i16) -> Self {
        Self {
            shared,
            broker_id,
            version,
            client_id: None,
            peer: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            now_ms: shared.config.time.now_ms(),
        }
    }

    /// The client's host as Kafka reports it for group members: "/" and the IP address.
    pub(crate) fn client_host(&self) -> String {
        format!("/{}", self.peer.ip())
    }

    /// Wall-clock time when the request arrived (the cluster's time source), in ms.
    pub(crate) fn now(&self) -> i64 {
        self.now_ms
    }

    pub(crate) fn shared(&self) -> &'a Arc<Shared> {
        self.shared
    }

    /// Locks the topic registry (never held across `.await`).
    pub(crate) fn topics(&self) -> MutexGuard<'a, Topics> {
        self.shared.topics()
    }

    /// The brokers that are running, in id order.
    pub(crate) fn live_brokers(&self) -> Vec<BrokerInfo> {
        self.shared.live_brokers()
    }
}

fn respond<R: Encodable + HeaderVersion>(
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &R,
) -> Reply {
    match encode_response(key, version, correlation_id, body) {
        Ok(frame) => Reply::Frame(frame),
        Err(e) => {
            debug!(error = %e, "closing connection: response does not encode");
            Reply::Close
        }
    }
}

/// Serves one request.
pub(crate) async fn dispatch(ctx: &RequestCtx<'_>, correlation_id: i32, body: Request) -> Reply {
    let key = body.api_key();
    let v = ctx.version;
    tracing::trace!(broker = ctx.broker_id, api = ?key, version = v, client = ctx.client_id, "request");
    let c = correlation_id;
    match body {
        Request::ApiVersions(r) => respond(key, v, c, &handlers::api_versions::handle(ctx, r)),
        Request::Metadata(r) => respond(key, v, c, &handlers::metadata::handle(ctx, r)),
        Request::Produce(r) => match handlers::produce::handle(ctx, r) {
            ProduceOutcome::Respond(resp) => respond(key, v, c, &resp),
            ProduceOutcome::Silent => Reply::NoResponse,
            ProduceOutcome::Close => Reply::Close,
        },
        Request::Fetch(r) => respond(key, v, c, &handlers::fetch::handle(ctx, r).await),
        Request::ListOffsets(r) => respond(key, v, c, &handlers::list_offsets::handle(ctx, r)),
        Request::OffsetForLeaderEpoch(r) => respond(
            key,
            v,
            c,
            &handlers::offset_for_leader_epoch::handle(ctx, r),
        ),
        Request::InitProducerId(r) => {
            respond(key, v, c, &handlers::init_producer_id::handle(ctx, r))
        }
        Request::CreateTopics(r) => respond(key, v, c, &handlers::create_topics::handle(ctx, r)),
        Request::DeleteTopics(r) => respond(key, v, c, &handlers::delete_topics::handle(ctx, r)),
        Request::CreatePartitions(r) => {
            respond(key, v, c, &handlers::create_partitions::handle(ctx, r))
        }
        Request::DeleteRecords(r) => respond(key, v, c, &handlers::delete_records::handle(ctx, r)),
        Request::DescribeConfigs(r) => {
            respond(key, v, c, &handlers::describe_configs::handle(ctx, r))
        }
        Request::DescribeCluster(r) => {
            respond(key, v, c, &handlers::describe_cluster::handle(ctx, r))
        }
        // Group coordination.
        Request::FindCoordinator(r) => {
            respond(key, v, c, &handlers::find_coordinator::handle(ctx, r))
        }
        Request::JoinGroup(r) => respond(key, v, c, &handlers::join_group::handle(ctx, r).await),
        Request::SyncGroup(r) => respond(key, v, c, &handlers::sync_group::handle(ctx, r).await),
        Request::Heartbeat(r) => respond(key, v, c, &handlers::heartbeat::handle(ctx, r)),
        Request::LeaveGroup(r) => respond(key, v, c, &handlers::leave_group::handle(ctx, r)),
        Request::OffsetCommit(r) => respond(key, v, c, &handlers::offset_commit::handle(ctx, r)),
        Request::OffsetFetch(r) => respond(key, v, c, &handlers::offset_fetch::handle(ctx, r)),
        Request::DescribeGroups(r) => {
            respond(key, v, c, &handlers::describe_groups::handle(ctx, r))
        }
        Request::ListGroups(r) => respond(key, v, c, &handlers::list_groups::handle(ctx, r)),
        Request::DeleteGroups(r) => respond(key, v, c, &handlers::delete_groups::handle(ctx, r)),
        Request::OffsetDelete(r) => respond(key, v, c, &handlers::offset_delete::handle(ctx, r)),
        // `Request` is non-exhaustive across crates; an API added to the protocol crate
        // before it has a handler here closes the connection, as an unserved API does.
        other => {
            debug!(api = ?other.api_key(), "closing connection: no handler");
            Reply::Close
        }
    }
}
