"""Fault injection through the binary's JSON control API, with kafka-python.

Injected NOT_LEADER_OR_FOLLOWER, "outcome unknown" answers (applied, then failed or
dropped) and a broker crash during a produce loop: every record is stored exactly once, in
order (kafka-python's idempotent producer retries, the broker recognises the duplicates).
A consumer keeps its position through injected fetch errors, a leader crash and a
coordinator move. Every wait is a condition with a deadline.
"""

import socket
import time
import urllib.parse

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from conftest import ControlError

DEADLINE = 30.0
POLL_MS = 500


def producer(cluster, **kw):
    kw.setdefault("bootstrap_servers", cluster.servers)
    kw.setdefault("enable_idempotence", True)
    kw.setdefault("acks", "all")
    kw.setdefault("retries", 50)
    kw.setdefault("retry_backoff_ms", 20)
    kw.setdefault("request_timeout_ms", 10000)
    return KafkaProducer(**kw)


def values_of(records):
    return [r["value"] for r in records]


def test_control_api_reads_state_and_rejects_bad_input(mockafka_control):
    ctl = mockafka_control.control
    assert [b["running"] for b in ctl.brokers()] == [True, True, True]
    topic = ctl.call("POST", "/topics", {"name": "made", "partitions": 2})
    assert [p["high_watermark"] for p in topic["partitions"]] == [0, 0]
    for bad in (
        {"api_key": "Produce"},
        {"api_key": "NoSuchApi", "action": "close"},
        {"api_key": "Produce", "action": "error", "error": "NOT_AN_ERROR"},
        {"api_key": "Produce", "action": "explode"},
        {"api_key": "Produce", "action": "delay", "delay_ms": -5},
        {"api_key": "Produce", "action": "close", "partition": 1},
    ):
        try:
            ctl.add_fault(**bad)
        except ControlError as e:
            assert e.status == 400, e
        else:
            raise AssertionError(f"accepted {bad}")
    for method, path, status in (
        ("GET", "/topics/nope", 404),
        ("GET", "/groups/nope", 404),
        ("POST", "/brokers/9/crash", 404),
        ("GET", "/no/such/endpoint", 404),
        ("GET", "/topics/made/partitions/x", 400),
    ):
        try:
            ctl.call(method, path)
        except ControlError as e:
            assert e.status == status, (path, e)
        else:
            raise AssertionError(f"{method} {path} answered 200")
    fid = ctl.add_fault(api_key="Fetch", action="delay", delay_ms=10, times="always")
    assert [f["id"] for f in ctl.faults()] == [fid]
    ctl.clear_faults()
    assert ctl.faults() == []


def raw_http(url, data):
    """Sends raw bytes to the control port; returns the status line of the answer."""
    u = urllib.parse.urlparse(url)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0].decode()


def test_garbage_on_the_control_port_gets_a_4xx_and_the_api_keeps_serving(mockafka_control):
    ctl = mockafka_control.control
    for data, status in (
        (b"\x00\xff garbage\r\n\r\n", "400"),
        (b"GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", "413"),
        (b"POST /faults HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "411"),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n", "431"),
        (b"POST /faults HTTP/1.1\r\nContent-Length: 5\r\n\r\n[1,2]", "400"),
        (b"POST /faults HTTP/1.1\r\nContent-Length: 4\r\n\r\n\xff\xfe{}", "400"),
    ):
        assert raw_http(ctl.url, data).split(" ")[1] == status, data[:40]
    assert len(ctl.brokers()) == 3


