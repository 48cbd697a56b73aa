"""Cross-client checks: records produced by the mockafka Rust client (the `produce`
example of crates/mockafka-client) are read back with kafka-python's consumer.

Covers P1-P7 from kafka-python's side: values, JSON values, keys placed where
kafka-python's default partitioner puts them, every compression codec, and headers.
"""

import json
import subprocess
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

ROOT = Path(__file__).resolve().parents[2]


def produce_binary():
    """The `produce` example: the newest build of it (`cargo test` builds examples), or a
    fresh debug build when there is none."""
    builds = [ROOT / "target" / profile / "examples" / "produce" for profile in ("debug", "release")]
    builds = [p for p in builds if p.exists()]
    if builds:
        return str(max(builds, key=lambda p: p.stat().st_mtime))
    subprocess.run(["cargo", "build", "-q", "-p", "mockafka-client", "--example", "produce"],
                   cwd=ROOT, check=True)
    return str(ROOT / "target" / "debug" / "examples" / "produce")


def rust_produce(bootstrap, topic, count, *extra):
    out = subprocess.run([produce_binary(), "--bootstrap", bootstrap, "--topic", topic,
                          "--count", str(count), *extra],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def consume_all(bootstrap, topic, expected, **kw):
    c = KafkaConsumer(bootstrap_servers=bootstrap.split(","), auto_offset_reset="earliest",
                      consumer_timeout_ms=5000, **kw)
    parts = c.partitions_for_topic(topic) or set()
    c.assign([TopicPartition(topic, p) for p in parts])
    got = []
    for msg in c:
        got.append(msg)
        if len(got) >= expected:
            break
    c.close()
    return got


def create_topic(bootstrap, name, partitions):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    admin.create_topics([NewTopic(name, partitions, 1)])
    admin.close()


def test_p1_p2_raw_values_arrive_with_the_reported_offsets(mockafka_cluster):
    b = mockafka_cluster.bootstrap
    metas = rust_produce(b, "foobar", 20)
    assert len(metas) == 20
    got = consume_all(b, "foobar", 20)
    by_value = {m.value: m for m in got}
    for i, meta in enumerate(metas):
        m = by_value[f"value-{i}".encode()]
        assert (m.topic, m.partition, m.offset) == (meta["topic"], meta["partition"], meta["offset"])


def test_p4_json_values_decode_with_json_loads(mockafka_cluster):
    b = mockafka_cluster.bootstrap
    rust_produce(b, "json-topic", 5, "--json")
    got = consume_all(b, "json-topic", 5, value_deserializer=json.loads)
    assert sorted(m.value["i"] for m in got) == list(range(5))


def test_p5_keyed_records_land_where_kafka_python_puts_them(mockafka_cluster):
    b = mockafka_cluster.bootstrap
    create_topic(b, "flipflap", 3)
    create_topic(b, "flipflap-py", 3)
    metas = rust_produce(b, "flipflap", 30, "--key-prefix", "ping-")
    # kafka-python's own producer, default partitioner, same keys.
    p = KafkaProducer(bootstrap_servers=b.split(","))
    expected = [p.send("flipflap-py", key=f"ping-{i}".encode(), value=b"v").get(timeout=30).partition
                for i in range(30)]
    p.close()
    assert len(set(expected)) > 1, "keys spread over partitions"
    assert [m["partition"] for m in metas] == expected
    got = consume_all(b, "flipflap", 30)
    assert len(got) == 30
    for m in got:
        i = int(m.key.decode().split("-")[1])
        assert m.partition == expected[i]
        assert m.value == f"value-{i}".encode()


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_p6_every_codec_is_readable_by_kafka_python(mockafka_cluster, codec):
    b = mockafka_cluster.bootstrap
    topic = f"codec-{codec}"
    rust_produce(b, topic, 50, "--compression", codec)
    got = consume_all(b, topic, 50)
    assert sorted(m.value for m in got) == sorted(f"value-{i}".encode() for i in range(50))


def test_p7_headers_arrive_unchanged_in_order(mockafka_cluster):
    b = mockafka_cluster.bootstrap
    rust_produce(b, "headers", 3, "--header", "content-encoding=base64",
                 "--header", "dup=1", "--header", "dup=2")
    got = consume_all(b, "headers", 3)
    assert len(got) == 3
    for m in got:
        assert list(m.headers) == [("content-encoding", b"base64"), ("dup", b"1"), ("dup", b"2")]
