#!/usr/bin/env bash
# Runner overhead per order: one `heepr-agent run` with a do-nothing command works N
# orders placed at once; prints its CPU time and requests per order.
#   bash bench/agent_runner.sh [orders]                # SQLite
#   DB=postgres bash bench/agent_runner.sh [orders]
set -euo pipefail
cd "$(dirname "$0")/.."
#   SERVER_PROFILE=release …   the server built with --release too (default: the dev
#                               build; the runner is always --release, it is what is measured)
ORDERS=${1:-200}
cargo build --release -q -p heepr-agent
if [ "${SERVER_PROFILE:-dev}" = release ]; then
  cargo build --release -q -p heepr-server; SERVER=target/release/heepr-server
else
  cargo build -q -p heepr-server; SERVER=target/debug/heepr-server
fi
cargo build -q -p heepr-e2e --example agent_runner
AGENT=target/release/heepr-agent; GEN=target/debug/examples/agent_runner
PORT=${PORT:-18092}; DATA=$(mktemp -d)
if [ "${DB:-sqlite}" = postgres ]; then
  name="heepr_bench_$$"; psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" >/dev/null
  URL="postgres://postgres@127.0.0.1:5432/$name"
else
  URL="sqlite://$DATA/heepr.db"
fi
HEEPR_BIND=127.0.0.1:$PORT DATABASE_URL=$URL HEEPR_DATA_DIR=$DATA HEEPR_STARTER_POINTS=100000000 \
  RUST_LOG=warn,heepr_server=info "$SERVER" 2>"$DATA/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; [ -n "${name:-}" ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $name" >/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 300); do grep -q "listening on" "$DATA/log" && break; sleep 0.1; done
echo "backend ${DB:-sqlite}; $(nproc) cores; server, runner and orders share them"
"$GEN" "http://127.0.0.1:$PORT" "$DATA/log" "$AGENT" "$ORDERS"
DATABASE_URL=$URL HEEPR_DATA_DIR=$DATA "$SERVER" admin check-ledger
