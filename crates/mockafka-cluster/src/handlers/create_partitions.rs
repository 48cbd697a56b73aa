//! CreatePartitions (API key 37), versions 0-3.
//!
//! Per topic: INVALID_REQUEST for a topic listed twice; UNKNOWN_TOPIC_OR_PARTITION;
//! INVALID_PARTITIONS when the count does not grow the topic; INVALID_REPLICA_ASSIGNMENT
//! when assignments do not cover exactly the new partitions or name unknown brokers.
//! `validate_only` checks without creating. New partitions continue the round-robin of
//! leaders, or are led by the first broker of their assignment.
//!
//! Differences from Kafka: none beyond replicas being all brokers.

use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::ResponseError;

use super::str_bytes;
use crate::dispatch::RequestCtx;

fn grow(
    ctx: &RequestCtx<'_>,
    t: &CreatePartitionsTopic,
    validate_only: bool,
) -> Result<(), ResponseError> {
    let shared = ctx.shared();
    let live = shared.live_ids();
    let count = i32::try_from(shared.broker_count()).unwrap_or(i32::MAX);
    let mut topics = ctx.topics();
    topics.check_add_partitions(&t.name, t.count)?;
    let leaders = match &t.assignments {
        None => None,
        Some(assignments) => {
            let current = topics
                .get(&t.name)
                .map_or(0, |x| i32::try_from(x.partitions.len()).unwrap_or(i32::MAX));
            let new = usize::try_from(t.count.saturating_sub(current)).unwrap_or(0);
            if assignments.len() != new {
                return Err(ResponseError::InvalidReplicaAssignment);
            }
            let mut leaders = Vec::with_capacity(new);
            for a in assignments {
                let valid = !a.broker_ids.is_empty()
                    && a.broker_ids.iter().all(|b| (0..count).contains(&b.0));
                match a.broker_ids.first() {
                    Some(b) if valid => leaders.push(b.0),
                    _ => return Err(ResponseError::InvalidReplicaAssignment),
                }
            }
            Some(leaders)
        }
    };
    if validate_only {
        return Ok(());
    }
    topics.add_partitions_with_leaders(&t.name, t.count, &live, leaders.as_deref())
}

pub(crate) fn handle(
    ctx: &RequestCtx<'_>,
    req: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let results = req
        .topics
        .iter()
        .map(|t| {
            let duplicate = req.topics.iter().filter(|x| x.name == t.name).count() > 1;
            let outcome = if duplicate {
                Err(ResponseError::InvalidRequest)
            } else {
                grow(ctx, t, req.validate_only)
            };
            let result = CreatePartitionsTopicResult::default().with_name(t.name.clone());
            match outcome {
                Ok(()) => result,
                Err(code) => {
                    let message = match code {
                        ResponseError::InvalidPartitions => Some(str_bytes(&format!(
                            "Topic {} cannot be given {} partitions: it must have more than it has now",
                            t.name.as_str(),
                            t.count
                        ))),
                        _ => None,
                    };
                    result
                        .with_error_code(code.code())
                        .with_error_message(message)
                }
            }
        })
        .collect();
    CreatePartitionsResponse::default().with_results(results)
}
