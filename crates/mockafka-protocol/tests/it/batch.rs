//! Record batch round trips (proptest) over arbitrary records and every codec, corruption and
//! truncation handling, and decompression bombs through the whole decode path.

use bytes::{Bytes, BytesMut};
use mockafka_protocol::batch::{
    self, BatchError, BatchHeader, Compression, DecodeLimits, Record, RecordBatch, RecordHeader,
    TimestampType, BATCH_HEADER_LEN,
};
use mockafka_protocol::compression;
use proptest::prelude::*;

fn codec() -> impl Strategy<Value = Compression> {
    prop::sample::select(Compression::ALL.to_vec())
}

fn bytes(max: usize) -> impl Strategy<Value = Option<Bytes>> {
    prop::option::weighted(
        0.8,
        prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from),
    )
}

fn headers() -> impl Strategy<Value = Vec<RecordHeader>> {
    // few distinct keys, so duplicates are common
    let key = prop::sample::select(vec!["", "a", "trace", "ünï", "x-id"]);
    prop::collection::vec(
        (key, bytes(20)).prop_map(|(k, value)| RecordHeader {
            key: k.to_owned(),
            value,
        }),
        0..5,
    )
}

/// (offset gap >= 1, timestamp delta, key, value, headers) per record.
fn record_parts(
) -> impl Strategy<Value = (i64, i64, Option<Bytes>, Option<Bytes>, Vec<RecordHeader>)> {
    (
        prop_oneof![4 => Just(1i64), 1 => 1i64..1000],
        prop_oneof![-10_000i64..10_000, -(1i64 << 40)..(1i64 << 40)],
        bytes(40),
        bytes(300),
        headers(),
    )
}

prop_compose! {
    fn arb_batch(max_records: usize)(
        base_offset in prop_oneof![0i64..1000, 0i64..(1i64 << 50)],
        partition_leader_epoch in any::<i32>(),
        compression in codec(),
        log_append_time in prop::bool::weighted(0.2),
        transactional in any::<bool>(),
        control in prop::bool::weighted(0.1),
        producer_id in prop_oneof![Just(-1i64), any::<i64>()],
        producer_epoch in any::<i16>(),
        base_sequence in any::<i32>(),
        base_timestamp in prop_oneof![Just(-1i64), 0i64..(1i64 << 45)],
        max_timestamp in any::<i64>(),
        parts in prop::collection::vec(record_parts(), 0..max_records),
    ) -> RecordBatch {
        let mut offset = base_offset;
        let mut records = Vec::with_capacity(parts.len());
        for (i, (gap, ts_delta, key, value, headers)) in parts.into_iter().enumerate() {
            if i > 0 {
                offset += gap;
            }
            let timestamp = if log_append_time { max_timestamp } else { base_timestamp + ts_delta };
            records.push(Record { offset, timestamp, key, value, headers });
        }
        RecordBatch {
            base_offset,
            partition_leader_epoch,
            compression,
            timestamp_type: if log_append_time { TimestampType::LogAppendTime } else { TimestampType::CreateTime },
            transactional,
            control,
            producer_id,
            producer_epoch,
            base_sequence,
            base_timestamp,
            max_timestamp,
            records,
        }
    }
}

