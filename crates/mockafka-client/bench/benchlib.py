"""Helpers shared by the client benchmarks: start the mockafka binary, run a Rust bench example."""

import json
import subprocess
import time


def start_cluster(binary):
    proc = subprocess.Popen([binary, "--base-port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    bootstrap = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        line = line.strip()
        if line.startswith("bootstrap.servers="):
            bootstrap = line.split("=", 1)[1]
        if line == "mockafka ready":
            break
    if bootstrap is None:
        proc.kill()
        raise SystemExit("mockafka did not start")
    return proc, bootstrap


def rust(bench, bootstrap, *args):
    out = subprocess.run([bench, "--bootstrap", bootstrap, *args], check=True,
                         capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{")]
