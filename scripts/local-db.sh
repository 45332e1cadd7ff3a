#!/usr/bin/env bash
# The local MongoDB-wire-protocol server for development and tests.
#
# No Docker engine runs on our machines and Debian ships no MongoDB server,
# so we use SecantusDB (PyPI `secantusdb`: a MongoDB-compatible server on
# WiredTiger, with transactions), installed into the project's own .venv.
#
# Source this file, then call `start_local_db DIR [FLAG...]`: it starts the
# server on a free port with its data in DIR (`:memory:` for throw-away
# data) and the given server flags, waits until it answers, exports
# MONGO_URL (database `switchboard`) and stops the server when the calling
# shell exits.

SECANTUSDB_VERSION="0.7.0b3"

_repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

install_local_db() {
  local root venv
  root="$(_repo_root)"
  venv="$root/.venv"
  if [[ ! -x "$venv/bin/secantusd-py" ]]; then
    echo "local-db: installing secantusdb $SECANTUSDB_VERSION into .venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "secantusdb==$SECANTUSDB_VERSION"
  fi
}

start_local_db() {
  local storage="${1:-:memory:}" root venv port log
  shift || true
  root="$(_repo_root)"
  venv="$root/.venv"
  install_local_db
  mkdir -p "$root/.local"
  port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  log="$root/.local/secantusd-$port.log"
  "$venv/bin/secantusd-py" --host 127.0.0.1 --port "$port" --storage-path "$storage" \
    --log-level WARNING "$@" >"$log" 2>&1 &
  LOCAL_DB_PID=$!
  trap 'stop_local_db' EXIT
  if ! "$venv/bin/python" - "$port" <<'PY'
import sys, time
import pymongo
port = int(sys.argv[1])
deadline = time.time() + 60
while time.time() < deadline:
    try:
        pymongo.MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=500).admin.command("ping")
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit(1)
PY
  then
    echo "local-db: the server did not start; its log:" >&2
    cat "$log" >&2
    return 1
  fi
  export MONGO_URL="mongodb://127.0.0.1:$port/switchboard"
  echo "local-db: SecantusDB listening, MONGO_URL=$MONGO_URL" >&2
}

stop_local_db() {
  if [[ -n "${LOCAL_DB_PID:-}" ]]; then
    kill "$LOCAL_DB_PID" 2>/dev/null || true
    wait "$LOCAL_DB_PID" 2>/dev/null || true
    LOCAL_DB_PID=""
  fi
}
