//! Hostile inputs: huge counts and lengths, short frames, truncations and mutations. Each
//! must come back as an error from `decode_request` / `decode_response`, never a panic or an
//! abort (an allocation from a wire count would abort this test binary).

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, JoinGroupResponse, MetadataResponse};
use mockafka_protocol::request::decode_request;
use mockafka_protocol::response::decode_response;
use mockafka_protocol::validate::{self, schema};
use mockafka_protocol::{frame, ProtocolError};
use proptest::prelude::*;

use crate::wire::*;

fn malformed(r: Result<impl std::fmt::Debug, ProtocolError>) -> String {
    match r {
        Err(ProtocolError::Malformed { reason, .. }) => reason,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

/// The 14-byte frame: Metadata v1, null client id, topics claiming 2^29 elements.
pub(crate) const METADATA_2_POW_29: [u8; 14] = [0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0x20, 0, 0, 0];

#[test]
fn metadata_with_a_2_pow_29_topic_count_is_an_error() {
    let reason = malformed(decode_request(Bytes::from_static(&METADATA_2_POW_29)));
    assert!(reason.contains("array count exceeds"), "{reason}");
    // The same through framing, as the broker reads it.
    let mut buf = BytesMut::new();
    frame::encode_frame(&METADATA_2_POW_29, &mut buf).unwrap();
    let f = frame::split_frame(&mut buf, frame::DEFAULT_MAX_FRAME_SIZE)
        .unwrap()
        .unwrap();
    assert!(matches!(
        decode_request(f),
        Err(ProtocolError::Malformed {
            key: 3,
            version: 1,
            ..
        })
    ));
    // And at every served version with each array encoding (i32 and compact), with counts
    // whose allocation would fail outright (2^29 elements) and ones that overcommit would
    // let succeed lazily (2^24: about a gigabyte; caught by the address-space cap below).
    for (v, count) in (0..=12i16).flat_map(|v| [(v, 1u32 << 29), (v, 1 << 24)]) {
        let mut f = BytesMut::new();
        f.put_i16(3);
        f.put_i16(v);
        f.put_i32(9);
        f.put_i16(-1); // client id
        if v >= 9 {
            f.put_u8(0); // header tagged fields
            let mut n = count + 1;
            while n >= 0x80 {
                f.put_u8(u8::try_from(n & 0x7f).unwrap() | 0x80);
                n >>= 7;
            }
            f.put_u8(u8::try_from(n).unwrap());
        } else {
            f.put_i32(i32::try_from(count).unwrap());
        }
        let reason = malformed(decode_request(f.freeze()));
        assert!(reason.contains("array count exceeds"), "v{v}: {reason}");
    }
}

#[test]
fn frames_under_a_header_are_truncated_errors() {
    for n in 0..4 {
        let short = Bytes::from(vec![0u8; n]);
        assert_eq!(decode_request(short.clone()), Err(ProtocolError::Truncated));
        assert_eq!(
            decode_response::<MetadataResponse>(ApiKey::Metadata, 12, short).map(drop),
            Err(ProtocolError::Truncated)
        );
    }
    // A frame of three bytes behind a valid size prefix.
    let mut buf = BytesMut::from(&[0u8, 0, 0, 3, 0, 3, 0][..]);
    let f = frame::split_frame(&mut buf, 100).unwrap().unwrap();
    assert_eq!(decode_request(f), Err(ProtocolError::Truncated));
    // Header v2 with a client id longer than the frame.
    let f = Bytes::from_static(&[0, 3, 0, 12, 0, 0, 0, 1, 0x7f, 0xff, b'x']);
    assert!(malformed(decode_request(f)).contains("string longer"));
    // Response header v1 whose tagged-field count exceeds the frame.
    let f = Bytes::from_static(&[0, 0, 0, 1, 0x7f]);
    assert!(
        malformed(decode_response::<MetadataResponse>(ApiKey::Metadata, 12, f).map(drop))
            .contains("more tagged fields than bytes")
    );
}

#[test]
fn huge_compact_counts_and_string_lengths_are_errors() {
    let huge_varint = [0xff, 0xff, 0xff, 0xff, 0x0f];
    // Produce v9: null transactional id, acks, timeout, topic_data with 2^32-2 elements.
    let mut body = vec![0u8, 0, 1, 0, 0, 0x75, 0x30];
    body.extend_from_slice(&huge_varint);
    let f = request_frame(ApiKey::Produce, 9, &body, Some("c"));
    assert!(malformed(decode_request(f)).contains("array count exceeds"));
    // JoinGroup v6: group id as a compact string of 2^32-2 bytes.
    let f = request_frame(ApiKey::JoinGroup, 6, &huge_varint, None);
    assert!(malformed(decode_request(f)).contains("string longer"));
    // JoinGroup v9 response with a compact members array claiming 2^28 elements.
    let mut body = vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    body.extend_from_slice(&[0, 0, 1, 1, 1]); // protocol type/name null, leader "", skip, member ""
    body.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x01]);
    let f = response_frame(1, &body);
    let reason = malformed(decode_response::<JoinGroupResponse>(ApiKey::JoinGroup, 9, f).map(drop));
    assert!(reason.contains("array count exceeds"), "{reason}");
    // Varints past 32 bits, and negative non-null lengths.
    let f = request_frame(
        ApiKey::JoinGroup,
        6,
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        None,
    );
    assert!(malformed(decode_request(f)).contains("varint"));
    let f = request_frame(ApiKey::JoinGroup, 5, &[0xff, 0xfe], None);
    assert!(malformed(decode_request(f)).contains("negative length"));
}

