//! Unit tests of the borrowed batch view, on batches assembled byte by byte here (independent
//! of the encoder).

use super::*;

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn put_varlong(out: &mut Vec<u8>, v: i64) {
    let mut z = zigzag(v);
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// An uncompressed batch whose records have the given values (no key, no headers), offset
/// deltas 0.., timestamp deltas 0.., assembled by hand.
fn raw_batch(base_offset: i64, attributes: i16, values: &[&[u8]]) -> Vec<u8> {
    let mut records = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let mut body = vec![0u8]; // attributes
        put_varlong(&mut body, i as i64); // timestamp delta
        put_varlong(&mut body, i as i64); // offset delta
        put_varlong(&mut body, -1); // null key
        put_varlong(&mut body, value.len() as i64);
        body.extend_from_slice(value);
        put_varlong(&mut body, 0); // no headers
        put_varlong(&mut records, body.len() as i64);
        records.extend_from_slice(&body);
    }
    let mut b = Vec::new();
    b.extend_from_slice(&base_offset.to_be_bytes());
    b.extend_from_slice(&((49 + records.len()) as i32).to_be_bytes());
    b.extend_from_slice(&7i32.to_be_bytes()); // leader epoch
    b.push(2);
    b.extend_from_slice(&[0; 4]); // crc, filled below
    b.extend_from_slice(&attributes.to_be_bytes());
    b.extend_from_slice(&(values.len() as i32 - 1).max(0).to_be_bytes());
    b.extend_from_slice(&1_000i64.to_be_bytes());
    b.extend_from_slice(&(1_000i64 + values.len() as i64 - 1).to_be_bytes());
    b.extend_from_slice(&99i64.to_be_bytes()); // producer id
    b.extend_from_slice(&3i16.to_be_bytes()); // producer epoch
    b.extend_from_slice(&5i32.to_be_bytes()); // base sequence
    b.extend_from_slice(&(values.len() as i32).to_be_bytes());
    assert_eq!(b.len(), BATCH_HEADER_LEN);
    b.extend_from_slice(&records);
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b
}

#[test]
fn parses_every_header_field() {
    let b = raw_batch(100, 0x10 | 0x03, &[b"a", b"bb", b"ccc"]);
    let h = BatchHeader::parse(&b).unwrap();
    assert_eq!(h.base_offset, 100);
    assert_eq!(h.total_size(), b.len());
    assert_eq!(h.partition_leader_epoch, 7);
    assert_eq!(h.magic, 2);
    assert_eq!(h.crc, crc32c::crc32c(&b[21..]));
    assert_eq!(h.last_offset_delta, 2);
    assert_eq!(h.last_offset(), 102);
    assert_eq!(h.base_timestamp, 1_000);
    assert_eq!(h.max_timestamp, 1_002);
    assert_eq!(h.producer_id, 99);
    assert_eq!(h.producer_epoch, 3);
    assert_eq!(h.base_sequence, 5);
    assert_eq!(h.record_count, 3);
    assert_eq!(h.compression(), Ok(Compression::Lz4));
    assert!(h.is_transactional());
    assert!(!h.is_control());
    assert_eq!(h.timestamp_type(), TimestampType::CreateTime);
}

#[test]
fn attribute_bits() {
    for (id, codec) in Compression::ALL.iter().enumerate() {
        let h = BatchHeader::parse(&raw_batch(0, id as i16, &[])).unwrap();
        assert_eq!(h.compression(), Ok(*codec));
    }
    for bad in 5..=7u8 {
        let h = BatchHeader::parse(&raw_batch(0, i16::from(bad), &[])).unwrap();
        assert_eq!(
            h.compression(),
            Err(BatchError::UnsupportedCompression(bad))
        );
    }
    let h = BatchHeader::parse(&raw_batch(0, 0x20 | 0x08, &[])).unwrap();
    assert!(h.is_control());
    assert!(!h.is_transactional());
    assert_eq!(h.timestamp_type(), TimestampType::LogAppendTime);
}

#[test]
fn last_offset_saturates() {
    let b = raw_batch(i64::MAX - 1, 0, &[b"a", b"b", b"c"]);
    assert_eq!(BatchHeader::parse(&b).unwrap().last_offset(), i64::MAX);
}

