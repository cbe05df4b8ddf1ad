#!/usr/bin/env bash
# The data export of a user with ORDERS orders and MIB MiB of brief attachments (in 64 MiB
# files): time, MiB/s and the server's peak RSS growth during the export (issue 16: ≤ 32 MiB).
#   bash bench/export.sh [ORDERS] [MIB]      (default 10000 1024)
#   BIN=target/debug/heepr-e2e-server bash bench/export.sh 1000 256   (no release build)
set -euo pipefail
cd "$(dirname "$0")/.."
ORDERS=${1:-10000}
MIB=${2:-1024}
FILE_MIB=64
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p heepr-server
  BIN=target/release/heepr-server
fi
PORT=${PORT:-18096}; DATA=$(mktemp -d); BASE=http://127.0.0.1:$PORT
HEEPR_BIND=127.0.0.1:$PORT DATABASE_URL=sqlite://$DATA/heepr.db HEEPR_DATA_DIR=$DATA RUST_LOG=warn,heepr_server=info \
  HEEPR_STARTER_POINTS=100000000 HEEPR_MAX_FILE_BYTES=$((FILE_MIB * 1048576 + 1)) \
  HEEPR_MAX_UPLOAD_BYTES=$((FILE_MIB * 1048576 + 65536)) \
  "$BIN" 2>"$DATA/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$DATA/log" && break; sleep 0.1; done
J=(-s -b "$DATA/jar" -c "$DATA/jar" -H 'X-Heepr-Client: b' -H 'Content-Type: application/json')
C=(-s -b "$DATA/cjar" -c "$DATA/cjar" -H 'X-Heepr-Client: b')
curl "${J[@]}" -d '{"email":"o@b.test","password":"bench password"}' $BASE/api/auth/signup >/dev/null
curl "${J[@]}" -X POST $BASE/api/me/owner >/dev/null
GIG=$(curl "${J[@]}" -d '{"name":"U","categories":["code"],"accept_mode":{"mode":"auto","bands":[]},"gigs":[{"title":"T","category":"code","tiers":[{"name":"B","price":1,"delivery_days":1,"revisions":1}]}]}' $BASE/api/owner/agents \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["settings"]["gigs"][0]["id"])')
for _ in $(seq 100); do grep -q "owner/approve?code=" "$DATA/log" && break; sleep 0.1; done
CODE=$(grep -o 'code=apr_[0-9a-f]*' "$DATA/log" | head -1 | cut -d= -f2)
SETUP=$(curl "${J[@]}" -d "{\"code\":\"$CODE\"}" $BASE/api/owner/agents/approve)
AGENT=$(echo "$SETUP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["agent_id"])')
# The exporting user is the customer.
curl "${C[@]}" -H 'Content-Type: application/json' -d '{"email":"c@b.test","password":"bench password"}' $BASE/api/auth/signup >/dev/null
ORDER="{\"agent_id\":\"$AGENT\",\"gig_id\":\"$GIG\",\"tier\":\"B\"}"
FILES=$(( MIB / FILE_MIB ))
head -c $((FILE_MIB * 1048576)) /dev/urandom > "$DATA/brief.bin"
for _ in $(seq "$FILES"); do
  curl "${C[@]}" -o /dev/null -F "order=$ORDER" -F "files=@$DATA/brief.bin" $BASE/api/customer/orders
done
# The rest of the orders over one kept-alive connection.
python3 - "$PORT" "$DATA/cjar" "$ORDER" $(( ORDERS - FILES )) <<'PY'
import http.client, sys
port, jar, order, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
cookie = next(l.split("\t")[6].strip() for l in open(jar) if "\theepr_session\t" in l)
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"Content-Type": "application/json", "X-Heepr-Client": "b", "Cookie": f"heepr_session={cookie}"}
for i in range(n):
    c.request("POST", "/api/customer/orders", order, h)
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
PY
before=$(awk '/VmRSS/{print $2}' /proc/$PID/status)
# The peak so far (the uploads) is forgotten, so VmHWM is the export's own.
echo 5 > /proc/$PID/clear_refs 2>/dev/null || echo "(cannot reset VmHWM: the peak includes the uploads)"
start=$(date +%s.%N)
curl "${C[@]}" -o "$DATA/export.zip" -w '%{http_code} ' $BASE/api/account/export
end=$(date +%s.%N)
peak=$(awk '/VmHWM/{print $2}' /proc/$PID/status)
python3 - "$before" "$peak" "$start" "$end" "$ORDERS" "$MIB" "$DATA/export.zip" <<'PY'
import sys, json, zipfile, os
before, peak, start, end = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
orders, mib, path = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
z = zipfile.ZipFile(path)
m = json.loads(z.read("manifest.json"))
n = len(json.loads(z.read("orders_as_customer.json")))
size = os.path.getsize(path) / 1048576
print(f"export of {orders} orders + {mib} MiB of files: {end - start:.1f} s, {size / (end - start):.0f} MiB/s, "
      f"{size:.0f} MiB zip, {len(m['entries'])} entries, {n} orders; RSS before {before/1024:.1f} MiB, "
      f"peak {peak/1024:.1f} MiB, growth {(peak-before)/1024:.1f} MiB")
assert n == orders, (n, orders)
PY
