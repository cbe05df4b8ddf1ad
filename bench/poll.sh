#!/usr/bin/env bash
# Poll, skill and login throughput against a bare JSON handler (/healthz) measured in
# the same run with the same load generator. Usage:
#   bash bench/poll.sh                      # SQLite in a temp dir
#   DB=postgres bash bench/poll.sh          # a fresh PostgreSQL database on 127.0.0.1
#   SERVER_BIN=…                            run a given binary instead of building
# The bare handler and the idle poll are measured twice in the same run: metrics off
# (no HEEPR_METRICS_BIND, the default) and on; the ratios poll/healthz are compared.
# Needs: wrk (apt-get install wrk), curl, python3. Builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SERVER_BIN:-}" ] || cargo build --release -q -p heepr-server
BIN=${SERVER_BIN:-target/release/heepr-server}
PORT=${PORT:-18080}
BASE=http://127.0.0.1:$PORT
ROOT=$(mktemp -d)
PID=
DBS=()
cleanup() {
  [ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
  rm -rf "$ROOT"
  for n in "${DBS[@]}"; do psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $n" >/dev/null; done
}
trap cleanup EXIT

# start LABEL [ENV=VALUE…]: a fresh database and server, an owner and a registered agent
# (sets DATA, KEY, PID).
start() {
  local label=$1; shift
  DATA="$ROOT/$label"; mkdir -p "$DATA"
  if [ "${DB:-sqlite}" = postgres ]; then
    local name="heepr_bench_$$_$label"
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" >/dev/null
    DBS+=("$name")
    URL="postgres://postgres@127.0.0.1:5432/$name"
  else
    URL="sqlite://$DATA/heepr.db"
  fi
  env "$@" HEEPR_BIND=127.0.0.1:$PORT DATABASE_URL=$URL HEEPR_DATA_DIR=$DATA HEEPR_LOGIN_LIMIT_IP=100000000 \
    RUST_LOG=warn,heepr_server=info "$BIN" 2>"$DATA/log" &
  PID=$!
  for _ in $(seq 100); do grep -q "listening on" "$DATA/log" && break; sleep 0.1; done
  J=(-s -b "$DATA/jar" -c "$DATA/jar" -H 'X-Heepr-Client: bench' -H 'Content-Type: application/json')
  curl "${J[@]}" -d '{"email":"bench@example.com","password":"bench password"}' $BASE/api/auth/signup >/dev/null
  curl "${J[@]}" -X POST $BASE/api/me/owner >/dev/null
  curl "${J[@]}" -d '{"name":"Bench","categories":["code"],"gigs":[{"title":"T","category":"code","tiers":[{"name":"B","price":10,"delivery_days":1,"revisions":1}]}]}' $BASE/api/owner/agents >/dev/null
  for _ in $(seq 100); do grep -q "owner/approve?code=" "$DATA/log" && break; sleep 0.1; done
  CODE=$(grep -o 'code=apr_[0-9a-f]*' "$DATA/log" | head -1 | cut -d= -f2)
  SETUP=$(curl "${J[@]}" -d "{\"code\":\"$CODE\"}" $BASE/api/owner/agents/approve)
  AGENT=$(echo "$SETUP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["agent_id"])')
  TOKEN=$(echo "$SETUP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bootstrap_token"])')
  KEY=$(curl -s -H "Authorization: Bootstrap $TOKEN" -H 'Content-Type: application/json' -d "{\"agent_id\":\"$AGENT\"}" $BASE/api/agent/register \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
  [ "$(curl -s -H "Authorization: Bearer $KEY" $BASE/api/events)" = "{}" ] || { echo "poll is not idle"; exit 1; }
}

stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }

run() { echo "## $1"; shift; wrk -t2 -c64 -d10s --latency "$@" | tee "$ROOT/last" | grep -E 'Requests/sec|Latency |  50%|  99%|Non-2xx'; }
rps() { awk '/Requests\/sec/{print $2}' "$ROOT/last"; }

echo "backend: ${DB:-sqlite}; machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB; wrk -t2 -c64 -d10s"
start off
cat > "$DATA/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"email":"bench@example.com","password":"bench password"}'
wrk.headers["Content-Type"] = "application/json"
LUA
echo "# metrics off"
run "bare JSON handler (GET /healthz)" $BASE/healthz; bare_off=$(rps)
run "idle poll (GET /api/events)" -H "Authorization: Bearer $KEY" $BASE/api/events; poll_off=$(rps)
run "skill (GET /api/skill)" -H "Authorization: Bearer $KEY" $BASE/api/skill
echo "## login (POST /api/auth/login, Argon2id) — 10 s, 8 connections"
wrk -t2 -c8 -d10s --latency -s "$DATA/login.lua" $BASE/api/auth/login | grep -E 'Requests/sec|  99%|Non-2xx'
stop

start on HEEPR_METRICS_BIND=127.0.0.1:0
echo "# metrics on (HEEPR_METRICS_BIND)"
run "bare JSON handler (GET /healthz)" $BASE/healthz; bare_on=$(rps)
run "idle poll (GET /api/events)" -H "Authorization: Bearer $KEY" $BASE/api/events; poll_on=$(rps)
MURL=$(grep -o 'metrics on http://[^ ]*' "$DATA/log" | head -1 | cut -d' ' -f3)
curl -s "$MURL" | grep -q 'heepr_polls_total{result="idle"}' || { echo "metrics did not count the polls"; exit 1; }
stop

python3 - "$bare_off" "$poll_off" "$bare_on" "$poll_on" <<'PY'
import sys
bo, po, bn, pn = map(float, sys.argv[1:])
off, on = po / bo, pn / bn
print(f"## idle poll / bare handler: metrics off {off:.2f}, on {on:.2f} ({(on / off - 1) * 100:+.1f} %)")
PY
