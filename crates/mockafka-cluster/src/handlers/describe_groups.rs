//! DescribeGroups (API key 15), versions 0-5.
//!
//! A group that does not exist is described as Dead with no members, as Kafka does;
//! member metadata and assignments are shown only while the group is Stable.
//! Differences from Kafka: authorized operations (v3+) are not computed (no ACLs): the
//! field keeps Kafka's "not requested" value.

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse};

use crate::dispatch::RequestCtx;
use crate::group::EmptyGroupId;
use crate::handlers::str_bytes;

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: DescribeGroupsRequest) -> DescribeGroupsResponse {
    let v = ctx.version;
    let groups = &ctx.shared().groups;
    let described = req
        .groups
        .into_iter()
        .map(|g| {
            let group_id = g.0.to_string();
            let d = DescribedGroup::default().with_group_id(g);
            if let Some(e) = groups.check(&group_id, ctx.broker_id, EmptyGroupId::Allowed) {
                return d.with_error_code(e.code());
            }
            let s = groups.read(|c| c.describe(&group_id));
            let members = s
                .members
                .into_iter()
                .map(|m| {
                    let member = DescribedGroupMember::default()
                        .with_member_id(str_bytes(&m.member_id))
                        .with_client_id(str_bytes(&m.client_id))
                        .with_client_host(str_bytes(&m.client_host))
                        .with_member_metadata(m.metadata)
                        .with_member_assignment(m.assignment);
                    if v >= 4 {
                        member.with_group_instance_id(m.group_instance_id.as_deref().map(str_bytes))
                    } else {
                        member
                    }
                })
                .collect();
            d.with_group_state(str_bytes(s.state.as_str()))
                .with_protocol_type(str_bytes(&s.protocol_type))
                .with_protocol_data(str_bytes(&s.protocol_name))
                .with_members(members)
        })
        .collect();
    DescribeGroupsResponse::default().with_groups(described)
}
