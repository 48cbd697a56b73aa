"""Multi-broker behaviour with kafka-python: leaders spread over the brokers, and a
producer and a consumer keep working across a broker stop, a restart and a leader move,
with nothing acknowledged lost."""

import threading
import time

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from cluster_helpers import partition_state, producer, stored_records


def test_leaders_spread_over_three_brokers(cluster_factory):
    cluster = cluster_factory("--topic", "first:3", "--topic", "second:6")
    admin = KafkaAdminClient(bootstrap_servers=cluster.servers)
    try:
        described = {t["name"]: t for t in admin.describe_topics(["first", "second"])}
        cluster_meta = admin.describe_cluster()
    finally:
        admin.close()
    assert sorted(b["broker_id"] for b in cluster_meta["brokers"]) == [0, 1, 2]
    for name, count in (("first", 3), ("second", 6)):
        parts = sorted(described[name]["partitions"], key=lambda p: p["partition_index"])
        leaders = [p["leader_id"] for p in parts]
        assert len(leaders) == count
        assert set(leaders) == {0, 1, 2}
        # Round-robin: each broker leads the same number of partitions.
        assert all(leaders.count(b) == count // 3 for b in (0, 1, 2))
        for p, leader in enumerate(leaders):
            assert partition_state(cluster, name, p)["leader"] == leader


def test_producer_and_consumer_keep_working_across_stop_restart_and_leader_move(cluster_factory):
    cluster = cluster_factory("--topic", "first:3")
    acked = []  # (partition, offset, value)
    errors = []
    stop = threading.Event()
    phase = {"n": 0}

    def produce_loop():
        p = producer(cluster, acks="all", retries=1000, request_timeout_ms=10000)
        i = 0
        try:
            while not stop.is_set():
                value = b"m%06d" % i
                try:
                    meta = p.send("first", value, partition=i % 3).get(timeout=30)
                    acked.append((meta.partition, meta.offset, value))
                except Exception as e:  # noqa: BLE001 - an unacknowledged send is allowed
                    errors.append(repr(e))
                i += 1
                phase["n"] = i
        finally:
            p.close()

    consumed = {}
    consumer = KafkaConsumer(
        bootstrap_servers=cluster.servers, auto_offset_reset="earliest", consumer_timeout_ms=500
    )
    consumer.assign([TopicPartition("first", p) for p in range(3)])

    def consume_some():
        for records in consumer.poll(timeout_ms=200).values():
            for m in records:
                consumed[(m.partition, m.offset)] = m.value

    def wait_for_progress(n):
        target = phase["n"] + n
        deadline = time.monotonic() + 30
        while phase["n"] < target and time.monotonic() < deadline:
            consume_some()
        assert phase["n"] >= target, "producer stalled"

    t = threading.Thread(target=produce_loop)
    t.start()
    try:
        wait_for_progress(30)
        before = partition_state(cluster, "first", 1)
        assert before["leader"] == 1
        assert cluster.command("stop-broker 1") == "ok"
        after = partition_state(cluster, "first", 1)
        assert after["leader"] != 1 and after["epoch"] == before["epoch"] + 1
        wait_for_progress(30)
        assert cluster.command("move-leader first 0 2") == "ok"
        assert partition_state(cluster, "first", 0)["leader"] == 2
        wait_for_progress(30)
        assert cluster.command("restart-broker 1") == "ok"
        assert cluster.command("move-leader first 2 1") == "ok"
        wait_for_progress(30)
    finally:
        stop.set()
        t.join(timeout=60)

    # The consumer catches up with everything acknowledged.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(
        (p, o) in consumed for p, o, _ in acked
    ):
        consume_some()
    consumer.close()
    assert len(acked) >= 120
    for p, o, v in acked:
        assert consumed.get((p, o)) == v, f"acknowledged record {p}/{o} lost"
    # And the cluster holds each acknowledged record exactly once, at its offset.
    for part in range(3):
        stored = stored_records(cluster, "first", part)
        offsets = [r["offset"] for r in stored]
        assert offsets == list(range(len(stored)))
        values = {r["offset"]: r["value"] for r in stored}
        mine = [(o, v) for p, o, v in acked if p == part]
        assert all(values[o] == v for o, v in mine)
        assert len(set(values.values())) == len(values), "a record was stored twice"
