//! One TCP connection to one broker.
//!
//! A reader task owns the read half: it splits frames, looks up each response's correlation
//! id and hands the frame to the `oneshot` that the request registered. Requests are written
//! by their callers through the write half, which sits behind a tokio `Mutex` held for the
//! whole frame so that frames never interleave. A fatal error (a read or write failure, a
//! frame over the limit, a correlation id nobody asked for, a request that timed out)
//! poisons the connection: every pending and later request fails with the same error, and
//! the owner ([`crate::pool::Pool`]) opens a new connection on next use.
//!
//! On connect the client asks ApiVersions and keeps, per API, the highest version both sides
//! speak (see [`mockafka_protocol::versions::negotiate`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader};
use kafka_protocol::protocol::{Request, StrBytes};
use mockafka_protocol::{frame, request::encode_request, response, versions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::error::{ClientError, Target};

/// Settings every connection shares.
#[derive(Debug, Clone)]
pub(crate) struct ConnConfig {
    /// Sent in every request header.
    pub(crate) client_id: Option<String>,
    /// How long one request may wait for its response.
    pub(crate) request_timeout: Duration,
    /// How long a TCP connect plus ApiVersions may take.
    pub(crate) connect_timeout: Duration,
    /// Largest response frame accepted (checked before allocating).
    pub(crate) max_frame_size: usize,
}

impl Default for ConnConfig {
    fn default() -> Self {
        Self {
            client_id: None,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_frame_size: frame::DEFAULT_MAX_FRAME_SIZE,
        }
    }
}

/// Capacity a response buffer starts with; it grows as bytes arrive.
const INITIAL_READ_CAPACITY: usize = 64 * 1024;

type Reply = oneshot::Sender<Result<Bytes, ClientError>>;

/// State shared by the callers and the reader task.
#[derive(Debug, Default)]
struct State {
    next_correlation: i32,
    /// Requests waiting for their response, by correlation id. The reader task removes an
    /// entry when its response arrives; poisoning drains them all.
    pending: HashMap<i32, Reply>,
    /// Set once, by the first fatal error; every later request fails with it.
    poisoned: Option<ClientError>,
}

#[derive(Debug)]
struct Shared {
    addr: String,
    /// Pending requests and the poison flag (std mutex: never held across an await).
    state: Mutex<State>,
}

impl Shared {
    fn poison(&self, err: ClientError) {
        let drained: Vec<Reply> = {
            let mut st = self.state.lock().expect("connection state lock");
            if st.poisoned.is_none() {
                tracing::debug!(broker = %self.addr, error = %err, "connection poisoned");
                st.poisoned = Some(err.clone());
            }
            st.pending.drain().map(|(_, tx)| tx).collect()
        };
        for tx in drained {
            let _ = tx.send(Err(err.clone()));
        }
    }
}

/// Aborts the reader task when the connection is dropped.
#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A live connection to one broker, with the API versions negotiated for it.
#[derive(Debug)]
pub(crate) struct Connection {
    shared: Arc<Shared>,
    /// The write half, held for a whole frame so that frames never interleave. Waiters are
    /// the callers of [`Connection::call`].
    writer: tokio::sync::Mutex<OwnedWriteHalf>,
    versions: HashMap<i16, i16>,
    client_id: Option<StrBytes>,
    request_timeout: Duration,
    _reader: AbortOnDrop,
}

/// Poisons the connection if a frame write is abandoned half-way (the caller's future was
/// dropped), because the stream would be corrupt.
struct WriteGuard<'a> {
    shared: &'a Shared,
    done: bool,
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.shared.poison(ClientError::io(
                &self.shared.addr,
                std::io::Error::new(std::io::ErrorKind::Interrupted, "write abandoned"),
            ));
        }
    }
}

