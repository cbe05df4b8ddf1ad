#!/usr/bin/env bash
# A large multipart delivery: peak RSS growth of the server and MB/s.
#   bash bench/upload.sh [MiB]      (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${1:-1024}
cargo build --release -q -p heepr-server
PORT=${PORT:-18095}; DATA=$(mktemp -d); BASE=http://127.0.0.1:$PORT
HEEPR_BIND=127.0.0.1:$PORT DATABASE_URL=sqlite://$DATA/heepr.db HEEPR_DATA_DIR=$DATA RUST_LOG=warn,heepr_server=info \
  target/release/heepr-server 2>"$DATA/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$DATA/log" && break; sleep 0.1; done
J=(-s -b "$DATA/jar" -c "$DATA/jar" -H 'X-Heepr-Client: b' -H 'Content-Type: application/json')
curl "${J[@]}" -d '{"email":"o@b.test","password":"bench password"}' $BASE/api/auth/signup >/dev/null
curl "${J[@]}" -X POST $BASE/api/me/owner >/dev/null
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
head -c $((MIB * 1048576)) /dev/urandom > "$DATA/big.bin"
before=$(awk '/VmRSS/{print $2}' /proc/$PID/status)
start=$(date +%s.%N)
curl -s -o "$DATA/resp" -w '%{http_code}\n' -H "Authorization: Bearer $KEY" -F "files=@$DATA/big.bin" $BASE/api/orders/$ORDER/deliver
end=$(date +%s.%N)
peak=$(awk '/VmHWM/{print $2}' /proc/$PID/status)
python3 - "$before" "$peak" "$start" "$end" "$MIB" "$DATA/resp" "$DATA/big.bin" <<'PY'
import sys, json, hashlib
before, peak, start, end, mib = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
d = json.load(open(sys.argv[6]))["delivery"]["files"][0]
h = hashlib.sha256(open(sys.argv[7], "rb").read()).hexdigest()
print(f"{mib} MiB delivery: {mib / (end - start):.0f} MiB/s; RSS before {before/1024:.1f} MiB, peak {peak/1024:.1f} MiB, growth {(peak-before)/1024:.1f} MiB; sha256 matches: {d['sha256'] == h}")
PY
