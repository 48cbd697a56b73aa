//! Heartbeat (API key 12), versions 0-4.
//! Differences from Kafka: none.

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use crate::dispatch::RequestCtx;

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: HeartbeatRequest) -> HeartbeatResponse {
    let groups = &ctx.shared().groups;
    let group_id = req.group_id.0.as_str();
    let result = match groups.not_coordinator(group_id, ctx.broker_id) {
        Some(e) => Err(e),
        None => groups.update(|c, now| {
            c.heartbeat(
                now,
                group_id,
                &req.member_id,
                req.group_instance_id.as_deref(),
                req.generation_id,
            )
        }),
    };
    HeartbeatResponse::default().with_error_code(result.err().map_or(0, |e| e.code()))
}
