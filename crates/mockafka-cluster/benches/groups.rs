//! Group benchmarks over loopback with raw frames (no client library): the broker-side cost
//! of a new member getting its assignment in a new group (FindCoordinator, JoinGroup twice
//! for MEMBER_ID_REQUIRED, SyncGroup, OffsetFetch), alone and with ten members joining at
//! once (the leader assigns round-robin once it sees all ten).
//!
//! Run: `cargo bench -p mockafka-cluster --bench groups` (`-- quick` for a short run;
//! `cargo test --benches` runs the quick version as a smoke test). The kafka-python figures
//! are in tests/python/bench_groups.py.

use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, HeaderVersion, Request, StrBytes};
use mockafka_cluster::{BrokerId, Cluster};
use mockafka_protocol::request::encode_request;
use mockafka_protocol::response::decode_response;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Conn {
    stream: TcpStream,
    correlation: i32,
}

impl Conn {
    async fn open(cluster: &Cluster, broker: BrokerId) -> Result<Self, Error> {
        let addr = cluster.broker_addr(broker).ok_or("no broker")?;
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            correlation: 0,
        })
    }

    async fn call<Q>(&mut self, version: i16, body: &Q) -> Result<Q::Response, Error>
    where
        Q: Request,
        Q::Response: Decodable + HeaderVersion,
    {
        self.correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(Q::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(StrBytes::from_static_str("bench")));
        let frame = encode_request(&header, body)?;
        self.stream.write_all(&frame).await?;
        let mut prefix = [0u8; 4];
        self.stream.read_exact(&mut prefix).await?;
        let mut buf = BytesMut::zeroed(usize::try_from(i32::from_be_bytes(prefix))?);
        self.stream.read_exact(&mut buf).await?;
        let key = ApiKey::try_from(Q::KEY).map_err(|()| "key")?;
        Ok(decode_response::<Q::Response>(key, version, buf.freeze())?.1)
    }
}

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_owned())
}

fn subscription() -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(0);
    b.put_i32(1);
    b.put_i16(1);
    b.put_slice(b"t");
    b.put_i32(-1);
    b.freeze()
}

fn assignment(partition: i32) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(0);
    b.put_i32(1);
    b.put_i16(1);
    b.put_slice(b"t");
    b.put_i32(1);
    b.put_i32(partition);
    b.put_i32(-1);
    b.freeze()
}

/// One member, from a fresh connection to its assignment and offsets; returns the time.
async fn member(cluster: &Cluster, group: &str, members: usize) -> Result<Duration, Error> {
    let t = Instant::now();
    let mut any = Conn::open(cluster, BrokerId(0)).await?;
    let found = any
        .call(
            4,
            &FindCoordinatorRequest::default().with_coordinator_keys(vec![s(group)]),
        )
        .await?;
    let node = found.coordinators.first().ok_or("no coordinator")?.node_id;
    let mut c = if node == BrokerId(0) {
        any
    } else {
        Conn::open(cluster, node).await?
    };
    let join = |member_id: StrBytes| {
        JoinGroupRequest::default()
            .with_group_id(GroupId(s(group)))
            .with_session_timeout_ms(10_000)
            .with_rebalance_timeout_ms(30_000)
            .with_member_id(member_id)
            .with_protocol_type(s("consumer"))
            .with_protocols(vec![JoinGroupRequestProtocol::default()
                .with_name(s("range"))
                .with_metadata(subscription())])
    };
    let mut member_id = StrBytes::default();
    loop {
        let j = c.call(7, &join(member_id.clone())).await?;
        member_id = j.member_id.clone();
        if j.error_code != 0 {
            continue; // MEMBER_ID_REQUIRED, or REBALANCE_IN_PROGRESS: join again
        }
        // The leader rejoins (one round trip each) until it sees every member, so that one
        // round assigns all of them; a real client would assign what it sees and learn of
        // the newcomers from its next heartbeat.
        if j.leader == j.member_id && j.members.len() < members {
            continue;
        }
        let assignments = if j.leader == j.member_id {
            j.members
                .iter()
                .zip(0..)
                .map(|(m, p)| {
                    SyncGroupRequestAssignment::default()
                        .with_member_id(m.member_id.clone())
                        .with_assignment(assignment(p))
                })
                .collect()
        } else {
            Vec::new()
        };
        let sync = SyncGroupRequest::default()
            .with_group_id(GroupId(s(group)))
            .with_generation_id(j.generation_id)
            .with_member_id(member_id.clone())
            .with_protocol_type(Some(s("consumer")))
            .with_protocol_name(Some(s("range")))
            .with_assignments(assignments);
        let r = c.call(5, &sync).await?;
        if r.error_code == 0 && !r.assignment.is_empty() {
            break;
        }
    }
    let r = c
        .call(
            8,
            &OffsetFetchRequest::default().with_groups(vec![
                offset_fetch_request::OffsetFetchRequestGroup::default()
                    .with_group_id(GroupId(s(group)))
                    .with_topics(None),
            ]),
        )
        .await?;
    if r.groups.first().map_or(-1, |g| g.error_code) != 0 {
        return Err("offset fetch failed".into());
    }
    Ok(t.elapsed())
}

fn median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], v[v.len() * 9 / 10])
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: a quick smoke run.
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "quick") || !args.iter().any(|a| a == "--bench");
    let runs = if quick { 5 } else { 300 };
    let cluster = Cluster::builder().brokers(3).topic("t", 10).start().await?;

    let mut one = Vec::with_capacity(runs);
    for r in 0..runs {
        one.push(member(&cluster, &format!("one-{r}"), 1).await?);
    }
    let (m, p90) = median(one);
    println!("1 member, new group, connect -> assignment + offsets: median {m:?}, p90 {p90:?} ({runs} runs)");

    let mut all = Vec::with_capacity(runs);
    let mut each = Vec::with_capacity(runs * 10);
    for r in 0..runs {
        let group = format!("ten-{r}");
        let t = Instant::now();
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let cluster = cluster.clone();
                let group = group.clone();
                tokio::spawn(async move { member(&cluster, &group, 10).await })
            })
            .collect();
        for task in tasks {
            each.push(task.await??);
        }
        all.push(t.elapsed());
    }
    let (m, p90) = median(each);
    println!(
        "10 members at once, one new group, each -> its assignment: median {m:?}, p90 {p90:?}"
    );
    let (m, p90) = median(all);
    println!("10 members at once, until all ten have one: median {m:?}, p90 {p90:?} ({runs} runs)");
    cluster.shutdown().await;
    Ok(())
}
