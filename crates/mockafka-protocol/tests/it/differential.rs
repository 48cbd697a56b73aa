//! The validator against kafka-protocol's decoders on mutated messages: whenever the
//! validator accepts bytes and kafka-protocol decodes them, both must agree on where the
//! message ends. Were they to disagree on the structure, a length the validator never
//! checked could reach a decoder. (The other direction cannot be tested in-process:
//! kafka-protocol on refused bytes is exactly the allocation abort the validator prevents.)

use kafka_protocol::messages::ApiKey;
use mockafka_protocol::validate::{self, schema};
use proptest::prelude::*;

use crate::wire::*;

fn check(
    key: ApiKey,
    version: i16,
    schema: &schema::Schema,
    body: &[u8],
    decode: fn(ApiKey, i16, &[u8]) -> Result<usize, String>,
) -> Result<(), String> {
    let Ok(ours) = validate::message_len(schema, version, body) else {
        return Ok(());
    };
    match decode(key, version, body) {
        Ok(theirs) if ours != theirs => Err(format!(
            "{key:?} v{version}: validator ends at {ours}, kafka-protocol at {theirs}"
        )),
        _ => Ok(()),
    }
}

fn mutate(body: &mut [u8], flips: &[(usize, u8)]) {
    if body.is_empty() {
        return;
    }
    for &(at, byte) in flips {
        let i = at % body.len();
        body[i] ^= byte | 1;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn validator_and_decoder_agree_on_mutated_messages(
        seed in any::<u64>(),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
    ) {
        for (key, version) in served_versions() {
            let (req, resp) = schema::schemas(key).unwrap();
            let mut body = generate(req, version, seed);
            mutate(&mut body, &flips);
            let r = check(key, version, req, &body, consumed_request);
            prop_assert!(r.is_ok(), "request {:?}\n{:?}", r, body);
            let mut body = generate(resp, version, seed);
            mutate(&mut body, &flips);
            let r = check(key, version, resp, &body, consumed_response);
            prop_assert!(r.is_ok(), "response {:?}\n{:?}", r, body);
        }
    }
}

#[test]
fn mutated_messages_are_often_accepted_so_the_agreement_check_bites() {
    // A single flipped byte mostly lands in a fixed-width field; such messages stay valid
    // and must then end where kafka-protocol's decoders end.
    let (mut accepted, mut agreed, mut total) = (0, 0, 0);
    for seed in 0..8u64 {
        for (key, version) in served_versions() {
            let (_, resp) = schema::schemas(key).unwrap();
            let mut body = generate(resp, version, seed);
            mutate(&mut body, &[(usize::try_from(seed * 7919).unwrap(), 0x10)]);
            total += 1;
            if let Ok(ours) = validate::message_len(resp, version, &body) {
                accepted += 1;
                if consumed_response(key, version, &body) == Ok(ours) {
                    agreed += 1;
                }
            }
        }
    }
    assert!(accepted * 3 > total, "{accepted} of {total} accepted");
    assert!(
        agreed * 2 > accepted,
        "{agreed} of {accepted} decoded to the same end"
    );
}
