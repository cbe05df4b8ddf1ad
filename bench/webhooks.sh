#!/usr/bin/env bash
# AgentMarket webhooks: one task matching N agents (webhooks on a local receiver that
# verifies every V1/V2 signature) — time until all are delivered, the post's own
# latency next to a task matching 10, and the server's RSS. Not run in CI.
#   bash bench/webhooks.sh [N] [rounds]             # SQLite
#   DB=postgres bash bench/webhooks.sh [N] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}; ROUNDS=${2:-3}
if [ -z "${SERVER_BIN:-}" ]; then
  cargo build --release -q -p heepr-server
  cargo build --release -q -p heepr-e2e --example webhooks
fi
SERVER=${SERVER_BIN:-target/release/heepr-server}; GEN=${GEN_BIN:-target/release/examples/webhooks}
PORT=${PORT:-18093}; DATA=$(mktemp -d)
if [ "${DB:-sqlite}" = postgres ]; then
  name="heepr_bench_$$"; psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" >/dev/null
  URL="postgres://postgres@127.0.0.1:5432/$name"
  count() { psql -qtA -h 127.0.0.1 -U postgres "$name" -c "$1"; }
else
  URL="sqlite://$DATA/heepr.db"
  count() { sqlite3 "$DATA/heepr.db" "$1"; }
fi
HEEPR_BIND=127.0.0.1:$PORT DATABASE_URL=$URL HEEPR_DATA_DIR=$DATA HEEPR_AM_SIGNUP_CREDITS=1000000 \
  HEEPR_AM_REGISTER_LIMIT=100000 HEEPR_OUTBOUND_ALLOW_HTTP=true HEEPR_OUTBOUND_ALLOW_PRIVATE=true \
  RUST_LOG=${RUST_LOG:-warn} "$SERVER" 2>"$DATA/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; [ -n "${name:-}" ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $name" >/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "backend ${DB:-sqlite}; $(nproc) cores; server, receiver and client share them; N=$N, $ROUNDS rounds"
RUST_BACKTRACE=0 "$GEN" "http://127.0.0.1:$PORT" "$PID" "$N" "$ROUNDS" || {
  echo "benchmark failed; last lines of the server log:"; tail -20 "$DATA/log"; exit 1; }
want=$(( (N + 10) * ROUNDS ))
for _ in $(seq 100); do
  [ "$(count "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'")" = "$want" ] && break; sleep 0.1
done
echo "deliveries by status: $(count "SELECT status || '=' || count(*) FROM webhook_deliveries GROUP BY status" | tr '\n' ' ')(want delivered=$want)"
DATABASE_URL=$URL HEEPR_DATA_DIR=$DATA "$SERVER" admin check-ledger
