#!/usr/bin/env bash
# Two instances on one PostgreSQL (issue 21): place an order through A -> the agent's
# long-poll on B answers (p50/p99; LISTEN/NOTIFY carries the wake-up), against the same
# measure on A alone, same run.
#   bash bench/instances.sh [workers] [seconds]          (defaults 4 15)
#   SERVER_BIN=… GEN_BIN=…   run given binaries instead of building release ones
set -euo pipefail
cd "$(dirname "$0")/.."
WORKERS=${1:-4}; SECS=${2:-15}
if [ -z "${SERVER_BIN:-}" ]; then
  cargo build --release -q -p heepr-server
  cargo build --release -q -p heepr-e2e --example long_poll
fi
SERVER=${SERVER_BIN:-target/release/heepr-server}; GEN=${GEN_BIN:-target/release/examples/long_poll}
WORK=$(mktemp -d); name="heepr_inst_$$"; PIDS=()
psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" >/dev/null
URL="postgres://postgres@127.0.0.1:5432/$name"
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $name" >/dev/null; rm -rf "$WORK"
}
trap cleanup EXIT
start() { # $1 = name, $2 = port, rest = extra env
  local n=$1 port=$2; shift 2; mkdir -p "$WORK/$n"
  env HEEPR_BIND=127.0.0.1:$port DATABASE_URL=$URL HEEPR_DATA_DIR=$WORK/$n HEEPR_STARTER_POINTS=100000000 \
    HEEPR_LOGIN_LIMIT_IP=100000000 RUST_LOG=${RUST_LOG:-warn,heepr_server=info,heepr_store=info} "$@" \
    "$SERVER" 2>"$WORK/$n/log" &
  PIDS+=($!)
  for _ in $(seq 300); do grep -q "LISTEN connection up" "$WORK/$n/log" && grep -q "listening on" "$WORK/$n/log" && return; sleep 0.1; done
  echo "instance $n did not come up"; cat "$WORK/$n/log"; exit 1
}
PA=$((18300 + RANDOM % 300)); PB=$((PA + 1))
start a "$PA"
start b "$PB" HEEPR_SECRET_KEY_FILE="$WORK/a/secret.key"
echo "PostgreSQL; $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo -n "place on A, long-poll on B: "; "$GEN" latency "http://127.0.0.1:$PA" "$WORK/a/log,$WORK/b/log" "$WORKERS" "$SECS" "http://127.0.0.1:$PB"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
