#!/usr/bin/env bash
# Runs the whole test suite against a real MongoDB-wire-protocol server:
# the one MONGO_URL names, or a throw-away local one.
set -euo pipefail
cd "$(dirname "$0")/.."
# The API reference is checked in a real headless browser: Debian's chromium.
if [[ ! -x /usr/bin/chromium ]]; then
  echo "test: installing chromium" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium >/dev/null
fi
# The livechat widget journey drives Rocket.Chat's widget, pinned in
# tests/widget/package-lock.json, with playwright-core (no browser download).
if ! command -v npm >/dev/null; then
  echo "test: installing node and npm" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq nodejs npm >/dev/null
fi
if [[ ! -d tests/widget/node_modules ]] || [[ tests/widget/package-lock.json -nt tests/widget/node_modules ]]; then
  echo "test: installing the livechat widget (npm ci)" >&2
  (cd tests/widget && npm ci --no-audit --no-fund --loglevel=error)
fi
# shellcheck source=scripts/local-db.sh
source scripts/local-db.sh
if [[ -z "${MONGO_URL:-}" ]]; then
  # Fault tests arm fail points (`configureFailPoint`).
  start_local_db ":memory:" --enable-test-commands
fi
# Schema-driven fuzzing of every operation against the binary (it runs
# first so that the test runner's summary closes the output). SKIP_FUZZ=1
# leaves it out of a local run; CI always runs it.
cargo build --bin switchboard
if [[ -n "${SKIP_FUZZ:-}" && -z "${CI:-}" ]]; then
  echo "test: fuzzing skipped (SKIP_FUZZ)" >&2
else
  FUZZ_EXAMPLES="${FUZZ_EXAMPLES:-10}" FUZZ_SECONDS="${FUZZ_SECONDS:-150}" scripts/fuzz.sh
fi
# Each test works in its own `sbtest_*` database. They are dropped once the
# whole run is over, not as each test ends: dropping a database stalls the
# local server for every client, and the tests beside it then see the
# database as unavailable. (The throw-away local server needs no drop; a
# server named by MONGO_URL does.)
drop_test_databases() {
  install_local_db
  .venv/bin/python - "$MONGO_URL" <<'PY' || true
import sys
import pymongo
client = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=5000)
for name in client.list_database_names():
    if name.startswith("sbtest_"):
        client.drop_database(name)
PY
}
if [[ -z "${LOCAL_DB_PID:-}" ]]; then
  trap drop_test_databases EXIT
fi
# Benches are measured by scripts/bench.sh, never run as tests.
cargo test --lib --bins --tests "$@"