impl Connection {
    /// Connects to `addr` and negotiates API versions.
    ///
    /// # Errors
    /// [`ClientError::Io`] when the connect fails, [`ClientError::Timeout`] when it takes
    /// longer than `connect_timeout`, or whatever ApiVersions fails with.
    pub(crate) async fn connect(addr: &str, cfg: &ConnConfig) -> Result<Arc<Self>, ClientError> {
        let fut = Self::connect_inner(addr, cfg);
        match tokio::time::timeout(cfg.connect_timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout {
                what: "connect".into(),
                after: cfg.connect_timeout,
            }),
        }
    }

    async fn connect_inner(addr: &str, cfg: &ConnConfig) -> Result<Arc<Self>, ClientError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|e| ClientError::io(addr, e))?;
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        let shared = Arc::new(Shared {
            addr: addr.to_owned(),
            state: Mutex::new(State::default()),
        });
        let reader = tokio::spawn(read_loop(read, shared.clone(), cfg.max_frame_size));
        let mut conn = Self {
            shared,
            writer: tokio::sync::Mutex::new(write),
            versions: HashMap::new(),
            client_id: cfg.client_id.clone().map(StrBytes::from_string),
            request_timeout: cfg.request_timeout,
            _reader: AbortOnDrop(reader),
        };
        conn.negotiate().await?;
        tracing::debug!(broker = %addr, apis = conn.versions.len(), "connected");
        Ok(Arc::new(conn))
    }

    /// Asks ApiVersions (v3, falling back to v0 when the broker answers
    /// UNSUPPORTED_VERSION, as Kafka brokers do for versions they do not know).
    async fn negotiate(&mut self) -> Result<(), ClientError> {
        let req = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("mockafka-client"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let mut resp: ApiVersionsResponse = self.call_at(&req, 3).await?;
        if resp.error_code == ResponseError::UnsupportedVersion.code() {
            resp = self.call_at(&ApiVersionsRequest::default(), 0).await?;
        }
        if let Some(code) = ResponseError::try_from_code(resp.error_code) {
            return Err(ClientError::broker(code, Target::Cluster));
        }
        for api in &resp.api_keys {
            let Ok(key) = ApiKey::try_from(api.api_key) else {
                continue;
            };
            if let Some(v) = versions::negotiate(key, api.min_version, api.max_version) {
                self.versions.insert(api.api_key, v);
            }
        }
        Ok(())
    }

    /// The broker's address.
    pub(crate) fn addr(&self) -> &str {
        &self.shared.addr
    }

    /// Whether a fatal error has closed this connection.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.shared
            .state
            .lock()
            .expect("connection state lock")
            .poisoned
            .is_some()
    }

    /// The negotiated version of `key`.
    ///
    /// # Errors
    /// [`ClientError::UnsupportedApi`] when the broker serves no version we speak.
    pub(crate) fn version(&self, key: ApiKey) -> Result<i16, ClientError> {
        self.versions
            .get(&(key as i16))
            .copied()
            .ok_or_else(|| ClientError::UnsupportedApi {
                broker: self.shared.addr.clone(),
                api: key,
            })
    }

    /// Sends `req` at the negotiated version and waits for its response.
    ///
    /// # Errors
    /// Connection errors, [`ClientError::Timeout`] after the request timeout (which also
    /// poisons the connection, as the Java client closes it), or a malformed response.
    pub(crate) async fn call<R: Request>(&self, req: &R) -> Result<R::Response, ClientError> {
        let key = api_key::<R>()?;
        let version = self.version(key)?;
        self.call_at(req, version).await
    }

    /// Sends `req` at `version` and waits for its response.
    pub(crate) async fn call_at<R: Request>(
        &self,
        req: &R,
        version: i16,
    ) -> Result<R::Response, ClientError> {
        let key = api_key::<R>()?;
        let rx = self.send(req, version, true).await?;
        let Some(rx) = rx else {
            return Err(ClientError::Closed);
        };
        let frame = match tokio::time::timeout(self.request_timeout, rx).await {
            Ok(Ok(r)) => r?,
            Ok(Err(_)) => return Err(self.poisoned_error()),
            Err(_) => {
                let err = ClientError::Timeout {
                    what: "request".into(),
                    after: self.request_timeout,
                };
                self.shared.poison(err.clone());
                return Err(err);
            }
        };
        let (_, body) =
            response::decode_response::<R::Response>(key, version, frame).map_err(|source| {
                ClientError::Protocol {
                    broker: self.shared.addr.clone(),
                    source,
                }
            })?;
        Ok(body)
    }

    /// Sends `req` at the negotiated version without waiting for (or expecting) a
    /// response: Produce with acks=0, which brokers do not answer.
    pub(crate) async fn send_only<R: Request>(&self, req: &R) -> Result<(), ClientError> {
        let key = api_key::<R>()?;
        let version = self.version(key)?;
        self.send(req, version, false).await.map(|_| ())
    }

    fn poisoned_error(&self) -> ClientError {
        self.shared
            .state
            .lock()
            .expect("connection state lock")
            .poisoned
            .clone()
            .unwrap_or(ClientError::Closed)
    }

    async fn send<R: Request>(
        &self,
        req: &R,
        version: i16,
        expect_response: bool,
    ) -> Result<Option<oneshot::Receiver<Result<Bytes, ClientError>>>, ClientError> {
        let mut writer = self.writer.lock().await;
        // Register under the writer lock so correlation ids go out in the order assigned.
        let (correlation_id, rx) = {
            let mut st = self.shared.state.lock().expect("connection state lock");
            if let Some(e) = &st.poisoned {
                return Err(e.clone());
            }
            let id = st.next_correlation;
            st.next_correlation = st.next_correlation.wrapping_add(1) & i32::MAX;
            let rx = if expect_response {
                let (tx, rx) = oneshot::channel();
                st.pending.insert(id, tx);
                Some(rx)
            } else {
                None
            };
            (id, rx)
        };
        let header = RequestHeader::default()
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(self.client_id.clone());
        let bytes: BytesMut = match encode_request(&header, req) {
            Ok(b) => b,
            Err(source) => {
                self.shared
                    .state
                    .lock()
                    .expect("connection state lock")
                    .pending
                    .remove(&correlation_id);
                return Err(ClientError::Protocol {
                    broker: self.shared.addr.clone(),
                    source,
                });
            }
        };
        let mut guard = WriteGuard {
            shared: &self.shared,
            done: false,
        };
        let res = writer.write_all(&bytes).await;
        guard.done = true;
        if let Err(e) = res {
            let err = ClientError::io(&self.shared.addr, e);
            self.shared.poison(err.clone());
            return Err(err);
        }
        Ok(rx)
    }
}

