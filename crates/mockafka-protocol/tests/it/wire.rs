//! A schema-driven generator of valid wire bytes, and a typed dispatch over every served
//! API, shared by the round-trip, truncation and mutation tests.
//!
//! The generator writes random but valid messages straight from
//! `mockafka_protocol::validate::schema`. kafka-protocol then decodes them and encodes them
//! again: byte-for-byte equality proves that our schema and kafka-protocol's decoders agree
//! on every field of that version (a missing, extra or mistyped field shifts everything after
//! it, and random values make such a shift show).

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use mockafka_protocol::request::Request;
use mockafka_protocol::validate::schema::{Field, Schema, Ty};
use mockafka_protocol::ProtocolError;

/// SplitMix64: a tiny deterministic generator seeded by proptest.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub(crate) fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// Generates one valid message of `schema` at `version`.
pub(crate) fn generate(schema: &Schema, version: i16, seed: u64) -> Vec<u8> {
    let mut g = Gen {
        rng: Rng::new(seed),
        version,
        flexible: version >= schema.flexible,
    };
    let mut out = Vec::new();
    g.fields(&mut out, schema.fields, false);
    out
}

struct Gen {
    rng: Rng,
    version: i16,
    flexible: bool,
}

fn uvarint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

impl Gen {
    /// `tagged`: the value sits in a tagged field, where kafka-protocol omits values equal
    /// to the default on encode; such values are generated non-default (non-zero positive
    /// numbers, non-empty strings and arrays, never null) so that they survive.
    fn fields(&mut self, out: &mut Vec<u8>, fields: &[Field], tagged: bool) {
        for field in fields {
            if field.tag.is_none() && field.exists(self.version) {
                self.value(out, field, field.ty, tagged);
            }
        }
        if !self.flexible {
            return;
        }
        let mut entries: Vec<(u32, Vec<u8>)> = Vec::new();
        for field in fields {
            if let Some(tag) = field.tag {
                if field.exists(self.version) && !self.rng.chance(3) {
                    let mut content = Vec::new();
                    self.value(&mut content, field, field.ty, true);
                    entries.push((tag, content));
                }
            }
        }
        entries.sort_by_key(|e| e.0);
        if self.rng.chance(4) {
            // An unknown tag, above every known one (kafka-protocol writes them last).
            let tag = 100 + self.rng.below(100) as u32;
            let len = self.rng.below(5) as usize;
            let content = (0..len).map(|_| self.rng.next() as u8).collect();
            entries.push((tag, content));
        }
        uvarint(out, entries.len() as u32);
        for (tag, content) in entries {
            uvarint(out, tag);
            uvarint(out, content.len() as u32);
            out.extend_from_slice(&content);
        }
    }

    fn int(&mut self, tagged: bool, bits: u32) -> u64 {
        if tagged {
            1 + self.rng.below((1u64 << (bits - 2)) - 1)
        } else {
            self.rng.next()
        }
    }

    fn length(&mut self, out: &mut Vec<u8>, len: Option<usize>, short: bool, compact: bool) {
        match (len, compact) {
            (None, true) => out.push(0),
            (Some(n), true) => uvarint(out, n as u32 + 1),
            (None, false) if short => out.put_i16(-1),
            (None, false) => out.put_i32(-1),
            (Some(n), false) if short => out.put_i16(n as i16),
            (Some(n), false) => out.put_i32(n as i32),
        }
    }

    fn null(&mut self, nullable: bool, tagged: bool) -> bool {
        !tagged && nullable && self.rng.chance(4)
    }

    fn string(&mut self, out: &mut Vec<u8>, nullable: bool, compact: bool, tagged: bool) {
        if self.null(nullable, tagged) {
            self.length(out, None, true, compact);
            return;
        }
        let len = usize::from(tagged) + self.rng.below(6) as usize;
        self.length(out, Some(len), true, compact);
        for _ in 0..len {
            out.push(b'a' + self.rng.below(26) as u8);
        }
    }

