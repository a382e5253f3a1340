#!/usr/bin/env bash
# Regenerates docs/simulation.md: every scenario on the virtual engine at the GossipSub v1.1
# evaluation's scale (1,000 honest Pheme router cores, 4,000 attackers, 8 measured slots of 2 s,
# seed 6), scoring on then off; the IHAVE spam at the router's limit (2 x 2,500 unknown ids an IHAVE,
# the strongest a spammer can send). About 14 minutes on two cores (one run per core, the heaviest
# first), 9 of them the unscored IHAVE spam; the figures are deterministic
# (wall times aside), so the machine's load does not change them. Extra arguments go to
# `pheme simulate` (e.g. --profile recommendations to measure the document's parameters).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -p pheme -- simulate --engine virtual --scenario all \
  --honest 1000 --sybils 4000 --slots 8 --ihave-ids 2500 --markdown "$@" > docs/simulation.md.new
mv docs/simulation.md.new docs/simulation.md