fn api_key<R: Request>() -> Result<ApiKey, ClientError> {
    ApiKey::try_from(R::KEY).map_err(|()| ClientError::Config(format!("unknown api {}", R::KEY)))
}

async fn read_loop(mut read: OwnedReadHalf, shared: Arc<Shared>, max: usize) {
    let err = match read_frames(&mut read, &shared, max).await {
        Ok(()) => ClientError::io(
            &shared.addr,
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "broker closed"),
        ),
        Err(e) => e,
    };
    shared.poison(err);
}

async fn read_frames(
    read: &mut OwnedReadHalf,
    shared: &Shared,
    max: usize,
) -> Result<(), ClientError> {
    let io = |e: std::io::Error| ClientError::io(&shared.addr, e);
    let proto = |source| ClientError::Protocol {
        broker: shared.addr.clone(),
        source,
    };
    loop {
        let mut prefix = [0u8; frame::PREFIX_LEN];
        match read.read_exact(&mut prefix).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(io(e)),
        }
        let size = frame::frame_size(prefix, max).map_err(proto)?;
        // Grow with the bytes that actually arrive, so that a size prefix alone cannot make
        // us allocate up to the limit.
        let mut body = Vec::with_capacity(size.min(INITIAL_READ_CAPACITY));
        let want = u64::try_from(size).unwrap_or(u64::MAX);
        (&mut *read)
            .take(want)
            .read_to_end(&mut body)
            .await
            .map_err(io)?;
        if body.len() != size {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "broker closed mid-frame",
            )));
        }
        let body = Bytes::from(body);
        let id = response::correlation_id(&body).map_err(proto)?;
        let tx = shared
            .state
            .lock()
            .expect("connection state lock")
            .pending
            .remove(&id);
        match tx {
            Some(tx) => {
                let _ = tx.send(Ok(body));
            }
            None => {
                return Err(ClientError::Protocol {
                    broker: shared.addr.clone(),
                    source: mockafka_protocol::ProtocolError::Malformed {
                        key: -1,
                        version: -1,
                        reason: format!("response to unknown correlation id {id}"),
                    },
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::api_versions_response::ApiVersion;
    use kafka_protocol::messages::{ApiVersionsResponse, MetadataRequest, MetadataResponse};
    use mockafka_protocol::request::decode_request;
    use mockafka_protocol::response::encode_response;
    use tokio::net::TcpListener;

    /// A tiny fake broker: answers ApiVersions, then answers each Metadata request with a
    /// response whose controller id is the correlation id, in reverse order of arrival for
    /// every pair (to prove that responses are matched by correlation id, not by order),
    /// and closes after `close_after` metadata requests.
    async fn fake_broker(close_after: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = BytesMut::new();
            let mut held: Option<(i16, i32)> = None;
            let mut served = 0;
            loop {
                let frame = loop {
                    if let Some(f) = frame::split_frame(&mut buf, 1 << 20).unwrap() {
                        break f;
                    }
                    let n = sock.read_buf(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                };
                let req = decode_request(frame).unwrap();
                let v = req.version();
                let id = req.header.correlation_id;
                if req.api_key == ApiKey::ApiVersions {
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
                    let out = encode_response(ApiKey::ApiVersions, v, id, &resp).unwrap();
                    sock.write_all(&out).await.unwrap();
                    continue;
                }
                served += 1;
                if served > close_after {
                    return;
                }
                let answer = |v: i16, id: i32| {
                    let resp = MetadataResponse::default().with_controller_id(id.into());
                    encode_response(ApiKey::Metadata, v, id, &resp).unwrap()
                };
                match held.take() {
                    None => held = Some((v, id)),
                    Some((hv, hid)) => {
                        sock.write_all(&answer(v, id)).await.unwrap();
                        sock.write_all(&answer(hv, hid)).await.unwrap();
                    }
                }
            }
        });
        addr
    }

    #[tokio::test]
    async fn responses_are_matched_by_correlation_id() {
        let addr = fake_broker(100).await;
        let conn = Connection::connect(&addr, &ConnConfig::default())
            .await
            .unwrap();
        assert_eq!(conn.version(ApiKey::Metadata).unwrap(), 12);
        let req = MetadataRequest::default();
        let (a, b) = tokio::join!(conn.call(&req), conn.call(&req));
        let (a, b) = (a.unwrap(), b.unwrap());
        // ApiVersions took correlation id 0; the two metadata calls 1 and 2, in some order.
        let mut ids = vec![a.controller_id.0, b.controller_id.0];
        ids.sort_unstable();
        assert_eq!(ids, vec![1, 2]);
    }

    #[tokio::test]
    async fn a_closed_connection_fails_pending_and_later_requests() {
        let addr = fake_broker(0).await;
        let conn = Connection::connect(&addr, &ConnConfig::default())
            .await
            .unwrap();
        let req = MetadataRequest::default();
        let err = conn.call(&req).await.unwrap_err();
        assert!(matches!(err, ClientError::Io { .. }), "{err:?}");
        assert!(conn.is_poisoned());
        let again = conn.call(&req).await.unwrap_err();
        assert!(matches!(again, ClientError::Io { .. }), "{again:?}");
    }

    #[tokio::test]
    async fn a_request_timeout_poisons_the_connection() {
        // The fake broker holds the first metadata request until a second arrives.
        let addr = fake_broker(100).await;
        let cfg = ConnConfig {
            request_timeout: Duration::from_millis(50),
            ..ConnConfig::default()
        };
        let conn = Connection::connect(&addr, &cfg).await.unwrap();
        let err = conn.call(&MetadataRequest::default()).await.unwrap_err();
        assert!(matches!(err, ClientError::Timeout { .. }), "{err:?}");
        assert!(conn.is_poisoned());
    }

    /// A hostile broker: answers ApiVersions properly, then every Metadata request with
    /// its correlation id followed by pseudo-random bytes.
    async fn garbage_broker() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = BytesMut::new();
            let mut rng: u64 = 0x9e37_79b9_7f4a_7c15;
            loop {
                let frame = loop {
                    if let Some(f) = frame::split_frame(&mut buf, 1 << 20).unwrap() {
                        break f;
                    }
                    if sock.read_buf(&mut buf).await.unwrap() == 0 {
                        return;
                    }
                };
                let req = decode_request(frame).unwrap();
                let id = req.header.correlation_id;
                if req.api_key == ApiKey::ApiVersions {
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
                    let out = encode_response(ApiKey::ApiVersions, req.version(), id, &resp);
                    sock.write_all(&out.unwrap()).await.unwrap();
                    continue;
                }
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let len = usize::try_from(rng % 64).unwrap();
                let mut body = id.to_be_bytes().to_vec();
                let mut x = rng;
                for _ in 0..len {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    // Bias towards 0xff and small values, which decode as huge or negative
                    // lengths and counts.
                    body.push(match x >> 61 {
                        0 => 0xff,
                        1 => 0x7f,
                        2 => 0,
                        _ => (x >> 32) as u8,
                    });
                }
                let mut out = BytesMut::new();
                frame::encode_frame(&body, &mut out).unwrap();
                sock.write_all(&out).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn garbage_responses_are_errors_never_panics() {
        let addr = garbage_broker().await;
        let conn = Connection::connect(&addr, &ConnConfig::default())
            .await
            .unwrap();
        let mut errors = 0;
        for _ in 0..300 {
            match conn.call(&MetadataRequest::default()).await {
                Ok(_) => {}
                Err(ClientError::Protocol { .. }) => errors += 1,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert!(errors > 250, "most garbage is rejected ({errors})");
        assert!(
            !conn.is_poisoned(),
            "a malformed body does not desync the stream"
        );
    }

    #[tokio::test]
    async fn connect_to_a_closed_port_is_an_io_error() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        let err = Connection::connect(&addr, &ConnConfig::default())
            .await
            .unwrap_err();
        assert!(err.is_retriable());
    }
}
