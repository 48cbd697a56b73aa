//! InitProducerId (API key 22), versions 0-4.
//!
//! Without a transactional id (idempotent producers) every call gets a fresh producer id
//! at epoch 0, as Kafka does (a KIP-360 producer id and epoch in the request are ignored
//! then). With a transactional id, the id keeps its producer id and the epoch is bumped,
//! fencing older instances; its timeout must lie within 1 ms and 15 minutes
//! (`transaction.max.timeout.ms`) or INVALID_TRANSACTION_TIMEOUT; an empty one gets
//! INVALID_REQUEST.
//!
//! Differences from Kafka: transactions themselves are not modelled (their APIs are not
//! served), so no transaction coordinator is needed here and any broker answers.

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use kafka_protocol::ResponseError;

use crate::dispatch::RequestCtx;

/// Kafka's `transaction.max.timeout.ms` default.
const MAX_TRANSACTION_TIMEOUT_MS: i32 = 900_000;

pub(crate) fn handle(ctx: &RequestCtx<'_>, req: InitProducerIdRequest) -> InitProducerIdResponse {
    let resp = InitProducerIdResponse::default();
    let (id, epoch) = match req.transactional_id {
        None => ctx.shared().producer_ids().allocate(),
        Some(tid) if tid.is_empty() => {
            return resp
                .with_error_code(ResponseError::InvalidRequest.code())
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1);
        }
        Some(tid) => {
            if req.transaction_timeout_ms <= 0
                || req.transaction_timeout_ms > MAX_TRANSACTION_TIMEOUT_MS
            {
                return resp
                    .with_error_code(ResponseError::InvalidTransactionTimeout.code())
                    .with_producer_id(ProducerId(-1))
                    .with_producer_epoch(-1);
            }
            ctx.shared().producer_ids().for_transactional_id(&tid)
        }
    };
    resp.with_producer_id(ProducerId(id))
        .with_producer_epoch(epoch)
}
