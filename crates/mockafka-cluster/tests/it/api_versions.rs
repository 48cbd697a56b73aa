//! ApiVersions, unsupported versions and unserved APIs.

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use mockafka_cluster::Cluster;
use mockafka_protocol::response::decode_response;
use mockafka_protocol::versions::SERVED;
use tokio::io::AsyncWriteExt;

use crate::util::{Conn, TestResult};

#[tokio::test]
async fn every_version_lists_the_served_table() -> TestResult {
    let cluster = Cluster::builder().brokers(1).start().await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    for v in 0..=4 {
        let req = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("it"))
            .with_client_software_version(StrBytes::from_static_str("1.0"));
        let resp = conn.send(v, &req).await?;
        assert_eq!(resp.error_code, 0, "v{v}");
        let listed: Vec<(i16, i16, i16)> = resp
            .api_keys
            .iter()
            .map(|k| (k.api_key, k.min_version, k.max_version))
            .collect();
        let table: Vec<(i16, i16, i16)> = SERVED
            .iter()
            .map(|r| (r.key as i16, r.min, r.max))
            .collect();
        assert_eq!(listed, table);
    }
    Ok(())
}

#[tokio::test]
async fn a_too_new_version_gets_unsupported_version_encoded_as_v0() -> TestResult {
    let cluster = Cluster::builder().brokers(1).start().await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    // ApiVersions v9 (not served): header v2 would be flexible, but only the prefix matters.
    let mut frame = BytesMut::new();
    frame.put_i32(10);
    frame.put_i16(ApiKey::ApiVersions as i16);
    frame.put_i16(9);
    frame.put_i32(77);
    frame.put_i16(-1);
    conn.stream.write_all(&frame).await?;
    let body = conn.read_frame().await?;
    let (header, resp) = decode_response::<ApiVersionsResponse>(ApiKey::ApiVersions, 0, body)?;
    assert_eq!(header.correlation_id, 77);
    assert_eq!(resp.error_code, 35);
    assert_eq!(resp.api_keys.len(), SERVED.len());
    // The connection stays usable.
    let resp = conn
        .send(
            3,
            &ApiVersionsRequest::default()
                .with_client_software_name(StrBytes::from_static_str("it"))
                .with_client_software_version(StrBytes::from_static_str("1")),
        )
        .await?;
    assert_eq!(resp.error_code, 0);
    Ok(())
}

#[tokio::test]
async fn invalid_client_software_name_is_invalid_request() -> TestResult {
    let cluster = Cluster::builder().brokers(1).start().await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let req = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("-bad name"))
        .with_client_software_version(StrBytes::from_static_str("1"));
    let resp = conn.send(3, &req).await?;
    assert_eq!(resp.error_code, 42);
    assert!(resp.api_keys.is_empty());
    Ok(())
}

async fn closes_after(prefix: [i16; 2]) -> Result<bool, Box<dyn std::error::Error>> {
    let cluster = Cluster::builder().brokers(1).start().await?;
    let mut conn = Conn::to_broker(&cluster, 0).await?;
    let mut frame = BytesMut::new();
    frame.put_i32(10);
    frame.put_i16(prefix[0]);
    frame.put_i16(prefix[1]);
    frame.put_i32(5);
    frame.put_i16(-1);
    conn.stream.write_all(&frame).await?;
    Ok(conn.is_closed().await)
}

#[tokio::test]
async fn unknown_or_unserved_apis_and_versions_close_the_connection() -> TestResult {
    assert!(closes_after([0x7f7f, 0]).await?, "unknown key");
    assert!(
        closes_after([ApiKey::SaslHandshake as i16, 1]).await?,
        "unserved key"
    );
    assert!(
        closes_after([ApiKey::Produce as i16, 99]).await?,
        "unserved version"
    );
    assert!(
        closes_after([ApiKey::Metadata as i16, -1]).await?,
        "negative version"
    );
    Ok(())
}
