#!/usr/bin/env bash
# Regenerates spec-tests/generated/: consensus-spec-tests vectors the shared set lacks (Gloas,
# Heze, Fulu's partial columns), written by the pinned eth-consensus-specs release from PyPI
# (scripts/gen_spec_vectors.py says what and how). The output is committed: CI reads it and
# needs no network. Needs python3 (3.11 to 3.14) with venv; the venv lives in target/.
#
#   scripts/gen-spec-vectors.sh [OUT_DIR]     (default spec-tests/generated)
set -euo pipefail
cd "$(dirname "$0")/.."

# The newest eth-consensus-specs pre-release on PyPI when written; its Gloas and Heze are those
# of consensus-specs v1.7.0-alpha.13.
SPECS_VERSION=1.7.0a13
out="${1:-spec-tests/generated}"
venv="${CARGO_TARGET_DIR:-target}/spec-venv-$SPECS_VERSION"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# The release's own pins for what the generator imports, from its `test` extra: the kzg and
# snappy bindings, and what its test modules import (pytest, trie's rlp, eth-hash) for the
# networking cases (the whole extra also brings minizinc and pytest plugins, not needed here).
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "eth-consensus-specs==$SPECS_VERSION" ckzg==2.1.8 python-snappy==0.7.3 pytest==9.1.1 \
  trie==3.1.0 "eth-hash[pycryptodome]==0.8.0"

rm -rf "$out/tests"
"$venv/bin/python" scripts/gen_spec_vectors.py "$out"
echo "eth-consensus-specs $SPECS_VERSION" >"$out/VERSION"
du -sh "$out"