#[test]
fn rejects_other_magic_and_short_input() {
    let mut b = raw_batch(0, 0, &[b"x"]);
    for magic in [0u8, 1, 3, 0xff] {
        let mut old = b.clone();
        old[MAGIC_OFFSET] = magic;
        assert_eq!(
            BatchHeader::parse(&old),
            Err(BatchError::UnsupportedMagic(magic as i8))
        );
    }
    for len in 0..b.len() {
        assert_eq!(
            BatchHeader::parse(&b[..len]),
            Err(BatchError::Truncated),
            "{len}"
        );
    }
    // batch length below the header size, negative, or huge
    for length in [48i32, 0, -1, i32::MIN, i32::MAX] {
        b[8..12].copy_from_slice(&length.to_be_bytes());
        assert_eq!(
            BatchHeader::parse(&b),
            Err(BatchError::Truncated),
            "{length}"
        );
    }
}

#[test]
fn parse_ignores_bytes_after_the_batch() {
    let mut b = raw_batch(3, 0, &[b"x"]);
    let size = b.len();
    b.extend_from_slice(b"trailing garbage");
    let h = BatchHeader::parse(&b).unwrap();
    assert_eq!(h.total_size(), size);
    verify_crc(&b).unwrap();
}

#[test]
fn batches_splits_and_reports_a_trailing_partial_batch_once() {
    let one = raw_batch(0, 0, &[b"a"]);
    let two = raw_batch(1, 0, &[b"b", b"c"]);
    let mut all = [one.clone(), two.clone()].concat();
    let got: Vec<_> = batches(&all).collect();
    assert_eq!(got.len(), 2);
    let (h1, b1) = got[0].clone().unwrap();
    let (h2, b2) = got[1].clone().unwrap();
    assert_eq!((h1.base_offset, b1), (0, &one[..]));
    assert_eq!((h2.base_offset, h2.last_offset(), b2), (1, 2, &two[..]));

    all.extend_from_slice(&one[..20]);
    let mut it = batches(&all);
    assert!(it.next().unwrap().is_ok());
    assert!(it.next().unwrap().is_ok());
    assert_eq!(it.next(), Some(Err(BatchError::Truncated)));
    assert_eq!(it.next(), None);
    assert_eq!(it.next(), None);

    assert_eq!(batches(&[]).count(), 0);
    // fewer bytes than a length prefix
    assert_eq!(
        batches(&[0, 0, 0]).collect::<Vec<_>>(),
        vec![Err(BatchError::Truncated)]
    );
}

#[test]
fn verify_crc_detects_every_single_bit_flip_in_covered_bytes() {
    let b = raw_batch(0, 0, &[b"hello", b"world"]);
    verify_crc(&b).unwrap();
    for byte in ATTRIBUTES_OFFSET..b.len() {
        for bit in 0..8 {
            let mut bad = b.clone();
            bad[byte] ^= 1 << bit;
            assert!(
                matches!(verify_crc(&bad), Err(BatchError::CorruptCrc { .. })),
                "flip at {byte}.{bit}"
            );
        }
    }
    let mut bad = b.clone();
    bad[CRC_OFFSET] ^= 1;
    assert_eq!(
        verify_crc(&bad),
        Err(BatchError::CorruptCrc {
            expected: crc32c::crc32c(&b[21..]) ^ 0x0100_0000,
            actual: crc32c::crc32c(&b[21..]),
        })
    );
}

#[test]
fn patching_offset_and_epoch_keeps_the_crc_valid() {
    let mut b = raw_batch(0, 0, &[b"a", b"b"]);
    let before = b.clone();
    set_base_offset(&mut b, 1_234_567).unwrap();
    set_partition_leader_epoch(&mut b, 42).unwrap();
    verify_crc(&b).unwrap();
    let h = BatchHeader::parse(&b).unwrap();
    assert_eq!(h.base_offset, 1_234_567);
    assert_eq!(h.last_offset(), 1_234_568);
    assert_eq!(h.partition_leader_epoch, 42);
    assert_eq!(b[16..], before[16..]);
}