fn encode(b: &RecordBatch) -> Vec<u8> {
    let mut out = BytesMut::new();
    b.encode(&mut out).expect("generated batches encode");
    out.to_vec()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decode_inverts_encode(b in arb_batch(40)) {
        let wire = encode(&b);
        batch::verify_crc(&wire).unwrap();
        let h = BatchHeader::parse(&wire).unwrap();
        prop_assert_eq!(h.total_size(), wire.len());
        prop_assert_eq!(h.record_count as usize, b.records.len());
        prop_assert_eq!(h.last_offset(), b.last_offset());
        prop_assert_eq!(h.compression(), Ok(b.compression));
        prop_assert_eq!(h.timestamp_type(), b.timestamp_type);
        prop_assert_eq!((h.is_transactional(), h.is_control()), (b.transactional, b.control));
        let decoded = RecordBatch::decode(&wire, &DecodeLimits::default()).unwrap();
        prop_assert_eq!(decoded, b);
    }

    #[test]
    fn patched_batches_still_decode(b in arb_batch(10), offset in 0i64..(1i64 << 60), epoch in any::<i32>(), append_time in any::<i64>()) {
        let mut wire = encode(&b);
        batch::set_base_offset(&mut wire, offset).unwrap();
        batch::set_partition_leader_epoch(&mut wire, epoch).unwrap();
        let decoded = RecordBatch::decode(&wire, &DecodeLimits::default()).unwrap();
        prop_assert_eq!(decoded.base_offset, offset);
        prop_assert_eq!(decoded.partition_leader_epoch, epoch);
        for (got, want) in decoded.records.iter().zip(&b.records) {
            prop_assert_eq!(got.offset - offset, want.offset - b.base_offset);
        }
        batch::set_log_append_time(&mut wire, append_time).unwrap();
        let stamped = RecordBatch::decode(&wire, &DecodeLimits::default()).unwrap();
        prop_assert_eq!(stamped.timestamp_type, TimestampType::LogAppendTime);
        prop_assert!(stamped.records.iter().all(|r| r.timestamp == append_time));
        prop_assert_eq!(stamped.records.len(), b.records.len());
    }

    #[test]
    fn truncations_are_errors(b in arb_batch(10), cut in any::<prop::sample::Index>()) {
        let wire = encode(&b);
        let len = cut.index(wire.len());
        prop_assert_eq!(BatchHeader::parse(&wire[..len]), Err(BatchError::Truncated));
        prop_assert!(RecordBatch::decode(&wire[..len], &DecodeLimits::default()).is_err());
        let mut two = wire.clone();
        two.extend_from_slice(&wire[..len]);
        let split: Vec<_> = batch::batches(&two).collect();
        prop_assert_eq!(split.len(), if len == 0 { 1 } else { 2 });
        if len > 0 {
            prop_assert_eq!(split[1].clone(), Err(BatchError::Truncated));
        }
        batch::fuzz_decode(&wire[..len]);
    }

    #[test]
    fn bit_flips_never_panic_and_are_caught(b in arb_batch(10), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut wire = encode(&b);
        let i = at.index(wire.len());
        wire[i] ^= 1 << bit;
        let result = RecordBatch::decode(&wire, &DecodeLimits::default());
        if i >= 21 {
            // inside the CRC-covered bytes, or the CRC itself
            prop_assert!(result.is_err());
        }
        if (17..21).contains(&i) {
            let is_crc = matches!(result, Err(BatchError::CorruptCrc { .. }));
            prop_assert!(is_crc);
        }
        batch::fuzz_decode(&wire);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn codecs_round_trip_arbitrary_bytes(
        codec in codec(),
        data in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..2000),
            // long runs, so the codecs' match paths are exercised too
            prop::collection::vec((any::<u8>(), 1usize..5000), 0..20)
                .prop_map(|runs| runs.into_iter().flat_map(|(b, n)| std::iter::repeat_n(b, n)).collect()),
        ],
    ) {
        let mut packed = Vec::new();
        compression::compress(codec, &data, &mut packed);
        prop_assert_eq!(compression::decompress(codec, &packed, data.len()).unwrap(), data);
    }

    #[test]
    fn decompressing_arbitrary_bytes_never_panics(codec in codec(), data in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(out) = compression::decompress(codec, &data, 1 << 16) {
            prop_assert!(out.len() <= 1 << 16);
        }
    }
}

#[test]
fn many_records_in_every_codec() {
    let records: Vec<Record> = (0..5000)
        .map(|i| Record {
            offset: i,
            timestamp: 1_700_000_000_000 + i,
            key: (i % 3 != 0).then(|| Bytes::from(format!("k{i}"))),
            value: Some(Bytes::from(format!("value number {i} ").repeat(3))),
            headers: vec![RecordHeader {
                key: "n".into(),
                value: Some(Bytes::from(i.to_string())),
            }],
        })
        .collect();
    for codec in Compression::ALL {
        let b = RecordBatch {
            compression: codec,
            ..RecordBatch::new(records.clone())
        };
        let wire = encode(&b);
        if codec != Compression::None {
            let plain = encode(&RecordBatch::new(records.clone()));
            assert!(
                wire.len() * 3 < plain.len(),
                "{codec:?}: {} vs {}",
                wire.len(),
                plain.len()
            );
        }
        assert_eq!(
            RecordBatch::decode(&wire, &DecodeLimits::default()).unwrap(),
            b,
            "{codec:?}"
        );
    }
}