    fn value(&mut self, out: &mut Vec<u8>, field: &Field, ty: Ty, tagged: bool) {
        let nullable = field.nullable(self.version);
        match ty {
            Ty::Bool => out.push(if tagged { 1 } else { self.rng.below(2) as u8 }),
            Ty::I8 => out.push(self.int(tagged, 8) as u8),
            Ty::I16 => out.put_u16(self.int(tagged, 16) as u16),
            Ty::I32 => out.put_u32(self.int(tagged, 32) as u32),
            Ty::I64 => out.put_u64(self.int(tagged, 64)),
            Ty::Uuid => {
                out.put_u64(self.rng.next() | 1);
                out.put_u64(self.rng.next());
            }
            Ty::Str => self.string(out, nullable, self.flexible, tagged),
            Ty::Str16 => self.string(out, nullable, false, tagged),
            Ty::Bytes | Ty::Records => {
                if self.null(nullable, tagged) {
                    self.length(out, None, false, self.flexible);
                    return;
                }
                let len = usize::from(tagged) + self.rng.below(12) as usize;
                self.length(out, Some(len), false, self.flexible);
                for _ in 0..len {
                    out.push(self.rng.next() as u8);
                }
            }
            Ty::Struct(fields) => self.fields(out, fields, tagged),
            Ty::I32s | Ty::Strs | Ty::Structs(_) => {
                if self.null(nullable, tagged) {
                    self.length(out, None, false, self.flexible);
                    return;
                }
                // Never empty: every nesting level is exercised.
                let count = 1 + self.rng.below(3) as usize;
                self.length(out, Some(count), false, self.flexible);
                for _ in 0..count {
                    match ty {
                        Ty::I32s => out.put_u32(self.rng.next() as u32),
                        Ty::Strs => self.string(out, false, self.flexible, tagged),
                        Ty::Structs(fields) => self.fields(out, fields, tagged),
                        _ => unreachable!(),
                    }
                }
            }
            _ => panic!("generator does not know {ty:?}"),
        }
    }
}

/// Decodes `body` as `T` at `version`, requiring every byte to be used, and encodes it again.
pub(crate) fn reencode<T: Decodable + Encodable>(
    body: &[u8],
    version: i16,
) -> Result<Vec<u8>, String> {
    let mut buf = Bytes::copy_from_slice(body);
    let m = T::decode(&mut buf, version).map_err(|e| format!("decode: {e}"))?;
    if !buf.is_empty() {
        return Err(format!("{} bytes left after decode", buf.len()));
    }
    let mut out = BytesMut::new();
    m.encode(&mut out, version)
        .map_err(|e| format!("encode: {e}"))?;
    Ok(out.to_vec())
}

/// Decodes `body` as `T` at `version` and returns how many bytes the decoder used.
pub(crate) fn consumed<T: Decodable>(body: &[u8], version: i16) -> Result<usize, String> {
    let mut buf = Bytes::copy_from_slice(body);
    T::decode(&mut buf, version).map_err(|e| format!("decode: {e}"))?;
    Ok(body.len() - buf.len())
}

/// A request frame (without size prefix) around `body`.
pub(crate) fn request_frame(
    key: ApiKey,
    version: i16,
    body: &[u8],
    client_id: Option<&str>,
) -> Bytes {
    let header = RequestHeader::default()
        .with_request_api_key(key as i16)
        .with_request_api_version(version)
        .with_correlation_id(0x0102_0304)
        .with_client_id(client_id.map(|s| StrBytes::from_string(s.to_owned())));
    let mut out = BytesMut::new();
    header
        .encode(&mut out, key.request_header_version(version))
        .expect("header encodes");
    out.put_slice(body);
    out.freeze()
}

/// A response frame (without size prefix) around `body`, with the header version the API
/// and version imply.
pub(crate) fn response_frame(header_version: i16, body: &[u8]) -> Bytes {
    let mut out = BytesMut::new();
    ResponseHeader::default()
        .with_correlation_id(0x0a0b_0c0d)
        .encode(&mut out, header_version)
        .expect("header encodes");
    out.put_slice(body);
    out.freeze()
}

