#!/usr/bin/env bash
# Fuzzes every cargo-fuzz target under fuzz/ for the given number of seconds (default 30),
# on the stable toolchain (`-s none` needs no nightly sanitizer support). Fails on any crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --quiet
fi
cd fuzz
# New inputs go to a scratch directory (the first corpus directory libFuzzer writes to);
# the committed seed corpus is only read, so fuzzing leaves the tree clean.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in $(cargo fuzz list); do
  mkdir -p "corpus/$target" "$scratch/$target"
  echo "fuzzing $target for ${seconds}s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -s none "$target" "$scratch/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536
done