#[test]
fn log_append_time_sets_the_bit_and_max_timestamp_and_a_new_crc() {
    let mut b = raw_batch(0, 0x02, &[b"a", b"b"]);
    let before = BatchHeader::parse(&b).unwrap();
    set_log_append_time(&mut b, 9_999).unwrap();
    verify_crc(&b).unwrap();
    let h = BatchHeader::parse(&b).unwrap();
    assert_eq!(h.timestamp_type(), TimestampType::LogAppendTime);
    assert_eq!(h.max_timestamp, 9_999);
    assert_eq!(h.base_timestamp, before.base_timestamp);
    assert_eq!(h.compression(), Ok(Compression::Snappy));
    assert_ne!(h.crc, before.crc);
    // idempotent
    let once = b.clone();
    set_log_append_time(&mut b, 9_999).unwrap();
    assert_eq!(b, once);
}

#[test]
fn patch_functions_leave_invalid_input_unchanged() {
    let b = raw_batch(0, 0, &[b"a"]);
    let mut short = b[..b.len() - 1].to_vec();
    let copy = short.clone();
    assert_eq!(set_base_offset(&mut short, 5), Err(BatchError::Truncated));
    assert_eq!(
        set_partition_leader_epoch(&mut short, 5),
        Err(BatchError::Truncated)
    );
    assert_eq!(
        set_log_append_time(&mut short, 5),
        Err(BatchError::Truncated)
    );
    assert_eq!(short, copy);
    assert_eq!(verify_crc(&short), Err(BatchError::Truncated));
}

#[test]
fn header_never_panics_on_truncations_and_flips() {
    let b = raw_batch(0, 0, &[b"abc", b"", b"defgh"]);
    for len in 0..=b.len() {
        let _ = BatchHeader::parse(&b[..len]);
        let _ = verify_crc(&b[..len]);
        let _ = batches(&b[..len]).count();
    }
    for byte in 0..b.len() {
        for bit in 0..8 {
            let mut bad = b.clone();
            bad[byte] ^= 1 << bit;
            if let Ok(h) = BatchHeader::parse(&bad) {
                assert!(h.total_size() <= bad.len());
                let _ = h.compression();
            }
            let _ = verify_crc(&bad);
            assert!(batches(&bad).count() <= 2);
        }
    }
}

#[test]
fn error_display_is_a_short_lowercase_phrase() {
    let errors = [
        BatchError::Truncated,
        BatchError::UnsupportedMagic(1),
        BatchError::CorruptCrc {
            expected: 1,
            actual: 2,
        },
        BatchError::UnsupportedCompression(6),
        BatchError::Decompression("bad frame".into()),
        BatchError::TooLarge { limit: 10 },
        BatchError::InvalidRecord("bad varint".into()),
        BatchError::Encode("too many records".into()),
    ];
    for e in errors {
        let s = e.to_string();
        assert!(s.chars().next().unwrap().is_lowercase(), "{s}");
        assert!(!s.contains("BatchError"), "{s}");
    }
}

// ---- the owned model: RecordBatch encode/decode ----

use bytes::{Bytes, BytesMut};

fn value_record(offset: i64, timestamp: i64, value: &'static [u8]) -> Record {
    Record {
        offset,
        timestamp,
        key: None,
        value: Some(Bytes::from_static(value)),
        headers: vec![],
    }
}

/// The RecordBatch that `raw_batch(100, 0, [a, bb, ccc])` spells out by hand.
fn hand_built_model() -> RecordBatch {
    RecordBatch {
        base_offset: 100,
        partition_leader_epoch: 7,
        producer_id: 99,
        producer_epoch: 3,
        base_sequence: 5,
        base_timestamp: 1_000,
        max_timestamp: 1_002,
        records: vec![
            value_record(100, 1_000, b"a"),
            value_record(101, 1_001, b"bb"),
            value_record(102, 1_002, b"ccc"),
        ],
        ..RecordBatch::default()
    }
}

fn encode(batch: &RecordBatch) -> Vec<u8> {
    let mut out = BytesMut::new();
    batch.encode(&mut out).unwrap();
    out.to_vec()
}