/// Overwrites the bytes at every offset of every served message with a huge length, in
/// each of the three length encodings: whatever field the offset falls in, the decoders
/// must refuse without allocating from it.
#[test]
fn a_huge_length_at_every_offset_of_every_message_is_refused() {
    let patterns: [&[u8]; 4] = [
        &[0x7f, 0xff, 0xff, 0xff],
        &[0x20, 0, 0, 0],
        &[0x7f, 0xff],
        &[0xff, 0xff, 0xff, 0xff, 0x0f],
    ];
    for (key, version) in served_versions() {
        let (req, resp) = schema::schemas(key).unwrap();
        let req_body = generate(req, version, 7);
        let resp_body = generate(resp, version, 7);
        for pattern in patterns {
            for at in 0..req_body.len() {
                let mut b = req_body.clone();
                let end = (at + pattern.len()).min(b.len());
                b[at..end].copy_from_slice(&pattern[..end - at]);
                let _ = decode_request(request_frame(key, version, &b, Some("c")));
            }
            for at in 0..resp_body.len() {
                let mut b = resp_body.clone();
                let end = (at + pattern.len()).min(b.len());
                b[at..end].copy_from_slice(&pattern[..end - at]);
                let hv = response_header_version(key, version);
                let _ = decode_response_any(key, version, response_frame(hv, &b));
            }
        }
    }
}

#[test]
fn every_truncated_prefix_of_every_message_is_rejected() {
    for (key, version) in served_versions() {
        let (req, resp) = schema::schemas(key).unwrap();
        for seed in 0..3 {
            let body = generate(req, version, seed);
            for n in 0..body.len() {
                assert!(
                    validate::request(key, version, &body[..n]).is_err(),
                    "{key:?} v{version} request prefix {n} of {}",
                    body.len()
                );
            }
            let frame = request_frame(key, version, &body, Some("client"));
            for n in 0..frame.len() {
                assert!(
                    decode_request(frame.slice(..n)).is_err(),
                    "{key:?} v{version} frame prefix {n}"
                );
            }
            assert!(decode_request(frame).is_ok());

            let body = generate(resp, version, seed);
            for n in 0..body.len() {
                assert!(
                    validate::response(key, version, &body[..n]).is_err(),
                    "{key:?} v{version} response prefix {n} of {}",
                    body.len()
                );
            }
            let frame = response_frame(response_header_version(key, version), &body);
            for n in 0..frame.len() {
                assert!(decode_response_any(key, version, frame.slice(..n)).is_err());
            }
            assert!(decode_response_any(key, version, frame).is_ok());
        }
    }
}

#[test]
fn trailing_bytes_after_a_message_are_allowed() {
    for (key, version) in served_versions() {
        let (req, _) = schema::schemas(key).unwrap();
        let mut body = generate(req, version, 1);
        let len = validate::message_len(req, version, &body).unwrap();
        assert_eq!(len, body.len());
        body.extend_from_slice(&[1, 2, 3]);
        assert_eq!(validate::message_len(req, version, &body).unwrap(), len);
        assert!(decode_request(request_frame(key, version, &body, None)).is_ok());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random byte mutations of valid frames of every served API: never a panic.
    #[test]
    fn mutated_frames_never_panic(seed in any::<u64>(), flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        for (key, version) in served_versions() {
            let (req, resp) = schema::schemas(key).unwrap();
            let mut body = generate(req, version, seed);
            let frame_bytes = request_frame(key, version, &body, Some("m"));
            let mut f = frame_bytes.to_vec();
            for &(at, byte) in &flips {
                let i = at % f.len();
                f[i] ^= byte | 1;
            }
            let _ = decode_request(Bytes::from(f));
            body = generate(resp, version, seed);
            let mut f = response_frame(response_header_version(key, version), &body).to_vec();
            for &(at, byte) in &flips {
                let i = at % f.len();
                f[i] ^= byte | 1;
            }
            let _ = decode_response_any(key, version, Bytes::from(f));
        }
    }

    /// Arbitrary bytes through the fuzz entry points.
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..256)) {
        mockafka_protocol::frame::fuzz_frames(&data);
        mockafka_protocol::request::fuzz_decode(&data);
        mockafka_protocol::response::fuzz_decode(&data);
    }
}

/// "Never a huge allocation", asserted: the tests that feed hostile bytes to the decoders
/// run again in a child process whose address space is capped at 1 GiB, so that any
/// allocation sized from a wire count (which could otherwise succeed lazily under
/// overcommit) fails and aborts the child.
#[cfg(target_os = "linux")]
#[test]
fn hostile_inputs_run_within_a_1_gib_address_space() {
    let tests = [
        "hazards::mutated_frames_never_panic",
        "hazards::arbitrary_bytes_never_panic",
        "hazards::a_huge_length_at_every_offset_of_every_message_is_refused",
        "hazards::metadata_with_a_2_pow_29_topic_count_is_an_error",
        "hazards::huge_compact_counts_and_string_lengths_are_errors",
        "differential::validator_and_decoder_agree_on_mutated_messages",
        "corpus::request_decode_corpus_replays",
        "corpus::response_decode_corpus_replays",
    ];
    crate::capped::run_capped(1048576, &tests);
}