macro_rules! served {
    ($($variant:ident($req:ident)),* $(,)?) => {
        /// `T::decode` then `encode` for the request type of `key`.
        pub(crate) fn reencode_request(key: ApiKey, version: i16, body: &[u8]) -> Result<Vec<u8>, String> {
            match key {
                $(ApiKey::$variant => reencode::<$req>(body, version),)*
                _ => Err(format!("{key:?} is not served")),
            }
        }

        /// How many bytes kafka-protocol's decoder for the request of `key` consumes.
        pub(crate) fn consumed_request(key: ApiKey, version: i16, body: &[u8]) -> Result<usize, String> {
            match key {
                $(ApiKey::$variant => consumed::<$req>(body, version),)*
                _ => Err(format!("{key:?} is not served")),
            }
        }

        /// How many bytes kafka-protocol's decoder for the response of `key` consumes.
        pub(crate) fn consumed_response(key: ApiKey, version: i16, body: &[u8]) -> Result<usize, String> {
            match key {
                $(ApiKey::$variant => consumed::<<$req as kafka_protocol::protocol::Request>::Response>(body, version),)*
                _ => Err(format!("{key:?} is not served")),
            }
        }

        /// `T::decode` then `encode` for the response type of `key`.
        pub(crate) fn reencode_response(key: ApiKey, version: i16, body: &[u8]) -> Result<Vec<u8>, String> {
            match key {
                $(ApiKey::$variant => reencode::<<$req as kafka_protocol::protocol::Request>::Response>(body, version),)*
                _ => Err(format!("{key:?} is not served")),
            }
        }

        /// The body kafka-protocol decodes from `body` alone, as our `Request` enum.
        pub(crate) fn direct_request(key: ApiKey, version: i16, body: &[u8]) -> Request {
            let mut buf = Bytes::copy_from_slice(body);
            match key {
                $(ApiKey::$variant => Request::$variant($req::decode(&mut buf, version).expect("decodes")),)*
                _ => panic!("{key:?} is not served"),
            }
        }

        /// Decodes `frame` with `decode_response` for `key` and compares the body with a
        /// direct decode of `body`.
        pub(crate) fn check_decode_response(key: ApiKey, version: i16, frame: Bytes, body: &[u8]) -> Result<(), String> {
            match key {
                $(ApiKey::$variant => {
                    type R = <$req as kafka_protocol::protocol::Request>::Response;
                    let (header, got) = mockafka_protocol::response::decode_response::<R>(key, version, frame)
                        .map_err(|e| e.to_string())?;
                    if header.correlation_id != 0x0a0b_0c0d {
                        return Err("correlation id".into());
                    }
                    let want = R::decode(&mut Bytes::copy_from_slice(body), version).map_err(|e| e.to_string())?;
                    if got != want { return Err("body differs".into()); }
                    Ok(())
                })*
                _ => Err(format!("{key:?} is not served")),
            }
        }

        /// The response header version of `key` at `version`.
        pub(crate) fn response_header_version(key: ApiKey, version: i16) -> i16 {
            match key {
                $(ApiKey::$variant => <<$req as kafka_protocol::protocol::Request>::Response as HeaderVersion>::header_version(version),)*
                _ => panic!("{key:?} is not served"),
            }
        }

        /// Decodes `frame` as a response of `key` at `version` (result ignored).
        pub(crate) fn decode_response_any(key: ApiKey, version: i16, frame: Bytes) -> Result<(), ProtocolError> {
            match key {
                $(ApiKey::$variant => mockafka_protocol::response::decode_response::<<$req as kafka_protocol::protocol::Request>::Response>(key, version, frame).map(drop),)*
                _ => Err(ProtocolError::UnknownApiKey { key: key as i16 }),
            }
        }
    };
}

served! {
    Produce(ProduceRequest),
    Fetch(FetchRequest),
    ListOffsets(ListOffsetsRequest),
    Metadata(MetadataRequest),
    OffsetCommit(OffsetCommitRequest),
    OffsetFetch(OffsetFetchRequest),
    FindCoordinator(FindCoordinatorRequest),
    JoinGroup(JoinGroupRequest),
    Heartbeat(HeartbeatRequest),
    LeaveGroup(LeaveGroupRequest),
    SyncGroup(SyncGroupRequest),
    DescribeGroups(DescribeGroupsRequest),
    ListGroups(ListGroupsRequest),
    ApiVersions(ApiVersionsRequest),
    CreateTopics(CreateTopicsRequest),
    DeleteTopics(DeleteTopicsRequest),
    DeleteRecords(DeleteRecordsRequest),
    InitProducerId(InitProducerIdRequest),
    OffsetForLeaderEpoch(OffsetForLeaderEpochRequest),
    DescribeConfigs(DescribeConfigsRequest),
    CreatePartitions(CreatePartitionsRequest),
    DeleteGroups(DeleteGroupsRequest),
    OffsetDelete(OffsetDeleteRequest),
    DescribeCluster(DescribeClusterRequest),
}

/// Every served (key, version).
pub(crate) fn served_versions() -> impl Iterator<Item = (ApiKey, i16)> {
    mockafka_protocol::versions::SERVED
        .iter()
        .flat_map(|r| (r.min..=r.max).map(move |v| (r.key, v)))
}
