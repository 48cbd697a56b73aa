//! Heartbeat (API key 12), versions 0-4.
//!
//! REBALANCE_IN_PROGRESS while the group is PreparingRebalance (that is how a Stable member
//! learns it must rejoin); accepted between JoinGroup and SyncGroup; ILLEGAL_GENERATION,
//! UNKNOWN_MEMBER_ID and FENCED_INSTANCE_ID as Kafka checks them.
//! Differences from Kafka: none.

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use crate::dispatch::RequestCtx;
use crate::group::EmptyGroupId;

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: HeartbeatRequest) -> HeartbeatResponse {
    let groups = &ctx.shared().groups;
    let group_id = req.group_id.0.as_str();
    let result = match groups.check(group_id, ctx.broker_id, EmptyGroupId::Invalid) {
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
