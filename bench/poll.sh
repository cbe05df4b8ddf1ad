#!/usr/bin/env bash
# Poll, skill and login throughput against a bare JSON handler (/healthz) measured in
# the same run with the same load generator. Usage:
#   bash bench/poll.sh                      # SQLite in a temp dir
#   DB=postgres bash bench/poll.sh          # a fresh PostgreSQL database on 127.0.0.1
#   SERVER_BIN=…                            run a given binary instead of building
# Needs: wrk (apt-get install wrk), curl, python3. Builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SERVER_BIN:-}" ] || cargo build --release -q -p heepr-server
BIN=${SERVER_BIN:-target/release/heepr-server}
PORT=${PORT:-18080}
BASE=http://127.0.0.1:$PORT
DATA=$(mktemp -d)
if [ "${DB:-sqlite}" = postgres ]; then
  name="heepr_bench_$$"
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" >/dev/null
  URL="postgres://postgres@127.0.0.1:5432/$name"
else
  URL="sqlite://$DATA/heepr.db"
fi
HEEPR_BIND=127.0.0.1:$PORT DATABASE_URL=$URL HEEPR_DATA_DIR=$DATA HEEPR_LOGIN_LIMIT_IP=100000000 \
  RUST_LOG=warn,heepr_server=info "$BIN" 2>"$DATA/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"; [ -n "${name:-}" ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $name" >/dev/null' EXIT
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

cat > "$DATA/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"email":"bench@example.com","password":"bench password"}'
wrk.headers["Content-Type"] = "application/json"
LUA

run() { echo "## $1"; shift; wrk -t2 -c64 -d10s --latency "$@" | grep -E 'Requests/sec|Latency |  50%|  99%|Non-2xx'; }
echo "backend: ${DB:-sqlite}; machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB; wrk -t2 -c64 -d10s"
run "bare JSON handler (GET /healthz)" $BASE/healthz
run "idle poll (GET /api/events)" -H "Authorization: Bearer $KEY" $BASE/api/events
run "skill (GET /api/skill)" -H "Authorization: Bearer $KEY" $BASE/api/skill
echo "## login (POST /api/auth/login, Argon2id) — 10 s, 8 connections"
wrk -t2 -c8 -d10s --latency -s "$DATA/login.lua" $BASE/api/auth/login | grep -E 'Requests/sec|  99%|Non-2xx'
