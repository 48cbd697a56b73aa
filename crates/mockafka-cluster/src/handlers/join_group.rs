//! JoinGroup (API key 11), versions 0-9.
//!
//! v4+: a first join without a group instance id gets MEMBER_ID_REQUIRED with its member
//! id; v5+: static membership; v9: a static leader rejoining a Stable group is told to skip
//! the assignment. The request waits (outside every lock) until the rebalance's join phase
//! completes. Differences from Kafka: the initial rebalance delay defaults to 0 (Kafka: 3 s).

use bytes::Bytes;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};
use kafka_protocol::ResponseError;

use crate::dispatch::RequestCtx;
use crate::group::EmptyGroupId;
use crate::group::{JoinParams, JoinResult};
use crate::handlers::str_bytes;

pub(crate) async fn handle(ctx: &RequestCtx<'_>, req: JoinGroupRequest) -> JoinGroupResponse {
    let v = ctx.version;
    let group_id = req.group_id.0.to_string();
    let member_id = req.member_id.to_string();
    let result = if let Some(e) =
        ctx.shared()
            .groups
            .check(&group_id, ctx.broker_id, EmptyGroupId::Invalid)
    {
        JoinResult::error(member_id, e)
    } else {
        let params = JoinParams {
            group_id,
            member_id: member_id.clone(),
            group_instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
            client_id: ctx.client_id.unwrap_or_default().to_string(),
            client_host: ctx.client_host(),
            session_timeout_ms: req.session_timeout_ms,
            // v0 has no rebalance timeout: Kafka uses the session timeout.
            rebalance_timeout_ms: if v == 0 {
                req.session_timeout_ms
            } else {
                req.rebalance_timeout_ms
            },
            protocol_type: req.protocol_type.to_string(),
            protocols: req
                .protocols
                .into_iter()
                .map(|p| (p.name.to_string(), p.metadata))
                .collect::<Vec<(String, Bytes)>>(),
            require_known_member_id: v >= 4 && req.group_instance_id.is_none(),
            supports_skip_assignment: v >= 9,
        };
        let reply = ctx.shared().groups.update(|c, now| c.join(now, params));
        reply
            .wait(|| JoinResult::error(member_id, ResponseError::CoordinatorNotAvailable))
            .await
    };
    encode(v, result)
}

fn encode(v: i16, r: JoinResult) -> JoinGroupResponse {
    let members = r
        .members
        .into_iter()
        .map(|m| {
            let member = JoinGroupResponseMember::default()
                .with_member_id(str_bytes(&m.member_id))
                .with_metadata(m.metadata);
            if v >= 5 {
                member.with_group_instance_id(m.group_instance_id.as_deref().map(str_bytes))
            } else {
                member
            }
        })
        .collect();
    let resp = JoinGroupResponse::default()
        .with_error_code(r.error.map_or(0, |e| e.code()))
        .with_generation_id(r.generation_id)
        .with_leader(str_bytes(&r.leader_id))
        .with_member_id(str_bytes(&r.member_id))
        .with_members(members);
    // v7+ carry the protocol type and a nullable protocol name; before, the name is a
    // plain string, "" when there is none.
    let resp = if v >= 7 {
        resp.with_protocol_type(r.protocol_type.as_deref().map(str_bytes))
            .with_protocol_name(r.protocol_name.as_deref().map(str_bytes))
    } else {
        resp.with_protocol_name(Some(str_bytes(
            r.protocol_name.as_deref().unwrap_or_default(),
        )))
    };
    if v >= 9 {
        resp.with_skip_assignment(r.skip_assignment)
    } else {
        resp
    }
}
