//! Per-connection task: read a frame, dispatch it, write the response, in request order.
//!
//! Kafka handles one request per connection at a time (the channel is muted until the
//! response is sent), so this loop does too. A frame that cannot be decoded closes this
//! connection only; an unsupported ApiVersions version gets Kafka's v0-encoded answer.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::ApiKey;
use mockafka_protocol::frame::{frame_size, PREFIX_LEN};
use mockafka_protocol::request::{decode_request, DecodedRequest};
use mockafka_protocol::ProtocolError;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::debug;

use crate::cluster::Shared;
use crate::dispatch::{Reply, RequestCtx};
use crate::faults;
use crate::handlers::api_versions;

/// Reads one frame body. `Ok(None)` at a clean end of stream before a frame starts.
///
/// The body buffer grows as bytes arrive, so a size prefix near the limit costs memory
/// only once that many bytes have really been sent.
async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<Bytes>, ProtocolError> {
    let mut prefix = [0u8; PREFIX_LEN];
    match reader.read_exact(&mut prefix).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(_) => return Err(ProtocolError::Truncated),
    }
    let size = frame_size(prefix, max)?;
    let mut body = Vec::with_capacity(size.min(64 * 1024));
    let limit = u64::try_from(size).map_err(|_| ProtocolError::FrameTooLarge { size, max })?;
    let read = reader
        .take(limit)
        .read_to_end(&mut body)
        .await
        .map_err(|_| ProtocolError::Truncated)?;
    if read != size {
        return Err(ProtocolError::Truncated);
    }
    Ok(Some(Bytes::from(body)))
}

/// Serves one connection until the client closes it, sends something undecodable, or the
/// broker stops.
pub(crate) async fn run(
    shared: Arc<Shared>,
    broker_id: i32,
    socket: TcpStream,
    peer: std::net::SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let (mut reader, mut writer) = socket.into_split();
    let max = shared.config.max_frame_size;
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        let frame = tokio::select! {
            _ = stop.changed() => return,
            frame = read_frame(&mut reader, max) => frame,
        };
        let frame = match frame {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(e) => {
                debug!(broker = broker_id, error = %e, "closing connection: bad frame");
                return;
            }
        };
        let reply = match decode_request(frame) {
            Ok(DecodedRequest { header, body, .. }) => {
                let ctx = RequestCtx::new(&shared, broker_id, &header, peer);
                // Biased: a stopped (crashed) broker answers nothing more, even a request
                // that completed in the same instant (a long poll woken by the fail-over).
                tokio::select! {
                    biased;
                    _ = stop.changed() => return,
                    reply = faults::serve(&ctx, header.correlation_id, body) => reply,
                }
            }
            Err(ProtocolError::UnsupportedVersion {
                key,
                version,
                correlation_id,
            }) if key == ApiKey::ApiVersions as i16 => {
                debug!(
                    broker = broker_id,
                    version, "unsupported ApiVersions version"
                );
                api_versions::unsupported_version_reply(correlation_id)
            }
            Err(e) => {
                debug!(broker = broker_id, error = %e, "closing connection: bad request");
                return;
            }
        };
        let bytes: BytesMut = match reply {
            Reply::Frame(bytes) => bytes,
            Reply::NoResponse => continue,
            Reply::Close => return,
        };
        tokio::select! {
            biased;
            _ = stop.changed() => return,
            written = writer.write_all(&bytes) => {
                if written.is_err() {
                    return;
                }
            }
        }
    }
}
