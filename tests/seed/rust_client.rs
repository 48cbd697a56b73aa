//! [`SeedClient`] for the mockafka Rust client, in process.
//!
//! Keys and values go through the client's own serializers and deserializers
//! (`StringSerializer`, `JsonSerializer`, `MsgPackSerializer` and their deserializers),
//! called by this adapter so that one producer type serves every format.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bytes::Bytes;
use mockafka::client::deserializer::{
    Deserializer, JsonDeserializer, MsgPackDeserializer, StringDeserializer,
};
use mockafka::client::serializer::{
    JsonSerializer, MsgPackSerializer, Serializer, StringSerializer,
};
use mockafka::client::{
    ClientError, Compression, Consumer, DeliveryFuture, OffsetReset, Producer, ProducerRecord,
    TopicPartition,
};

use super::{
    Codec, ConsumerCfg, Format, Got, Meta, Payload, ProducerCfg, Res, ResetError, SeedClient,
    SeedConsumer, SeedProducer, Send, SendId,
};

/// The mockafka Rust client.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RustClient;

/// A Rust producer and the deliveries it handed out.
#[derive(Debug)]
pub(crate) struct RustProducer {
    producer: Producer,
    cfg: ProducerCfg,
    sent: Vec<DeliveryFuture>,
}

/// A Rust consumer.
#[derive(Debug)]
pub(crate) struct RustConsumer {
    consumer: Consumer,
    cfg: ConsumerCfg,
}

fn compression(c: Codec) -> Compression {
    match c {
        Codec::None => Compression::None,
        Codec::Gzip => Compression::Gzip,
        Codec::Snappy => Compression::Snappy,
        Codec::Lz4 => Compression::Lz4,
        Codec::Zstd => Compression::Zstd,
    }
}

fn serialize(format: Format, topic: &str, p: &Payload) -> Res<Bytes> {
    Ok(match (format, p) {
        (Format::Bytes, Payload::Bytes(b)) => Bytes::from(b.clone()),
        (Format::Str, Payload::Text(s)) => StringSerializer.serialize(topic, s.clone())?,
        (Format::Json, Payload::Json(v)) => {
            JsonSerializer::<serde_json::Value>::default().serialize(topic, v.clone())?
        }
        (Format::MsgPack, Payload::Json(v)) => {
            MsgPackSerializer::<serde_json::Value>::default().serialize(topic, v.clone())?
        }
        (f, p) => return Err(format!("{p:?} cannot be serialized as {f:?}").into()),
    })
}

fn deserialize(format: Format, topic: &str, b: Bytes) -> Res<Payload> {
    Ok(match format {
        Format::Bytes => Payload::Bytes(b.to_vec()),
        Format::Str => Payload::Text(StringDeserializer.deserialize(topic, b)?),
        Format::Json => {
            Payload::Json(JsonDeserializer::<serde_json::Value>::default().deserialize(topic, b)?)
        }
        Format::MsgPack => Payload::Json(
            MsgPackDeserializer::<serde_json::Value>::default().deserialize(topic, b)?,
        ),
    })
}

fn meta(m: mockafka::client::RecordMetadata) -> Meta {
    Meta {
        topic: m.topic,
        partition: m.partition,
        offset: m.offset,
        timestamp: m.timestamp,
    }
}

impl SeedClient for RustClient {
    type Producer = RustProducer;
    type Consumer = RustConsumer;

    fn name(&self) -> &'static str {
        "rust"
    }

    async fn producer(&self, bootstrap: &str, cfg: &ProducerCfg) -> Res<RustProducer> {
        let mut b = Producer::builder()
            .bootstrap_servers(bootstrap.split(','))
            .compression(compression(cfg.codec));
        if let Some(ms) = cfg.linger_ms {
            b = b.linger(Duration::from_millis(ms));
        }
        Ok(RustProducer {
            producer: b.build().await?,
            cfg: cfg.clone(),
            sent: Vec::new(),
        })
    }

    async fn consumer(&self, bootstrap: &str, cfg: &ConsumerCfg) -> Res<RustConsumer> {
        let mut b = Consumer::builder()
            .bootstrap_servers(bootstrap.split(','))
            .heartbeat_interval(Duration::from_millis(100))
            .fetch_max_wait(Duration::from_millis(100))
            .enable_auto_commit(cfg.auto_commit)
            .auto_offset_reset(match cfg.reset {
                super::Reset::Earliest => OffsetReset::Earliest,
                super::Reset::Latest => OffsetReset::Latest,
                super::Reset::None => OffsetReset::None,
            });
        if let Some(g) = &cfg.group {
            b = b.group_id(g);
        }
        if let Some(ms) = cfg.consumer_timeout_ms {
            b = b.consumer_timeout(Duration::from_millis(ms));
        }
        if let Some(n) = cfg.max_poll_records {
            b = b.max_poll_records(n);
        }
        if let Some(ms) = cfg.metadata_max_age_ms {
            b = b.metadata_max_age(Duration::from_millis(ms));
        }
        Ok(RustConsumer {
            consumer: b.build().await?,
            cfg: cfg.clone(),
        })
    }
}

