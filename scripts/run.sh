#!/usr/bin/env bash
# Starts Switchboard. Without MONGO_URL, the local database is started too,
# keeping its data in .local/data between runs; every acknowledged write is
# synced to disk before it is acknowledged, so it survives `kill -9` of the
# database.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/local-db.sh
source scripts/local-db.sh
if [[ -z "${MONGO_URL:-}" ]]; then
  mkdir -p .local/data
  start_local_db "$PWD/.local/data" --sync-on-commit
fi
export ADMIN_USERNAME="${ADMIN_USERNAME:-admin}"
export ADMIN_PASS="${ADMIN_PASS:-admin}"
cargo build --release --quiet
./target/release/switchboard "$@"
