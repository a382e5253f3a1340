#!/usr/bin/env bash
# What the tests need besides cargo, installed once per machine (idempotent, quiet when present):
# DuckDB (PyPI) reads the observer's Parquet tables back; Prometheus scrapes a node and answers
# the Grafana dashboard's queries; headless Chromium renders the status page.
set -euo pipefail

DUCKDB_VERSION=2.0.1

if ! python3 -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null; then
  echo "== installing duckdb $DUCKDB_VERSION (PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "duckdb==$DUCKDB_VERSION"
fi

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]} (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt_get=(apt-get)
  [ "$(id -u)" -eq 0 ] || apt_get=(sudo apt-get)
  "${apt_get[@]}" update -qq
  # The packages' own services are not wanted: tests start their own on free ports.
  policy=/usr/sbin/policy-rc.d
  own_policy=
  if [ ! -e "$policy" ] && [ "$(id -u)" -eq 0 ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && own_policy=1
  fi
  "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$own_policy" ] || rm -f "$policy"
fi
