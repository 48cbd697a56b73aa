#!/usr/bin/env python3
"""Consumer benchmark: the mockafka Rust consumer and kafka-python, same data, same run.

Starts a mockafka cluster (the `mockafka` binary, 3 brokers on ephemeral ports) unless
--bootstrap names one, creates topic `bench` (3 partitions), seeds it with N records of
100 B (our producer, uncompressed), then:
  * throughput from offset 0 of every partition, no group, construction to the N-th
    record: `consumer_bench --records N` (the Rust example, release build), and
    kafka-python's KafkaConsumer (assign, seek_to_beginning, iterate), alternating
    `--rounds` times;
  * new-group latency: construction to first record of a consumer that subscribes in a
    new group and reads from the earliest offset (join + sync + offset fetch + list
    offsets + fetch), median and p90 over `--latency` samples, both clients.

    cargo build --release --bin mockafka -p mockafka -p mockafka-client --example consumer_bench
    /work/main/.venv/bin/python crates/mockafka-client/bench/consumer_bench.py --records 1000000

Prints one JSON line per measurement and a table at the end.
"""

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

from benchlib import rust, start_cluster

ROOT = Path(__file__).resolve().parents[3]


def python_throughput(bootstrap, topic, partitions, records):
    from kafka import KafkaConsumer, TopicPartition
    start = time.perf_counter()
    c = KafkaConsumer(bootstrap_servers=bootstrap.split(","), auto_offset_reset="earliest",
                      enable_auto_commit=False)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    got = 0
    size = 0
    for msg in c:
        got += 1
        size += len(msg.value)
        if got >= records:
            break
    secs = time.perf_counter() - start
    c.close()
    return {"client": "kafka-python", "records": got, "partitions": partitions,
            "seconds": secs, "records_per_s": got / secs, "mb_per_s": size / secs / 1e6}


def python_latency(bootstrap, topic, k):
    from kafka import KafkaConsumer
    samples = []
    for i in range(k):
        start = time.perf_counter()
        c = KafkaConsumer(topic, bootstrap_servers=bootstrap.split(","),
                          group_id=f"pylatency-{time.time_ns()}-{i}",
                          auto_offset_reset="earliest")
        next(c)
        samples.append(time.perf_counter() - start)
        c.close()
    samples.sort()
    return {"client": "kafka-python", "latency_samples": k,
            "first_record_median_ms": statistics.median(samples) * 1e3,
            "first_record_p90_ms": samples[k * 9 // 10] * 1e3}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--latency", type=int, default=20)
    ap.add_argument("--bootstrap")
    args = ap.parse_args()
    binary = os.environ.get("MOCKAFKA_BIN", str(ROOT / "target" / "release" / "mockafka"))
    bench = str(ROOT / "target" / "release" / "examples" / "consumer_bench")
    proc = None
    bootstrap = args.bootstrap
    if bootstrap is None:
        proc, bootstrap = start_cluster(binary)
    try:
        from kafka.admin import KafkaAdminClient, NewTopic
        topic, partitions = "bench", 3
        admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
        admin.create_topics([NewTopic(topic, partitions, 1)])
        admin.close()
        results = rust(bench, bootstrap, "--topic", topic, "--seed", str(args.records),
                       "--size", str(args.size))
        for _ in range(args.rounds):
            results += rust(bench, bootstrap, "--topic", topic, "--partitions",
                            str(partitions), "--records", str(args.records))
            print(json.dumps(results[-1]), flush=True)
            results.append(python_throughput(bootstrap, topic, partitions, args.records))
            print(json.dumps(results[-1]), flush=True)
        results += rust(bench, bootstrap, "--topic", topic, "--latency", str(args.latency))
        print(json.dumps(results[-1]), flush=True)
        results.append(python_latency(bootstrap, topic, args.latency))
        print(json.dumps(results[-1]), flush=True)
    finally:
        if proc:
            proc.terminate()
            proc.wait()
    print(f"\n{'client':<14}{'records/s':>14}{'MB/s':>10}{'seconds':>10}")
    for r in results:
        if "records_per_s" in r:
            print(f"{r['client']:<14}{r['records_per_s']:>14,.0f}{r['mb_per_s']:>10.1f}"
                  f"{r['seconds']:>10.2f}")
    print(f"\n{'client':<14}{'first record median ms':>24}{'p90 ms':>10}")
    for r in results:
        if "first_record_median_ms" in r:
            print(f"{r['client']:<14}{r['first_record_median_ms']:>24.1f}"
                  f"{r['first_record_p90_ms']:>10.1f}")


if __name__ == "__main__":
    main()
