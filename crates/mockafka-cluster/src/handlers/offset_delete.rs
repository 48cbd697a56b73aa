//! OffsetDelete (API key 47), version 0.
//!
//! Deletes committed offsets of an Empty group, or of topics a consumer group with members
//! does not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC otherwise). Differences from Kafka: none.

use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};

use crate::dispatch::RequestCtx;
use crate::group::EmptyGroupId;

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: OffsetDeleteRequest) -> OffsetDeleteResponse {
    let groups = &ctx.shared().groups;
    let group_id = req.group_id.0.as_str();
    let asked: Vec<(String, i32)> = req
        .topics
        .iter()
        .flat_map(|t| {
            let name = t.name.0.to_string();
            t.partitions
                .iter()
                .map(move |p| (name.clone(), p.partition_index))
        })
        .collect();
    let result = match groups.check(group_id, ctx.broker_id, EmptyGroupId::Invalid) {
        Some(e) => Err(e),
        None => groups.update(|c, _| c.delete_offsets(group_id, &asked)),
    };
    let errors = match result {
        Err(e) => return OffsetDeleteResponse::default().with_error_code(e.code()),
        Ok(errors) => errors,
    };
    let mut errors = errors.into_iter();
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    OffsetDeleteResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(errors.next().flatten().map_or(0, |e| e.code()))
                })
                .collect();
            OffsetDeleteResponseTopic::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    OffsetDeleteResponse::default().with_topics(topics)
}
