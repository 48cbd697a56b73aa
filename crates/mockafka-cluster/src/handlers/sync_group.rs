//! SyncGroup (API key 14), versions 0-5.
//!
//! The leader's request carries every member's assignment; followers wait (outside every
//! lock) until it arrives. v5+ check and return the protocol type and name.
//! Differences from Kafka: none.

use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};
use kafka_protocol::ResponseError;

use crate::dispatch::RequestCtx;
use crate::group::EmptyGroupId;
use crate::group::{SyncParams, SyncResult};
use crate::handlers::str_bytes;

pub(crate) async fn handle(ctx: &RequestCtx<'_>, req: SyncGroupRequest) -> SyncGroupResponse {
    let v = ctx.version;
    let group_id = req.group_id.0.to_string();
    let result = if let Some(e) =
        ctx.shared()
            .groups
            .check(&group_id, ctx.broker_id, EmptyGroupId::Invalid)
    {
        SyncResult::error(e)
    } else {
        let params = SyncParams {
            group_id,
            member_id: req.member_id.to_string(),
            group_instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
            generation_id: req.generation_id,
            protocol_type: req.protocol_type.as_ref().map(|s| s.to_string()),
            protocol_name: req.protocol_name.as_ref().map(|s| s.to_string()),
            assignments: req
                .assignments
                .into_iter()
                .map(|a| (a.member_id.to_string(), a.assignment))
                .collect(),
        };
        let reply = ctx.shared().groups.update(|c, now| c.sync(now, params));
        reply
            .wait(|| SyncResult::error(ResponseError::CoordinatorNotAvailable))
            .await
    };
    let resp = SyncGroupResponse::default()
        .with_error_code(result.error.map_or(0, |e| e.code()))
        .with_assignment(result.assignment);
    if v >= 5 {
        resp.with_protocol_type(result.protocol_type.as_deref().map(str_bytes))
            .with_protocol_name(result.protocol_name.as_deref().map(str_bytes))
    } else {
        resp
    }
}
