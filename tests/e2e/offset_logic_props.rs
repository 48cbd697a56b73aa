//! The cluster's own offset logic as a model-based state machine: thousands of generated
//! sequences, each on a fresh 1-broker embedded cluster, spoken to in raw frames (no
//! client library), so every answer is the cluster's alone.
//!
//! The cluster's part in offset reset (shared/SEED_BEHAVIOURS.md C6): OffsetFetch answers
//! the last committed offset or -1; OffsetCommit accepts any offset, also one outside the
//! log (a simple commit, generation -1, as a consumer with a manual assignment makes);
//! ListOffsets answers the log start (earliest) and the high watermark (latest); Fetch
//! answers OFFSET_OUT_OF_RANGE exactly outside [log start, high watermark] and otherwise
//! returns the records from the fetch offset on (none at the high watermark); DeleteRecords
//! moves the log start forward, never back, and refuses an offset past the high watermark.
//! On those answers a reference consumer resolves where it starts (committed offset if
//! Fetch accepts it, else ListOffsets by the policy); it must agree with
//! [`super::offset_reset_props::start_offset`], the rule of the end-to-end properties.
//!
//! Two levels run the same model on the same generated operations:
//! - raw frames over loopback TCP, each case on a fresh cluster: the answers as a client
//!   sees them. Cases: 64 x `MOCKAFKA_PROPTEST_CASES` (default 64 x 16 = 1024).
//! - socket-free, through the cluster's synchronous offset API ([`Cluster::append`],
//!   [`Cluster::commit_offset`], [`Cluster::list_offset`], [`Cluster::fetch_offsets`],
//!   [`Cluster::delete_records`], [`Cluster::committed_offset`]), which runs the handlers'
//!   own code; each case gets a fresh topic on one shared cluster.
//!   Cases: 256 x `MOCKAFKA_PROPTEST_CASES` (default 256 x 16 = 4096).

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Request, StrBytes};
use kafka_protocol::ResponseError;
use mockafka::client::OffsetReset;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use mockafka::cluster::{
    BrokerId, Cluster, ClusterError, OffsetSpec, ResponseError as ClusterCode, TopicSpec,
};
use mockafka::protocol::batch::{decode_all, DecodeLimits, Record, RecordBatch};
use mockafka::protocol::request::encode_request;
use mockafka::protocol::response::decode_response;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::offset_reset_props::{cases, start_offset, Fail};

const P: i32 = 2;
const G: usize = 3;
const TOPIC: &str = "t";

#[derive(Debug, Clone)]
enum Op {
    Produce {
        partition: i32,
        n: usize,
    },
    Commit {
        group: usize,
        partition: i32,
        offset: i64,
    },
    DeleteRecords {
        partition: i32,
        before: i64,
    },
    /// Where a consumer of `group` with `reset` starts on `partition`; also checks
    /// ListOffsets, OffsetFetch and Fetch at that offset.
    Start {
        group: usize,
        partition: i32,
        reset: OffsetReset,
    },
    /// Fetch at an arbitrary offset: out of range exactly outside the log.
    Fetch {
        partition: i32,
        offset: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let reset = prop_oneof![
        Just(OffsetReset::Earliest),
        Just(OffsetReset::Latest),
        Just(OffsetReset::None)
    ];
    prop_oneof![
        3 => (0..P, 1..6usize).prop_map(|(partition, n)| Op::Produce { partition, n }),
        2 => (0..G, 0..P, 0..16i64)
            .prop_map(|(group, partition, offset)| Op::Commit { group, partition, offset }),
        2 => (0..P, 0..16i64).prop_map(|(partition, before)| Op::DeleteRecords { partition, before }),
        3 => (0..G, 0..P, reset)
            .prop_map(|(group, partition, reset)| Op::Start { group, partition, reset }),
        2 => (0..P, 0..16i64).prop_map(|(partition, offset)| Op::Fetch { partition, offset }),
    ]
}

/// One raw connection.
struct Conn {
    stream: TcpStream,
    correlation: i32,
}

impl Conn {
    async fn call<R: Request>(&mut self, version: i16, body: &R) -> Result<R::Response, String> {
        self.correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(StrBytes::from_static_str("props")));
        let frame = encode_request(&header, body).map_err(|e| e.to_string())?;
        self.stream
            .write_all(&frame)
            .await
            .map_err(|e| e.to_string())?;
        let mut size = [0u8; 4];
        self.stream
            .read_exact(&mut size)
            .await
            .map_err(|e| e.to_string())?;
        let size = usize::try_from(i32::from_be_bytes(size)).map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; size];
        self.stream
            .read_exact(&mut buf)
            .await
            .map_err(|e| e.to_string())?;
        let key = ApiKey::try_from(R::KEY).map_err(|()| "api key".to_string())?;
        let (h, resp) = decode_response::<R::Response>(key, version, Bytes::from(buf))
            .map_err(|e| e.to_string())?;
        if h.correlation_id != self.correlation {
            return Err("correlation id mismatch".into());
        }
        Ok(resp)
    }
}

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn code(c: i16) -> Option<ResponseError> {
    (c != 0).then(|| ResponseError::try_from_code(c)).flatten()
}

