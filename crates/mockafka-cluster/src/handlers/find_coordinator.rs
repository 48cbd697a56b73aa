//! FindCoordinator (API key 10), versions 0-4 (v4: several keys per request).
//!
//! A group's coordinator is the leader of its `__consumer_offsets` partition
//! (`abs(hashCode(group id)) % 50`), spread over the brokers and failed over with them.
//! Transactional ids (key type 1) get a coordinator the same way, although transactions
//! are not served. Differences from Kafka: no `__consumer_offsets` topic appears in
//! Metadata; the coordinator answer never waits for it to be created.

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;

use crate::dispatch::RequestCtx;
use crate::handlers::str_bytes;

/// The coordinator of `key` of `key_type` as (node id, host, port), or the error.
fn lookup(
    ctx: &RequestCtx<'_>,
    key: &str,
    key_type: i8,
) -> Result<(i32, String, i32), ResponseError> {
    if !(0..=1).contains(&key_type) {
        return Err(ResponseError::InvalidRequest);
    }
    let id = ctx.shared().groups.read(|c| c.coordinator_for(key));
    ctx.live_brokers()
        .into_iter()
        .find(|b| b.id == id)
        .map(|b| (b.id, b.host, i32::from(b.port)))
        .ok_or(ResponseError::CoordinatorNotAvailable)
}

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: FindCoordinatorRequest) -> FindCoordinatorResponse {
    if ctx.version >= 4 {
        let coordinators = req
            .coordinator_keys
            .into_iter()
            .map(|key| {
                let c = Coordinator::default().with_key(key.clone());
                match lookup(ctx, &key, req.key_type) {
                    Ok((id, host, port)) => c
                        .with_node_id(BrokerId(id))
                        .with_host(str_bytes(&host))
                        .with_port(port),
                    Err(e) => c
                        .with_node_id(BrokerId(-1))
                        .with_host(StrBytes::default())
                        .with_port(-1)
                        .with_error_code(e.code())
                        .with_error_message(Some(str_bytes(&e.to_string()))),
                }
            })
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    let key_type = if ctx.version >= 1 { req.key_type } else { 0 };
    let resp = FindCoordinatorResponse::default();
    match lookup(ctx, &req.key, key_type) {
        Ok((id, host, port)) => resp
            .with_node_id(BrokerId(id))
            .with_host(str_bytes(&host))
            .with_port(port),
        Err(e) => {
            let resp = resp
                .with_error_code(e.code())
                .with_node_id(BrokerId(-1))
                .with_port(-1);
            if ctx.version >= 1 {
                resp.with_error_message(Some(str_bytes(&e.to_string())))
            } else {
                resp
            }
        }
    }
}
