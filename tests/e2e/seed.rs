//! The seed behaviours (shared/SEED_BEHAVIOURS.md) with the mockafka Rust client producing
//! and consuming, one test per behaviour id, each on its own embedded cluster (or the
//! external one in conformance mode). The scenarios live in `tests/seed`; kafka-python
//! and the cross-client pairs run them from `tests/python/test_seed_behaviours.py`.

#[path = "../seed/mod.rs"]
mod layer;

use layer::rust_client::RustClient;
use layer::{Behaviour, Codec, Target};

async fn run(id: &str) -> layer::Res<()> {
    let b = Behaviour::parse(id).ok_or_else(|| format!("no behaviour {id}"))?;
    assert_eq!(b.id(), id, "test names are behaviour ids");
    let target = Target::start().await?;
    layer::run(b, &target, &RustClient, &RustClient, Codec::None).await
}

macro_rules! seed_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() -> layer::Res<()> {
                run(stringify!($name)).await
            }
        )*

        #[test]
        fn every_behaviour_has_a_test() {
            let names = [$(stringify!($name)),*];
            let ids: Vec<_> = Behaviour::ALL.iter().map(|b| b.id()).collect();
            assert_eq!(names.to_vec(), ids);
        }
    };
}

seed_tests!(
    c1_iteration_ends_after_the_consumer_timeout,
    c2_a_group_member_gets_every_partition,
    c3_manual_assignment_reads_only_that_partition,
    c4_1_subscribe_to_several_topics,
    c4_2_subscribe_to_a_pattern_picks_up_new_topics,
    c5_values_decoded_by_a_msgpack_deserializer,
    c6_1_earliest_new_group_starts_at_offset_0,
    c6_2_latest_with_no_commit_starts_at_log_end,
    c6_3_committed_offset_wins_over_latest_after_restart,
    c6_4_reset_applies_only_without_a_valid_committed_offset,
    p1_raw_bytes_sent_asynchronously,
    p2_blocking_get_returns_the_record_metadata,
    p3_flush_waits_for_every_buffered_record,
    p4_values_encoded_by_a_json_serializer,
    p5_keys_encoded_by_a_key_serializer,
    p6_compressed_batches_for_every_codec,
    p7_headers_arrive_unchanged,
);
