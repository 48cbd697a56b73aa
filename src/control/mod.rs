//! The control API of the `mockafka` binary: JSON over HTTP/1.1 on loopback, started with
//! `--control-port`. The same control, inspection and request log as the Rust API of
//! `mockafka_cluster::Cluster`, for tests in any language. Endpoints: see `HELP` in
//! main.rs and the README ("Controlling the binary over HTTP").

mod http;

use std::time::Duration;

use mockafka::cluster::{
    ApiKey, BrokerId, Cluster, ClusterError, Compression, Fault, FaultAction, FaultCount, FaultId,
    FaultView, RecordView, RequestAnswer, RequestRecord, ResponseError, TimestampType, TopicSpec,
};
use serde_json::{json, Map, Value};

use http::{HttpRequest, HttpResponse};

/// Longest wait `GET /requests/wait` accepts.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// Binds the control listener on 127.0.0.1:`port` (0 = ephemeral) and serves it in the
/// background. Returns the bound port.
///
/// # Errors
/// The bind error.
pub(crate) async fn start(cluster: Cluster, port: u16) -> std::io::Result<u16> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(http::serve(listener, move |req| {
        let cluster = cluster.clone();
        async move { route(&cluster, req).await }
    }));
    Ok(port)
}

type Answer = Result<Value, HttpResponse>;

fn bad(message: impl Into<String>) -> HttpResponse {
    HttpResponse::error(400, message)
}

fn not_found(message: impl Into<String>) -> HttpResponse {
    HttpResponse::error(404, message)
}

fn cluster_error(e: ClusterError) -> HttpResponse {
    let status = match &e {
        ClusterError::UnknownBroker { .. } => 404,
        ClusterError::Kafka {
            code: ResponseError::UnknownTopicOrPartition,
            ..
        } => 404,
        ClusterError::Group {
            code: ResponseError::GroupIdNotFound,
            ..
        } => 404,
        ClusterError::Timeout { .. } => 408,
        _ => 409,
    };
    HttpResponse::error(status, e.to_string())
}

fn body(req: &HttpRequest) -> Result<Map<String, Value>, HttpResponse> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad("the body must be a JSON object")),
        Err(e) => Err(bad(format!("invalid JSON: {e}"))),
    }
}

fn int_field<T: TryFrom<i64>>(
    m: &Map<String, Value>,
    name: &str,
) -> Result<Option<T>, HttpResponse> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|n| T::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| bad(format!("`{name}` must be an integer in range"))),
    }
}

fn str_field<'a>(m: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, HttpResponse> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(format!("`{name}` must be a string"))),
    }
}

fn required<T>(v: Option<T>, name: &str) -> Result<T, HttpResponse> {
    v.ok_or_else(|| bad(format!("`{name}` is required")))
}

fn parse_int<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, HttpResponse> {
    s.parse()
        .map_err(|_| bad(format!("{what} `{s}` is not a valid number")))
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// An API key by number or by name (`Produce`, `produce`, `PRODUCE`, `list_offsets`).
fn api_key(v: &Value) -> Result<ApiKey, HttpResponse> {
    if let Some(n) = v.as_i64() {
        return i16::try_from(n)
            .ok()
            .and_then(|n| ApiKey::try_from(n).ok())
            .ok_or_else(|| bad(format!("unknown API key {n}")));
    }
    let name = v
        .as_str()
        .ok_or_else(|| bad("`api_key` must be a name or a number"))?;
    api_key_named(name)
}

fn api_key_named(name: &str) -> Result<ApiKey, HttpResponse> {
    let want = squash(name);
    (0..=i16::MAX)
        .take(200)
        .filter_map(|n| ApiKey::try_from(n).ok())
        .find(|k| squash(&format!("{k:?}")) == want)
        .ok_or_else(|| bad(format!("unknown API key `{name}`")))
}

/// A Kafka error by code or by name (`NOT_LEADER_OR_FOLLOWER`, `NotLeaderOrFollower`).
fn response_error(v: &Value) -> Result<ResponseError, HttpResponse> {
    if let Some(n) = v.as_i64() {
        return i16::try_from(n)
            .ok()
            .and_then(ResponseError::try_from_code)
            .ok_or_else(|| bad(format!("unknown error code {n}")));
    }
    let name = v
        .as_str()
        .ok_or_else(|| bad("`error` must be a name or a code"))?;
    let want = squash(name);
    (-1..=200)
        .filter_map(ResponseError::try_from_code)
        .find(|e| squash(&format!("{e:?}")) == want)
        .ok_or_else(|| bad(format!("unknown error `{name}`")))
}

fn error_name(code: i16) -> Value {
    match ResponseError::try_from_code(code) {
        Some(e) => Value::String(upper_snake(&format!("{e:?}"))),
        None if code == 0 => Value::Null,
        None => Value::String(format!("UNKNOWN_{code}")),
    }
}

fn upper_snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_uppercase());
    }
    out
}

