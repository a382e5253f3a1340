#!/usr/bin/env bash
# Regenerates docs/simulation.md: every scenario at the default sizes (100 honest Pheme nodes,
# 400 attackers, 24 measured slots, seed 6), scoring on then off. Takes about half an hour on
# 2 cores; run it on an otherwise idle machine, the latencies depend on it.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 20000 2>/dev/null || true
cargo run --release -p pheme -- simulate --scenario all --markdown "$@" > docs/simulation.md.new
mv docs/simulation.md.new docs/simulation.md