impl SeedProducer for RustProducer {
    async fn send(&mut self, s: &Send) -> Res<SendId> {
        let value = match &s.value {
            Some(v) => serialize(self.cfg.value_format, &s.topic, v)?,
            None => return Err("the seed suite sends no tombstones".into()),
        };
        let mut r: ProducerRecord<Bytes, Bytes> = ProducerRecord::new(s.topic.clone(), value);
        if let Some(k) = &s.key {
            r = r.with_key(serialize(self.cfg.key_format, &s.topic, k)?);
        }
        if let Some(p) = s.partition {
            r = r.with_partition(p);
        }
        for (k, v) in &s.headers {
            r = r.with_header(k.clone(), v.clone().map(Bytes::from));
        }
        self.sent.push(self.producer.send(r).await?);
        Ok(u64::try_from(self.sent.len() - 1)?)
    }

    async fn get(&mut self, id: SendId, timeout: Duration) -> Res<Meta> {
        let f = self
            .sent
            .get(usize::try_from(id)?)
            .ok_or("unknown send id")?;
        Ok(meta(f.get(timeout).await?))
    }

    async fn try_get(&mut self, id: SendId) -> Res<Option<Meta>> {
        let f = self
            .sent
            .get(usize::try_from(id)?)
            .ok_or("unknown send id")?;
        match f.try_result() {
            None => Ok(None),
            Some(r) => Ok(Some(meta(r?))),
        }
    }

    async fn flush(&mut self) -> Res<()> {
        Ok(self.producer.flush().await?)
    }

    async fn close(self) -> Res<()> {
        Ok(self.producer.close().await?)
    }
}

impl RustConsumer {
    fn got(&self, r: mockafka::client::ConsumerRecord) -> Res<Got> {
        let key = match r.key {
            Some(k) => Some(deserialize(self.cfg.key_format, &r.topic, k)?),
            None => None,
        };
        let value = match r.value {
            Some(v) => Some(deserialize(self.cfg.value_format, &r.topic, v)?),
            None => None,
        };
        Ok(Got {
            key,
            value,
            headers: r
                .headers
                .into_iter()
                .map(|h| (h.key, h.value.map(|v| v.to_vec())))
                .collect(),
            topic: r.topic,
            partition: r.partition,
            offset: r.offset,
            timestamp: r.timestamp,
        })
    }
}

/// Maps a reset failure to [`ResetError`]; any other error stays an error.
fn reset_error(e: &ClientError) -> Option<ResetError> {
    match e {
        ClientError::NoOffset { .. } => Some(ResetError::NoOffset),
        e if e.code()
            == Some(mockafka::protocol::kafka_protocol::ResponseError::OffsetOutOfRange) =>
        {
            Some(ResetError::OutOfRange)
        }
        _ => None,
    }
}

impl SeedConsumer for RustConsumer {
    async fn subscribe(&mut self, topics: &[&str]) -> Res<()> {
        Ok(self.consumer.subscribe(topics)?)
    }

    async fn subscribe_pattern(&mut self, pattern: &str) -> Res<()> {
        Ok(self.consumer.subscribe_pattern(pattern)?)
    }

    async fn assign(&mut self, partitions: &[(&str, i32)]) -> Res<()> {
        let tps: Vec<_> = partitions
            .iter()
            .map(|(t, p)| TopicPartition::new(*t, *p))
            .collect();
        Ok(self.consumer.assign(&tps)?)
    }

    async fn poll(&mut self, timeout: Duration) -> Res<Result<Vec<Got>, ResetError>> {
        match self.consumer.poll(timeout).await {
            Ok(recs) => Ok(Ok(recs
                .into_iter()
                .map(|r| self.got(r))
                .collect::<Res<Vec<_>>>()?)),
            Err(e) => match reset_error(&e) {
                Some(r) => Ok(Err(r)),
                None => Err(e.into()),
            },
        }
    }

    async fn iterate(&mut self) -> Res<Vec<Got>> {
        // The Stream is the async form of `for msg in consumer`: it ends after the
        // consumer timeout passes without a record.
        let mut stream = std::pin::pin!(self.consumer.stream());
        let mut out = Vec::new();
        while let Some(r) =
            std::future::poll_fn(|cx| futures_core::Stream::poll_next(stream.as_mut(), cx)).await
        {
            out.push(r?);
        }
        out.into_iter().map(|r| self.got(r)).collect()
    }

    async fn commit(&mut self) -> Res<()> {
        Ok(self.consumer.commit().await?)
    }

    async fn commit_offsets(&mut self, offsets: &[(&str, i32, i64)]) -> Res<()> {
        let m: BTreeMap<_, _> = offsets
            .iter()
            .map(|(t, p, o)| (TopicPartition::new(*t, *p), *o))
            .collect();
        Ok(self.consumer.commit_offsets(&m).await?)
    }

    async fn committed(&mut self, topic: &str, partition: i32) -> Res<Option<i64>> {
        Ok(self
            .consumer
            .committed(&TopicPartition::new(topic, partition))
            .await?)
    }

    async fn position(&mut self, topic: &str, partition: i32) -> Res<i64> {
        Ok(self
            .consumer
            .position(&TopicPartition::new(topic, partition))
            .await?)
    }

    async fn assignment(&mut self) -> Res<BTreeSet<(String, i32)>> {
        Ok(self
            .consumer
            .assignment()
            .into_iter()
            .map(|tp| (tp.topic, tp.partition))
            .collect())
    }

    async fn seek(&mut self, topic: &str, partition: i32, offset: i64) -> Res<()> {
        Ok(self
            .consumer
            .seek(&TopicPartition::new(topic, partition), offset)?)
    }

    async fn close(self) -> Res<()> {
        Ok(self.consumer.close().await?)
    }
}
