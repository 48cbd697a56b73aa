//! A one-broker fake Kafka, just enough for the producer: ApiVersions, Metadata (topics
//! created on first use), InitProducerId and Produce with Kafka's idempotence rules
//! (per producer and partition: a batch repeating the last sequence is answered with its
//! original offset; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER). Faults are injected per test:
//! an error code for the next N produce requests, or a connection dropped right after an
//! append (the response is lost, so the producer must retry and must not duplicate).
//!
//! The real cluster's tests live in the top-level e2e suite; this fake isolates the client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use mockafka_protocol::batch::{DecodeLimits, Record, RecordBatch};
use mockafka_protocol::request::{decode_request, Request};
use mockafka_protocol::response::encode_response;
use mockafka_protocol::{frame, versions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Injected faults, consumed as they fire.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Answer the next produce partitions with this error code, this many times.
    pub(crate) produce_error: Option<(i16, usize)>,
    /// Close the connection after appending, without answering, this many times.
    pub(crate) drop_after_append: usize,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    /// Stored batches per (topic, partition), as decoded.
    pub(crate) logs: HashMap<(String, i32), Vec<Record>>,
    /// Compression id seen per stored batch.
    pub(crate) codecs: Vec<u8>,
    /// Last (base sequence, record count, base offset) per (producer id, topic, partition).
    seqs: HashMap<(i64, String, i32), (i32, i32, i64)>,
    next_pid: i64,
    pub(crate) faults: Faults,
    pub(crate) partitions: i32,
    pub(crate) produce_requests: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Fake {
    pub(crate) addr: String,
    pub(crate) state: Arc<Mutex<State>>,
}

impl Fake {
    pub(crate) async fn start(partitions: i32) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            partitions,
            next_pid: 1000,
            ..State::default()
        }));
        let st = state.clone();
        let port = i32::from(addr.port());
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(serve(sock, st.clone(), port));
            }
        });
        Fake {
            addr: addr.to_string(),
            state,
        }
    }

    pub(crate) fn records(&self, topic: &str, partition: i32) -> Vec<Record> {
        let st = self.state.lock().unwrap();
        st.logs
            .get(&(topic.to_owned(), partition))
            .cloned()
            .unwrap_or_default()
    }
}

async fn serve(mut sock: TcpStream, state: Arc<Mutex<State>>, port: i32) {
    let mut buf = BytesMut::new();
    loop {
        let frame = loop {
            match frame::split_frame(&mut buf, 1 << 26) {
                Ok(Some(f)) => break f,
                Ok(None) => {}
                Err(_) => return,
            }
            match sock.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let Ok(req) = decode_request(frame) else {
            return;
        };
        let v = req.version();
        let id = req.header.correlation_id;
        let out = match req.body {
            Request::ApiVersions(_) => {
                let keys = versions::SERVED
                    .iter()
                    .map(|r| {
                        ApiVersion::default()
                            .with_api_key(r.key as i16)
                            .with_min_version(r.min)
                            .with_max_version(r.max)
                    })
                    .collect();
                let resp = ApiVersionsResponse::default().with_api_keys(keys);
                encode_response(ApiKey::ApiVersions, v, id, &resp).unwrap()
            }
            Request::Metadata(m) => {
                let n = state.lock().unwrap().partitions;
                let topics = m
                    .topics
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|t| t.name)
                    .map(|name| {
                        let parts = (0..n)
                            .map(|p| {
                                MetadataResponsePartition::default()
                                    .with_partition_index(p)
                                    .with_leader_id(0.into())
                                    .with_leader_epoch(0)
                                    .with_replica_nodes(vec![0.into()])
                                    .with_isr_nodes(vec![0.into()])
                            })
                            .collect();
                        MetadataResponseTopic::default()
                            .with_name(Some(name))
                            .with_partitions(parts)
                    })
                    .collect();
                let resp = MetadataResponse::default()
                    .with_brokers(vec![MetadataResponseBroker::default()
                        .with_node_id(0.into())
                        .with_host(StrBytes::from_static_str("127.0.0.1"))
                        .with_port(port)])
                    .with_controller_id(0.into())
                    .with_topics(topics);
                encode_response(ApiKey::Metadata, v, id, &resp).unwrap()
            }
            Request::InitProducerId(r) => {
                if r.transactional_id.is_some() {
                    // Idempotent producers send a null transactional id; an empty one is
                    // INVALID_REQUEST in Kafka.
                    let resp = InitProducerIdResponse::default().with_error_code(42);
                    let out = encode_response(ApiKey::InitProducerId, v, id, &resp).unwrap();
                    if sock.write_all(&out).await.is_err() {
                        return;
                    }
                    continue;
                }
                let mut st = state.lock().unwrap();
                st.next_pid += 1;
                let resp = InitProducerIdResponse::default()
                    .with_producer_id(st.next_pid.into())
                    .with_producer_epoch(0);
                encode_response(ApiKey::InitProducerId, v, id, &resp).unwrap()
            }
            Request::Produce(p) => {
                let (resp, drop_conn) = produce(&state, p);
                if drop_conn {
                    return;
                }
                if let Some(resp) = resp {
                    encode_response(ApiKey::Produce, v, id, &resp).unwrap()
                } else {
                    continue;
                }
            }
            Request::FindCoordinator(f) => {
                let resp = if v >= 4 {
                    let cs = f
                        .coordinator_keys
                        .into_iter()
                        .map(|k| {
                            Coordinator::default()
                                .with_key(k)
                                .with_node_id(0.into())
                                .with_host(StrBytes::from_static_str("127.0.0.1"))
                                .with_port(port)
                        })
                        .collect();
                    FindCoordinatorResponse::default().with_coordinators(cs)
                } else {
                    FindCoordinatorResponse::default()
                        .with_node_id(0.into())
                        .with_host(StrBytes::from_static_str("127.0.0.1"))
                        .with_port(port)
                };
                encode_response(ApiKey::FindCoordinator, v, id, &resp).unwrap()
            }
            Request::ListGroups(_) => {
                let groups = vec![ListedGroup::default()
                    .with_group_id(GroupId(StrBytes::from_static_str("group1")))
                    .with_protocol_type(StrBytes::from_static_str("consumer"))
                    .with_group_state(StrBytes::from_static_str("Stable"))];
                let resp = ListGroupsResponse::default().with_groups(groups);
                encode_response(ApiKey::ListGroups, v, id, &resp).unwrap()
            }
            Request::DescribeGroups(d) => {
                let groups = d
                    .groups
                    .into_iter()
                    .map(|g| {
                        let known = g.0.as_str() == "group1";
                        let members = if known {
                            vec![DescribedGroupMember::default()
                                .with_member_id(StrBytes::from_static_str("m-1"))
                                .with_client_id(StrBytes::from_static_str("c"))
                                .with_client_host(StrBytes::from_static_str("/127.0.0.1"))
                                .with_member_assignment(Bytes::from_static(b"\x00\x01"))]
                        } else {
                            Vec::new()
                        };
                        DescribedGroup::default()
                            .with_group_id(g)
                            .with_group_state(StrBytes::from_static_str(if known {
                                "Stable"
                            } else {
                                "Dead"
                            }))
                            .with_protocol_type(StrBytes::from_static_str("consumer"))
                            .with_protocol_data(StrBytes::from_static_str("range"))
                            .with_members(members)
                    })
                    .collect();
                let resp = DescribeGroupsResponse::default().with_groups(groups);
                encode_response(ApiKey::DescribeGroups, v, id, &resp).unwrap()
            }
            _ => return,
        };
        if sock.write_all(&out).await.is_err() {
            return;
        }
    }
}

