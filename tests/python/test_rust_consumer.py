"""Cross-client checks: records produced by kafka-python are read with the mockafka Rust
consumer (the `consume` example of crates/mockafka-client), and a Rust consumer shares a
group with a kafka-python consumer (both use the standard consumer protocol embedding).

Covers C1, C3, C5 and the four C6 offset-reset scenarios of shared/SEED_BEHAVIOURS.md
from the Rust consumer's side, with every compression codec kafka-python writes.
"""

import json
import queue
import subprocess
import threading
import time
from pathlib import Path

import msgpack
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.structs import OffsetAndMetadata

ROOT = Path(__file__).resolve().parents[2]


def consume_binary():
    # The newest build wins, so that a stale release build never hides a fix.
    found = [ROOT / "target" / p / "examples" / "consume" for p in ("release", "debug")]
    found = [p for p in found if p.exists()]
    if not found:
        subprocess.run(["cargo", "build", "-q", "-p", "mockafka-client", "--example", "consume"],
                       cwd=ROOT, check=True)
        return str(ROOT / "target" / "debug" / "examples" / "consume")
    return str(max(found, key=lambda p: p.stat().st_mtime))


def rust_consume(bootstrap, *args, timeout=60):
    out = subprocess.run([consume_binary(), "--bootstrap", bootstrap, *args],
                         check=True, capture_output=True, text=True, timeout=timeout).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


