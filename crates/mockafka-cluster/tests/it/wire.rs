//! A minimal raw-frame Kafka connection for tests: encode a request with
//! mockafka-protocol, write it, read one response frame and decode it.

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::RequestHeader;
use kafka_protocol::protocol::{Decodable, HeaderVersion, Request, StrBytes};
use mockafka_protocol::{request, response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// One connection to one broker.
pub(crate) struct Conn {
    stream: TcpStream,
    correlation: i32,
    client_id: String,
}

impl Conn {
    pub(crate) async fn open(addr: SocketAddr, client_id: &str) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            correlation: 0,
            client_id: client_id.to_string(),
        })
    }

    /// Sends `body` at `version` and returns the decoded response.
    pub(crate) async fn call<Q>(
        &mut self,
        version: i16,
        body: &Q,
    ) -> Result<Q::Response, Box<dyn std::error::Error + Send + Sync>>
    where
        Q: Request,
        Q::Response: Decodable + HeaderVersion,
    {
        self.correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(Q::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(StrBytes::from_string(self.client_id.clone())));
        let frame = request::encode_request(&header, body)?;
        self.stream.write_all(&frame).await?;
        let mut prefix = [0u8; 4];
        self.stream.read_exact(&mut prefix).await?;
        let size = usize::try_from(i32::from_be_bytes(prefix))?;
        let mut buf = BytesMut::zeroed(size);
        self.stream.read_exact(&mut buf).await?;
        let key = kafka_protocol::messages::ApiKey::try_from(Q::KEY).map_err(|()| "bad key")?;
        let (h, resp) = response::decode_response::<Q::Response>(key, version, Bytes::from(buf))?;
        assert_eq!(h.correlation_id, self.correlation);
        Ok(resp)
    }
}
