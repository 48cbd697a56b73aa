"""Consumer groups and committed offsets with kafka-python against the mockafka binary.

C2, C4 (topics and pattern), C5 (msgpack), the four C6 offset-reset scenarios of
shared/SEED_BEHAVIOURS.md, partition split and failover between two consumers, and the
expiry of a consumer that dies without leaving. Every wait is a condition with a deadline.
"""

import os
import signal
import subprocess
import sys
import time

import msgpack
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.structs import OffsetAndMetadata

DEADLINE = 30.0


# kafka-python 3.0.12 can lose a rebalance's outcome when `poll(timeout_ms)` expires while
# its JoinGroup/SyncGroup is in flight (the consumer ends up joined with no assignment), so
# polls here use generous timeouts; `poll` returns as soon as records arrive anyway.
POLL_MS = 500


def wait_until(cond, what, timeout=DEADLINE, consumers=()):
    """Polls `consumers` (which drives their group protocol) until `cond()` holds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for c in consumers:
            c.poll(timeout_ms=POLL_MS if len(consumers) == 1 else 100)
        if cond():
            return
        if not consumers:
            time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def consumer(cluster, *topics, **kw):
    kw.setdefault("bootstrap_servers", cluster.servers)
    kw.setdefault("consumer_timeout_ms", 10000)
    return KafkaConsumer(*topics, **kw)


def produce(cluster, topic, values, **kw):
    p = KafkaProducer(bootstrap_servers=cluster.servers, **kw)
    metas = [p.send(topic, v).get(timeout=30) for v in values]
    p.flush()
    p.close()
    return metas


def collect(c, n, timeout=DEADLINE):
    out = []
    end = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < end:
        for records in c.poll(timeout_ms=min(POLL_MS, int(timeout * 1000))).values():
            out.extend(records)
    return out


def test_c2_consumer_joins_a_group_and_consumes(cluster_factory):
    cluster = cluster_factory("--topic", "first:3")
    metas = produce(cluster, "first", [b"m%d" % i for i in range(30)])
    c = consumer(cluster, "first", group_id="group1", auto_offset_reset="earliest")
    got = collect(c, 30)
    assert sorted((r.partition, r.offset) for r in got) == sorted(
        (m.partition, m.offset) for m in metas
    )
    assert {tp.partition for tp in c.assignment()} == {0, 1, 2}
    c.commit()
    committed = {p: c.committed(TopicPartition("first", p)) for p in range(3)}
    ends = {}
    for m in metas:
        ends[m.partition] = max(ends.get(m.partition, 0), m.offset + 1)
    assert committed == {p: ends.get(p) for p in range(3)}
    c.close()


def test_c4_subscribe_to_several_topics(cluster_factory):
    cluster = cluster_factory("--topic", "my_topic:2", "--topic", "topic_1:1", "--topic", "other:1")
    produce(cluster, "my_topic", [b"a"])
    produce(cluster, "topic_1", [b"b"])
    produce(cluster, "other", [b"c"])
    c = consumer(cluster, group_id="g-c4", auto_offset_reset="earliest")
    c.subscribe(topics=["my_topic", "topic_1"])
    got = collect(c, 2)
    assert sorted((r.topic, r.value) for r in got) == [("my_topic", b"a"), ("topic_1", b"b")]
    assert {tp.topic for tp in c.assignment()} == {"my_topic", "topic_1"}
    c.close()


def test_c4_pattern_subscription_picks_up_a_topic_created_later(cluster_factory):
    cluster = cluster_factory("--topic", "my_first:1", "--topic", "your_topic:1")
    produce(cluster, "my_first", [b"one"])
    produce(cluster, "your_topic", [b"not for us"])
    c = consumer(cluster, group_id="g-pattern", auto_offset_reset="earliest", metadata_max_age_ms=300)
    c.subscribe(pattern="^my.*")
    got = collect(c, 1)
    assert [(r.topic, r.value) for r in got] == [("my_first", b"one")]
    admin = KafkaAdminClient(bootstrap_servers=cluster.servers)
    admin.create_topics([NewTopic("my_second", 1, 1)])
    admin.close()
    wait_until(
        lambda: TopicPartition("my_second", 0) in c.assignment(),
        "the new topic to be assigned",
        consumers=[c],
    )
    produce(cluster, "my_second", [b"two"])
    got = collect(c, 1)
    assert [(r.topic, r.offset, r.value) for r in got] == [("my_second", 0, b"two")]
    assert all(tp.topic != "your_topic" for tp in c.assignment())
    c.close()


def test_c5_msgpack_values(cluster_factory):
    cluster = cluster_factory("--topic", "msgpack-topic:1")
    docs = [{"key": "value", "n": i} for i in range(5)]
    produce(cluster, "msgpack-topic", docs, value_serializer=msgpack.dumps)
    c = consumer(
        cluster,
        "msgpack-topic",
        group_id="g-msgpack",
        auto_offset_reset="earliest",
        value_deserializer=msgpack.loads,
    )
    got = collect(c, 5)
    assert [r.value for r in got] == docs
    c.close()


@pytest.fixture
def hundred(cluster_factory):
    cluster = cluster_factory("--topic", "first:1")
    metas = produce(cluster, "first", [b"r%d" % i for i in range(100)])
    assert [m.offset for m in metas] == list(range(100))
    return cluster


def test_c6_new_group_earliest_starts_at_zero(hundred):
    c = consumer(hundred, "first", group_id="test2", auto_offset_reset="earliest")
    got = collect(c, 100)
    assert [r.offset for r in got] == list(range(100))
    assert got[0].value == b"r0"
    c.close()


def test_c6_new_group_latest_gets_only_new_records(hundred):
    c = consumer(hundred, "first", group_id="test3", auto_offset_reset="latest")
    tp = TopicPartition("first", 0)
    got = []

    def positioned():
        for records in c.poll(timeout_ms=POLL_MS).values():
            got.extend(records)
        return tp in c.assignment() and c.position(tp) == 100

    wait_until(positioned, "the consumer to sit at the log end")
    assert got == [], "nothing arrives before a new record is produced"
    produce(hundred, "first", [b"new"])
    got = collect(c, 1)
    assert [(r.offset, r.value) for r in got] == [(100, b"new")]
    assert collect(c, 1, timeout=0.5) == []
    c.close()


def test_c6_committed_offset_wins_over_reset_policy(hundred):
    tp = TopicPartition("first", 0)
    c = consumer(hundred, "first", group_id="test4", auto_offset_reset="earliest", enable_auto_commit=False)
    got = collect(c, 50)
    assert [r.offset for r in got[:50]] == list(range(50))
    c.commit({tp: OffsetAndMetadata(50, "", -1)})
    assert c.committed(tp) == 50
    c.close()
    again = consumer(hundred, "first", group_id="test4", auto_offset_reset="latest", enable_auto_commit=False)
    got = collect(again, 50)
    assert [r.offset for r in got] == list(range(50, 100)), "nothing skipped, nothing repeated"
    again.close()


def test_c6_reset_policy_only_applies_without_a_committed_offset(hundred):
    tp = TopicPartition("first", 0)
    # A committed offset exists: both policies start from it.
    for policy in ("earliest", "latest"):
        setup = consumer(hundred, group_id="test5", enable_auto_commit=False)
        setup.assign([tp])
        setup.commit({tp: OffsetAndMetadata(70, "", -1)})
        setup.close()
        c = consumer(hundred, "first", group_id="test5", auto_offset_reset=policy, enable_auto_commit=False)
        got = collect(c, 1)
        assert got[0].offset == 70, policy
        c.close()
    # No committed offset: the policy decides.
    c = consumer(hundred, "first", group_id="test6", auto_offset_reset="earliest")
    assert collect(c, 1)[0].offset == 0
    c.close()
    # A committed offset out of range: the policy decides again.
    setup = consumer(hundred, group_id="test7", enable_auto_commit=False)
    setup.assign([tp])
    setup.commit({tp: OffsetAndMetadata(500, "", -1)})
    setup.close()
    c = consumer(hundred, "first", group_id="test7", auto_offset_reset="earliest", enable_auto_commit=False)
    assert collect(c, 1)[0].offset == 0
    c.close()


def assignment_of(c):
    return {tp.partition for tp in c.assignment()}


def test_two_consumers_split_partitions_and_one_takes_over_on_close(cluster_factory):
    cluster = cluster_factory("--topic", "split:4")
    a = consumer(cluster, "split", group_id="g-split")
    wait_until(lambda: assignment_of(a) == {0, 1, 2, 3}, "a to own every partition", consumers=[a])
    b = consumer(cluster, "split", group_id="g-split")
    wait_until(
        lambda: assignment_of(a) and assignment_of(b)
        and assignment_of(a) | assignment_of(b) == {0, 1, 2, 3}
        and not assignment_of(a) & assignment_of(b),
        "the partitions to be split",
        consumers=[a, b],
    )
    assert len(assignment_of(a)) == 2 and len(assignment_of(b)) == 2
    b.close()
    wait_until(lambda: assignment_of(a) == {0, 1, 2, 3}, "a to take every partition back", consumers=[a])
    a.close()


DEAD_CONSUMER = r"""
import sys
from kafka import KafkaConsumer
c = KafkaConsumer("dead", group_id="g-dead", bootstrap_servers=sys.argv[1].split(","),
                  session_timeout_ms=1500, heartbeat_interval_ms=200)