#[derive(Debug, Default)]
struct Model {
    log_start: [i64; 2],
    high_watermark: [i64; 2],
    committed: BTreeMap<(usize, i32), i64>,
}

impl Model {
    fn log(&self, p: i32) -> (i64, i64) {
        let i = usize::try_from(p).expect("small partition");
        (self.log_start[i], self.high_watermark[i])
    }
}

struct Run {
    conn: Conn,
    model: Model,
}

impl Run {
    async fn produce(&mut self, p: i32, n: usize) -> Result<(), String> {
        let (_, hw) = self.model.log(p);
        let records = (0..n)
            .map(|i| {
                let i = i64::try_from(i).unwrap_or(0);
                Record {
                    offset: i,
                    timestamp: 1_000 + i,
                    key: None,
                    value: Some(Bytes::from(format!("{p}:{}", hw + i))),
                    headers: Vec::new(),
                }
            })
            .collect();
        let mut out = BytesMut::new();
        RecordBatch::new(records)
            .encode(&mut out)
            .map_err(|e| e.to_string())?;
        let req = ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(5_000)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name(TopicName(s(TOPIC)))
                .with_partition_data(vec![PartitionProduceData::default()
                    .with_index(p)
                    .with_records(Some(out.freeze()))])]);
        let r = self.conn.call(9, &req).await?;
        let part = &r.responses[0].partition_responses[0];
        if (part.error_code, part.base_offset) != (0, hw) {
            return Err(format!(
                "produce to {p}: error {} base offset {}, expected {hw}",
                part.error_code, part.base_offset
            ));
        }
        let i = usize::try_from(p).map_err(|e| e.to_string())?;
        self.model.high_watermark[i] += i64::try_from(n).map_err(|e| e.to_string())?;
        Ok(())
    }

    async fn commit(&mut self, g: usize, p: i32, offset: i64) -> Result<(), String> {
        let req = OffsetCommitRequest::default()
            .with_group_id(GroupId(s(&format!("g{g}"))))
            .with_generation_id_or_member_epoch(-1)
            .with_member_id(s(""))
            .with_topics(vec![OffsetCommitRequestTopic::default()
                .with_name(TopicName(s(TOPIC)))
                .with_partitions(vec![OffsetCommitRequestPartition::default()
                    .with_partition_index(p)
                    .with_committed_offset(offset)
                    .with_committed_leader_epoch(-1)
                    .with_committed_metadata(Some(s("")))])]);
        let r = self.conn.call(8, &req).await?;
        let c = r.topics[0].partitions[0].error_code;
        if c != 0 {
            return Err(format!("commit {offset} to g{g}/{p}: {:?}", code(c)));
        }
        self.model.committed.insert((g, p), offset);
        Ok(())
    }

    async fn delete(&mut self, p: i32, before: i64) -> Result<(), String> {
        let req = DeleteRecordsRequest::default()
            .with_timeout_ms(5_000)
            .with_topics(vec![DeleteRecordsTopic::default()
                .with_name(TopicName(s(TOPIC)))
                .with_partitions(vec![DeleteRecordsPartition::default()
                    .with_partition_index(p)
                    .with_offset(before)])]);
        let r = self.conn.call(2, &req).await?;
        let part = &r.topics[0].partitions[0];
        let (ls, hw) = self.model.log(p);
        if before > hw {
            if code(part.error_code) != Some(ResponseError::OffsetOutOfRange) {
                return Err(format!(
                    "delete before {before} past the high watermark {hw}: {:?}",
                    code(part.error_code)
                ));
            }
            return Ok(());
        }
        let want = ls.max(before);
        if (part.error_code, part.low_watermark) != (0, want) {
            return Err(format!(
                "delete {p} before {before}: error {:?}, low watermark {}, expected {want}",
                code(part.error_code),
                part.low_watermark
            ));
        }
        let i = usize::try_from(p).map_err(|e| e.to_string())?;
        self.model.log_start[i] = want;
        Ok(())
    }

    async fn list(&mut self, p: i32, ts: i64) -> Result<i64, String> {
        let req = ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(TopicName(s(TOPIC)))
                .with_partitions(vec![ListOffsetsPartition::default()
                    .with_partition_index(p)
                    .with_current_leader_epoch(-1)
                    .with_timestamp(ts)])]);
        let r = self.conn.call(4, &req).await?;
        let part = &r.topics[0].partitions[0];
        if part.error_code != 0 {
            return Err(format!(
                "list offsets {p} {ts}: {:?}",
                code(part.error_code)
            ));
        }
        Ok(part.offset)
    }

    async fn committed(&mut self, g: usize, p: i32) -> Result<i64, String> {
        let req = OffsetFetchRequest::default()
            .with_group_id(GroupId(s(&format!("g{g}"))))
            .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                .with_name(TopicName(s(TOPIC)))
                .with_partition_indexes(vec![p])]));
        let r = self.conn.call(7, &req).await?;
        let part = &r.topics[0].partitions[0];
        if r.error_code != 0 || part.error_code != 0 {
            return Err(format!(
                "offset fetch: {} {}",
                r.error_code, part.error_code
            ));
        }
        Ok(part.committed_offset)
    }

    /// Fetch at `offset`: `Err(OffsetOutOfRange)` or the offsets of the records returned.
    async fn fetch(&mut self, p: i32, offset: i64) -> Result<Result<Vec<i64>, Fail>, String> {
        let req = FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_wait_ms(0)
            .with_min_bytes(0)
            .with_max_bytes(1 << 20)
            .with_session_id(0)
            .with_session_epoch(-1)
            .with_topics(vec![FetchTopic::default()
                .with_topic(TopicName(s(TOPIC)))
                .with_partitions(vec![FetchPartition::default()
                    .with_partition(p)
                    .with_current_leader_epoch(-1)
                    .with_fetch_offset(offset)
                    .with_last_fetched_epoch(-1)
                    .with_log_start_offset(-1)
                    .with_partition_max_bytes(1 << 20)])]);
        let r = self.conn.call(12, &req).await?;
        let part = &r.responses[0].partitions[0];
        match code(part.error_code) {
            Some(ResponseError::OffsetOutOfRange) => return Ok(Err(Fail::OutOfRange)),
            Some(e) => return Err(format!("fetch {p}@{offset}: {e:?}")),
            None => {}
        }
        let (ls, hw) = self.model.log(p);
        if (part.high_watermark, part.log_start_offset) != (hw, ls) {
            return Err(format!(
                "fetch {p}@{offset}: high watermark {} log start {}, expected {hw} {ls}",
                part.high_watermark, part.log_start_offset
            ));
        }
        let mut offsets = Vec::new();
        if let Some(bytes) = &part.records {
            let batches = decode_all(bytes, &DecodeLimits::default()).map_err(|e| e.to_string())?;
            for b in batches {
                for rec in b.records {
                    let want = format!("{p}:{}", rec.offset);
                    if rec.value.as_deref() != Some(want.as_bytes()) {
                        return Err(format!(
                            "fetch {p}: offset {} holds {:?}",
                            rec.offset, rec.value
                        ));
                    }
                    offsets.push(rec.offset);
                }
            }
        }
        Ok(Ok(offsets))
    }

    /// A fetch at `offset` inside the log returns the records from `offset` to the end
    /// (whole batches: those before `offset` in the first batch are the consumer's to skip).
    async fn check_fetch(&mut self, p: i32, offset: i64) -> Result<Result<(), Fail>, String> {
        let (ls, hw) = self.model.log(p);
        let got = self.fetch(p, offset).await?;
        let inside = (ls..=hw).contains(&offset);
        match got {
            Err(f) if !inside => Ok(Err(f)),
            Err(f) => Err(format!("fetch {p}@{offset} in [{ls}, {hw}]: {f:?}")),
            Ok(offsets) if inside => {
                let from: Vec<_> = offsets.into_iter().filter(|o| *o >= offset).collect();
                if from != (offset..hw).collect::<Vec<_>>() {
                    return Err(format!("fetch {p}@{offset} of [{ls}, {hw}): got {from:?}"));
                }
                Ok(Ok(()))
            }
            Ok(offsets) => Err(format!(
                "fetch {p}@{offset} outside [{ls}, {hw}]: records {offsets:?}, not OFFSET_OUT_OF_RANGE"
            )),
        }
    }

    /// A consumer's start, resolved from the cluster's answers as Kafka's consumer does.
    async fn start(&mut self, g: usize, p: i32, reset: OffsetReset) -> Result<(), String> {
        let (ls, hw) = self.model.log(p);
        let earliest = self.list(p, -2).await?;
        let latest = self.list(p, -1).await?;
        if (earliest, latest) != (ls, hw) {
            return Err(format!(
                "list offsets {p}: earliest {earliest} latest {latest}, expected {ls} {hw}"
            ));
        }
        let committed = self.committed(g, p).await?;
        let model_committed = self.model.committed.get(&(g, p)).copied();
        if committed != model_committed.unwrap_or(-1) {
            return Err(format!(
                "g{g}/{p}: committed {committed}, expected {model_committed:?}"
            ));
        }
        let by_policy = |f: Fail| match reset {
            OffsetReset::Earliest => Ok(earliest),
            OffsetReset::Latest => Ok(latest),
            OffsetReset::None => Err(f),
        };
        let resolved = if committed >= 0 {
            match self.check_fetch(p, committed).await? {
                Ok(()) => Ok(committed),
                Err(f) => by_policy(f),
            }
        } else {
            by_policy(Fail::NoOffset)
        };
        let want = start_offset(ls, hw, model_committed, reset);
        if resolved != want {
            return Err(format!(
                "g{g}/{p} log [{ls}, {hw}) committed {model_committed:?} {reset:?}: \
                 the cluster's answers start at {resolved:?}, Kafka's rule says {want:?}"
            ));
        }
        if let Ok(at) = resolved {
            self.check_fetch(p, at)
                .await?
                .map_err(|f| format!("fetch at the start {at}: {f:?}"))?;
        }
        Ok(())
    }
}

