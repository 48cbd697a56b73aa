//! DescribeCluster (API key 60), versions 0-1.
//!
//! The live brokers, the cluster id and the controller (the live broker with the lowest
//! id); cluster authorized operations when asked (everything is allowed). An endpoint type
//! other than brokers (1) gets MISMATCHED_ENDPOINT_TYPE, as a broker answers.
//!
//! Differences from Kafka: none.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::ResponseError;

use super::metadata::{CLUSTER_OPS, OPS_NOT_REQUESTED};
use super::str_bytes;
use crate::dispatch::RequestCtx;

const BROKERS_ENDPOINT: i8 = 1;

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: DescribeClusterRequest) -> DescribeClusterResponse {
    let shared = ctx.shared();
    let resp = DescribeClusterResponse::default()
        .with_endpoint_type(BROKERS_ENDPOINT)
        .with_cluster_id(str_bytes(&shared.config.cluster_id))
        .with_cluster_authorized_operations(OPS_NOT_REQUESTED);
    if ctx.version >= 1 && req.endpoint_type != BROKERS_ENDPOINT {
        return resp
            .with_error_code(ResponseError::MismatchedEndpointType.code())
            .with_controller_id(BrokerId(-1));
    }
    let brokers = ctx
        .live_brokers()
        .into_iter()
        .map(|b| {
            DescribeClusterBroker::default()
                .with_broker_id(BrokerId(b.id))
                .with_host(str_bytes(&b.host))
                .with_port(i32::from(b.port))
                .with_rack(None)
        })
        .collect();
    let ops = if req.include_cluster_authorized_operations {
        CLUSTER_OPS
    } else {
        OPS_NOT_REQUESTED
    };
    resp.with_controller_id(BrokerId(shared.controller_id()))
        .with_brokers(brokers)
        .with_cluster_authorized_operations(ops)
}
