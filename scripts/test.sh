#!/usr/bin/env bash
# Runs the whole test suite against a real MongoDB-wire-protocol server:
# the one MONGO_URL names, or a throw-away local one.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/local-db.sh
source scripts/local-db.sh
if [[ -z "${MONGO_URL:-}" ]]; then
  start_local_db ":memory:"
fi
# Benches are measured by scripts/bench.sh, never run as tests.
cargo test --lib --bins --tests "$@"