async fn run_case(ops: &[Op]) -> Result<(), String> {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic(TOPIC, P)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let addr = cluster.broker_addr(BrokerId(0)).ok_or("no broker 0")?;
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut run = Run {
        conn: Conn {
            stream,
            correlation: 0,
        },
        model: Model::default(),
    };
    for (i, op) in ops.iter().enumerate() {
        let r = match *op {
            Op::Produce { partition, n } => run.produce(partition, n).await,
            Op::Commit {
                group,
                partition,
                offset,
            } => run.commit(group, partition, offset).await,
            Op::DeleteRecords { partition, before } => run.delete(partition, before).await,
            Op::Start {
                group,
                partition,
                reset,
            } => run.start(group, partition, reset).await,
            Op::Fetch { partition, offset } => run.check_fetch(partition, offset).await.map(drop),
        };
        r.map_err(|e| format!("step {i} {op:?}: {e}\nmodel: {:?}", run.model))?;
    }
    cluster.shutdown().await;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(16).saturating_mul(64),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/offset_logic_props.txt",
        ))),
        ..ProptestConfig::default()
    })]

    /// The cluster's offset answers agree with the model at every step.
    #[test]
    fn the_clusters_offset_logic_follows_the_model(ops in proptest::collection::vec(op(), 1..24)) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        rt.block_on(run_case(&ops)).map_err(TestCaseError::fail)?;
    }
}

