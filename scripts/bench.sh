#!/usr/bin/env bash
# The benchmarks (release build) against the local database, or the MongoDB
# that MONGO_URL names. Each prints a Markdown table for the README.
#
#   scripts/bench.sh          both: routing, then load
#   scripts/bench.sh routing  one routing decision against a Rocket.Chat-style baseline
#   scripts/bench.sh load     three instances under 1 to 64 concurrent clients
#                             (BENCH_CLIENTS, BENCH_DECISIONS)
#   scripts/bench.sh live     idle widget connections per 64 MiB, and an
#                             assignment's way to another instance's socket
#                             (BENCH_LIVE_CONNECTIONS, BENCH_LIVE_SAMPLES)
#   scripts/bench.sh flood    a visitor's latency while one address floods
#                             the instance with subscriptions (BENCH_FLOOD_SAMPLES)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-all}" in
  all) benches=(routing load) ;;
  routing | load) benches=("$1") ;;
  live)
    export BENCH_LIVE=1
    benches=(load)
    ;;
  flood)
    export BENCH_FLOOD=1
    benches=(load)
    ;;
  *)
    echo "usage: $0 [routing|load|live|flood]" >&2
    exit 2
    ;;
esac
# shellcheck source=scripts/local-db.sh
source scripts/local-db.sh
if [[ -z "${MONGO_URL:-}" ]]; then
  start_local_db ":memory:"
fi
# The load benchmark reads each instance's /metrics, which needs a token.
export SWITCHBOARD_METRICS__TOKEN="${SWITCHBOARD_METRICS__TOKEN:-bench-$RANDOM$RANDOM}"
for bench in "${benches[@]}"; do
  cargo bench --bench "$bench"
done
