#!/usr/bin/env python3
"""Producer benchmark: the mockafka Rust client and kafka-python, same workload, same run.

Starts a mockafka cluster (the `mockafka` binary, 3 brokers on ephemeral ports) unless
--bootstrap names one, then for each compression (none, lz4):
  * runs `producer_bench` (the Rust example, release build) : N records of 100 B, acks=all
  * runs kafka-python's KafkaProducer on the same workload (acks=all, same batch size and
    linger), timed from the first send to the end of flush()
and finally send-to-ack latency of single records for both (linger 0, p50/p99).

    cargo build --release --bin mockafka -p mockafka -p mockafka-client --example producer_bench
    /work/main/.venv/bin/python crates/mockafka-client/bench/producer_bench.py --records 200000

Prints one JSON line per measurement and a table at the end.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchlib import rust, start_cluster

ROOT = Path(__file__).resolve().parents[3]


def python_throughput(bootstrap, records, size, codec, batch_size):
    from kafka import KafkaProducer
    topic = f"bench-python-{codec}"
    p = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all",
                      compression_type=None if codec == "none" else codec,
                      batch_size=batch_size, linger_ms=5)
    p.partitions_for(topic)
    payload = bytes(b"abcdefghij0123456789 "[i % 21] for i in range(size))
    start = time.perf_counter()
    for _ in range(records):
        p.send(topic, payload)
    p.flush()
    secs = time.perf_counter() - start
    p.close()
    rps = records / secs
    return {"client": "kafka-python", "kind": "throughput", "compression": codec,
            "records": records, "size": size, "seconds": secs, "records_per_s": rps,
            "mb_per_s": rps * size / 1e6}


def python_latency(bootstrap, samples, size):
    from kafka import KafkaProducer
    topic = "bench-python-latency"
    p = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all", linger_ms=0)
    p.partitions_for(topic)
    payload = b"x" * size
    lat = []
    for _ in range(samples):
        t = time.perf_counter()
        p.send(topic, payload).get(timeout=60)
        lat.append(time.perf_counter() - t)
    p.close()
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, round((len(lat) - 1) * q))] * 1e6
    return {"client": "kafka-python", "kind": "latency", "samples": samples,
            "p50_us": pick(0.5), "p99_us": pick(0.99)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap")
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--python-records", type=int, default=None,
                    help="records for kafka-python (default: same as --records)")
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=16384)
    ap.add_argument("--latency", type=int, default=2000)
    ap.add_argument("--bench", default=str(ROOT / "target/release/examples/producer_bench"))
    ap.add_argument("--mockafka", default=os.environ.get("MOCKAFKA_BIN",
                                                         str(ROOT / "target/release/mockafka")))
    a = ap.parse_args()
    proc = None
    bootstrap = a.bootstrap
    if not bootstrap:
        proc, bootstrap = start_cluster(a.mockafka)
    results = []
    try:
        for codec in ("none", "lz4"):
            for r in rust(a.bench, bootstrap, "--records", str(a.records), "--size",
                          str(a.size), "--compression", codec, "--batch-size",
                          str(a.batch_size)):
                results.append(r)
                print(json.dumps(r), flush=True)
            r = python_throughput(bootstrap, a.python_records or a.records, a.size, codec,
                                  a.batch_size)
            results.append(r)
            print(json.dumps(r), flush=True)
        for r in rust(a.bench, bootstrap, "--records", "0", "--latency", str(a.latency),
                      "--size", str(a.size)):
            results.append(r)
            print(json.dumps(r), flush=True)
        r = python_latency(bootstrap, a.latency, a.size)
        results.append(r)
        print(json.dumps(r), flush=True)
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=10)
    print()
    print(f"{'client':16} {'measure':22} {'value':>14}")
    for r in results:
        if r["kind"] == "throughput":
            print(f"{r['client']:16} {'records/s ' + r['compression']:22} {r['records_per_s']:14,.0f}")
            print(f"{r['client']:16} {'MB/s ' + r['compression']:22} {r['mb_per_s']:14.1f}")
        else:
            print(f"{r['client']:16} {'latency p50 us':22} {r['p50_us']:14.0f}")
            print(f"{r['client']:16} {'latency p99 us':22} {r['p99_us']:14.0f}")


if __name__ == "__main__":
    sys.exit(main())