// ---- the socket-free level ----

/// One cluster (and the runtime its listeners live on) for every socket-free case.
fn shared_cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<(tokio::runtime::Runtime, Cluster)> = OnceLock::new();
    let (_, cluster) = CLUSTER.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let cluster = rt
            .block_on(Cluster::builder().brokers(1).start())
            .expect("cluster starts");
        (rt, cluster)
    });
    cluster
}

fn out_of_range(e: &ClusterError) -> bool {
    e.code() == Some(ClusterCode::OffsetOutOfRange)
}

/// A case's own topic and groups on the shared cluster.
struct Direct<'a> {
    cluster: &'a Cluster,
    topic: String,
    groups: [String; G],
    model: Model,
}

impl Direct<'_> {
    fn group(&self, g: usize) -> Result<&str, String> {
        self.groups
            .get(g)
            .map(String::as_str)
            .ok_or_else(|| format!("no group {g}"))
    }

    fn produce(&mut self, p: i32, n: usize) -> Result<(), String> {
        let (_, hw) = self.model.log(p);
        let records = (0..n)
            .map(|i| {
                let i = i64::try_from(i).unwrap_or(0);
                Record {
                    offset: i,
                    timestamp: 1_000 + i,
                    key: None,
                    value: Some(Bytes::from(format!("{p}:{}", hw + i))),
                    headers: Vec::new(),
                }
            })
            .collect();
        let base = self
            .cluster
            .append(&self.topic, p, &RecordBatch::new(records))
            .map_err(|e| format!("produce to {p}: {e}"))?;
        if base != hw {
            return Err(format!("produce to {p}: base offset {base}, expected {hw}"));
        }
        let i = usize::try_from(p).map_err(|e| e.to_string())?;
        self.model.high_watermark[i] += i64::try_from(n).map_err(|e| e.to_string())?;
        Ok(())
    }

    fn commit(&mut self, g: usize, p: i32, offset: i64) -> Result<(), String> {
        let group = self.group(g)?.to_owned();
        self.cluster
            .commit_offset(&group, &self.topic, p, offset)
            .map_err(|e| format!("commit {offset} to g{g}/{p}: {e}"))?;
        self.model.committed.insert((g, p), offset);
        Ok(())
    }

    fn delete(&mut self, p: i32, before: i64) -> Result<(), String> {
        let got = self.cluster.delete_records(&self.topic, p, before);
        let (ls, hw) = self.model.log(p);
        if before > hw {
            return match got {
                Err(e) if out_of_range(&e) => Ok(()),
                other => Err(format!(
                    "delete before {before} past the high watermark {hw}: {other:?}"
                )),
            };
        }
        let want = ls.max(before);
        match got {
            Ok(low) if low == want => {}
            other => {
                return Err(format!(
                    "delete {p} before {before}: {other:?}, expected low watermark {want}"
                ))
            }
        }
        let i = usize::try_from(p).map_err(|e| e.to_string())?;
        self.model.log_start[i] = want;
        Ok(())
    }

    fn list(&self, p: i32, spec: OffsetSpec) -> Result<i64, String> {
        self.cluster
            .list_offset(&self.topic, p, spec)
            .map_err(|e| format!("list offsets {p} {spec:?}: {e}"))
    }

    /// The fetch check of the raw-frame level, on [`Cluster::fetch_offsets`]; the log
    /// bounds and record values it checks there come from [`Cluster::partition`] and
    /// [`Cluster::records`] here.
    fn check_fetch(&self, p: i32, offset: i64) -> Result<Result<(), Fail>, String> {
        let (ls, hw) = self.model.log(p);
        let inside = (ls..=hw).contains(&offset);
        match self.cluster.fetch_offsets(&self.topic, p, offset) {
            Err(e) if out_of_range(&e) && !inside => Ok(Err(Fail::OutOfRange)),
            Err(e) if out_of_range(&e) => Err(format!(
                "fetch {p}@{offset} in [{ls}, {hw}]: OFFSET_OUT_OF_RANGE"
            )),
            Err(e) => Err(format!("fetch {p}@{offset}: {e}")),
            Ok(offsets) if inside => {
                let view = self
                    .cluster
                    .partition(&self.topic, p)
                    .map_err(|e| e.to_string())?;
                if (view.high_watermark, view.log_start_offset) != (hw, ls) {
                    return Err(format!(
                        "fetch {p}@{offset}: high watermark {} log start {}, expected {hw} {ls}",
                        view.high_watermark, view.log_start_offset
                    ));
                }
                let from: Vec<_> = offsets.into_iter().filter(|o| *o >= offset).collect();
                if from != (offset..hw).collect::<Vec<_>>() {
                    return Err(format!("fetch {p}@{offset} of [{ls}, {hw}): got {from:?}"));
                }
                for rec in self
                    .cluster
                    .records(&self.topic, p)
                    .map_err(|e| e.to_string())?
                {
                    let want = format!("{p}:{}", rec.offset);
                    if rec.value.as_deref() != Some(want.as_bytes()) {
                        return Err(format!(
                            "partition {p}: offset {} holds {:?}",
                            rec.offset, rec.value
                        ));
                    }
                }
                Ok(Ok(()))
            }
            Ok(offsets) => Err(format!(
                "fetch {p}@{offset} outside [{ls}, {hw}]: records {offsets:?}, not OFFSET_OUT_OF_RANGE"
            )),
        }
    }

    fn start(&self, g: usize, p: i32, reset: OffsetReset) -> Result<(), String> {
        let (ls, hw) = self.model.log(p);
        let earliest = self.list(p, OffsetSpec::Earliest)?;
        let latest = self.list(p, OffsetSpec::Latest)?;
        if (earliest, latest) != (ls, hw) {
            return Err(format!(
                "list offsets {p}: earliest {earliest} latest {latest}, expected {ls} {hw}"
            ));
        }
        let committed = self
            .cluster
            .committed_offset(self.group(g)?, &self.topic, p)
            .map_or(-1, |o| o.offset);
        let model_committed = self.model.committed.get(&(g, p)).copied();
        if committed != model_committed.unwrap_or(-1) {
            return Err(format!(
                "g{g}/{p}: committed {committed}, expected {model_committed:?}"
            ));
        }
        let by_policy = |f: Fail| match reset {
            OffsetReset::Earliest => Ok(earliest),
            OffsetReset::Latest => Ok(latest),
            OffsetReset::None => Err(f),
        };
        let resolved = if committed >= 0 {
            match self.check_fetch(p, committed)? {
                Ok(()) => Ok(committed),
                Err(f) => by_policy(f),
            }
        } else {
            by_policy(Fail::NoOffset)
        };
        let want = start_offset(ls, hw, model_committed, reset);
        if resolved != want {
            return Err(format!(
                "g{g}/{p} log [{ls}, {hw}) committed {model_committed:?} {reset:?}: \
                 the cluster's answers start at {resolved:?}, Kafka's rule says {want:?}"
            ));
        }
        if let Ok(at) = resolved {
            self.check_fetch(p, at)?
                .map_err(|f| format!("fetch at the start {at}: {f:?}"))?;
        }
        Ok(())
    }
}