fn produce(state: &Mutex<State>, req: ProduceRequest) -> (Option<ProduceResponse>, bool) {
    let mut st = state.lock().unwrap();
    st.produce_requests += 1;
    let injected = match &mut st.faults.produce_error {
        Some((code, n)) if *n > 0 => {
            *n -= 1;
            Some(*code)
        }
        _ => None,
    };
    let mut topics = Vec::new();
    let mut appended = false;
    for t in req.topic_data {
        let name = t.name.0.to_string();
        let mut parts = Vec::new();
        for p in t.partition_data {
            let mut resp = PartitionProduceResponse::default()
                .with_index(p.index)
                .with_log_append_time_ms(-1);
            if let Some(code) = injected {
                parts.push(resp.with_error_code(code));
                continue;
            }
            let bytes = p.records.unwrap_or_default();
            let batch = match RecordBatch::decode(&bytes, &DecodeLimits::default()) {
                Ok(b) => b,
                Err(_) => {
                    parts.push(resp.with_error_code(2));
                    continue;
                }
            };
            let key = (name.clone(), p.index);
            let count = i32::try_from(batch.records.len()).unwrap();
            let log_len = i64::try_from(st.logs.get(&key).map_or(0, Vec::len)).unwrap();
            if batch.producer_id >= 0 {
                let skey = (batch.producer_id, name.clone(), p.index);
                match st.seqs.get(&skey).copied() {
                    Some((last, _, off)) if last == batch.base_sequence => {
                        resp.base_offset = off;
                        parts.push(resp);
                        continue;
                    }
                    Some((last, n, _)) if last + n != batch.base_sequence => {
                        parts.push(resp.with_error_code(45));
                        continue;
                    }
                    None if batch.base_sequence != 0 => {
                        parts.push(resp.with_error_code(45));
                        continue;
                    }
                    _ => {}
                }
                st.seqs.insert(skey, (batch.base_sequence, count, log_len));
            }
            st.codecs.push(batch.compression.id());
            let log = st.logs.entry(key).or_default();
            for (i, mut r) in batch.records.into_iter().enumerate() {
                r.offset = log_len + i64::try_from(i).unwrap();
                log.push(r);
            }
            appended = true;
            resp.base_offset = log_len;
            parts.push(resp);
        }
        topics.push(
            TopicProduceResponse::default()
                .with_name(TopicName(StrBytes::from_string(name)))
                .with_partition_responses(parts),
        );
    }
    if appended && st.faults.drop_after_append > 0 {
        st.faults.drop_after_append -= 1;
        return (None, true);
    }
    if req.acks == 0 {
        return (None, false);
    }
    (
        Some(ProduceResponse::default().with_responses(topics)),
        false,
    )
}

/// Keeps `Bytes` in scope for helpers.
pub(crate) fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}
