//! OffsetCommit (API key 8), versions 2-8.
//!
//! A commit names a generation and member (checked against the group), or generation -1
//! and no member id: a simple commit, allowed only while the group has no members. A
//! partition of an unknown topic gets UNKNOWN_TOPIC_OR_PARTITION, as Kafka answers. As in
//! Kafka, a member's commit is accepted while the group is PreparingRebalance (the member
//! learns of the rebalance from its next heartbeat) and gets REBALANCE_IN_PROGRESS while it
//! is CompletingRebalance; a commit counts as a heartbeat.
//! Differences from Kafka: `retention_time_ms` (v2-4) is ignored; offsets never expire.

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};
use kafka_protocol::ResponseError;

use crate::dispatch::RequestCtx;
use crate::group::EmptyGroupId;
use crate::group::{Committer, OffsetCommitEntry};

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: OffsetCommitRequest) -> OffsetCommitResponse {
    let v = ctx.version;
    let groups = &ctx.shared().groups;
    let group_id = req.group_id.0.as_str();
    // Which partitions exist (topics lock released before the groups lock is taken).
    let known: Vec<Vec<bool>> = {
        let topics = ctx.topics();
        req.topics
            .iter()
            .map(|t| {
                let topic = topics.get(t.name.0.as_str());
                t.partitions
                    .iter()
                    .map(|p| topic.is_some_and(|t| t.partition(p.partition_index).is_some()))
                    .collect()
            })
            .collect()
    };
    let mut entries = Vec::new();
    for (t, known) in req.topics.iter().zip(&known) {
        for (p, ok) in t.partitions.iter().zip(known) {
            if *ok {
                entries.push(OffsetCommitEntry {
                    topic: t.name.0.to_string(),
                    partition: p.partition_index,
                    offset: p.committed_offset,
                    leader_epoch: if v >= 6 { p.committed_leader_epoch } else { -1 },
                    metadata: p.committed_metadata.as_ref().map(|m| m.to_string()),
                });
            }
        }
    }
    let who = Committer {
        member_id: req.member_id.to_string(),
        group_instance_id: if v >= 7 {
            req.group_instance_id.as_ref().map(|s| s.to_string())
        } else {
            None
        },
        generation_id: req.generation_id_or_member_epoch,
    };
    let results: Vec<Option<ResponseError>> =
        match groups.check(group_id, ctx.broker_id, EmptyGroupId::Allowed) {
            Some(e) => vec![Some(e); entries.len()],
            None if entries.is_empty() => Vec::new(),
            None => groups.update(|c, now| c.commit_offsets(now, group_id, &who, &entries)),
        };
    let mut results = results.into_iter();
    let topics = req
        .topics
        .into_iter()
        .zip(known)
        .map(|(t, known)| {
            let partitions = t
                .partitions
                .iter()
                .zip(known)
                .map(|(p, ok)| {
                    let e = if ok {
                        results.next().flatten()
                    } else {
                        Some(ResponseError::UnknownTopicOrPartition)
                    };
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(e.map_or(0, |e| e.code()))
                })
                .collect();
            OffsetCommitResponseTopic::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}
