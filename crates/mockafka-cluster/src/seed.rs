//! Where generated ids (topic ids, member ids, fetch session ids) get their randomness:
//! per-process random keys by default, or a fixed seed ([`crate::ClusterBuilder::seed`]) so
//! that a test sees the same ids, and so the same member order and assignments, on every
//! run.

use std::collections::hash_map::{DefaultHasher, RandomState};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use crate::cluster::Shared;

/// Hasher keys for generated ids.
#[derive(Debug, Clone)]
pub(crate) enum IdHasher {
    /// Random keys (the default).
    Random(RandomState),
    /// Keys from a seed and a stream number (one per kind of id).
    Seeded(u64, u64),
}

impl Default for IdHasher {
    fn default() -> Self {
        Self::Random(RandomState::new())
    }
}

impl BuildHasher for IdHasher {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        match self {
            Self::Random(r) => r.build_hasher(),
            Self::Seeded(seed, stream) => {
                // DefaultHasher::new() has fixed keys: the same seed gives the same ids.
                let mut h = DefaultHasher::new();
                h.write_u64(*seed);
                h.write_u64(*stream);
                h
            }
        }
    }
}

/// Seeds every id generator of a new cluster.
pub(crate) fn apply(shared: &Arc<Shared>, seed: u64) {
    shared.topics().seed_ids(IdHasher::Seeded(seed, 1));
    shared.fetch_sessions().seed_ids(IdHasher::Seeded(seed, 2));
    let member_seed = IdHasher::Seeded(seed, 3).hash_one(0u64);
    shared.groups.update(|g, _| g.seed_member_ids(member_seed));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_fixes_the_keys_and_streams_differ() {
        let a = IdHasher::Seeded(7, 1).hash_one(42u64);
        assert_eq!(a, IdHasher::Seeded(7, 1).hash_one(42u64));
        assert_ne!(a, IdHasher::Seeded(7, 2).hash_one(42u64));
        assert_ne!(a, IdHasher::Seeded(8, 1).hash_one(42u64));
    }
}
