"""Benchmark: time from a new kafka-python consumer's construction to its first record in a
new group (bootstrap + FindCoordinator + JoinGroup + SyncGroup + OffsetFetch + Fetch).

Not collected by pytest. Run (after `cargo build --release --bin mockafka`):

    MOCKAFKA_BIN=target/release/mockafka /work/main/.venv/bin/python tests/python/bench_groups.py

Prints the median (and min/max) over ROUNDS rounds of: one consumer alone, and ten
consumers constructed at once in one group (each consumer's time to its first record,
and the time until all ten have one).
"""

import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from conftest import start_cluster  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "15"))
GROUP_ROUNDS = int(os.environ.get("GROUP_ROUNDS", "7"))


def first_record(servers, topic, group, out, i, start_evt=None, **kw):
    if start_evt is not None:
        start_evt.wait()
    t0 = time.perf_counter()
    c = KafkaConsumer(topic, bootstrap_servers=servers, group_id=group, auto_offset_reset="earliest", **kw)
    deadline = t0 + 30
    while time.perf_counter() < deadline:
        if c.poll(timeout_ms=1000, max_records=1):
            out[i] = time.perf_counter() - t0
            break
    return c


def fmt(xs):
    missed = sum(1 for x in xs if x is None)
    xs = sorted(x for x in xs if x is not None)
    if missed:
        return f"median {statistics.median(xs) * 1000:.1f} ms over {len(xs)}; {missed} got no record in 30 s"
    return f"median {statistics.median(xs) * 1000:.1f} ms (min {xs[0] * 1000:.1f}, max {xs[-1] * 1000:.1f}, n={len(xs)})"


def main():
    cluster = start_cluster("--topic", "bench1:1", "--topic", "bench10:10")
    try:
        p = KafkaProducer(bootstrap_servers=cluster.servers)
        p.send("bench1", b"x").get(timeout=30)
        for part in range(10):
            p.send("bench10", b"x", partition=part).get(timeout=30)
        p.close()

        single = []
        for r in range(ROUNDS):
            out = [None]
            c = first_record(cluster.servers, "bench1", f"single-{r}", out, 0)
            single.append(out[0])
            c.close()
        print("1 consumer, new group, construction -> first record:", fmt(single))

        # With no initial rebalance delay the first member completes a generation alone and
        # the others' joins start a new rebalance, which a Stable member learns of from its
        # next heartbeat: kafka-python's heartbeat.interval.ms (3 s by default) dominates.
        for label, kw in (("default heartbeat.interval.ms=3000", {}),
                          ("heartbeat.interval.ms=100", {"heartbeat_interval_ms": 100})):
            each, all_ten = [], []
            for r in range(GROUP_ROUNDS):
                out = [None] * 10
                consumers = [None] * 10
                go = threading.Event()
                group = f"ten-{len(kw)}-{r}"

                def run(i):
                    consumers[i] = first_record(cluster.servers, "bench10", group, out, i, go, **kw)

                threads = [threading.Thread(target=run, args=(i,)) for i in range(10)]
                for t in threads:
                    t.start()
                t0 = time.perf_counter()
                go.set()
                for t in threads:
                    t.join()
                all_ten.append(time.perf_counter() - t0)
                each.extend(out)
                for c in consumers:
                    c.close()
            print(f"10 consumers at once, one new group ({label}), each -> its first record:", fmt(each))
            print(f"10 consumers at once, one new group ({label}), until all ten have one:", fmt(all_ten))
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
