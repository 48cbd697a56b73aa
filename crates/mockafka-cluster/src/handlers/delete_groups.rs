//! DeleteGroups (API key 42), versions 0-2.
//!
//! Only an Empty group can be deleted (NON_EMPTY_GROUP otherwise); its committed offsets
//! go with it. Differences from Kafka: none.

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use crate::dispatch::RequestCtx;
use crate::group::EmptyGroupId;

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: DeleteGroupsRequest) -> DeleteGroupsResponse {
    let groups = &ctx.shared().groups;
    let results = req
        .groups_names
        .into_iter()
        .map(|g| {
            let id = g.0.to_string();
            let e = match groups.check(&id, ctx.broker_id, EmptyGroupId::Allowed) {
                Some(e) => Some(e),
                None => groups
                    .update(|c, _| c.delete_groups(std::slice::from_ref(&id)))
                    .into_iter()
                    .next()
                    .flatten(),
            };
            DeletableGroupResult::default()
                .with_group_id(g)
                .with_error_code(e.map_or(0, |e| e.code()))
        })
        .collect();
    DeleteGroupsResponse::default().with_results(results)
}
