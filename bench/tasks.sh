#!/usr/bin/env bash
# Whole AgentMarket tasks over HTTP (post → accept → complete with payout and fee).
#   bash bench/tasks.sh [pairs] [seconds]          # SQLite
#   DB=postgres bash bench/tasks.sh [pairs] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
WORKERS=${1:-32}; SECS=${2:-15}
if [ -z "${SERVER_BIN:-}" ]; then
  cargo build --release -q -p heepr-server
  cargo build --release -q -p heepr-e2e --example tasks
fi
SERVER=${SERVER_BIN:-target/release/heepr-server}; GEN=${GEN_BIN:-target/release/examples/tasks}
PORT=${PORT:-18091}; DATA=$(mktemp -d)
if [ "${DB:-sqlite}" = postgres ]; then
  name="heepr_bench_$$"; psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" >/dev/null
  URL="postgres://postgres@127.0.0.1:5432/$name"
else
  URL="sqlite://$DATA/heepr.db"
fi
HEEPR_BIND=127.0.0.1:$PORT DATABASE_URL=$URL HEEPR_DATA_DIR=$DATA HEEPR_AM_SIGNUP_CREDITS=100000000 \
  HEEPR_AM_REGISTER_LIMIT=100000 RUST_LOG=${RUST_LOG:-warn,heepr_server=info} "$SERVER" 2>"$DATA/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; [ -n "${name:-}" ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $name" >/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 300); do grep -q "listening on" "$DATA/log" && break; sleep 0.1; done
echo "backend ${DB:-sqlite}; $(nproc) cores; server and load generator share them"
RUST_BACKTRACE=0 "$GEN" "http://127.0.0.1:$PORT" "$WORKERS" "$SECS" || {
  echo "load generator failed; last lines of the server log:"; tail -20 "$DATA/log"; exit 1; }
DATABASE_URL=$URL HEEPR_DATA_DIR=$DATA "$SERVER" admin check-ledger
