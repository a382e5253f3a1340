#!/usr/bin/env bash
# Regenerates spec-tests/generated/: consensus-spec-tests vectors the shared set lacks (Gloas,
# Heze, Fulu's networking cases), written by an executable consensus spec
# (scripts/gen_spec_vectors.py says what and how). The output is committed: CI reads it and
# needs no network. Needs python3 (3.11 to 3.14) with venv; the venvs live in target/.
#
#   scripts/gen-spec-vectors.sh [OUT_DIR]
#       The pinned eth-consensus-specs release from PyPI: ssz_static (Gloas, Heze, Fulu's
#       partial columns) and the release's fulu networking cases.
#   scripts/gen-spec-vectors.sh --from-source COMMIT [OUT_DIR]
#       A separate step: the networking cases of the forks after fulu (Gloas, and Heze once
#       upstream has any), which no release on PyPI ships yet. Builds the executable spec from
#       consensus-specs at COMMIT (a08d8a6e2 when written, the commit the shared vectors come
#       from) as upstream's Makefile does (`python -m pysetup.generate_specs --all-forks`, then
#       `pip install .`), with the pins of its pyproject.toml; only PyPI is needed besides the
#       source. The source comes from CONSENSUS_SPECS_GIT (a git directory or clone holding
#       COMMIT) or else from a clone of https://github.com/ethereum/consensus-specs.
#
# OUT_DIR defaults to spec-tests/generated. Each step replaces only what it writes, so the two
# outputs live side by side; reruns write the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"

# The release step's and the source step's pins for what the generator imports: the kzg and
# snappy bindings, and what the test modules import (pytest, trie's rlp, eth-hash) for the
# networking cases (the whole `test` extra also brings minizinc and pytest plugins, not needed).
TEST_PINS=(ckzg==2.1.8 python-snappy==0.7.3 pytest==9.1.1 trie==3.1.0 "eth-hash[pycryptodome]==0.8.0")
pip_install() { "$1/bin/pip" install --quiet --disable-pip-version-check "${@:2}"; }

if [ "${1:-}" = "--from-source" ]; then
  commit="${2:?--from-source needs a consensus-specs commit}"
  out="${3:-spec-tests/generated}"
  src="$target/consensus-specs-$commit"
  venv="$target/spec-venv-$commit"
  if [ ! -d "$src/specs" ]; then
    git_dir="${CONSENSUS_SPECS_GIT:-}"
    if [ -z "$git_dir" ]; then
      git_dir="$target/consensus-specs.git"
      [ -d "$git_dir" ] || git clone --bare --filter=blob:none \
        https://github.com/ethereum/consensus-specs "$git_dir"
    fi
    mkdir -p "$src"
    git --git-dir="$git_dir" archive "$commit" | tar -x -C "$src"
  fi
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    # The package's own dependencies, as its pyproject.toml pins them, then the spec modules
    # generated from the markdown, then the package itself (no build isolation: setuptools
    # is among the pins).
    mapfile -t deps < <(python3 - "$src/pyproject.toml" <<'EOF'
import sys, tomllib
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))
EOF
)
    pip_install "$venv" "${deps[@]}" "${TEST_PINS[@]}"
    python="$(cd "$venv" && pwd)/bin/python"
    (cd "$src" && "$python" -m pysetup.generate_specs --all-forks)
    pip_install "$venv" --no-build-isolation --no-deps "$src"
  fi
  rm -rf "$out"/tests/minimal/{gloas,heze}/networking
  "$venv/bin/python" scripts/gen_spec_vectors.py --from-source "$out"
  echo "consensus-specs $commit (networking after fulu)" >"$out/VERSION-networking"
  du -sh "$out"
  exit 0
fi

# The newest eth-consensus-specs pre-release on PyPI when written; its Gloas and Heze are those
# of consensus-specs v1.7.0-alpha.13.
SPECS_VERSION=1.7.0a13
out="${1:-spec-tests/generated}"
venv="$target/spec-venv-$SPECS_VERSION"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
pip_install "$venv" "eth-consensus-specs==$SPECS_VERSION" "${TEST_PINS[@]}"

rm -rf "$out"/tests/*/*/ssz_static "$out"/tests/minimal/fulu/networking
"$venv/bin/python" scripts/gen_spec_vectors.py "$out"
echo "eth-consensus-specs $SPECS_VERSION" >"$out/VERSION"
du -sh "$out"
