//! Every served request and response, at every served version: schema-generated messages
//! pass the validator, kafka-protocol decodes them and encodes them back to the same bytes,
//! and the full decode paths (`decode_request`, `decode_response`) return the same message.

use bytes::Bytes;
use mockafka_protocol::request::decode_request;
use mockafka_protocol::validate::{self, schema};
use proptest::prelude::*;

use crate::wire::*;

fn check_request(
    key: kafka_protocol::messages::ApiKey,
    version: i16,
    seed: u64,
) -> Result<(), String> {
    let schema = schema::request_schema(key).ok_or("no schema")?;
    let body = generate(schema, version, seed);
    validate::request(key, version, &body).map_err(|e| format!("validator: {e}"))?;
    let again = reencode_request(key, version, &body)?;
    if again != body {
        return Err(format!("re-encoded differs:\n {body:?}\n {again:?}"));
    }
    let client_id = if seed % 3 == 0 {
        None
    } else {
        Some("client-1")
    };
    let frame = request_frame(key, version, &body, client_id);
    let decoded = decode_request(frame).map_err(|e| format!("decode_request: {e}"))?;
    if decoded.api_key != key
        || decoded.version() != version
        || decoded.header.correlation_id != 0x0102_0304
    {
        return Err("header differs".into());
    }
    if decoded.header.client_id.as_deref() != client_id {
        return Err("client id differs".into());
    }
    if decoded.body != direct_request(key, version, &body) {
        return Err("body differs".into());
    }
    Ok(())
}

fn check_response(
    key: kafka_protocol::messages::ApiKey,
    version: i16,
    seed: u64,
) -> Result<(), String> {
    let schema = schema::response_schema(key).ok_or("no schema")?;
    let body = generate(schema, version, seed);
    validate::response(key, version, &body).map_err(|e| format!("validator: {e}"))?;
    let again = reencode_response(key, version, &body)?;
    if again != body {
        return Err(format!("re-encoded differs:\n {body:?}\n {again:?}"));
    }
    let frame = response_frame(response_header_version(key, version), &body);
    check_decode_response(key, version, frame, &body)
}

#[test]
fn every_served_version_round_trips_a_fixed_seed() {
    let mut failures = Vec::new();
    for (key, version) in served_versions() {
        for seed in 0..16 {
            if let Err(e) = check_request(key, version, seed) {
                failures.push(format!("{key:?} v{version} request seed {seed}: {e}"));
                break;
            }
        }
        for seed in 0..16 {
            if let Err(e) = check_response(key, version, seed) {
                failures.push(format!("{key:?} v{version} response seed {seed}: {e}"));
                break;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_served_request_round_trips(seed in any::<u64>()) {
        for (key, version) in served_versions() {
            let r = check_request(key, version, seed);
            prop_assert!(r.is_ok(), "{:?} v{}: {:?}", key, version, r);
        }
    }

    #[test]
    fn every_served_response_round_trips(seed in any::<u64>()) {
        for (key, version) in served_versions() {
            let r = check_response(key, version, seed);
            prop_assert!(r.is_ok(), "{:?} v{}: {:?}", key, version, r);
        }
    }
}

#[test]
fn generated_messages_exercise_nulls_tags_and_nesting() {
    // The generator must actually produce the shapes the round trips claim to cover: for
    // Fetch v12 responses, tagged fields (diverging epoch etc.) and null aborted transactions
    // and records appear across seeds, and arrays are never empty.
    let schema = schema::response_schema(kafka_protocol::messages::ApiKey::Fetch).unwrap();
    let mut lens = std::collections::BTreeSet::new();
    for seed in 0..32 {
        let body = generate(schema, 12, seed);
        lens.insert(body.len());
        let mut buf = Bytes::from(body);
        let m = <kafka_protocol::messages::FetchResponse as kafka_protocol::protocol::Decodable>::decode(&mut buf, 12).unwrap();
        assert!(!m.responses.is_empty());
        assert!(m.responses.iter().all(|t| !t.partitions.is_empty()));
    }
    assert!(lens.len() > 16, "seeds give varied messages");
    let mut saw = (false, false, false, false);
    for seed in 0..64 {
        let body = generate(schema, 12, seed);
        let m = <kafka_protocol::messages::FetchResponse as kafka_protocol::protocol::Decodable>::decode(&mut Bytes::from(body), 12).unwrap();
        for p in m.responses.iter().flat_map(|t| &t.partitions) {
            saw.0 |= p.aborted_transactions.is_none();
            saw.1 |= p
                .aborted_transactions
                .as_ref()
                .is_some_and(|a| !a.is_empty());
            saw.2 |= p.diverging_epoch != Default::default();
            saw.3 |= !p.unknown_tagged_fields.is_empty();
        }
    }
    assert_eq!(saw, (true, true, true, true));
}

#[test]
fn request_and_response_headers_of_every_version_validate_exactly() {
    use bytes::{BufMut, BytesMut};
    use kafka_protocol::messages::{RequestHeader, ResponseHeader};
    use kafka_protocol::protocol::{Encodable, StrBytes};

    // Request header v0 has no client id: eight bytes.
    let v0 = [0u8, 18, 0, 0, 0, 0, 0, 9];
    assert_eq!(
        validate::message_len(&schema::REQUEST_HEADER, 0, &v0),
        Ok(8)
    );
    assert!(validate::request_header(0, &v0[..7]).is_err());
    for version in 1..=2 {
        for client_id in [None, Some("client"), Some("")] {
            for tagged in [false, true] {
                let mut h = RequestHeader::default()
                    .with_request_api_key(3)
                    .with_request_api_version(12)
                    .with_correlation_id(-5)
                    .with_client_id(client_id.map(StrBytes::from_static_str));
                if tagged && version == 2 {
                    h.unknown_tagged_fields
                        .insert(3, Bytes::from_static(b"abc"));
                    h.unknown_tagged_fields.insert(40, Bytes::new());
                }
                let mut out = BytesMut::new();
                h.encode(&mut out, version).unwrap();
                assert_eq!(
                    validate::message_len(&schema::REQUEST_HEADER, version, &out),
                    Ok(out.len()),
                    "v{version} {client_id:?}"
                );
                for n in 0..out.len() {
                    assert!(validate::request_header(version, &out[..n]).is_err());
                }
            }
        }
    }
    for version in 0..=1 {
        let mut h = ResponseHeader::default().with_correlation_id(i32::MIN);
        if version == 1 {
            h.unknown_tagged_fields
                .insert(0, Bytes::from_static(&[1, 2]));
        }
        let mut out = BytesMut::new();
        h.encode(&mut out, version).unwrap();
        assert_eq!(
            validate::message_len(&schema::RESPONSE_HEADER, version, &out),
            Ok(out.len())
        );
        for n in 0..out.len() {
            assert!(validate::response_header(version, &out[..n]).is_err());
        }
        out.put_u8(0xee);
        assert!(
            validate::response_header(version, &out).is_ok(),
            "the body follows"
        );
    }
    assert!(validate::request_header(3, &v0).is_err());
    assert!(validate::response_header(2, &v0).is_err());
}
