#!/usr/bin/env bash
# Schema-driven fuzzing of every operation of the OpenAPI document with
# schemathesis (PyPI), authenticated as the admin: no answer may be a 5xx,
# and every answer — errors included — must match the status, content type
# and schema the document declares. Bounded: FUZZ_EXAMPLES per operation
# (default 10) and FUZZ_SECONDS in all (default 150); a run generates
# several thousand requests.
#
# Needs MONGO_URL (scripts/test.sh sets it) and the debug binary
# (`cargo test` builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION="4.32.5"
if [[ ! -x .venv/bin/schemathesis ]]; then
  echo "fuzz: installing schemathesis $SCHEMATHESIS_VERSION into .venv" >&2
  .venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
port="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
database="fuzz_$RANDOM$RANDOM"
mongo_url="${MONGO_URL%/*}/$database"
mkdir -p .local
log=".local/fuzz-switchboard.log"
env -i PATH="$PATH" MONGO_URL="$mongo_url" PORT="$port" BIND_IP=127.0.0.1 \
  ADMIN_USERNAME=fuzz-admin ADMIN_PASS=fuzz-password ADMIN_EMAIL=fuzz@example.com \
  SWITCHBOARD_METRICS__TOKEN=fuzz-metrics SWITCHBOARD_LOG__FORMAT=json RUST_LOG=warn \
  SWITCHBOARD_RATE_LIMIT__LOGIN_PER_MINUTE=0 SWITCHBOARD_RATE_LIMIT__AGENT_NEXT_PER_MINUTE=0 \
  SWITCHBOARD_RATE_LIMIT__LIVECHAT_PER_MINUTE=0 \
  target/debug/switchboard >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  if .venv/bin/python -c "import urllib.request,sys; urllib.request.urlopen('$base/readyz', timeout=1)" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
read -r user_id token < <(.venv/bin/python - "$base" <<'PY'
import json, sys, urllib.request
request = urllib.request.Request(
    sys.argv[1] + "/api/v1/login",
    data=json.dumps({"user": "fuzz-admin", "password": "fuzz-password"}).encode(),
    headers={"Content-Type": "application/json"},
)
data = json.load(urllib.request.urlopen(request))["data"]
print(data["userId"], data["authToken"])
PY
)
# Logging out, or taking the admin's permissions away, would leave the rest
# of the run unauthenticated: those two operations are left out. One worker:
# with two, Hypothesis parses lambda sources from two threads at once, which
# CPython 3.11 can fail with "AST constructor recursion depth mismatch" (a
# crash of the fuzzer, not a finding about the service).
.venv/bin/schemathesis run "$base/api/openapi.json" \
  --header "X-User-Id: $user_id" --header "X-Auth-Token: $token" \
  --header "Authorization: Bearer fuzz-metrics" \
  --exclude-operation-id auth.logout --exclude-operation-id permissions.update \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${FUZZ_EXAMPLES:-10}" --max-time "${FUZZ_SECONDS:-150}" \
  --workers 1 --request-timeout 30 --seed 7 --no-color
