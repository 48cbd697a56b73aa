//! ListGroups (API key 16), versions 0-4 (v4: states filter).
//!
//! Each broker lists the groups it coordinates, as Kafka's brokers do; admin clients ask
//! every broker. The states filter matches state names ignoring case.
//! Differences from Kafka: none.

use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};

use crate::dispatch::RequestCtx;
use crate::handlers::str_bytes;

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: ListGroupsRequest) -> ListGroupsResponse {
    let v = ctx.version;
    let states: Vec<String> = if v >= 4 {
        req.states_filter.iter().map(|s| s.to_string()).collect()
    } else {
        Vec::new()
    };
    let broker = ctx.broker_id;
    let listed = ctx
        .shared()
        .groups
        .read(|c| c.list(&states, |g| c.coordinator_for(g) == broker));
    let groups = listed
        .into_iter()
        .map(|(id, protocol_type, state)| {
            let g = ListedGroup::default()
                .with_group_id(GroupId(str_bytes(&id)))
                .with_protocol_type(str_bytes(&protocol_type));
            if v >= 4 {
                g.with_group_state(str_bytes(state.as_str()))
            } else {
                g
            }
        })
        .collect();
    ListGroupsResponse::default().with_groups(groups)
}
