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
