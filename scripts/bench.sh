#!/usr/bin/env bash
# The routing benchmark (release build) against the local database, or the
# MongoDB that MONGO_URL names. Prints a Markdown table for the README.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/local-db.sh
source scripts/local-db.sh
if [[ -z "${MONGO_URL:-}" ]]; then
  start_local_db ":memory:"
fi
cargo bench --bench routing
