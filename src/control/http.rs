//! A small HTTP/1.1 server on tokio for the control API: request line, headers, a
//! `Content-Length` body, JSON answers, keep-alive. Anything else gets a 4xx (never a
//! panic): a head over 16 KiB (431), a body over 1 MiB (413), chunked bodies (411), a
//! malformed request line or header (400).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Largest request head (request line and headers).
const MAX_HEAD: usize = 16 * 1024;
/// Largest request body.
const MAX_BODY: usize = 1024 * 1024;
/// How long a connection may sit idle between requests (or in the middle of one).
const IDLE: Duration = Duration::from_secs(60);

/// A parsed request.
#[derive(Debug)]
pub(crate) struct HttpRequest {
    pub(crate) method: String,
    /// The path, percent-decoded, without the query.
    pub(crate) path: String,
    /// Query parameters, percent-decoded.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl HttpRequest {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An answer: status and JSON body.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) body: serde_json::Value,
}

impl HttpResponse {
    pub(crate) fn ok(body: serde_json::Value) -> Self {
        Self { status: 200, body }
    }

    pub(crate) fn error(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            body: serde_json::json!({ "error": message.into() }),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

/// Serves `listener` until the process ends, handing each request to `handle`.
pub(crate) async fn serve<H, F>(listener: TcpListener, handle: H)
where
    H: Fn(HttpRequest) -> F + Send + Sync + 'static,
    F: Future<Output = HttpResponse> + Send,
{
    let handle = Arc::new(handle);
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            tokio::task::yield_now().await;
            continue;
        };
        let handle = Arc::clone(&handle);
        tokio::spawn(async move {
            let _ = socket.set_nodelay(true);
            connection(socket, &*handle).await;
        });
    }
}

async fn connection<H, F>(socket: TcpStream, handle: &H)
where
    H: Fn(HttpRequest) -> F,
    F: Future<Output = HttpResponse>,
{
    let (reader, mut writer) = socket.into_split();
    let mut reader = BufReader::new(reader);
    loop {
        let request = match tokio::time::timeout(IDLE, read_request(&mut reader)).await {
            Err(_) | Ok(Ok(None)) => return,
            Ok(Ok(Some(r))) => r,
            Ok(Err(bad)) => {
                let _ = write_response(&mut writer, &bad, false).await;
                return;
            }
        };
        let (request, keep_alive) = request;
        let response = handle(request).await;
        if write_response(&mut writer, &response, keep_alive)
            .await
            .is_err()
            || !keep_alive
        {
            return;
        }
    }
}

async fn write_response<W: AsyncWriteExt + Unpin>(
    writer: &mut W,
    response: &HttpResponse,
    keep_alive: bool,
) -> std::io::Result<()> {
    let body = serde_json::to_vec(&response.body).unwrap_or_else(|_| b"{}".to_vec());
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        response.status,
        reason(response.status),
        body.len(),
        if keep_alive { "keep-alive" } else { "close" },
    );
    writer.write_all(head.as_bytes()).await?;
    writer.write_all(&body).await?;
    writer.flush().await
}

/// Reads one line of the head, counting it against `budget`.
async fn read_line<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
    budget: &mut usize,
) -> Result<Option<String>, HttpResponse> {
    let mut line = Vec::new();
    let limit = u64::try_from(budget.saturating_add(1)).unwrap_or(u64::MAX);
    let n = (&mut *reader)
        .take(limit)
        .read_until(b'\n', &mut line)
        .await
        .map_err(|_| HttpResponse::error(400, "read error"))?;
    if n == 0 {
        return Ok(None);
    }
    if n > *budget || !line.ends_with(b"\n") {
        return Err(HttpResponse::error(
            431,
            "request head too large or truncated",
        ));
    }
    *budget -= n;
    let line =
        String::from_utf8(line).map_err(|_| HttpResponse::error(400, "head is not UTF-8"))?;
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

/// Reads one request. `Ok(None)` at a clean end of stream between requests.
async fn read_request<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
) -> Result<Option<(HttpRequest, bool)>, HttpResponse> {
    let mut budget = MAX_HEAD;
    let mut first = None;
    // Tolerate empty lines before the request line (RFC 9112 2.2).
    while first.is_none() {
        match read_line(reader, &mut budget).await? {
            None => return Ok(None),
            Some(l) if l.is_empty() => {}
            Some(l) => first = Some(l),
        }
    }
    let first = first.unwrap_or_default();
    let mut parts = first.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpResponse::error(400, "malformed request line"));
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Err(HttpResponse::error(400, "malformed request line"));
    }
    let mut keep_alive = version == "HTTP/1.1";
    let mut length: usize = 0;
    loop {
        let Some(line) = read_line(reader, &mut budget).await? else {
            return Err(HttpResponse::error(400, "truncated head"));
        };
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(HttpResponse::error(400, "malformed header"));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                length = value
                    .parse()
                    .map_err(|_| HttpResponse::error(400, "bad Content-Length"))?;
                if length > MAX_BODY {
                    return Err(HttpResponse::error(413, "body over 1 MiB"));
                }
            }
            "transfer-encoding" => {
                return Err(HttpResponse::error(411, "send a Content-Length body"));
            }
            "connection" => {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    keep_alive = false;
                } else if v.contains("keep-alive") {
                    keep_alive = true;
                }
            }
            _ => {}
        }
    }
    let mut body = vec![0u8; length];
    reader
        .read_exact(&mut body)
        .await
        .map_err(|_| HttpResponse::error(400, "truncated body"))?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = percent_decode(path).ok_or_else(|| HttpResponse::error(400, "bad path encoding"))?;
    let mut params = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(k), Some(v)) = (percent_decode(k), percent_decode(v)) else {
            return Err(HttpResponse::error(400, "bad query encoding"));
        };
        params.push((k, v));
    }
    Ok(Some((
        HttpRequest {
            method: method.to_owned(),
            path,
            query: params,
            body,
        },
        keep_alive,
    )))
}

/// Decodes `%XX` escapes (and `+` as a space); `None` when malformed or not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(raw: &[u8]) -> Result<Option<(HttpRequest, bool)>, HttpResponse> {
        let mut r = BufReader::new(raw);
        read_request(&mut r).await
    }

    #[tokio::test]
    async fn parses_a_request_with_a_body_and_a_query() {
        let raw =
            b"POST /topics/a%20b?x=1&y=%2F HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
        let (r, keep) = parse(raw).await.ok().flatten().expect("parses");
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("POST", "/topics/a b")
        );
        assert_eq!(r.param("y"), Some("/"));
        assert_eq!(r.body, b"{}");
        assert!(keep);
    }

    #[tokio::test]
    async fn bad_input_gets_a_4xx() {
        for (raw, status) in [
            (&b"GARBAGE\r\n\r\n"[..], 400),
            (b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
            (
                b"GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
                413,
            ),
            (b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411),
            (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400),
            (b"GET /%zz HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab", 400),
            (b"GET / HTTP/1.1\r\nHost", 431),
        ] {
            match parse(raw).await {
                Err(e) => assert_eq!(e.status, status, "{}", String::from_utf8_lossy(raw)),
                Ok(_) => panic!("accepted {}", String::from_utf8_lossy(raw)),
            }
        }
        let huge = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(
            parse(huge.as_bytes()).await.err().map(|e| e.status),
            Some(431)
        );
        assert!(matches!(parse(b"").await, Ok(None)));
    }
}
