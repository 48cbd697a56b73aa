//! mockafka-cluster (placeholder: filled by its issue).

// The group coordinator and offset store; wired into dispatch with the cluster framework.
#[allow(dead_code)]
pub(crate) mod group;
#[allow(dead_code)]
pub(crate) mod offsets;
pub use group::{CommittedOffsetView, GroupConfig, GroupState, GroupView, MemberView};
