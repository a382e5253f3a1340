#!/usr/bin/env bash
# Regenerates docs/images/status-page.png, the picture of `pheme observe`'s live status page in
# docs/observer.md: runs the Chromium status-page test (an observer among loopback nodes that
# publish real gossip, one of them REJECTed, plus a garbage sender) with PHEME_STATUS_SCREENSHOT
# set, so that it also takes a screenshot with headless Chromium (scripts/install-test-deps.sh
# installs it). Extra arguments go to `cargo test`. PHEME_STATUS_WINDOW=390,1600 (width,height)
# takes the phone layout instead (into a file of your choice: PHEME_STATUS_SCREENSHOT).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
mkdir -p docs/images
out="${PHEME_STATUS_SCREENSHOT:-$PWD/docs/images/status-page.png}"
PHEME_STATUS_SCREENSHOT="$out" cargo test -p pheme --test it "$@" -- --exact \
  status_page::the_status_page_renders_peers_and_score_components_in_chromium
size=$(stat -c %s "$out")
echo "$out: $size bytes"
if [ "$size" -gt 200000 ]; then
  echo "larger than 200 KB: shrink the window size in bin/pheme/tests/it/status_page.rs" >&2
  exit 1
fi
