//! DeleteTopics (API key 20), versions 1-6.
//!
//! By name (v1-5, and v6 entries with a name) or by topic id (v6). Errors per topic:
//! UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID, INVALID_REQUEST (a topic listed twice, or
//! an entry with both or neither of name and id). Deletion is immediate; fetches waiting on
//! the topic's partitions are woken.
//!
//! Differences from Kafka: none.

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::str_bytes;
use crate::dispatch::RequestCtx;

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: DeleteTopicsRequest) -> DeleteTopicsResponse {
    let entries: Vec<(Option<TopicName>, Uuid)> = if ctx.version >= 6 {
        req.topics
            .into_iter()
            .map(|t| (t.name, t.topic_id))
            .collect()
    } else {
        req.topic_names
            .into_iter()
            .map(|n| (Some(n), Uuid::nil()))
            .collect()
    };
    let responses = entries
        .iter()
        .map(|(name, id)| {
            let result = DeletableTopicResult::default()
                .with_name(name.clone())
                .with_topic_id(*id);
            let duplicate = entries
                .iter()
                .filter(|e| *e == &(name.clone(), *id))
                .count()
                > 1;
            let by_name = name.is_some();
            let by_id = !id.is_nil();
            if duplicate || by_name == by_id {
                return result.with_error_code(ResponseError::InvalidRequest.code());
            }
            let mut topics = ctx.topics();
            let target = match name {
                Some(n) => Ok(n.to_string()),
                None => topics
                    .by_id(*id)
                    .map(|t| t.name.to_string())
                    .ok_or(ResponseError::UnknownTopicId),
            };
            match target.and_then(|n| topics.delete(&n)) {
                Ok(deleted) => {
                    // Kafka drops the deleted topic's committed offsets too.
                    ctx.shared()
                        .groups
                        .update(|g, _| g.topic_deleted(&deleted.name));
                    result
                        .with_name(Some(TopicName(str_bytes(&deleted.name))))
                        .with_topic_id(deleted.id)
                }
                Err(code) => result.with_error_code(code.code()),
            }
        })
        .collect();
    DeleteTopicsResponse::default().with_responses(responses)
}