def test_injected_errors_and_lost_answers_in_a_produce_loop_store_every_record_once(cluster_factory):
    cluster = cluster_factory("--topic", "t:1", control=True)
    ctl = cluster.control
    p = producer(cluster)
    sent = []
    faults = {}
    for i in range(60):
        if i == 10:
            faults["not_leader"] = ctl.add_fault(
                api_key="Produce", action="error", error="NOT_LEADER_OR_FOLLOWER", topic="t", times=3
            )
        if i == 30:
            faults["applied_then_failed"] = ctl.add_fault(
                api_key="Produce", action="apply_then_error", error="REQUEST_TIMED_OUT", times=2
            )
        if i == 45:
            faults["applied_then_dropped"] = ctl.add_fault(api_key="Produce", action="apply_then_close")
        value = b"v%03d" % i
        meta = p.send("t", value).get(timeout=DEADLINE)
        sent.append(value.decode())
        assert meta.offset == i
    p.close()
    assert {k: ctl.fault_applied(v) for k, v in faults.items()} == {
        "not_leader": 3,
        "applied_then_failed": 2,
        "applied_then_dropped": 1,
    }
    assert values_of(ctl.records("t", 0)) == sent
    assert ctl.partition("t", 0)["high_watermark"] == 60
    errors = [r["error"] for r in ctl.requests(api_key="Produce") if r["error"]]
    assert errors == ["NOT_LEADER_OR_FOLLOWER"] * 3 + ["REQUEST_TIMED_OUT"] * 2


def test_a_broker_crash_in_a_produce_loop_loses_and_repeats_nothing(cluster_factory):
    cluster = cluster_factory("--topic", "t:3", control=True)
    ctl = cluster.control
    p = producer(cluster)
    sent = {0: [], 1: [], 2: []}
    before = ctl.partition("t", 0)
    for i in range(90):
        if i == 40:
            ctl.crash_broker(before["leader"])
        value = b"v%03d" % i
        meta = p.send("t", value, partition=i % 3).get(timeout=DEADLINE)
        sent[meta.partition].append(value.decode())
    p.close()
    after = ctl.partition("t", 0)
    assert after["leader"] != before["leader"]
    assert after["leader_epoch"] > before["leader_epoch"]
    for part in range(3):
        assert values_of(ctl.records("t", part)) == sent[part]
    ctl.restart_broker(before["leader"])
    assert all(b["running"] for b in ctl.brokers())


def collect(consumer, n, timeout=DEADLINE):
    out = []
    end = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < end:
        for records in consumer.poll(timeout_ms=POLL_MS).values():
            out.extend(records)
    return out


def test_a_consumer_keeps_its_position_through_fetch_errors_a_crash_and_a_coordinator_move(
    cluster_factory,
):
    cluster = cluster_factory("--topic", "t:1", control=True)
    ctl = cluster.control
    p = producer(cluster)
    for i in range(20):
        p.send("t", b"v%03d" % i)
    p.flush()
    c = KafkaConsumer(
        "t",
        bootstrap_servers=cluster.servers,
        group_id="g",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        retry_backoff_ms=20,
    )
    first = collect(c, 20)
    assert [r.value for r in first] == [b"v%03d" % i for i in range(20)]
    c.commit()
    fetch_fault = ctl.add_fault(
        api_key="Fetch", action="error", error="NOT_LEADER_OR_FOLLOWER", topic="t", times=3
    )
    leader = ctl.partition("t", 0)["leader"]
    ctl.crash_broker(leader)
    live = [b["id"] for b in ctl.brokers() if b["running"]]
    target = next(b for b in live if b != ctl.group("g")["coordinator"])
    ctl.move_coordinator("g", target)
    for i in range(20, 40):
        p.send("t", b"v%03d" % i)
    p.flush()
    second = collect(c, 20)
    assert [r.value for r in second] == [b"v%03d" % i for i in range(20, 40)]
    assert c.position(TopicPartition("t", 0)) == 40
    c.commit()
    group = ctl.group("g")
    assert group["coordinator"] == target
    assert [o["offset"] for o in group["committed_offsets"]] == [40]
    assert ctl.fault_applied(fetch_fault) == 3
    c.close()
    p.close()
    ctl.restart_broker(leader)