/// Re-seals a hand-edited batch: fixes the batch length and the CRC.
fn reseal(mut b: Vec<u8>) -> Vec<u8> {
    let len = (b.len() - 12) as i32;
    b[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b
}

#[test]
fn encoder_matches_a_batch_assembled_by_hand() {
    let hand = raw_batch(100, 0, &[b"a", b"bb", b"ccc"]);
    assert_eq!(encode(&hand_built_model()), hand);
}

#[test]
fn decoder_reads_a_batch_assembled_by_hand() {
    let hand = raw_batch(100, 0, &[b"a", b"bb", b"ccc"]);
    let decoded = RecordBatch::decode(&hand, &DecodeLimits::default()).unwrap();
    assert_eq!(decoded, hand_built_model());
}

#[test]
fn encode_appends_and_keeps_what_was_there() {
    let mut out = BytesMut::from(&b"prefix"[..]);
    hand_built_model().encode(&mut out).unwrap();
    assert_eq!(&out[..6], b"prefix");
    verify_crc(&out[6..]).unwrap();
}

#[test]
fn new_fills_offsets_and_timestamps_like_a_producer() {
    let b = RecordBatch::new(vec![
        value_record(10, 500, b"x"),
        value_record(11, 700, b"y"),
        value_record(12, 600, b"z"),
    ]);
    assert_eq!(
        (b.base_offset, b.base_timestamp, b.max_timestamp),
        (10, 500, 700)
    );
    assert_eq!(
        (b.producer_id, b.producer_epoch, b.base_sequence),
        (-1, -1, -1)
    );
    assert_eq!(b.last_offset(), 12);
    let h = BatchHeader::parse(&encode(&b)).unwrap();
    assert_eq!((h.last_offset_delta, h.record_count), (2, 3));
    let empty = RecordBatch::new(vec![]);
    assert_eq!((empty.base_timestamp, empty.max_timestamp), (-1, -1));
    assert_eq!(
        RecordBatch::decode(&encode(&empty), &DecodeLimits::default()).unwrap(),
        empty
    );
}

#[test]
fn flags_and_producer_fields_round_trip() {
    let mut b = hand_built_model();
    b.transactional = true;
    b.control = true;
    b.compression = Compression::Gzip;
    let wire = encode(&b);
    let h = BatchHeader::parse(&wire).unwrap();
    assert!(h.is_transactional() && h.is_control());
    assert_eq!(h.compression(), Ok(Compression::Gzip));
    assert_eq!(
        RecordBatch::decode(&wire, &DecodeLimits::default()).unwrap(),
        b
    );
}

#[test]
fn duplicate_header_keys_and_nulls_survive() {
    let record = Record {
        offset: 0,
        timestamp: -5,
        key: Some(Bytes::new()),
        value: None,
        headers: vec![
            RecordHeader {
                key: "trace".into(),
                value: Some(Bytes::from_static(b"1")),
            },
            RecordHeader {
                key: "trace".into(),
                value: None,
            },
            RecordHeader {
                key: String::new(),
                value: Some(Bytes::new()),
            },
            RecordHeader {
                key: "trace".into(),
                value: Some(Bytes::from_static(b"3")),
            },
        ],
    };
    for codec in Compression::ALL {
        let b = RecordBatch {
            compression: codec,
            ..RecordBatch::new(vec![record.clone()])
        };
        assert_eq!(
            RecordBatch::decode(&encode(&b), &DecodeLimits::default()).unwrap(),
            b
        );
    }
}

#[test]
fn log_append_time_batches_report_the_append_time_for_every_record() {
    let mut wire = encode(&hand_built_model());
    set_log_append_time(&mut wire, 77_777).unwrap();
    let decoded = RecordBatch::decode(&wire, &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.timestamp_type, TimestampType::LogAppendTime);
    assert_eq!(decoded.max_timestamp, 77_777);
    assert!(decoded.records.iter().all(|r| r.timestamp == 77_777));
    // and the model re-encodes to a batch that decodes the same
    assert_eq!(
        RecordBatch::decode(&encode(&decoded), &DecodeLimits::default()).unwrap(),
        decoded
    );
}

#[test]
fn decode_checks_the_crc() {
    let mut wire = encode(&hand_built_model());
    let last = wire.len() - 1;
    wire[last] ^= 0x40;
    assert!(matches!(
        RecordBatch::decode(&wire, &DecodeLimits::default()),
        Err(BatchError::CorruptCrc { .. })
    ));
}

#[test]
fn decode_rejects_a_record_count_that_disagrees() {
    for count in [2i32, 4, -1] {
        let mut b = raw_batch(0, 0, &[b"a", b"b", b"c"]);
        b[57..61].copy_from_slice(&count.to_be_bytes());
        let err = RecordBatch::decode(&reseal(b), &DecodeLimits::default()).unwrap_err();
        assert!(
            matches!(err, BatchError::InvalidRecord(_)),
            "{count}: {err}"
        );
    }
}

#[test]
fn decode_enforces_the_limits() {
    let wire = encode(&hand_built_model());
    let few = DecodeLimits {
        max_records: 2,
        ..DecodeLimits::default()
    };
    assert_eq!(
        RecordBatch::decode(&wire, &few),
        Err(BatchError::TooLarge { limit: 2 })
    );
    let small = DecodeLimits {
        max_uncompressed_bytes: 10,
        ..DecodeLimits::default()
    };
    assert_eq!(
        RecordBatch::decode(&wire, &small),
        Err(BatchError::TooLarge { limit: 10 })
    );
    let mut lz4 = hand_built_model();
    lz4.compression = Compression::Lz4;
    assert_eq!(
        RecordBatch::decode(&encode(&lz4), &small),
        Err(BatchError::TooLarge { limit: 10 })
    );
    // a huge claimed count fails on the limit, before allocating
    let mut b = raw_batch(0, 0, &[b"a"]);
    b[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
    assert_eq!(
        RecordBatch::decode(&reseal(b), &DecodeLimits::default()),
        Err(BatchError::TooLarge {
            limit: DecodeLimits::default().max_records
        })
    );
}

#[test]
fn decode_rejects_trailing_bytes_and_bad_offsets() {
    let mut b = raw_batch(0, 0, &[b"a", b"b"]);
    b.push(0);
    assert!(matches!(
        RecordBatch::decode(&reseal(b), &DecodeLimits::default()),
        Err(BatchError::InvalidRecord(_))
    ));
    // last offset delta smaller than the last record's delta
    let mut b = raw_batch(0, 0, &[b"a", b"b"]);
    b[23..27].copy_from_slice(&0i32.to_be_bytes());
    assert!(matches!(
        RecordBatch::decode(&reseal(b), &DecodeLimits::default()),
        Err(BatchError::InvalidRecord(_))
    ));
    // the encoder refuses offsets that do not increase
    let mut m = hand_built_model();
    m.records[2].offset = 101;
    assert!(matches!(
        m.encode(&mut BytesMut::new()),
        Err(BatchError::Encode(_))
    ));
    m.records[2].offset = 99;
    assert!(matches!(
        m.encode(&mut BytesMut::new()),
        Err(BatchError::Encode(_))
    ));
    m.records[2].offset = 100 + i64::from(i32::MAX) + 1;
    assert!(matches!(
        m.encode(&mut BytesMut::new()),
        Err(BatchError::Encode(_))
    ));
}

#[test]
fn offset_gaps_as_left_by_compaction_are_accepted() {
    let b = RecordBatch {
        base_offset: 50,
        records: vec![
            value_record(50, 0, b"a"),
            value_record(53, 0, b"b"),
            value_record(60, 0, b"c"),
        ],
        base_timestamp: 0,
        max_timestamp: 0,
        ..RecordBatch::default()
    };
    let wire = encode(&b);
    assert_eq!(BatchHeader::parse(&wire).unwrap().last_offset(), 60);
    assert_eq!(
        RecordBatch::decode(&wire, &DecodeLimits::default()).unwrap(),
        b
    );
}

/// One hand-built record (body after its length prefix), wrapped in a sealed batch.
fn batch_with_record_body(body: &[u8]) -> Vec<u8> {
    let mut b = raw_batch(0, 0, &[]);
    b[57..61].copy_from_slice(&1i32.to_be_bytes());
    put_varlong(&mut b, body.len() as i64);
    b.extend_from_slice(body);
    reseal(b)
}

#[test]
fn decode_rejects_malformed_records() {
    let cases: [(&str, Vec<u8>); 8] = [
        ("header key not utf-8", vec![0, 0, 0, 1, 1, 2, 2, 0xff, 1]),
        ("null header key", vec![0, 0, 0, 1, 1, 2, 1, 1]),
        ("key length -2", vec![0, 0, 0, 3, 1, 0]),
        ("negative header count", vec![0, 0, 0, 1, 1, 1]),
        ("value past the record", vec![0, 0, 0, 1, 20, 0]),
        (
            "varint too long",
            vec![0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1, 1, 0],
        ),
        ("fields shorter than length", vec![0, 0, 0, 1, 1, 0, 0]),
        ("truncated record", vec![0, 0]),
    ];
    for (what, body) in cases {
        let err = RecordBatch::decode(&batch_with_record_body(&body), &DecodeLimits::default())
            .unwrap_err();
        assert!(matches!(err, BatchError::InvalidRecord(_)), "{what}: {err}");
    }
    // and a well-formed one through the same path, to show the cases are minimal edits
    let ok = batch_with_record_body(&[0, 0, 0, 1, 1, 2, 2, b'k', 1]);
    let decoded = RecordBatch::decode(&ok, &DecodeLimits::default()).unwrap();
    assert_eq!(
        decoded.records[0].headers,
        vec![RecordHeader {
            key: "k".into(),
            value: None
        }]
    );
    assert_eq!(decoded.records[0].value, None);
}

#[test]
fn varint_extremes_round_trip() {
    let record = Record {
        offset: i64::from(i32::MAX),
        timestamp: i64::MIN,
        key: None,
        value: None,
        headers: vec![],
    };
    let b = RecordBatch {
        base_offset: 0,
        base_timestamp: i64::MAX,
        records: vec![value_record(0, i64::MAX, b""), record],
        ..RecordBatch::default()
    };
    // i64::MIN - i64::MAX overflows the delta
    assert!(matches!(
        b.encode(&mut BytesMut::new()),
        Err(BatchError::Encode(_))
    ));
    let b = RecordBatch {
        base_timestamp: 0,
        ..b
    };
    let decoded = RecordBatch::decode(&encode(&b), &DecodeLimits::default()).unwrap();
    assert_eq!(decoded, b);
}

#[test]
fn log_append_time_encodes_whatever_the_timestamps() {
    // found by the fuzzer: a log-append-time batch whose max timestamp is far from its base
    // timestamp decoded fine but did not re-encode (the record delta overflowed)
    let b = RecordBatch {
        timestamp_type: TimestampType::LogAppendTime,
        base_timestamp: i64::MAX,
        max_timestamp: i64::MIN,
        records: vec![
            value_record(0, i64::MIN, b"a"),
            value_record(1, i64::MIN, b"b"),
        ],
        ..RecordBatch::default()
    };
    let wire = encode(&b);
    assert_eq!(
        RecordBatch::decode(&wire, &DecodeLimits::default()).unwrap(),
        b
    );
}

#[test]
fn empty_batches_decode_whatever_their_codec_bits() {
    // what compaction leaves behind: a header, no records, possibly the old codec bits
    let b = reseal(raw_batch(40, 0x04, &[]));
    let decoded = RecordBatch::decode(&b, &DecodeLimits::default()).unwrap();
    assert!(decoded.records.is_empty());
    assert_eq!(decoded.compression, Compression::Zstd);
    assert_eq!(decoded.base_offset, 40);
}

#[test]
fn decode_all_reads_every_batch_and_stops_at_a_partial_one() {
    let first = hand_built_model();
    let mut second = hand_built_model();
    second.compression = Compression::Snappy;
    for r in &mut second.records {
        r.offset += 3;
    }
    second.base_offset = 103;
    let mut wire = [encode(&first), encode(&second)].concat();
    let limits = DecodeLimits::default();
    assert_eq!(
        decode_all(&wire, &limits).unwrap(),
        vec![first.clone(), second.clone()]
    );
    let whole = wire.len();
    wire.extend_from_slice(&encode(&first)[..30]);
    assert_eq!(
        decode_all(&wire, &limits).unwrap(),
        vec![first.clone(), second]
    );
    assert_eq!(decode_all(&[], &limits).unwrap(), vec![]);
    // a corrupt batch is an error, not the end
    wire[whole - 1] ^= 1;
    assert!(matches!(
        decode_all(&wire, &limits),
        Err(BatchError::CorruptCrc { .. })
    ));
    // an old message format is an error
    let mut old = encode(&first);
    old[MAGIC_OFFSET] = 1;
    assert_eq!(
        decode_all(&old, &limits),
        Err(BatchError::UnsupportedMagic(1))
    );
}
