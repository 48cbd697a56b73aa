"""Bad input: a burst of garbage frames on some connections while a kafka-python producer
and consumer keep working on others, with every record intact."""

import random
import socket
import struct
import threading

from cluster_helpers import consume, producer, stored_records


def garbage_frames(rng):
    """Frames a confused or hostile client might send."""
    body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
    kind = rng.randint(0, 4)
    if kind == 0:  # a valid size, noise inside
        return struct.pack(">i", len(body)) + body
    if kind == 1:  # a real header (Produce v9, Fetch v12, Metadata v12), noise body
        key, version = rng.choice([(0, 9), (1, 12), (3, 12), (18, 3)])
        head = struct.pack(">hhi", key, version, rng.randint(0, 1 << 30)) + b"\x00\x00\x00"
        return struct.pack(">i", len(head) + len(body)) + head + body
    if kind == 2:  # negative or zero size
        return struct.pack(">i", -rng.randint(0, 1 << 30)) + body
    if kind == 3:  # a huge size, then nothing
        return struct.pack(">i", 0x7FFFFFFF) + body
    return body  # no framing at all


def send_garbage(host, port, seed, stop):
    rng = random.Random(seed)
    while not stop.is_set():
        try:
            with socket.create_connection((host, port), timeout=5) as s:
                for _ in range(rng.randint(1, 20)):
                    s.sendall(garbage_frames(rng))
        except OSError:
            pass  # the broker closed the connection, as it should


def test_garbage_bursts_leave_other_clients_and_records_intact(cluster_factory):
    cluster = cluster_factory("--topic", "first:3")
    stop = threading.Event()
    threads = []
    for i, server in enumerate(cluster.servers):
        host, port = server.rsplit(":", 1)
        t = threading.Thread(target=send_garbage, args=(host, int(port), i, stop))
        t.start()
        threads.append(t)
    try:
        p = producer(cluster, compression_type="lz4")
        sent = []
        for i in range(300):
            value = b"value-%d" % i
            meta = p.send("first", key=b"k%d" % i, value=value, headers=[("i", b"%d" % i)]).get(
                timeout=30
            )
            sent.append((meta.partition, meta.offset, value))
        p.close()
        got = consume(cluster, "first", 300)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert sorted((m.partition, m.offset, m.value) for m in got) == sorted(sent)
    for m in got:
        assert m.headers == [("i", m.value.split(b"-")[1])]
    for part in range(3):
        stored = stored_records(cluster, "first", part)
        assert [(r["offset"], r["value"]) for r in stored] == sorted(
            (o, v) for p, o, v in sent if p == part
        )
    # The cluster is still serving.
    assert cluster.process.poll() is None