fn millis(m: &Map<String, Value>, name: &str) -> Result<Duration, HttpResponse> {
    let ms: u64 = required(int_field(m, name)?, name)?;
    Ok(Duration::from_millis(ms))
}

fn fault_from_json(m: &Map<String, Value>) -> Result<Fault, HttpResponse> {
    let key = api_key(required(m.get("api_key"), "api_key")?)?;
    let error = || response_error(required(m.get("error"), "error")?);
    let action = match required(str_field(m, "action")?, "action")? {
        "error" => FaultAction::Error(error()?),
        "delay" => FaultAction::Delay(millis(m, "delay_ms")?),
        "close" | "close_connection" => FaultAction::CloseConnection,
        "no_response" => FaultAction::NoResponse,
        "apply_then_error" => FaultAction::ApplyThenError(error()?),
        "apply_then_close" | "drop_response" => FaultAction::ApplyThenClose,
        "apply_then_no_response" => FaultAction::ApplyThenNoResponse,
        "throttle" => FaultAction::Throttle(millis(m, "throttle_ms")?),
        other => return Err(bad(format!("unknown action `{other}`"))),
    };
    let mut fault = Fault::new(key, action);
    if let Some(b) = int_field::<i32>(m, "broker")? {
        fault = fault.broker(BrokerId(b));
    }
    match (str_field(m, "topic")?, int_field::<i32>(m, "partition")?) {
        (Some(t), Some(p)) => fault = fault.partition(t, p),
        (Some(t), None) => fault = fault.topic(t),
        (None, Some(_)) => return Err(bad("`partition` needs `topic`")),
        (None, None) => {}
    }
    if let Some(g) = str_field(m, "group")? {
        fault = fault.group(g);
    }
    if let Some(c) = str_field(m, "client_id")? {
        fault = fault.client_id(c);
    }
    fault = match m.get("times") {
        None | Some(Value::Null) => fault,
        Some(Value::String(s)) if s == "always" => fault.count(FaultCount::Always),
        Some(v) => fault.times(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad("`times` must be a count or \"always\""))?,
        ),
    };
    Ok(fault)
}

fn action_json(a: &FaultAction) -> Value {
    let ms = |d: &Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    match a {
        FaultAction::Error(e) => {
            json!({"action": "error", "error": error_name(e.code()), "error_code": e.code()})
        }
        FaultAction::Delay(d) => json!({"action": "delay", "delay_ms": ms(d)}),
        FaultAction::CloseConnection => json!({"action": "close"}),
        FaultAction::NoResponse => json!({"action": "no_response"}),
        FaultAction::ApplyThenError(e) => {
            json!({"action": "apply_then_error", "error": error_name(e.code()), "error_code": e.code()})
        }
        FaultAction::ApplyThenClose => json!({"action": "apply_then_close"}),
        FaultAction::ApplyThenNoResponse => json!({"action": "apply_then_no_response"}),
        FaultAction::Throttle(d) => json!({"action": "throttle", "throttle_ms": ms(d)}),
        _ => json!({"action": "unknown"}),
    }
}

fn fault_json(f: &FaultView) -> Value {
    let mut v = json!({
        "id": f.id.0,
        "api_key": format!("{:?}", f.api_key),
        "broker": f.broker.map(|b| b.0),
        "topic": f.topic,
        "partition": f.partition,
        "group": f.group,
        "client_id": f.client_id,
        "remaining": f.remaining.map_or(json!("always"), |n| json!(n)),
        "applied": f.applied,
    });
    if let (Value::Object(o), Value::Object(a)) = (&mut v, action_json(&f.action)) {
        o.extend(a);
    }
    v
}

