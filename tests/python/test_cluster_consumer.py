"""C1 and C3 of SEED_BEHAVIOURS.md with kafka-python, for every compression codec."""

import time

import pytest
from kafka import KafkaConsumer, TopicPartition

from cluster_helpers import CODECS, codec_name, producer
from conftest import start_cluster


@pytest.fixture(scope="module")
def cluster():
    c = start_cluster("--topic", "first:3")
    try:
        yield c
    finally:
        c.stop()


@pytest.mark.parametrize("codec", CODECS, ids=codec_name)
def test_c1_iteration_ends_by_itself_after_consumer_timeout(cluster, codec):
    topic = f"c1-{codec_name(codec)}"
    p = producer(cluster, compression_type=codec)
    for i in range(20):
        p.send(topic, key=b"k%d" % i, value=b"v%d" % i, headers=[("h", b"%d" % i)])
    p.flush()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=cluster.servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=1000,
    )
    started = time.monotonic()
    got = [msg for msg in consumer]
    elapsed = time.monotonic() - started
    consumer.close()
    p.close()
    assert [(m.key, m.value, m.headers) for m in got] == [
        (b"k%d" % i, b"v%d" % i, [("h", b"%d" % i)]) for i in range(20)
    ]
    assert all(m.topic == topic and m.partition == 0 for m in got)
    assert [m.offset for m in got] == list(range(20))
    assert all(m.timestamp > 0 for m in got)
    # It stopped by itself: about a second after the last record, not forever.
    assert 1.0 <= elapsed < 15


@pytest.mark.parametrize("codec", CODECS, ids=codec_name)
def test_c1_default_latest_sees_only_new_records(cluster, codec):
    topic = f"c1-latest-{codec_name(codec)}"
    p = producer(cluster, compression_type=codec)
    p.send(topic, b"old").get(timeout=60)
    consumer = KafkaConsumer(topic, bootstrap_servers=cluster.servers, consumer_timeout_ms=1000)
    # Wait for the assignment and position (latest = 1) before producing.
    deadline = time.monotonic() + 15
    while not consumer.assignment() and time.monotonic() < deadline:
        consumer.poll(timeout_ms=100)
    tp = TopicPartition(topic, 0)
    assert consumer.position(tp) == 1
    p.send(topic, b"new").get(timeout=60)
    got = [m.value for m in consumer]
    consumer.close()
    p.close()
    assert got == [b"new"]


@pytest.mark.parametrize("codec", CODECS, ids=codec_name)
def test_c3_manual_assignment_gets_only_that_partition(cluster, codec):
    topic = f"c3-{codec_name(codec)}"
    cluster.command(f"create-topic {topic} 3")
    p = producer(cluster, compression_type=codec)
    for i in range(30):
        p.send(topic, b"p%d-%d" % (i % 3, i), partition=i % 3)
    p.flush()
    p.close()
    consumer = KafkaConsumer(
        bootstrap_servers=cluster.servers, auto_offset_reset="earliest", consumer_timeout_ms=1000
    )
    consumer.assign([TopicPartition(topic=topic, partition=2)])
    got = [m for m in consumer]
    consumer.close()
    assert {m.partition for m in got} == {2}
    assert [m.value for m in got] == [b"p2-%d" % i for i in range(2, 30, 3)]
    assert [m.offset for m in got] == list(range(10))
