//! Cross-checks against kafka-python, through committed test vectors (see
//! tests/vectors/make_vectors.py and tests/python/test_batch_vectors.py):
//! - batches kafka-python wrote, in every codec, decode here to exactly the spec records;
//! - batches we write are committed, and our encoder still produces them byte for byte
//!   (kafka-python decodes those same files in the pytest suite).
//!
//! Set MOCKAFKA_WRITE_VECTORS=1 to rewrite tests/vectors/mockafka/ after an intended change
//! of encoder output.

use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use mockafka_protocol::batch::{
    self, BatchHeader, Compression, DecodeLimits, Record, RecordBatch, RecordHeader, TimestampType,
};

const COUNT: i64 = 20;
const BASE_TIMESTAMP: i64 = 1_700_000_000_000;
const CODECS: [(&str, Compression); 5] = [
    ("none", Compression::None),
    ("gzip", Compression::Gzip),
    ("snappy", Compression::Snappy),
    ("lz4", Compression::Lz4),
    ("zstd", Compression::Zstd),
];

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn read(path: &str) -> Vec<u8> {
    let p = vectors().join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn header(key: &str, value: Option<&[u8]>) -> RecordHeader {
    RecordHeader {
        key: key.to_owned(),
        value: value.map(Bytes::copy_from_slice),
    }
}

/// Record `i` of records_spec.py, at offset `base_offset + i`.
fn spec_record(i: i64, base_offset: i64) -> Record {
    let timestamp = if i == 5 {
        BASE_TIMESTAMP - 500
    } else {
        BASE_TIMESTAMP + 1000 * i
    };
    let key = (i % 4 != 0).then(|| Bytes::from(format!("key-{i}")));
    let value = if i % 6 == 5 {
        None
    } else if i == 10 {
        Some(
            (0..70_000u32)
                .map(|j| (j * 7 % 251) as u8)
                .collect::<Bytes>(),
        )
    } else {
        Some(Bytes::from(format!("value-{i}-").repeat(i as usize + 1)))
    };
    let headers = match i % 3 {
        0 => vec![],
        1 => vec![header("trace", Some(b"a")), header("trace", Some(b"b"))],
        _ => vec![
            header("trace", None),
            header("", Some(b"")),
            header("trace", Some(i.to_string().as_bytes())),
            header("ünïcode", Some(b"\x00\xff")),
        ],
    };
    Record {
        offset: base_offset + i,
        timestamp,
        key,
        value,
        headers,
    }
}

fn spec_records(range: std::ops::Range<i64>) -> Vec<Record> {
    range.map(|i| spec_record(i, 0)).collect()
}

/// The batch kafka-python's DefaultRecordBatchBuilder writes for these records.
fn spec_batch(compression: Compression) -> RecordBatch {
    RecordBatch {
        compression,
        partition_leader_epoch: 0,
        ..RecordBatch::new(spec_records(0..COUNT))
    }
}

fn decode(bytes: &[u8]) -> RecordBatch {
    batch::verify_crc(bytes).unwrap();
    RecordBatch::decode(bytes, &DecodeLimits::default()).unwrap()
}

fn encode(b: &RecordBatch) -> Vec<u8> {
    let mut out = BytesMut::new();
    b.encode(&mut out).unwrap();
    out.to_vec()
}

#[test]
fn kafka_python_batches_decode_to_the_spec_records() {
    for (name, codec) in CODECS {
        let bytes = read(&format!("kafka-python/{name}.bin"));
        let h = BatchHeader::parse(&bytes).unwrap();
        assert_eq!(h.total_size(), bytes.len(), "{name}");
        assert_eq!(h.compression(), Ok(codec), "{name}");
        assert_eq!((h.record_count, h.last_offset_delta), (20, 19), "{name}");
        let decoded = decode(&bytes);
        let expected = spec_batch(codec);
        for (got, want) in decoded.records.iter().zip(&expected.records) {
            assert_eq!(got, want, "{name} record {}", want.offset);
        }
        assert_eq!(decoded, expected, "{name}");
    }
}

#[test]
fn other_clients_framings_decode_to_the_spec_records() {
    for (name, codec) in [
        ("lz4-java", Compression::Lz4),
        ("lz4-linked", Compression::Lz4),
        ("zstd-streaming", Compression::Zstd),
        ("snappy-raw", Compression::Snappy),
    ] {
        let bytes = read(&format!("kafka-python/{name}.bin"));
        assert_eq!(decode(&bytes), spec_batch(codec), "{name}");
    }
    // the Java client's LZ4 frame header is exactly what we write
    let java = read("kafka-python/lz4-java.bin");
    let ours = encode(&spec_batch(Compression::Lz4));
    assert_eq!(java[61..68], ours[61..68]);
}

#[test]
fn kafka_python_producer_state_and_transactional_flag() {
    let decoded = decode(&read("kafka-python/transactional.bin"));
    assert_eq!(
        (
            decoded.producer_id,
            decoded.producer_epoch,
            decoded.base_sequence
        ),
        (4242, 3, 17)
    );
    assert!(decoded.transactional);
    assert!(!decoded.control);
    assert_eq!(decoded.compression, Compression::Zstd);
    assert_eq!(decoded.records, spec_records(0..COUNT));
}

#[test]
fn kafka_python_back_to_back_batches_split() {
    let bytes = read("kafka-python/two-batches.bin");
    let split: Vec<_> = batch::batches(&bytes).map(Result::unwrap).collect();
    assert_eq!(split.len(), 2);
    let first = decode(split[0].1);
    let second = decode(split[1].1);
    assert_eq!(first.records, spec_records(0..10));
    let mut rebased = spec_records(10..COUNT);
    for r in &mut rebased {
        r.offset -= 10;
    }
    assert_eq!(second.records, rebased);
    assert_eq!(second.base_timestamp, BASE_TIMESTAMP + 10_000);
}

#[test]
fn uncompressed_output_is_byte_identical_to_kafka_python() {
    assert_eq!(
        encode(&spec_batch(Compression::None)),
        read("kafka-python/none.bin")
    );
}

/// What tests/vectors/mockafka/ holds: (file name, batch bytes as our encoder writes them).
fn our_vectors() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = CODECS
        .iter()
        .map(|(name, codec)| (format!("{name}.bin"), encode(&spec_batch(*codec))))
        .collect();
    let transactional = RecordBatch {
        producer_id: 4242,
        producer_epoch: 3,
        base_sequence: 17,
        transactional: true,
        ..spec_batch(Compression::Gzip)
    };
    out.push(("transactional.bin".into(), encode(&transactional)));
    // As the broker stores it: offsets assigned, leader epoch stamped, log-append time.
    let mut appended = encode(&spec_batch(Compression::Lz4));
    batch::set_base_offset(&mut appended, 1000).unwrap();
    batch::set_partition_leader_epoch(&mut appended, 5).unwrap();
    batch::set_log_append_time(&mut appended, 1_800_000_000_000).unwrap();
    out.push(("log-append-time.bin".into(), appended));
    out
}