fn request_json(r: &RequestRecord) -> Value {
    let (answer, code) = match r.answer {
        RequestAnswer::Pending => ("pending", None),
        RequestAnswer::Answered { error_code } => ("answered", Some(error_code)),
        RequestAnswer::NoResponse => ("no_response", None),
        RequestAnswer::Closed => ("closed", None),
        _ => ("unknown", None),
    };
    json!({
        "seq": r.seq,
        "broker": r.broker.0,
        "api_key": format!("{:?}", r.api_key),
        "api_key_code": r.api_key as i16,
        "api_version": r.api_version,
        "client_id": r.client_id,
        "correlation_id": r.correlation_id,
        "at_ms": r.at_ms,
        "elapsed_ms": u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX),
        "topics": r.topics.iter().map(|(t, p)| json!({"topic": t, "partition": p})).collect::<Vec<_>>(),
        "groups": r.groups,
        "fault": r.fault.map(|f| f.0),
        "answer": answer,
        "error_code": code,
        "error": code.map_or(Value::Null, error_name),
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn bytes_json(b: Option<&[u8]>) -> (Value, Value) {
    match b {
        None => (Value::Null, Value::Null),
        Some(b) => (
            std::str::from_utf8(b).map_or(Value::Null, |s| Value::String(s.to_owned())),
            Value::String(hex(b)),
        ),
    }
}

fn record_json(r: &RecordView) -> Value {
    let (key, key_hex) = bytes_json(r.key.as_deref());
    let (value, value_hex) = bytes_json(r.value.as_deref());
    let codec = match r.batch.compression {
        Some(Compression::None) => "none",
        Some(Compression::Gzip) => "gzip",
        Some(Compression::Snappy) => "snappy",
        Some(Compression::Lz4) => "lz4",
        Some(Compression::Zstd) => "zstd",
        _ => "unknown",
    };
    let headers: Vec<Value> = r
        .headers
        .iter()
        .map(|(k, v)| {
            let (text, hex) = bytes_json(v.as_deref());
            json!({"key": k, "value": text, "value_hex": hex})
        })
        .collect();
    json!({
        "offset": r.offset,
        "timestamp": r.timestamp,
        "timestamp_type": if matches!(r.timestamp_type, TimestampType::LogAppendTime) { "LogAppendTime" } else { "CreateTime" },
        "key": key, "key_hex": key_hex,
        "value": value, "value_hex": value_hex,
        "headers": headers,
        "codec": codec,
        "producer_id": r.batch.producer_id,
        "base_sequence": r.batch.base_sequence,
    })
}

fn partition_json(cluster: &Cluster, topic: &str, p: i32) -> Answer {
    let v = cluster.partition(topic, p).map_err(cluster_error)?;
    Ok(json!({
        "topic": v.topic, "partition": v.partition,
        "leader": v.leader.map(|b| b.0), "leader_epoch": v.leader_epoch,
        "log_start_offset": v.log_start_offset, "high_watermark": v.high_watermark,
        "retained_bytes": v.retained_bytes,
    }))
}

fn topic_json(cluster: &Cluster, name: &str) -> Answer {
    let t = cluster
        .topic(name)
        .ok_or_else(|| not_found(format!("unknown topic `{name}`")))?;
    let partitions: Result<Vec<Value>, _> = t
        .partitions
        .iter()
        .map(|p| partition_json(cluster, name, p.partition))
        .collect();
    Ok(json!({
        "name": t.name, "id": t.id.to_string(), "configs": t.configs,
        "partitions": partitions?,
    }))
}

fn group_json(cluster: &Cluster, id: &str) -> Answer {
    let g = cluster
        .group(id)
        .ok_or_else(|| not_found(format!("unknown group `{id}`")))?;
    let members: Vec<Value> = g
        .members
        .iter()
        .map(|m| {
            json!({
                "member_id": m.member_id,
                "group_instance_id": m.group_instance_id,
                "client_id": m.client_id,
                "client_host": m.client_host,
                "assignment": m.assigned_partitions.as_ref().map(|a| a.iter().map(|(t, ps)| json!({"topic": t, "partitions": ps})).collect::<Vec<_>>()),
                "assignment_hex": hex(&m.assignment),
            })
        })
        .collect();
    let offsets: Vec<Value> = cluster
        .committed_offsets(id)
        .iter()
        .map(|(t, p, o)| {
            json!({"topic": t, "partition": p, "offset": o.offset, "leader_epoch": o.leader_epoch, "metadata": o.metadata})
        })
        .collect();
    Ok(json!({
        "group_id": g.group_id,
        "state": g.state.as_str(),
        "protocol_type": g.protocol_type,
        "protocol": g.protocol_name,
        "generation": g.generation,
        "leader": g.leader,
        "coordinator": cluster.group_coordinator(id).0,
        "members": members,
        "committed_offsets": offsets,
    }))
}

fn brokers_json(cluster: &Cluster) -> Value {
    Value::Array(
        cluster
            .brokers()
            .iter()
            .map(|b| json!({"id": b.id.0, "host": b.host, "port": b.port, "running": b.running}))
            .collect(),
    )
}

/// A filter on the request log from query parameters.
struct RequestFilter {
    since: u64,
    api_key: Option<ApiKey>,
    broker: Option<i32>,
    client_id: Option<String>,
    topic: Option<String>,
    answered: bool,
}

impl RequestFilter {
    fn from_query(req: &HttpRequest) -> Result<Self, HttpResponse> {
        Ok(Self {
            since: req
                .param("since")
                .map(|s| parse_int(s, "since"))
                .transpose()?
                .unwrap_or(0),
            api_key: req
                .param("api_key")
                .map(|k| match k.parse::<i16>() {
                    Ok(n) => ApiKey::try_from(n).map_err(|()| bad(format!("unknown API key {n}"))),
                    Err(_) => api_key_named(k),
                })
                .transpose()?,
            broker: req
                .param("broker")
                .map(|s| parse_int(s, "broker"))
                .transpose()?,
            client_id: req.param("client_id").map(str::to_owned),
            topic: req.param("topic").map(str::to_owned),
            answered: req
                .param("answered")
                .is_some_and(|v| v == "true" || v == "1"),
        })
    }

    fn matches(&self, r: &RequestRecord) -> bool {
        r.seq >= self.since
            && self.api_key.is_none_or(|k| r.api_key == k)
            && self.broker.is_none_or(|b| r.broker.0 == b)
            && self
                .client_id
                .as_ref()
                .is_none_or(|c| r.client_id.as_ref() == Some(c))
            && self
                .topic
                .as_ref()
                .is_none_or(|t| r.topics.iter().any(|(n, _)| n == t))
            && (!self.answered || r.answer != RequestAnswer::Pending)
    }
}

async fn route(cluster: &Cluster, req: HttpRequest) -> HttpResponse {
    match answer(cluster, &req).await {
        Ok(v) => HttpResponse::ok(v),
        Err(e) => e,
    }
}

async fn answer(cluster: &Cluster, req: &HttpRequest) -> Answer {
    let segments: Vec<&str> = req
        .path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let method = req.method.as_str();
    match (method, segments.as_slice()) {
        ("GET", []) | ("GET", ["cluster"]) => Ok(json!({
            "bootstrap_servers": cluster.bootstrap_servers(),
            "brokers": brokers_json(cluster),
            "now_ms": cluster.now_ms(),
        })),
        ("GET", ["brokers"]) => Ok(brokers_json(cluster)),
        ("POST", ["brokers", id, op]) => {
            let id = BrokerId(parse_int(id, "broker")?);
            match *op {
                "stop" => cluster.stop_broker(id).await.map_err(cluster_error)?,
                "crash" => cluster.crash_broker(id).await.map_err(cluster_error)?,
                "start" | "restart" => cluster.restart_broker(id).await.map_err(cluster_error)?,
                "faults" => {
                    if !cluster.brokers().iter().any(|b| b.id == id) {
                        return Err(not_found(format!("unknown broker {}", id.0)));
                    }
                    let m = body(req)?;
                    if let Some(v) = m.get("refuse_connections") {
                        let on = v
                            .as_bool()
                            .ok_or_else(|| bad("`refuse_connections` must be a boolean"))?;
                        cluster.faults().refuse_connections(id, on);
                    }
                    if m.contains_key("latency_ms") {
                        cluster
                            .faults()
                            .broker_latency(id, millis(&m, "latency_ms")?);
                    }
                }
                other => return Err(not_found(format!("unknown broker operation `{other}`"))),
            }
            Ok(json!({"ok": true, "brokers": brokers_json(cluster)}))
        }
        ("GET", ["topics"]) => {
            let names: Vec<String> = cluster.topics().into_iter().map(|t| t.name).collect();
            let topics: Result<Vec<Value>, _> =
                names.iter().map(|n| topic_json(cluster, n)).collect();
            Ok(Value::Array(topics?))
        }
        ("POST", ["topics"]) => {
            let m = body(req)?;
            let name = required(str_field(&m, "name")?, "name")?;
            let partitions = int_field::<i32>(&m, "partitions")?.unwrap_or(1);
            let mut spec = TopicSpec::new(name, partitions);
            if let Some(configs) = m.get("configs") {
                let configs = configs
                    .as_object()
                    .ok_or_else(|| bad("`configs` must be an object"))?;
                for (k, v) in configs {
                    let v = v
                        .as_str()
                        .ok_or_else(|| bad("config values must be strings"))?;
                    spec = spec.config(k.clone(), v);
                }
            }
            cluster.create_topic(spec).map_err(cluster_error)?;
            topic_json(cluster, name)
        }
        ("GET", ["topics", name]) => topic_json(cluster, name),
        ("DELETE", ["topics", name]) => {
            cluster.delete_topic(name).map_err(cluster_error)?;
            Ok(json!({"ok": true}))
        }
        ("POST", ["topics", name, "partitions"]) => {
            let m = body(req)?;
            let total = required(int_field::<i32>(&m, "total")?, "total")?;
            cluster.add_partitions(name, total).map_err(cluster_error)?;
            topic_json(cluster, name)
        }
        ("GET", ["topics", name, "partitions", p]) => {
            partition_json(cluster, name, parse_int(p, "partition")?)
        }
        ("GET", ["topics", name, "partitions", p, "records"]) => {
            let p = parse_int(p, "partition")?;
            let from: i64 = req
                .param("from")
                .map(|s| parse_int(s, "from"))
                .transpose()?
                .unwrap_or(i64::MIN);
            let records = cluster.records(name, p).map_err(cluster_error)?;
            Ok(Value::Array(
                records
                    .iter()
                    .filter(|r| r.offset >= from)
                    .map(record_json)
                    .collect(),
            ))
        }
        ("POST", ["topics", name, "partitions", p, "leader"]) => {
            let p = parse_int(p, "partition")?;
            let m = body(req)?;
            let broker = required(int_field::<i32>(&m, "broker")?, "broker")?;
            cluster
                .move_leader(name, p, BrokerId(broker))
                .map_err(cluster_error)?;
            partition_json(cluster, name, p)
        }
        ("POST", ["topics", name, "partitions", p, "delete-records"]) => {
            let p = parse_int(p, "partition")?;
            let m = body(req)?;
            let offset = int_field::<i64>(&m, "offset")?.unwrap_or(-1);
            let low = cluster
                .delete_records(name, p, offset)
                .map_err(cluster_error)?;
            Ok(json!({"log_start_offset": low}))
        }
        ("GET", ["groups"]) => {
            let groups: Result<Vec<Value>, _> = cluster
                .group_ids()
                .iter()
                .map(|g| group_json(cluster, g))
                .collect();
            Ok(Value::Array(groups?))
        }
        ("GET", ["groups", id]) => group_json(cluster, id),
        ("DELETE", ["groups", id]) => {
            cluster.delete_group(id).map_err(cluster_error)?;
            Ok(json!({"ok": true}))
        }
        ("POST", ["groups", id, "coordinator"]) => {
            let m = body(req)?;
            let broker = required(int_field::<i32>(&m, "broker")?, "broker")?;
            cluster
                .move_group_coordinator(id, BrokerId(broker))
                .map_err(cluster_error)?;
            Ok(json!({"group_id": id, "coordinator": cluster.group_coordinator(id).0}))
        }
        ("GET", ["faults"]) => Ok(Value::Array(
            cluster.faults().list().iter().map(fault_json).collect(),
        )),
        ("POST", ["faults"]) => {
            let fault = fault_from_json(&body(req)?)?;
            let id = cluster.faults().add(fault);
            Ok(json!({"id": id.0}))
        }
        ("DELETE", ["faults"]) => {
            cluster.faults().clear();
            Ok(json!({"ok": true}))
        }
        ("GET", ["faults", id]) => {
            let id = FaultId(parse_int(id, "fault id")?);
            let view = cluster.faults().list().into_iter().find(|f| f.id == id);
            Ok(
                json!({"id": id.0, "applied": cluster.faults().applied(id), "active": view.is_some()}),
            )
        }
        ("DELETE", ["faults", id]) => {
            let id = FaultId(parse_int(id, "fault id")?);
            if cluster.faults().remove(id) {
                Ok(json!({"ok": true}))
            } else {
                Err(not_found(format!("no active fault {}", id.0)))
            }
        }
        ("GET", ["requests"]) => {
            let filter = RequestFilter::from_query(req)?;
            Ok(Value::Array(
                cluster
                    .requests()
                    .iter()
                    .filter(|r| filter.matches(r))
                    .map(request_json)
                    .collect(),
            ))
        }
        ("DELETE", ["requests"]) => {
            cluster.clear_requests();
            Ok(json!({"ok": true}))
        }
        ("GET", ["requests", "wait"]) => {
            let filter = RequestFilter::from_query(req)?;
            let ms: u64 = req
                .param("timeout_ms")
                .map(|s| parse_int(s, "timeout_ms"))
                .transpose()?
                .unwrap_or(10_000);
            let timeout = Duration::from_millis(ms).min(MAX_WAIT);
            let r = cluster
                .wait_for_request(timeout, |r| filter.matches(r))
                .await
                .map_err(cluster_error)?;
            Ok(request_json(&r))
        }
        _ => Err(not_found(format!("no endpoint {method} {}", req.path))),
    }
}
