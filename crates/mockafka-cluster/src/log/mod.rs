//! Partition logs and the idempotent producer state that guards appends to them.

pub(crate) mod partition;
pub(crate) mod producer;
