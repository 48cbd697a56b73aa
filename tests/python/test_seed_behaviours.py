"""The seed behaviours (shared/SEED_BEHAVIOURS.md) with kafka-python, and across clients.

The scenarios are written once, in Rust, against a small client trait (tests/seed); the
`seed` example (examples/seed.rs) runs them with kafka-python (through seed_driver.py, in
this interpreter) or the mockafka Rust client on either side, each behaviour on its own
embedded cluster on ephemeral ports (or on the cluster of MOCKAFKA_TEST_BOOTSTRAP, the
conformance mode). It prints one JSON line per behaviour.

- test_kafka_python[<id>]: kafka-python produces and consumes, one test per behaviour id.
- test_cross_client[<producer>-to-<consumer>-<codec>]: every behaviour, produced by one
  client and consumed by the other, for every codec, both directions.
(tests/e2e/seed.rs runs the same scenarios with the Rust client on both sides.)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def seed_binary():
    """The newest build of the `seed` example (`cargo test` builds examples), or a fresh
    debug build when there is none."""
    builds = [ROOT / "target" / p / "examples" / "seed" for p in ("debug", "release")]
    builds = [p for p in builds if p.exists()]
    if builds:
        return str(max(builds, key=lambda p: p.stat().st_mtime))
    subprocess.run(["cargo", "build", "-q", "--example", "seed"], cwd=ROOT, check=True)
    return str(ROOT / "target" / "debug" / "examples" / "seed")


def run_seed(*args, timeout=300):
    env = dict(os.environ, MOCKAFKA_PYTHON=sys.executable)
    proc = subprocess.run([seed_binary(), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    failed = [r for r in results if not r["ok"]]
    assert not failed, "\n".join(f"{r['behaviour']}: {r['error']}" for r in failed)
    assert proc.returncode == 0, proc.stderr
    return results


BEHAVIOURS = subprocess.run([seed_binary(), "--list"], capture_output=True, text=True,
                            check=True).stdout.split()


def test_every_seed_behaviour_is_listed():
    ids = {b.split("_")[0] for b in BEHAVIOURS}
    assert ids == {f"c{i}" for i in range(1, 7)} | {f"p{i}" for i in range(1, 8)}
    # Each of the four offset-reset scenarios of C6 is a behaviour of its own.
    assert [b[:4] for b in BEHAVIOURS if b.startswith("c6_")] == ["c6_1", "c6_2", "c6_3", "c6_4"]


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_kafka_python(behaviour):
    results = run_seed("--producer", "python", "--consumer", "python", behaviour)
    assert [r["behaviour"] for r in results] == [behaviour]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("producer,consumer", [("rust", "python"), ("python", "rust")],
                         ids=["rust-to-python", "python-to-rust"])
def test_cross_client(producer, consumer, codec):
    results = run_seed("--producer", producer, "--consumer", consumer, "--codec", codec)
    assert sorted(r["behaviour"] for r in results) == sorted(BEHAVIOURS)
    assert all((r["producer"], r["consumer"], r["codec"]) == (producer, consumer, codec)
               for r in results)
