#!/usr/bin/env bash
# The README's test command (CI runs exactly this): installs what the tests need besides cargo
# (scripts/install-test-deps.sh), then every crate's unit, integration, property and doc tests and
# the spec-test vectors. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
exec cargo test --workspace "$@"
