#!/usr/bin/env bash
# A large delivery uploaded and downloaded, on local disk and on an S3-compatible store
# (moto's server mode on loopback), same run: MiB/s each way and the server's peak RSS
# growth.
#   bash bench/objects.sh [MiB]        (default 1024)
#   BIN=target/debug/heepr-e2e-server bash bench/objects.sh   (skip the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${1:-1024}
if [ -z "${BIN:-}" ]; then cargo build --release -q -p heepr-server; BIN=target/release/heepr-server; fi
WORK=$(mktemp -d)
MOTO_PORT=${MOTO_PORT:-18190}
python3 -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" >/dev/null 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null; wait $MOTO 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -s -X PUT "http://127.0.0.1:$MOTO_PORT/heepr-bench" >/dev/null && break; sleep 0.1; done
head -c $((MIB * 1048576)) /dev/urandom > "$WORK/big.bin"

run() { # $1 = label, rest = extra env
  local label=$1; shift
  local PORT=$((18195 + RANDOM % 500)) DATA; DATA=$(mktemp -d -p "$WORK")
  local BASE=http://127.0.0.1:$PORT
  env HEEPR_BIND=127.0.0.1:$PORT DATABASE_URL=sqlite://$DATA/heepr.db HEEPR_DATA_DIR=$DATA RUST_LOG=warn,heepr_server=info "$@" \
    "$BIN" 2>"$DATA/log" &
  local PID=$!
  for _ in $(seq 200); do grep -q "listening on" "$DATA/log" && break; sleep 0.1; done
  local J=(-s -b "$DATA/jar" -c "$DATA/jar" -H 'X-Heepr-Client: b' -H 'Content-Type: application/json')
  curl "${J[@]}" -d '{"email":"o@b.test","password":"bench password"}' $BASE/api/auth/signup >/dev/null
  curl "${J[@]}" -X POST $BASE/api/me/owner >/dev/null
  local GIG CODE SETUP AGENT TOKEN KEY ORDER
  GIG=$(curl "${J[@]}" -d '{"name":"U","categories":["code"],"accept_mode":{"mode":"auto","bands":[]},"gigs":[{"title":"T","category":"code","tiers":[{"name":"B","price":10,"delivery_days":1,"revisions":1}]}]}' $BASE/api/owner/agents \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["settings"]["gigs"][0]["id"])')
  for _ in $(seq 100); do grep -q "owner/approve?code=" "$DATA/log" && break; sleep 0.1; done
  CODE=$(grep -o 'code=apr_[0-9a-f]*' "$DATA/log" | head -1 | cut -d= -f2)
  SETUP=$(curl "${J[@]}" -d "{\"code\":\"$CODE\"}" $BASE/api/owner/agents/approve)
  AGENT=$(echo "$SETUP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["agent_id"])')
  TOKEN=$(echo "$SETUP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bootstrap_token"])')
  KEY=$(curl -s -H "Authorization: Bootstrap $TOKEN" -H 'Content-Type: application/json' -d "{\"agent_id\":\"$AGENT\"}" $BASE/api/agent/register \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
  ORDER=$(curl "${J[@]}" -d "{\"agent_id\":\"$AGENT\",\"gig_id\":\"$GIG\",\"tier\":\"B\"}" $BASE/api/customer/orders | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  local before t0 t1 t2 peak FILE
  before=$(awk '/VmRSS/{print $2}' /proc/$PID/status)
  t0=$(date +%s.%N)
  curl -s -o "$DATA/resp" -H "Authorization: Bearer $KEY" -F "files=@$WORK/big.bin" $BASE/api/orders/$ORDER/deliver
  t1=$(date +%s.%N)
  FILE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["delivery"]["files"][0]["id"])' "$DATA/resp")
  curl -s -b "$DATA/jar" -H 'X-Heepr-Client: b' -o "$DATA/down.bin" $BASE/api/owner/orders/$ORDER/files/$FILE
  t2=$(date +%s.%N)
  peak=$(awk '/VmHWM/{print $2}' /proc/$PID/status)
  kill $PID; wait $PID 2>/dev/null || true
  python3 - "$label" "$before" "$peak" "$t0" "$t1" "$t2" "$MIB" "$WORK/big.bin" "$DATA/down.bin" <<'PY'
import sys, hashlib
label, before, peak = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t0, t1, t2, mib = float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
h = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
print(f"{label}: {mib} MiB up {mib / (t1 - t0):.0f} MiB/s, down {mib / (t2 - t1):.0f} MiB/s; "
      f"RSS before {before/1024:.1f} MiB, peak {peak/1024:.1f} MiB, growth {(peak-before)/1024:.1f} MiB; "
      f"download identical: {h(sys.argv[8]) == h(sys.argv[9])}")
PY
  rm -rf "$DATA"
}

run "local disk"
run "object store (moto)" HEEPR_OBJECT_STORE_URL=s3://heepr-bench/bench HEEPR_OBJECT_STORE_ENDPOINT=http://127.0.0.1:$MOTO_PORT \
  HEEPR_OBJECT_STORE_ACCESS_KEY_ID=bench HEEPR_OBJECT_STORE_SECRET_ACCESS_KEY=bench HEEPR_OBJECT_STORE_TIMEOUT_SECS=30