/// A sealed batch whose records section is `section`, claiming `count` records.
fn batch_around(codec: Compression, count: i32, section: &[u8]) -> Vec<u8> {
    let mut b = encode(&RecordBatch {
        compression: codec,
        ..RecordBatch::default()
    });
    b.truncate(BATCH_HEADER_LEN);
    b[57..61].copy_from_slice(&count.to_be_bytes());
    b[23..27].copy_from_slice(&(count - 1).to_be_bytes());
    b.extend_from_slice(section);
    let len = (b.len() - 12) as i32;
    b[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b
}

const GIB: usize = 1 << 30;

/// A zstd frame of 8192 RLE blocks of 128 KiB: 1 GiB of zeros from 32 KiB.
fn zstd_bomb() -> Vec<u8> {
    let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 10 << 3];
    let blocks = GIB / (128 * 1024);
    for i in 0..blocks {
        let header = u32::from(i + 1 == blocks) | (1 << 1) | ((128 * 1024) << 3);
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.push(0);
    }
    frame
}

/// 1024 gzip members of 1 MiB of zeros: 1 GiB from about 1 MiB.
fn gzip_bomb() -> Vec<u8> {
    let mut member = Vec::new();
    compression::compress(Compression::Gzip, &vec![0; 1 << 20], &mut member);
    member.repeat(1024)
}

/// One LZ4 frame of 16384 independent 64 KiB blocks of zeros: 1 GiB from about 4 MiB.
fn lz4_bomb() -> Vec<u8> {
    let mut one = Vec::new();
    compression::compress(Compression::Lz4, &vec![0; 64 * 1024], &mut one);
    let (header, rest) = one.split_at(7);
    let mut frame = header.to_vec();
    frame.extend_from_slice(&rest[..rest.len() - 4].repeat(GIB / (64 * 1024)));
    frame.extend_from_slice(&[0; 4]);
    frame
}

/// xerial snappy, 1024 blocks of 1 MiB of zeros: 1 GiB from about 48 MiB (snappy's ratio is
/// bounded).
fn snappy_bomb() -> Vec<u8> {
    let block = snap::raw::Encoder::new()
        .compress_vec(&vec![0; 1 << 20])
        .unwrap();
    let mut framed = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01".to_vec();
    let mut one = (block.len() as i32).to_be_bytes().to_vec();
    one.extend_from_slice(&block);
    framed.extend_from_slice(&one.repeat(1024));
    framed
}

#[test]
fn decompression_bombs_in_a_valid_batch_hit_the_limit() {
    for (codec, bomb) in [
        (Compression::Zstd, zstd_bomb()),
        (Compression::Gzip, gzip_bomb()),
        (Compression::Lz4, lz4_bomb()),
        (Compression::Snappy, snappy_bomb()),
    ] {
        let wire = batch_around(codec, 1000, &bomb);
        batch::verify_crc(&wire).unwrap();
        let limits = DecodeLimits {
            max_uncompressed_bytes: 8 << 20,
            ..DecodeLimits::default()
        };
        assert_eq!(
            RecordBatch::decode(&wire, &limits),
            Err(BatchError::TooLarge { limit: 8 << 20 }),
            "{codec:?}"
        );
        batch::fuzz_decode(&wire);
    }
}

#[test]
fn a_zstd_bomb_stops_at_the_default_limit() {
    let wire = batch_around(Compression::Zstd, 1000, &zstd_bomb());
    let limit = DecodeLimits::default().max_uncompressed_bytes;
    assert_eq!(
        RecordBatch::decode(&wire, &DecodeLimits::default()),
        Err(BatchError::TooLarge { limit })
    );
}

/// "Without the memory", asserted: the bomb tests run again in a child process whose address
/// space is capped at 256 MiB, so a decoder that materialised any 1 GiB bomb (or buffered far
/// past its limit) would fail to allocate and abort the child.
#[cfg(target_os = "linux")]
#[test]
fn bombs_decode_within_a_256_mib_address_space() {
    let tests = [
        "batch::decompression_bombs_in_a_valid_batch_hit_the_limit",
        "batch::a_zstd_bomb_stops_at_the_default_limit",
        "batch_corpus::batch_corpus_replays_without_panics_and_seeds_behave_as_named",
    ];
    crate::capped::run_capped(262144, &tests);
}
