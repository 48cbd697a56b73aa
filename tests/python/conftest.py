"""Fixtures shared by the kafka-python suite.

`mockafka_cluster` starts the `mockafka` binary (built by scripts/test.sh, path in
MOCKAFKA_BIN) on ephemeral ports and yields a `Cluster` with its bootstrap servers. Extra
flags go through `start_cluster(...)`.

The binary's contract: it prints `bootstrap.servers=HOST:PORT,...` and then a line
`mockafka ready` on stdout once every listener is bound, and stops on SIGTERM. It reads
control commands on stdin (`stop-broker 1`, `move-leader first 0 2`, ... see
`mockafka --help`) and answers each with one line `ok ...` or `error: ...`;
`Cluster.command(...)` sends one and returns the answer.

`mockafka_control` starts the binary with `--control-port 0` (the JSON HTTP control API on
loopback) and yields the same `Cluster`, whose `.control` is a `Control` client: inject
faults, crash and restart brokers, move leaders and coordinators, read topics, records,
groups and the request log. `start_cluster(..., control=True)` does the same with extra
flags. Only the standard library is used (urllib), so any test can copy this client.
"""

import json
import os
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
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


class ControlError(RuntimeError):
    """A 4xx/5xx answer of the control API: `.status` and the server's `.message`."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class Control:
    """A client of the binary's JSON control API (see `mockafka --help` and the README)."""

    def __init__(self, url):
        self.url = url.rstrip("/")

    def call(self, method, path, body=None, timeout=30.0, **query):
        query = {k: v for k, v in query.items() if v is not None}
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read()).get("error")
            except ValueError:
                message = e.reason
            raise ControlError(e.code, message) from None

    # Faults: `add_fault(api_key="Produce", action="error", error="NOT_LEADER_OR_FOLLOWER",
    # topic="t", partition=0, times=3)`; actions error, delay (delay_ms), close,
    # no_response, apply_then_error, apply_then_close, apply_then_no_response, throttle
    # (throttle_ms); matchers broker, topic, partition, group, client_id; times N or "always".
    def add_fault(self, **fault):
        return self.call("POST", "/faults", fault)["id"]

    def faults(self):
        return self.call("GET", "/faults")

    def fault_applied(self, fault_id):
        return self.call("GET", f"/faults/{fault_id}")["applied"]

    def clear_faults(self):
        self.call("DELETE", "/faults")

    def stop_broker(self, broker):
        return self.call("POST", f"/brokers/{broker}/stop")

    def crash_broker(self, broker):
        return self.call("POST", f"/brokers/{broker}/crash")

    def restart_broker(self, broker):
        return self.call("POST", f"/brokers/{broker}/start")

    def broker_faults(self, broker, refuse_connections=None, latency_ms=None):
        body = {"refuse_connections": refuse_connections, "latency_ms": latency_ms}
        return self.call("POST", f"/brokers/{broker}/faults", {k: v for k, v in body.items() if v is not None})

    def brokers(self):
        return self.call("GET", "/brokers")

    def topic(self, name):
        return self.call("GET", f"/topics/{urllib.parse.quote(name)}")

    def partition(self, topic, partition):
        return self.call("GET", f"/topics/{urllib.parse.quote(topic)}/partitions/{partition}")

    def records(self, topic, partition, offset_from=None):
        return self.call(
            "GET", f"/topics/{urllib.parse.quote(topic)}/partitions/{partition}/records", **{"from": offset_from}
        )

    def move_leader(self, topic, partition, broker):
        return self.call("POST", f"/topics/{urllib.parse.quote(topic)}/partitions/{partition}/leader", {"broker": broker})

    def group(self, group_id):
        return self.call("GET", f"/groups/{urllib.parse.quote(group_id)}")

    def move_coordinator(self, group_id, broker):
        return self.call("POST", f"/groups/{urllib.parse.quote(group_id)}/coordinator", {"broker": broker})

    def requests(self, **filters):
        """The request log; filters: since, api_key, broker, client_id, topic."""
        return self.call("GET", "/requests", **filters)

    def wait_request(self, timeout_ms=10000, **filters):
        """Blocks until a matching request arrives (`answered=True`: until it is answered)."""
        if filters.get("answered"):
            filters["answered"] = "true"
        return self.call("GET", "/requests/wait", timeout=timeout_ms / 1000 + 10, timeout_ms=timeout_ms, **filters)


@dataclass
class Cluster:
    process: subprocess.Popen
    bootstrap: str
    output: list = field(default_factory=list)
    control: Control = None

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


def start_cluster(*args, timeout=30.0, control=False):
    """Starts the binary with `--base-port 0` plus `args` (and `--control-port 0` with
    `control=True`); returns a Cluster once ready."""
    cmd = [binary_path(), "--base-port", "0", *args]
    if control:
        cmd += ["--control-port", "0"]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    bootstrap = None
    control_url = None
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
        if line.startswith("control="):
            control_url = line.split("=", 1)[1]
        if line == "mockafka ready":
            break
    if bootstrap is None:
        proc.kill()
        raise RuntimeError("mockafka did not start: " + "".join(lines))
    if control and control_url is None:
        proc.kill()
        raise RuntimeError("mockafka did not print its control URL: " + "".join(lines))
    return Cluster(
        process=proc,
        bootstrap=bootstrap,
        output=lines,
        control=Control(control_url) if control_url else None,
    )


@pytest.fixture
def mockafka_cluster():
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def mockafka_control():
    """A 3-broker cluster with the control API: `cluster.control` is a `Control`."""
    cluster = start_cluster(control=True)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def cluster_factory():
    started = []

    def make(*args, control=False):
        c = start_cluster(*args, control=control)
        started.append(c)
        return c

    try:
        yield make
    finally:
        for c in started:
            c.stop()
