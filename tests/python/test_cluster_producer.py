"""P1-P7 of SEED_BEHAVIOURS.md with kafka-python, for every compression codec; each
record is checked as a consumer sees it and as the cluster stored it."""

import json

import pytest

from cluster_helpers import CODECS, codec_name, consume, producer, stored_records
from conftest import start_cluster


@pytest.fixture(scope="module")
def cluster():
    c = start_cluster("--topic", "first:3")
    try:
        yield c
    finally:
        c.stop()


@pytest.mark.parametrize("codec", CODECS, ids=codec_name)
def test_p1_p3_send_raw_bytes_asynchronously_then_flush(cluster, codec):
    topic = f"foobar-p1-{codec_name(codec)}"
    p = producer(cluster, compression_type=codec)
    futures = [p.send(topic, b"some_message_bytes-%d" % i) for i in range(50)]
    p.flush()
    assert all(f.is_done and f.succeeded() for f in futures)
    p.close()
    got = consume(cluster, topic, 50)
    assert sorted(m.value for m in got) == sorted(b"some_message_bytes-%d" % i for i in range(50))
    assert [m.offset for m in got] == list(range(50))  # auto-created with one partition


@pytest.mark.parametrize("codec", CODECS, ids=codec_name)
def test_p2_block_until_acknowledged_returns_metadata(cluster, codec):
    topic = f"foobar-p2-{codec_name(codec)}"
    p = producer(cluster, compression_type=codec)
    first = p.send(topic, b"another_message").get(timeout=60)
    second = p.send(topic, b"another_message").get(timeout=60)
    p.close()
    assert (first.topic, first.partition, first.offset) == (topic, 0, 0)
    assert second.offset == 1
    assert first.timestamp > 0
    stored = stored_records(cluster, topic, 0)
    assert [r["offset"] for r in stored] == [0, 1]
    assert stored[0]["timestamp"] == first.timestamp
    assert stored[0]["timestamp_type"] == "CreateTime"


@pytest.mark.parametrize("codec", CODECS, ids=codec_name)
def test_p4_values_encoded_by_a_user_serializer(cluster, codec):
    topic = f"foobar-p4-{codec_name(codec)}"
    p = producer(
        cluster, compression_type=codec, value_serializer=lambda v: json.dumps(v).encode("utf-8")
    )
    values = [{"n": i, "s": "é" * i} for i in range(10)]
    for v in values:
        p.send(topic, v)
    p.flush()
    p.close()
    got = consume(cluster, topic, 10, value_deserializer=lambda b: json.loads(b.decode("utf-8")))
    assert [m.value for m in got] == values


@pytest.mark.parametrize("codec", CODECS, ids=codec_name)
def test_p5_keys_encoded_by_a_user_serializer(cluster, codec):
    topic = f"flipflap-{codec_name(codec)}"
    p = producer(cluster, compression_type=codec, key_serializer=str.encode)
    meta = p.send(topic, key="ping", value=b"1234").get(timeout=60)
    p.send(topic, key="pong", value=None).get(timeout=60)
    p.close()
    got = consume(cluster, topic, 2, key_deserializer=bytes.decode)
    assert [(m.key, m.value) for m in got] == [("ping", b"1234"), ("pong", None)]
    stored = stored_records(cluster, topic, meta.partition)
    assert [(r["key"], r["value"]) for r in stored] == [(b"ping", b"1234"), (b"pong", None)]


@pytest.mark.parametrize("codec", CODECS, ids=codec_name)
def test_p6_batches_are_stored_compressed_as_sent(cluster, codec):
    topic = f"foobar-p6-{codec_name(codec)}"
    p = producer(cluster, compression_type=codec, linger_ms=50)
    payload = [b"x" * 500 + b"%d" % i for i in range(200)]
    for v in payload:
        p.send(topic, v)
    p.flush()
    p.close()
    stored = stored_records(cluster, topic, 0)
    assert [r["value"] for r in stored] == payload
    assert {r["codec"] for r in stored} == {codec_name(codec)}
    got = consume(cluster, topic, 200)
    assert [m.value for m in got] == payload


@pytest.mark.parametrize("codec", CODECS, ids=codec_name)
def test_p7_headers_reach_consumers_unchanged(cluster, codec):
    topic = f"foobar-p7-{codec_name(codec)}"
    headers = [("content-encoding", b"base64"), ("dup", b"1"), ("dup", b"2"), ("empty", b"")]
    p = producer(cluster, compression_type=codec)
    p.send(topic, value=b"c29tZSB2YWx1ZQ==", headers=headers).get(timeout=60)
    p.close()
    got = consume(cluster, topic, 1)
    assert got[0].headers == headers
    assert got[0].value == b"c29tZSB2YWx1ZQ=="
    assert stored_records(cluster, topic, 0)[0]["headers"] == headers


def test_produce_to_an_explicit_partition_of_a_created_topic(cluster):
    p = producer(cluster)
    metas = [p.send("first", b"v%d" % i, partition=i % 3).get(timeout=60) for i in range(6)]
    p.close()
    assert sorted((m.partition, m.offset) for m in metas)[:2] == [(0, 0), (0, 1)]
    for part in range(3):
        assert [r["value"] for r in stored_records(cluster, "first", part)][:2] == [
            b"v%d" % part,
            b"v%d" % (part + 3),
        ]