while True:
    c.poll(timeout_ms=100)
    parts = sorted(tp.partition for tp in c.assignment())
    print("assigned", parts, flush=True)
"""


def test_a_consumer_that_dies_without_leaving_is_expired(cluster_factory):
    cluster = cluster_factory("--topic", "dead:4")
    child = subprocess.Popen(
        [sys.executable, "-c", DEAD_CONSUMER, cluster.bootstrap],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        a = consumer(cluster, "dead", group_id="g-dead", session_timeout_ms=1500, heartbeat_interval_ms=200)
        wait_until(lambda: len(assignment_of(a)) == 2, "the partitions to be split", consumers=[a])
        end = time.monotonic() + DEADLINE
        # The child sees its half too.
        while time.monotonic() < end:
            line = child.stdout.readline()
            if line.startswith("assigned") and line.count(",") == 1:
                break
        else:
            raise AssertionError("child never got its partitions")
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        killed = time.monotonic()
        wait_until(lambda: assignment_of(a) == {0, 1, 2, 3}, "the dead member's partitions to move", consumers=[a])
        # Removed by its session timeout, not earlier than Kafka would.
        assert time.monotonic() - killed >= 1.0
        a.close()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def java_hash(s):
    h = 0
    b = s.encode("utf-16-be")
    for i in range(0, len(b), 2):
        h = (h * 31 + int.from_bytes(b[i:i + 2], "big")) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def coordinator_of(group, brokers=3):
    """Kafka's partitionFor(group) over 50 offsets partitions, led round-robin at start."""
    h = java_hash(group)
    return (0 if h == -(1 << 31) else abs(h)) % 50 % brokers


