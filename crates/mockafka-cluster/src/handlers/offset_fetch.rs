//! OffsetFetch (API key 9), versions 1-8 (v2+: all of a group's offsets with null topics;
//! v8: several groups per request).
//!
//! A partition without a committed offset is listed with offset -1, whatever the group's
//! state; a group this broker does not coordinate gets NOT_COORDINATOR.
//! Differences from Kafka: `require_stable` (v7+) has nothing to wait for (no
//! transactional commits), so it never answers UNSTABLE_OFFSET_COMMIT.

use std::collections::BTreeMap;

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};
use kafka_protocol::ResponseError;

use crate::dispatch::RequestCtx;
use crate::group::EmptyGroupId;
use crate::handlers::str_bytes;
use crate::offsets::CommittedOffset;

type Fetched = Vec<(String, i32, Option<CommittedOffset>)>;
/// One topic's partitions and their committed offsets.
type TopicOffsets = (String, Vec<(i32, Option<CommittedOffset>)>);

fn fetch(
    ctx: &RequestCtx<'_>,
    group_id: &str,
    partitions: Option<Vec<(String, i32)>>,
) -> Result<Fetched, ResponseError> {
    let groups = &ctx.shared().groups;
    if let Some(e) = groups.check(group_id, ctx.broker_id, EmptyGroupId::Allowed) {
        return Err(e);
    }
    Ok(groups.read(|c| c.fetch_offsets(group_id, partitions.as_deref())))
}

/// Groups the answer by topic, in the order topics were asked (or sorted, for "all").
fn by_topic(fetched: Fetched) -> Vec<TopicOffsets> {
    let mut order: Vec<String> = Vec::new();
    let mut map: BTreeMap<String, Vec<(i32, Option<CommittedOffset>)>> = BTreeMap::new();
    for (t, p, o) in fetched {
        if !map.contains_key(&t) {
            order.push(t.clone());
        }
        map.entry(t).or_default().push((p, o));
    }
    order
        .into_iter()
        .map(|t| {
            let ps = map.remove(&t).unwrap_or_default();
            (t, ps)
        })
        .collect()
}

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: OffsetFetchRequest) -> OffsetFetchResponse {
    let v = ctx.version;
    if v >= 8 {
        let groups = req
            .groups
            .into_iter()
            .map(|g| {
                let asked = g.topics.map(|ts| {
                    ts.into_iter()
                        .flat_map(|t| {
                            let name = t.name.0.to_string();
                            t.partition_indexes
                                .into_iter()
                                .map(move |p| (name.clone(), p))
                        })
                        .collect::<Vec<_>>()
                });
                let resp = OffsetFetchResponseGroup::default().with_group_id(g.group_id.clone());
                match fetch(ctx, g.group_id.0.as_str(), asked) {
                    Err(e) => resp.with_error_code(e.code()),
                    Ok(fetched) => resp.with_topics(
                        by_topic(fetched)
                            .into_iter()
                            .map(|(t, ps)| {
                                OffsetFetchResponseTopics::default()
                                    .with_name(TopicName(str_bytes(&t)))
                                    .with_partitions(
                                        ps.into_iter()
                                            .map(|(p, o)| {
                                                let (offset, epoch, md) = parts(o);
                                                OffsetFetchResponsePartitions::default()
                                                    .with_partition_index(p)
                                                    .with_committed_offset(offset)
                                                    .with_committed_leader_epoch(epoch)
                                                    .with_metadata(Some(str_bytes(&md)))
                                            })
                                            .collect(),
                                    )
                            })
                            .collect(),
                    ),
                }
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(groups);
    }
    // v1: topics are never null; v2+: null means every committed offset of the group.
    let asked = req.topics.clone().map(|ts| {
        ts.into_iter()
            .flat_map(|t| {
                let name = t.name.0.to_string();
                t.partition_indexes
                    .into_iter()
                    .map(move |p| (name.clone(), p))
            })
            .collect::<Vec<_>>()
    });
    match fetch(ctx, req.group_id.0.as_str(), asked) {
        Err(e) => {
            // v1 has no top-level error: each partition carries it.
            let topics = req
                .topics
                .unwrap_or_default()
                .into_iter()
                .map(|t| {
                    OffsetFetchResponseTopic::default()
                        .with_name(t.name)
                        .with_partitions(
                            t.partition_indexes
                                .into_iter()
                                .map(|p| {
                                    OffsetFetchResponsePartition::default()
                                        .with_partition_index(p)
                                        .with_committed_offset(-1)
                                        .with_metadata(Some(str_bytes("")))
                                        .with_error_code(e.code())
                                })
                                .collect(),
                        )
                })
                .collect();
            let resp = OffsetFetchResponse::default().with_topics(topics);
            if v >= 2 {
                resp.with_error_code(e.code())
            } else {
                resp
            }
        }
        Ok(fetched) => {
            let topics = by_topic(fetched)
                .into_iter()
                .map(|(t, ps)| {
                    OffsetFetchResponseTopic::default()
                        .with_name(TopicName(str_bytes(&t)))
                        .with_partitions(
                            ps.into_iter()
                                .map(|(p, o)| {
                                    let (offset, epoch, md) = parts(o);
                                    let part = OffsetFetchResponsePartition::default()
                                        .with_partition_index(p)
                                        .with_committed_offset(offset)
                                        .with_metadata(Some(str_bytes(&md)));
                                    if v >= 5 {
                                        part.with_committed_leader_epoch(epoch)
                                    } else {
                                        part
                                    }
                                })
                                .collect(),
                        )
                })
                .collect();
            OffsetFetchResponse::default().with_topics(topics)
        }
    }
}

/// Offset, leader epoch and metadata of an answer: -1, -1 and "" when nothing is committed.
fn parts(o: Option<CommittedOffset>) -> (i64, i32, String) {
    match o {
        Some(o) => (o.offset, o.leader_epoch, o.metadata),
        None => (-1, -1, String::new()),
    }
}
