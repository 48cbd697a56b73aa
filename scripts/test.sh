#!/usr/bin/env bash
# Runs every test of mockafka: formatting and lints, each crate's unit and integration
# tests, the end-to-end suite (the seed behaviours with the Rust client, the offset-reset
# properties), doctests (the README's too), the fuzz corpora (as plain tests), the
# tutorial example, the kafka-python suite under tests/python (in a virtualenv this script
# creates; it includes the seed behaviours with kafka-python and across clients for every
# codec), and, when CI=true or MOCKAFKA_FUZZ_SECONDS is set, a short fuzzing run of each
# fuzz target. MOCKAFKA_PROPTEST_CASES raises the property test cases.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test (all crates, doctests, fuzz corpora)"
cargo build --release --bin mockafka
cargo test --workspace

step "examples: the tutorial, against an embedded cluster"
cargo run -q --example tutorial

step "python virtualenv for tests/python"
venv="${MOCKAFKA_VENV:-$root/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

step "pytest tests/python"
export MOCKAFKA_BIN="$root/target/release/mockafka"
set +e
"$venv/bin/python" -m pytest -q tests/python
rc=$?
set -e
if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then
  exit "$rc"
fi

fuzz_seconds="${MOCKAFKA_FUZZ_SECONDS:-}"
if [ -z "$fuzz_seconds" ] && [ "${CI:-}" = "true" ]; then
  fuzz_seconds=30
fi
if [ -n "$fuzz_seconds" ] && [ "$fuzz_seconds" != "0" ]; then
  step "fuzzing each target for ${fuzz_seconds}s"
  bash scripts/fuzz.sh "$fuzz_seconds"
fi

step "all tests passed"
