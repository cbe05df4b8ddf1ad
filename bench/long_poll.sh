#!/usr/bin/env bash
# Long-poll (issue 18): place -> the agent's long-poll answer (p50/p99), then N seeded agents
# long-polling at once: the server's RSS and CPU while they wait, against the same server idle.
#   bash bench/long_poll.sh [workers] [seconds] [waiting agents]     # SQLite, defaults 8 20 10000
#   DB=postgres bash bench/long_poll.sh …
#   SERVER_BIN=… GEN_BIN=…   run given binaries instead of building
set -euo pipefail
cd "$(dirname "$0")/.."
WORKERS=${1:-8}; SECS=${2:-20}; N=${3:-10000}
if [ -z "${SERVER_BIN:-}" ]; then
  cargo build --release -q -p heepr-server
  cargo build --release -q -p heepr-e2e --example long_poll
fi
SERVER=${SERVER_BIN:-target/release/heepr-server}; GEN=${GEN_BIN:-target/release/examples/long_poll}
PORT=${PORT:-18095}; BASE=http://127.0.0.1:$PORT; DATA=$(mktemp -d)
if [ "${DB:-sqlite}" = postgres ]; then
  name="heepr_bench_$$"; psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" >/dev/null
  URL="postgres://postgres@127.0.0.1:5432/$name"
else
  URL="sqlite://$DATA/heepr.db"
fi
HEEPR_BIND=127.0.0.1:$PORT DATABASE_URL=$URL HEEPR_DATA_DIR=$DATA HEEPR_STARTER_POINTS=100000000 \
  HEEPR_LOGIN_LIMIT_IP=100000000 RUST_LOG=${RUST_LOG:-warn,heepr_server=info} "$SERVER" 2>"$DATA/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; [ -n "${name:-}" ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $name" >/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 300); do grep -q "listening on" "$DATA/log" && break; sleep 0.1; done
echo "backend ${DB:-sqlite}; $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

"$GEN" latency "$BASE" "$DATA/log" "$WORKERS" "$SECS"

J=(-s -b "$DATA/jar" -c "$DATA/jar" -H 'X-Heepr-Client: bench' -H 'Content-Type: application/json')
curl "${J[@]}" -d '{"email":"owner@bench.test","password":"bench password"}' $BASE/api/auth/login >/dev/null
OWNER=$(curl "${J[@]}" $BASE/api/me | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$GEN" seed "$URL" "$OWNER" "$N"

# RSS (MiB) now, and CPU (% of one core) of the server process over $1 seconds.
sample() {
  local hz t0 t1; hz=$(getconf CLK_TCK)
  t0=$(awk '{print $14 + $15}' /proc/$PID/stat); sleep "$1"; t1=$(awk '{print $14 + $15}' /proc/$PID/stat)
  echo "RSS $(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$PID/status) MiB, CPU $(echo "$t0 $t1 $hz $1" | awk '{printf "%.1f", ($2 - $1) * 100 / $3 / $4}') % of one core"
}
echo "idle, nobody waiting: $(sample 10)"
"$GEN" waiters "$BASE" "$N" 110 >"$DATA/waiters" &
GENPID=$!
for _ in $(seq 600); do grep -q "long-polls open" "$DATA/waiters" && break; sleep 0.1; done
sleep 10
echo "$N long-polls waiting ($(ss -Htn state established "( sport = :$PORT )" | wc -l) connections; the window holds each one's 60 s time-out and re-poll): $(sample 60)"
wait $GENPID
cat "$DATA/waiters"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
