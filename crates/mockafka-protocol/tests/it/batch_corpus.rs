//! The `batch_decode` fuzz corpus as a plain test: every file of `fuzz/corpus/batch_decode/`
//! goes through `batch::fuzz_decode`, the function the fuzz target calls. Seed files say what
//! they must do by name: `valid-*` hold batches that decode, `hazard-*` hold batches (with
//! valid CRCs) that must fail cleanly (decompression bombs, absurd sizes); anything else
//! (inputs the fuzzer found) must simply not panic.
//!
//! `cargo test -p mockafka-protocol --test it -- --ignored write_batch_seed_corpus` rewrites
//! the seed files.

use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use mockafka_protocol::batch::{
    self, Compression, DecodeLimits, Record, RecordBatch, RecordHeader, BATCH_HEADER_LEN,
};
use mockafka_protocol::compression;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/batch_decode")
}

/// The limits `fuzz_decode` uses.
fn fuzz_limits() -> DecodeLimits {
    DecodeLimits {
        max_uncompressed_bytes: 1 << 20,
        max_records: 10_000,
    }
}

fn encode(b: &RecordBatch) -> Vec<u8> {
    let mut out = BytesMut::new();
    b.encode(&mut out).unwrap();
    out.to_vec()
}

/// A sealed batch (valid CRC) around an arbitrary records section.
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

fn sample_batch(codec: Compression) -> RecordBatch {
    let records = (0..6)
        .map(|i| Record {
            offset: i,
            timestamp: 1_700_000_000_000 + i * 10,
            key: (i != 2).then(|| Bytes::from(format!("key-{i}"))),
            value: (i != 4).then(|| Bytes::from(format!("value {i} ").repeat(8))),
            headers: vec![
                RecordHeader {
                    key: "h".into(),
                    value: Some(Bytes::from(i.to_string())),
                },
                RecordHeader {
                    key: "h".into(),
                    value: None,
                },
            ],
        })
        .collect();
    RecordBatch {
        compression: codec,
        producer_id: 7,
        producer_epoch: 1,
        base_sequence: 0,
        ..RecordBatch::new(records)
    }
}

/// (name, bytes) of every seed file.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for codec in Compression::ALL {
        out.push((
            format!("valid-{}", codec.name()),
            encode(&sample_batch(codec)),
        ));
    }
    let mut two = encode(&sample_batch(Compression::Lz4));
    let mut second = sample_batch(Compression::Zstd);
    second.base_offset = 6;
    second.transactional = true;
    for r in &mut second.records {
        r.offset += 6;
    }
    two.extend_from_slice(&encode(&second));
    out.push(("valid-two-batches".into(), two));
    let mut stamped = encode(&sample_batch(Compression::Snappy));
    batch::set_log_append_time(&mut stamped, 1_800_000_000_000).unwrap();
    out.push(("valid-log-append-time".into(), stamped));

    // zstd: 1 GiB of zeros in RLE blocks (32 KiB of input)
    let mut zstd = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 10 << 3];
    let blocks = 8192;
    for i in 0..blocks {
        let header = u32::from(i + 1 == blocks) | (1 << 1) | ((128 * 1024) << 3);
        zstd.extend_from_slice(&header.to_le_bytes()[..3]);
        zstd.push(0);
    }
    out.push((
        "hazard-zstd-bomb".into(),
        batch_around(Compression::Zstd, 100, &zstd),
    ));
    // zstd: a declared content size of 1 TiB, and a 2 GiB window
    let mut huge = vec![0x28, 0xb5, 0x2f, 0xfd, 0b1110_0000];
    huge.extend_from_slice(&(1u64 << 40).to_le_bytes());
    huge.extend_from_slice(&[1, 0, 0]);
    out.push((
        "hazard-zstd-content-size".into(),
        batch_around(Compression::Zstd, 1, &huge),
    ));
    let window = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 1, 0, 0];
    out.push((
        "hazard-zstd-window".into(),
        batch_around(Compression::Zstd, 1, &window),
    ));
    // gzip: 16 members of 1 MiB of zeros
    let mut member = Vec::new();
    compression::compress(Compression::Gzip, &vec![0; 1 << 20], &mut member);
    out.push((
        "hazard-gzip-bomb".into(),
        batch_around(Compression::Gzip, 100, &member.repeat(16)),
    ));
    // lz4: 128 blocks of 64 KiB of zeros (8 MiB)
    let mut one = Vec::new();
    compression::compress(Compression::Lz4, &vec![0; 64 * 1024], &mut one);
    let (header, rest) = one.split_at(7);
    let mut lz4 = header.to_vec();
    lz4.extend_from_slice(&rest[..rest.len() - 4].repeat(128));
    lz4.extend_from_slice(&[0; 4]);
    out.push((
        "hazard-lz4-bomb".into(),
        batch_around(Compression::Lz4, 100, &lz4),
    ));
    // snappy: xerial blocks of 64 KiB of zeros past the 1 MiB limit, and a raw block
    // claiming 4 GiB
    let block = snap::raw::Encoder::new()
        .compress_vec(&vec![0; 64 * 1024])
        .unwrap();
    let mut xerial = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01".to_vec();
    for _ in 0..18 {
        xerial.extend_from_slice(&(block.len() as i32).to_be_bytes());
        xerial.extend_from_slice(&block);
    }
    out.push((
        "hazard-snappy-bomb".into(),
        batch_around(Compression::Snappy, 100, &xerial),
    ));
    let claim = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x41];
    out.push((
        "hazard-snappy-claim".into(),
        batch_around(Compression::Snappy, 1, &claim),
    ));
    // a record count far beyond the bytes
    out.push((
        "hazard-record-count".into(),
        batch_around(Compression::None, i32::MAX, &[0; 8]),
    ));
    out
}

#[test]
#[ignore = "rewrites fuzz/corpus/batch_decode; run on purpose"]
fn write_batch_seed_corpus() {
    let dir = corpus_dir();
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in seeds() {
        assert!(
            bytes.len() <= 65_536,
            "{name} exceeds the fuzzer's -max_len"
        );
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn batch_corpus_replays_without_panics_and_seeds_behave_as_named() {
    let dir = corpus_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    let mut valid = 0;
    let mut hazards = 0;
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&path).unwrap();
        batch::fuzz_decode(&data);
        let decoded: Vec<_> = batch::batches(&data)
            .map(|b| b.and_then(|(_, bytes)| RecordBatch::decode(bytes, &fuzz_limits())))
            .collect();
        if name.starts_with("valid-") {
            valid += 1;
            assert!(!decoded.is_empty(), "{name}");
            for d in decoded {
                let d = d.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(!d.records.is_empty(), "{name}");
            }
        } else if name.starts_with("hazard-") {
            hazards += 1;
            assert_eq!(decoded.len(), 1, "{name}");
            batch::verify_crc(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(decoded[0].is_err(), "{name}");
        }
    }
    assert!(
        valid >= 7 && hazards >= 8,
        "seeds missing: {valid} valid, {hazards} hazards"
    );
}

#[test]
fn committed_seeds_are_what_the_generator_writes() {
    for (name, bytes) in seeds() {
        let committed = std::fs::read(corpus_dir().join(&name))
            .unwrap_or_else(|e| panic!("{name}: {e} (run write_batch_seed_corpus)"));
        assert!(committed == bytes, "{name} differs from the generator");
    }
}
