//! LeaveGroup (API key 13), versions 0-5 (v3+: several members, by member id or group
//! instance id).
//!
//! Before v3 the one member's error is the response's error, as Kafka answers.
//! Differences from Kafka: none.

use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};

use crate::dispatch::RequestCtx;
use crate::group::EmptyGroupId;
use crate::group::LeavingMember;

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: LeaveGroupRequest) -> LeaveGroupResponse {
    let v = ctx.version;
    let groups = &ctx.shared().groups;
    let group_id = req.group_id.0.as_str();
    let leaving: Vec<LeavingMember> = if v >= 3 {
        req.members
            .iter()
            .map(|m| LeavingMember {
                member_id: m.member_id.to_string(),
                group_instance_id: m.group_instance_id.as_ref().map(|s| s.to_string()),
            })
            .collect()
    } else {
        vec![LeavingMember {
            member_id: req.member_id.to_string(),
            group_instance_id: None,
        }]
    };
    let result = match groups.check(group_id, ctx.broker_id, EmptyGroupId::Invalid) {
        Some(e) => Err(e),
        None => groups.update(|c, now| c.leave(now, group_id, &leaving)),
    };
    match result {
        Err(e) => LeaveGroupResponse::default().with_error_code(e.code()),
        Ok(errors) if v >= 3 => {
            let members = req
                .members
                .into_iter()
                .zip(errors)
                .map(|(m, e)| {
                    MemberResponse::default()
                        .with_member_id(m.member_id)
                        .with_group_instance_id(m.group_instance_id)
                        .with_error_code(e.map_or(0, |e| e.code()))
                })
                .collect();
            LeaveGroupResponse::default().with_members(members)
        }
        Ok(errors) => LeaveGroupResponse::default()
            .with_error_code(errors.into_iter().flatten().next().map_or(0, |e| e.code())),
    }
}
