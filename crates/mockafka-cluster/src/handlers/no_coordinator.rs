//! Group coordination before the group coordinator exists: FindCoordinator (10),
//! JoinGroup (11), Heartbeat (12), LeaveGroup (13), SyncGroup (14), DescribeGroups (15),
//! ListGroups (16), OffsetCommit (8), OffsetFetch (9), DeleteGroups (42), OffsetDelete
//! (47), at the versions of the version table.
//!
//! Every answer is COORDINATOR_NOT_AVAILABLE, the retriable code a Kafka broker gives
//! while its group coordinator is loading, in the shape each version expects.
//!
//! Differences from Kafka: no group coordinator at all (clients retry and time out). The
//! group coordinator replaces these arms in `dispatch.rs`.

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::describe_groups_response::DescribedGroup;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponseTopic,
};
use kafka_protocol::messages::*;
use kafka_protocol::ResponseError;

use crate::dispatch::RequestCtx;

const CODE: i16 = ResponseError::CoordinatorNotAvailable.code();

pub(crate) fn find_coordinator(
    ctx: &RequestCtx<'_>,
    req: FindCoordinatorRequest,
) -> FindCoordinatorResponse {
    let resp = FindCoordinatorResponse::default()
        .with_node_id(BrokerId(-1))
        .with_port(-1);
    if ctx.version >= 4 {
        let coordinators = req
            .coordinator_keys
            .into_iter()
            .map(|key| {
                Coordinator::default()
                    .with_key(key)
                    .with_node_id(BrokerId(-1))
                    .with_port(-1)
                    .with_error_code(CODE)
            })
            .collect();
        resp.with_coordinators(coordinators)
    } else {
        resp.with_error_code(CODE)
    }
}

pub(crate) fn join_group(req: JoinGroupRequest) -> JoinGroupResponse {
    JoinGroupResponse::default()
        .with_error_code(CODE)
        .with_generation_id(-1)
        .with_member_id(req.member_id)
}

pub(crate) fn sync_group(_req: SyncGroupRequest) -> SyncGroupResponse {
    SyncGroupResponse::default().with_error_code(CODE)
}

pub(crate) fn heartbeat(_req: HeartbeatRequest) -> HeartbeatResponse {
    HeartbeatResponse::default().with_error_code(CODE)
}

pub(crate) fn leave_group(_req: LeaveGroupRequest) -> LeaveGroupResponse {
    LeaveGroupResponse::default().with_error_code(CODE)
}

pub(crate) fn offset_commit(req: OffsetCommitRequest) -> OffsetCommitResponse {
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            OffsetCommitResponseTopic::default()
                .with_name(t.name)
                .with_partitions(
                    t.partitions
                        .into_iter()
                        .map(|p| {
                            OffsetCommitResponsePartition::default()
                                .with_partition_index(p.partition_index)
                                .with_error_code(CODE)
                        })
                        .collect(),
                )
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}

pub(crate) fn offset_fetch(ctx: &RequestCtx<'_>, req: OffsetFetchRequest) -> OffsetFetchResponse {
    if ctx.version >= 8 {
        let groups = req
            .groups
            .into_iter()
            .map(|g| {
                OffsetFetchResponseGroup::default()
                    .with_group_id(g.group_id)
                    .with_error_code(CODE)
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(groups);
    }
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
                                .with_committed_leader_epoch(-1)
                                .with_error_code(CODE)
                        })
                        .collect(),
                )
        })
        .collect();
    OffsetFetchResponse::default()
        .with_topics(topics)
        .with_error_code(CODE)
}

pub(crate) fn describe_groups(req: DescribeGroupsRequest) -> DescribeGroupsResponse {
    let groups = req
        .groups
        .into_iter()
        .map(|g| {
            DescribedGroup::default()
                .with_group_id(g)
                .with_error_code(CODE)
        })
        .collect();
    DescribeGroupsResponse::default().with_groups(groups)
}

pub(crate) fn list_groups(_req: ListGroupsRequest) -> ListGroupsResponse {
    ListGroupsResponse::default().with_error_code(CODE)
}

pub(crate) fn delete_groups(req: DeleteGroupsRequest) -> DeleteGroupsResponse {
    let results = req
        .groups_names
        .into_iter()
        .map(|g| {
            DeletableGroupResult::default()
                .with_group_id(g)
                .with_error_code(CODE)
        })
        .collect();
    DeleteGroupsResponse::default().with_results(results)
}

pub(crate) fn offset_delete(_req: OffsetDeleteRequest) -> OffsetDeleteResponse {
    OffsetDeleteResponse::default().with_error_code(CODE)
}