#[test]
fn our_encoder_still_writes_the_committed_vectors() {
    let write = std::env::var_os("MOCKAFKA_WRITE_VECTORS").is_some();
    for (name, bytes) in our_vectors() {
        let path = vectors().join("mockafka").join(&name);
        if write {
            std::fs::write(&path, &bytes).unwrap();
        }
        let committed = read(&format!("mockafka/{name}"));
        assert!(
            committed == bytes,
            "{name}: encoder output changed ({} bytes, committed {}); if intended, rerun with \
             MOCKAFKA_WRITE_VECTORS=1 and rerun tests/python/test_batch_vectors.py",
            bytes.len(),
            committed.len()
        );
    }
}

#[test]
fn committed_vectors_decode_to_the_spec_records() {
    for (name, codec) in CODECS {
        assert_eq!(
            decode(&read(&format!("mockafka/{name}.bin"))),
            spec_batch(codec)
        );
    }
    let appended = decode(&read("mockafka/log-append-time.bin"));
    assert_eq!(appended.timestamp_type, TimestampType::LogAppendTime);
    assert_eq!(
        (appended.base_offset, appended.partition_leader_epoch),
        (1000, 5)
    );
    assert!(appended
        .records
        .iter()
        .zip(1000..)
        .all(|(r, o)| r.offset == o && r.timestamp == 1_800_000_000_000));
}