class Controlled:
    """The binary started with a stdin pipe for its control commands."""

    def __init__(self, *args):
        from conftest import binary_path

        self.proc = subprocess.Popen(
            [binary_path(), "--base-port", "0", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        bootstrap = None
        for line in self.proc.stdout:
            if line.startswith("bootstrap.servers="):
                bootstrap = line.strip().split("=", 1)[1]
            if line.strip() == "mockafka ready":
                break
        self.servers = bootstrap.split(",")

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        assert answer.startswith("ok"), f"{line}: {answer}"
        return dict(kv.split("=", 1) for kv in answer.split()[1:])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.mark.parametrize("how", ["stop-broker", "move-coordinator"])
def test_consumers_rediscover_the_coordinator_and_keep_their_offsets(how):
    cluster = Controlled("--topic", "fo:2")
    try:
        group = "g-failover"
        p = KafkaProducer(bootstrap_servers=cluster.servers)
        for i in range(10):
            p.send("fo", b"a%d" % i).get(timeout=30)
        c = KafkaConsumer("fo", bootstrap_servers=cluster.servers, group_id=group, auto_offset_reset="earliest",
                          enable_auto_commit=False)
        got = collect(c, 10)
        assert len(got) == 10
        c.commit()
        before = cluster.command(f"group {group}")
        assert before["state"] == "Stable" and before["members"] == "1"
        old = int(before["coordinator"])
        assert old == coordinator_of(group)
        if how == "stop-broker":
            cluster.command(f"stop-broker {old}")
        else:
            cluster.command(f"move-coordinator {group} {(old + 1) % 3}")
        after = cluster.command(f"group {group}")
        assert int(after["coordinator"]) != old
        assert after["generation"] == before["generation"], "the group was reloaded, not rebuilt"
        # A fresh producer: kafka-python 3.0.12's sender thread can die on stale metadata
        # naming a stopped broker (UnknownBrokerIdError), which is not what this test is about.
        p.close()
        p = KafkaProducer(bootstrap_servers=cluster.servers)
        for i in range(10):
            p.send("fo", b"b%d" % i).get(timeout=30)
        got = collect(c, 10)
        assert sorted(r.value for r in got) == sorted(b"b%d" % i for i in range(10)), "nothing lost or repeated"
        c.commit()
        ends = {tp.partition: c.position(tp) for tp in c.assignment()}
        c.close()
        committed = {pt: int(cluster.command(f"committed {group} fo {pt}")["offset"]) for pt in (0, 1)}
        assert committed == ends and sum(committed.values()) == 20
        check = KafkaConsumer(bootstrap_servers=cluster.servers, group_id=group)
        assert {pt: check.committed(TopicPartition("fo", pt)) for pt in (0, 1)} == committed
        check.close()
        p.close()
    finally:
        cluster.stop()


def test_admin_lists_describes_alters_and_deletes_groups(cluster_factory):
    from kafka.admin import KafkaAdminClient
    import kafka.errors as Errors

    cluster = cluster_factory("--topic", "adm:2")
    produce(cluster, "adm", [b"x"] * 4)
    c = consumer(cluster, "adm", group_id="g-admin", auto_offset_reset="earliest", enable_auto_commit=False)
    assert len(collect(c, 4)) == 4
    c.commit()
    admin = KafkaAdminClient(bootstrap_servers=cluster.servers)
    try:
        listed = admin.list_groups(states_filter=["Stable"])
        assert [(g["group_id"], g["protocol_type"], g["group_state"]) for g in listed] == [
            ("g-admin", "consumer", "Stable")
        ]
        assert admin.list_groups(states_filter=["Empty"]) == []
        d = admin.describe_groups(["g-admin"])["g-admin"]
        assert (d["group_state"], d["protocol_data"], len(d["members"])) == ("Stable", "range", 1)
        assert d["members"][0]["client_host"] == "/127.0.0.1"
        ends = {tp: c.position(tp) for tp in c.assignment()}
        offsets = admin.list_group_offsets({"g-admin": None})["g-admin"]
        assert {tp: o.offset for tp, o in offsets.items()} == ends
        # While the consumer is in the group: not deletable, nor its topic's offsets.
        assert admin.delete_groups(["g-admin"]) == {"g-admin": "NonEmptyGroupError"}
        tp0, tp1 = TopicPartition("adm", 0), TopicPartition("adm", 1)
        assert admin.delete_group_offsets("g-admin", [tp0]) == {tp0: Errors.GroupSubscribedToTopicError}
        c.close()
        assert admin.alter_group_offsets("g-admin", {tp0: OffsetAndMetadata(1, "", -1)}) == {tp0: Errors.NoError}
        assert admin.delete_group_offsets("g-admin", [tp1]) == {tp1: Errors.NoError}
        offsets = admin.list_group_offsets({"g-admin": None})["g-admin"]
        assert {tp: o.offset for tp, o in offsets.items()} == {tp0: 1}
        assert admin.delete_groups(["g-admin", "nope"]) == {"g-admin": "OK", "nope": "GroupIdNotFoundError"}
        assert admin.list_groups() == []
    finally:
        admin.close()