class RustConsumer:
    """A long-running `consume --until-stdin-closes`, its output lines in a queue."""

    def __init__(self, bootstrap, *args):
        self.proc = subprocess.Popen(
            [consume_binary(), "--bootstrap", bootstrap, "--until-stdin-closes", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            if line.strip():
                self.lines.put(json.loads(line))

    def next_line(self, pred, timeout=30, while_waiting=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if while_waiting:
                while_waiting()
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if pred(line):
                return line
        raise AssertionError("timed out waiting for the rust consumer")

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        assert self.proc.returncode == 0, self.proc.stderr.read()


def create_topic(bootstrap, name, partitions):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    admin.create_topics([NewTopic(name, partitions, 1)])
    admin.close()


def python_produce(bootstrap, topic, count, start=0, partition=None, **kw):
    p = KafkaProducer(bootstrap_servers=bootstrap.split(","), **kw)
    for i in range(start, start + count):
        p.send(topic, key=f"k{i}".encode(), value=f"m{i}".encode(), partition=partition,
               headers=[("h", b"1"), ("h", b"2")])
    p.flush()
    p.close()


@pytest.mark.parametrize("codec", [None, "gzip", "snappy", "lz4", "zstd"])
def test_c1_records_from_kafka_python_arrive_whole(mockafka_cluster, codec):
    b = mockafka_cluster.bootstrap
    topic = f"first-{codec or 'none'}"
    create_topic(b, topic, 3)
    python_produce(b, topic, 30, compression_type=codec)
    got = rust_consume(b, "--topic", topic, "--reset", "earliest", "--timeout-ms", "1000")
    assert sorted(r["value"] for r in got) == sorted(f"m{i}" for i in range(30))
    for r in got:
        assert r["key"] == "k" + r["value"][1:]
        assert r["headers"] == [["h", "1"], ["h", "2"]]
        assert r["timestamp_type"] == "create_time"
    for p in range(3):
        offsets = [r["offset"] for r in got if r["partition"] == p]
        assert offsets == list(range(len(offsets)))


def test_c3_manual_assignment_reads_only_that_partition(mockafka_cluster):
    b = mockafka_cluster.bootstrap
    create_topic(b, "first", 3)
    for p in range(3):
        python_produce(b, "first", 5, start=p * 100, partition=p)
    got = rust_consume(b, "--topic", "first", "--assign", "2", "--reset", "earliest",
                       "--timeout-ms", "1000")
    assert [r["value"] for r in got] == [f"m{i}" for i in range(200, 205)]
    assert {r["partition"] for r in got} == {2}


def test_c5_msgpack_values_from_kafka_python(mockafka_cluster):
    b = mockafka_cluster.bootstrap
    p = KafkaProducer(bootstrap_servers=b.split(","), value_serializer=msgpack.dumps)
    p.send("msgpack-topic", {"key": "value", "n": [1, 2]})
    p.flush()
    p.close()
    got = rust_consume(b, "--topic", "msgpack-topic", "--reset", "earliest", "--msgpack",
                       "--count", "1")
    assert got[0]["value"] == {"key": "value", "n": [1, 2]}


def test_c6_the_four_offset_reset_scenarios(mockafka_cluster):
    b = mockafka_cluster.bootstrap
    create_topic(b, "first", 1)
    python_produce(b, "first", 100, partition=0)

    # test2: a new group with earliest starts at offset 0.
    got = rust_consume(b, "--topic", "first", "--group", "test2", "--reset", "earliest",
                       "--count", "100")
    assert [r["offset"] for r in got] == list(range(100))

    # test3: a new group with latest: nothing arrives, the position is the log end (100),
    # and a record appended afterwards arrives at exactly offset 100.
    c = RustConsumer(b, "--topic", "first", "--group", "test3", "--reset", "latest",
                     "--print-assignment", "--print-positions")
    pos = c.next_line(lambda line: "position" in line)
    assert pos["position"] == ["first", 0, 100]
    python_produce(b, "first", 1, start=100, partition=0)
    rec = c.next_line(lambda line: "offset" in line)
    assert (rec["offset"], rec["value"]) == (100, "m100")
    c.close()

    # test4: earliest, 50 consumed and committed, closed; restarted with latest it
    # continues at 50.
    got = rust_consume(b, "--topic", "first", "--group", "test4", "--reset", "earliest",
                       "--count", "50", "--commit")
    assert [r["offset"] for r in got] == list(range(50))
    k = KafkaConsumer(bootstrap_servers=b.split(","), group_id="test4",
                      enable_auto_commit=False)
    assert k.committed(TopicPartition("first", 0)) == 50
    k.close()
    got = rust_consume(b, "--topic", "first", "--group", "test4", "--reset", "latest",
                       "--timeout-ms", "1500")
    assert [r["offset"] for r in got] == list(range(50, 101))

    # In general: once committed (here by kafka-python), the policy is irrelevant.
    for reset in ("earliest", "latest", "none"):
        k = KafkaConsumer(bootstrap_servers=b.split(","), group_id=f"general-{reset}",
                          enable_auto_commit=False)
        k.commit({TopicPartition("first", 0): OffsetAndMetadata(30, "", -1)})
        k.close()
        got = rust_consume(b, "--topic", "first", "--group", f"general-{reset}",
                           "--reset", reset, "--count", "1")
        assert got[0]["offset"] == 30, reset


def test_a_rust_and_a_kafka_python_consumer_split_a_group(mockafka_cluster):
    b = mockafka_cluster.bootstrap
    create_topic(b, "mixed", 4)
    python_produce(b, "mixed", 40)
    rust = RustConsumer(b, "--topic", "mixed", "--group", "mixed", "--reset", "earliest",
                        "--print-assignment", "--strategy", "range")
    first = rust.next_line(lambda line: len(line.get("assignment", [])) == 4)
    assert sorted(p for _, p in first["assignment"]) == [0, 1, 2, 3]
    py = KafkaConsumer("mixed", bootstrap_servers=b.split(","), group_id="mixed",
                       auto_offset_reset="earliest", heartbeat_interval_ms=100)
    seen_py = []

    def poll_py():
        for recs in py.poll(timeout_ms=100).values():
            seen_py.extend(recs)

    split = rust.next_line(lambda line: len(line.get("assignment", [])) == 2,
                           while_waiting=poll_py)
    deadline = time.monotonic() + 30
    while len(py.assignment()) != 2 and time.monotonic() < deadline:
        poll_py()
    rust_parts = {p for _, p in split["assignment"]}
    py_parts = {tp.partition for tp in py.assignment()}
    assert len(py_parts) == 2
    assert rust_parts.isdisjoint(py_parts)
    assert rust_parts | py_parts == {0, 1, 2, 3}
    # When the Rust consumer leaves, kafka-python gets every partition.
    rust.close()
    deadline = time.monotonic() + 30
    while len(py.assignment()) != 4 and time.monotonic() < deadline:
        poll_py()
    assert {tp.partition for tp in py.assignment()} == {0, 1, 2, 3}
    py.close()


def test_a_kafka_python_leader_assigns_partitions_to_a_rust_member(mockafka_cluster):
    b = mockafka_cluster.bootstrap
    create_topic(b, "pyleader", 4)
    python_produce(b, "pyleader", 40)
    py = KafkaConsumer("pyleader", bootstrap_servers=b.split(","), group_id="pyleader",
                       auto_offset_reset="earliest", heartbeat_interval_ms=100,
                       enable_auto_commit=False)
    seen_py = []

    def poll_py():
        for recs in py.poll(timeout_ms=100).values():
            seen_py.extend(recs)

    deadline = time.monotonic() + 30
    while len(py.assignment()) != 4 and time.monotonic() < deadline:
        poll_py()
    assert len(py.assignment()) == 4
    # kafka-python is the leader and runs its range assignor; the Rust member reads the
    # assignment it was handed.
    rust = RustConsumer(b, "--topic", "pyleader", "--group", "pyleader", "--reset",
                        "earliest", "--print-assignment", "--strategy", "range")
    split = rust.next_line(lambda line: len(line.get("assignment", [])) == 2,
                           while_waiting=poll_py)
    deadline = time.monotonic() + 30
    while len(py.assignment()) != 2 and time.monotonic() < deadline:
        poll_py()
    rust_parts = {p for _, p in split["assignment"]}
    py_parts = {tp.partition for tp in py.assignment()}
    assert rust_parts.isdisjoint(py_parts)
    assert rust_parts | py_parts == {0, 1, 2, 3}
    # The Rust member reads the records of its partitions.
    rec = rust.next_line(lambda line: "offset" in line, while_waiting=poll_py)
    assert rec["partition"] in rust_parts
    rust.close()
    py.close()


def test_c4_pattern_subscription_sees_a_topic_kafka_python_creates_later(mockafka_cluster):
    b = mockafka_cluster.bootstrap
    create_topic(b, "my_topic", 1)
    create_topic(b, "topic_1", 1)
    python_produce(b, "topic_1", 3)
    rust = RustConsumer(b, "--pattern", "^my.*", "--group", "pattern", "--reset", "earliest",
                        "--print-assignment")
    rust.next_line(lambda line: line.get("assignment") == [["my_topic", 0]])
    create_topic(b, "my_new", 1)
    python_produce(b, "my_new", 1)
    rust.next_line(lambda line: sorted(map(tuple, line.get("assignment", []))) ==
                   [("my_new", 0), ("my_topic", 0)])
    rec = rust.next_line(lambda line: "offset" in line)
    assert (rec["topic"], rec["value"]) == ("my_new", "m0")
    rust.close()
