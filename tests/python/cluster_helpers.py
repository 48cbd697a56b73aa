"""Helpers shared by the test_cluster_* suites (kafka-python against the mockafka binary)."""

import json
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

CODECS = [None, "gzip", "snappy", "lz4", "zstd"]


def codec_name(codec):
    return codec or "none"


def producer(cluster, **kw):
    return KafkaProducer(bootstrap_servers=cluster.servers, **kw)


def consume(cluster, topic, count, partitions=None, timeout=20.0, **kw):
    """Consumes `count` records of `topic` from the earliest offset (no group)."""
    consumer = KafkaConsumer(
        bootstrap_servers=cluster.servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=int(timeout * 1000),
        **kw,
    )
    try:
        if partitions is None:
            consumer.subscribe([topic])
        else:
            consumer.assign([TopicPartition(topic, p) for p in partitions])
        out = []
        deadline = time.monotonic() + timeout
        for msg in consumer:
            out.append(msg)
            if len(out) >= count or time.monotonic() > deadline:
                break
        return out
    finally:
        consumer.close()


def stored_records(cluster, topic, partition):
    """The partition's records as the cluster's inspection API sees them."""
    answer = cluster.command(f"records {topic} {partition}")
    records = json.loads(answer[len("ok "):])
    for r in records:
        r["key"] = None if r["key"] is None else bytes.fromhex(r["key"])
        r["value"] = None if r["value"] is None else bytes.fromhex(r["value"])
        r["headers"] = [(k, None if v is None else bytes.fromhex(v)) for k, v in r["headers"]]
    return records


def partition_state(cluster, topic, partition):
    """`{'leader': .., 'epoch': .., 'log_start': .., 'high_watermark': ..}`."""
    answer = cluster.command(f"partition {topic} {partition}")
    fields = dict(kv.split("=") for kv in answer.split()[1:])
    return {k: int(v) for k, v in fields.items()}