fn run_direct_case(ops: &[Op]) -> Result<(), String> {
    static CASE: AtomicU64 = AtomicU64::new(0);
    let n = CASE.fetch_add(1, Ordering::Relaxed);
    let cluster = shared_cluster();
    let topic = format!("direct-{n}");
    cluster
        .create_topic(TopicSpec::new(&topic, P))
        .map_err(|e| e.to_string())?;
    let mut run = Direct {
        cluster,
        // The same groups in every case (a group per case would make the coordinator's
        // per-request work grow with the case count): their offsets are keyed by the
        // case's own topic, so each case starts with none.
        groups: std::array::from_fn(|g| format!("direct-g{g}")),
        topic,
        model: Model::default(),
    };
    for (i, op) in ops.iter().enumerate() {
        let r = match *op {
            Op::Produce { partition, n } => run.produce(partition, n),
            Op::Commit {
                group,
                partition,
                offset,
            } => run.commit(group, partition, offset),
            Op::DeleteRecords { partition, before } => run.delete(partition, before),
            Op::Start {
                group,
                partition,
                reset,
            } => run.start(group, partition, reset),
            Op::Fetch { partition, offset } => run.check_fetch(partition, offset).map(drop),
        };
        r.map_err(|e| format!("step {i} {op:?}: {e}\nmodel: {:?}", run.model))?;
    }
    // Keep the shared cluster small: the case's records and offsets go with its topic.
    cluster
        .delete_topic(&run.topic)
        .map_err(|e| e.to_string())?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(16).saturating_mul(256),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/offset_logic_props.txt",
        ))),
        ..ProptestConfig::default()
    })]

    /// The cluster's offset logic, called without sockets, agrees with the model at
    /// every step.
    #[test]
    fn the_clusters_offset_logic_follows_the_model_without_sockets(
        ops in proptest::collection::vec(op(), 1..24)
    ) {
        run_direct_case(&ops).map_err(TestCaseError::fail)?;
    }
}
