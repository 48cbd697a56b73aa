//! The fuzz corpora as plain tests: every file of `fuzz/corpus/<target>/` goes through the
//! same pub fns the fuzz targets call. Seed files say what they must do by name:
//! `valid-*` decode successfully, `hazard-*` are errors; anything else (inputs the fuzzer
//! found) must simply not panic.
//!
//! `cargo test -p mockafka-protocol --test it -- --ignored write_seed_corpus` rewrites the
//! seed files.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::ApiKey;
use mockafka_protocol::frame::{self, split_frame};
use mockafka_protocol::request::{decode_request, fuzz_decode as fuzz_request};
use mockafka_protocol::response::fuzz_decode as fuzz_response;
use mockafka_protocol::validate::schema;
use mockafka_protocol::versions::SERVED;
use std::path::PathBuf;

use crate::wire::*;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

fn files(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    out.sort();
    out
}

fn frames(data: &[u8]) -> Vec<Bytes> {
    let mut buf = BytesMut::from(data);
    let mut out = Vec::new();
    while let Ok(Some(f)) = split_frame(&mut buf, 1 << 20) {
        out.push(f);
    }
    out
}

fn prefixed(frame: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    frame::encode_frame(frame, &mut out).unwrap();
    out.to_vec()
}

/// The response target's input: API index, version offset, frame.
fn response_input(key: ApiKey, version: i16, frame: &[u8]) -> Vec<u8> {
    let index = SERVED.iter().position(|r| r.key == key).unwrap();
    let min = SERVED[index].min;
    let mut out = vec![
        u8::try_from(index).unwrap(),
        u8::try_from(version - min).unwrap(),
    ];
    out.extend_from_slice(frame);
    out
}

/// What `response::fuzz_decode` does with an input, as a result.
fn decode_response_input(data: &[u8]) -> Option<Result<(), mockafka_protocol::ProtocolError>> {
    let [api, version, frame @ ..] = data else {
        return None;
    };
    let range = SERVED[usize::from(*api) % SERVED.len()];
    let version = range.min + i16::from(*version) % (range.max - range.min + 1);
    Some(decode_response_any(
        range.key,
        version,
        Bytes::copy_from_slice(frame),
    ))
}

#[test]
fn request_decode_corpus_replays() {
    let files = files("request_decode");
    let mut valid = std::collections::BTreeSet::new();
    let mut hazards = 0;
    for (name, data) in &files {
        frame::fuzz_frames(data);
        fuzz_request(data);
        if name.starts_with("valid-") {
            let fs = frames(data);
            assert_eq!(fs.len(), 1, "{name}");
            let d = decode_request(fs[0].clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
            valid.insert(d.api_key as i16);
        } else if name.starts_with("hazard-") {
            hazards += 1;
            for f in frames(data) {
                assert!(decode_request(f).is_err(), "{name}");
            }
        }
    }
    for r in SERVED {
        assert!(
            valid.contains(&(r.key as i16)),
            "no valid seed for {:?}",
            r.key
        );
    }
    assert!(hazards >= 4);
}

#[test]
fn response_decode_corpus_replays() {
    let files = files("response_decode");
    let mut valid = std::collections::BTreeSet::new();
    let mut hazards = 0;
    for (name, data) in &files {
        fuzz_response(data);
        if name.starts_with("valid-") {
            let r = decode_response_input(data).expect("long enough");
            assert!(r.is_ok(), "{name}: {r:?}");
            valid.insert(data[0]);
        } else if name.starts_with("hazard-") {
            hazards += 1;
            let r = decode_response_input(data).expect("long enough");
            assert!(r.is_err(), "{name}");
        }
    }
    assert_eq!(valid.len(), SERVED.len());
    assert!(hazards >= 3);
}

#[test]
#[ignore = "rewrites the committed seed corpus"]
fn write_seed_corpus() {
    let req_dir = corpus_dir("request_decode");
    let resp_dir = corpus_dir("response_decode");
    std::fs::create_dir_all(&req_dir).unwrap();
    std::fs::create_dir_all(&resp_dir).unwrap();
    let write =
        |dir: &PathBuf, name: &str, data: &[u8]| std::fs::write(dir.join(name), data).unwrap();
    for r in SERVED {
        let (req, resp) = schema::schemas(r.key).unwrap();
        for version in [r.min, r.max] {
            let name = format!("valid-{:?}-v{version}", r.key).to_lowercase();
            let body = generate(req, version, 11);
            write(
                &req_dir,
                &name,
                &prefixed(&request_frame(r.key, version, &body, Some("seed"))),
            );
            let body = generate(resp, version, 11);
            let frame = response_frame(response_header_version(r.key, version), &body);
            write(&resp_dir, &name, &response_input(r.key, version, &frame));
        }
    }
    // Requests.
    write(
        &req_dir,
        "hazard-metadata-2pow29-topics",
        &prefixed(&crate::hazards::METADATA_2_POW_29),
    );
    write(&req_dir, "hazard-short-frame", &[0, 0, 0, 3, 0, 3, 0]);
    let huge = [0xff, 0xff, 0xff, 0xff, 0x0f];
    let mut produce = vec![0u8, 0, 1, 0, 0, 0x75, 0x30];
    produce.extend_from_slice(&huge);
    write(
        &req_dir,
        "hazard-produce-v9-compact-array",
        &prefixed(&request_frame(ApiKey::Produce, 9, &produce, Some("c"))),
    );
    write(
        &req_dir,
        "hazard-joingroup-v6-compact-string",
        &prefixed(&request_frame(ApiKey::JoinGroup, 6, &huge, None)),
    );
    let header_tags = [0, 1, 0, 12, 0, 0, 0, 1, 0xff, 0xff, 0x7f];
    write(
        &req_dir,
        "hazard-fetch-v12-header-tagged-count",
        &prefixed(&header_tags),
    );
    // Responses.
    let metadata = [0x20, 0, 0, 0];
    write(
        &resp_dir,
        "hazard-metadata-v1-2pow29-brokers",
        &response_input(ApiKey::Metadata, 1, &response_frame(0, &metadata)),
    );
    write(
        &resp_dir,
        "hazard-short-frame",
        &response_input(ApiKey::Metadata, 12, &[0, 0, 1]),
    );
    let mut fetch = vec![0u8; 10];
    fetch.extend_from_slice(&huge);
    write(
        &resp_dir,
        "hazard-fetch-v12-compact-array",
        &response_input(ApiKey::Fetch, 12, &response_frame(1, &fetch)),
    );
    write(
        &resp_dir,
        "hazard-apiversions-v3-compact-array",
        &response_input(
            ApiKey::ApiVersions,
            3,
            &response_frame(0, &[0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        ),
    );
}
