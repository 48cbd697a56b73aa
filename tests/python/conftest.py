"""Fixtures shared by the kafka-python suite.

`mockafka_cluster` starts the `mockafka` binary (built by scripts/test.sh, path in
MOCKAFKA_BIN) on ephemeral ports and yields a `Cluster` with its bootstrap servers. Extra
flags go through `start_cluster(...)`.

The binary's contract: it prints `bootstrap.servers=HOST:PORT,...` and then a line
`mockafka ready` on stdout once every listener is bound, and stops on SIGTERM. It reads
control commands on stdin (`stop-broker 1`, `move-leader first 0 2`, ... see
`mockafka --help`) and answers each with one line `ok ...` or `error: ...`;
`Cluster.command(...)` sends one and returns the answer.
"""

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def binary_path():
    env = os.environ.get("MOCKAFKA_BIN")
    if env:
        return env
    for profile in ("release", "debug"):
        p = ROOT / "target" / profile / "mockafka"
        if p.exists():
            return str(p)
    raise RuntimeError("mockafka binary not found: run scripts/test.sh or cargo build")


@dataclass
class Cluster:
    process: subprocess.Popen
    bootstrap: str
    output: list = field(default_factory=list)

    @property
    def servers(self):
        return self.bootstrap.split(",")

    def command(self, line):
        """Sends one stdin control command; returns its `ok ...` answer or raises."""
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        while True:
            out = self.process.stdout.readline()
            if not out:
                raise RuntimeError("mockafka exited: " + "".join(self.output))
            self.output.append(out)
            out = out.strip()
            if out == "ok" or out.startswith("ok "):
                return out
            if out.startswith("error:"):
                raise RuntimeError(f"{line}: {out}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            if self.process.stdin:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_cluster(*args, timeout=30.0):
    """Starts the binary with `--base-port 0` plus `args`; returns a Cluster once ready."""
    cmd = [binary_path(), "--base-port", "0", *args]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    bootstrap = None
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        line = line.strip()
        if line.startswith("bootstrap.servers="):
            bootstrap = line.split("=", 1)[1]
        if line == "mockafka ready":
            break
    if bootstrap is None:
        proc.kill()
        raise RuntimeError("mockafka did not start: " + "".join(lines))
    return Cluster(process=proc, bootstrap=bootstrap, output=lines)


@pytest.fixture
def mockafka_cluster():
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def cluster_factory():
    started = []

    def make(*args):
        c = start_cluster(*args)
        started.append(c)
        return c

    try:
        yield make
    finally:
        for c in started:
            c.stop()
