#!/usr/bin/env bash
# Does the cost stay flat as the database grows? Seeds N filler orders and N filler events
# (another agent's, straight into the tables), then measures with wrk:
#   place  — POST /api/customer/orders (one write transaction, several indexed writes)
#   replay — GET /api/events?since=<first id> (indexed range read of this agent's events)
#   bash bench/scale.sh 10000            # SQLite
#   DB=postgres bash bench/scale.sh 1000000
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null  # Debian package
cargo build --release -q -p heepr-server
PORT=${PORT:-18085}; BASE=http://127.0.0.1:$PORT; DATA=$(mktemp -d)
if [ "${DB:-sqlite}" = postgres ]; then
  name="heepr_scale_$$"; psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" >/dev/null
  URL="postgres://postgres@127.0.0.1:5432/$name"
else
  URL="sqlite://$DATA/heepr.db"
fi
HEEPR_BIND=127.0.0.1:$PORT DATABASE_URL=$URL HEEPR_DATA_DIR=$DATA HEEPR_STARTER_POINTS=1000000000 \
  RUST_LOG=warn,heepr_server=info target/release/heepr-server 2>"$DATA/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; [ -n "${name:-}" ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $name" >/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$DATA/log" && break; sleep 0.1; done
J=(-s -b "$DATA/jar" -c "$DATA/jar" -H 'X-Heepr-Client: b' -H 'Content-Type: application/json')
curl "${J[@]}" -d '{"email":"o@b.test","password":"bench password"}' $BASE/api/auth/signup >/dev/null
curl "${J[@]}" -X POST $BASE/api/me/owner >/dev/null
GIG=$(curl "${J[@]}" -d '{"name":"S","categories":["code"],"accept_mode":{"mode":"auto","bands":[]},"gigs":[{"title":"T","category":"code","tiers":[{"name":"B","price":1,"delivery_days":1,"revisions":1}]}]}' $BASE/api/owner/agents \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["settings"]["gigs"][0]["id"])')
for _ in $(seq 100); do grep -q "owner/approve?code=" "$DATA/log" && break; sleep 0.1; done
CODE=$(grep -o 'code=apr_[0-9a-f]*' "$DATA/log" | head -1 | cut -d= -f2)
SETUP=$(curl "${J[@]}" -d "{\"code\":\"$CODE\"}" $BASE/api/owner/agents/approve)
AGENT=$(echo "$SETUP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["agent_id"])')
TOKEN=$(echo "$SETUP" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bootstrap_token"])')
KEY=$(curl -s -H "Authorization: Bootstrap $TOKEN" -H 'Content-Type: application/json' -d "{\"agent_id\":\"$AGENT\"}" $BASE/api/agent/register \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
USER=$(curl "${J[@]}" $BASE/api/me | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
# Two real orders so the agent has events to replay.
for _ in 1 2; do curl "${J[@]}" -d "{\"agent_id\":\"$AGENT\",\"gig_id\":\"$GIG\",\"tier\":\"B\"}" $BASE/api/customer/orders >/dev/null; done
FIRST=$(curl -s -H "Authorization: Bearer $KEY" $BASE/api/events | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"][0]["id"])')

echo "seeding $N filler orders and $N filler events…"
SQL="INSERT INTO agents (id, owner_id, name, status, suspended, settings, created_at, updated_at, version)
     VALUES ('agt_filler', '$USER', 'filler', 'active', FALSE, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 0);"
if [ "${DB:-sqlite}" = postgres ]; then
  psql -q -h 127.0.0.1 -U postgres "$name" <<PSQL
$SQL
INSERT INTO orders (id, customer_id, owner_id, agent_id, state, price, data, due_at, version, created_at, updated_at)
  SELECT 'ord_f' || g, '$USER', '$USER', 'agt_filler', 'completed', 1, '{}', NULL, 1, now(), now() FROM generate_series(1, $N) g;
INSERT INTO events (id, agent_id, seq, kind, order_id, body, created_at)
  SELECT 'evt_f' || g, 'agt_filler', g, 'new_order', 'ord_f' || g, '{}', now() FROM generate_series(1, $N) g;
ANALYZE;
PSQL
else
  python3 - "$DATA/heepr.db" "$N" "$USER" "$SQL" <<'PY'
import sqlite3, sys
db, n, user, sql = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = sqlite3.connect(db, timeout=30)
c.execute(sql)
c.executemany("INSERT INTO orders (id, customer_id, owner_id, agent_id, state, price, data, due_at, version, created_at, updated_at) VALUES (?, ?, ?, 'agt_filler', 'completed', 1, '{}', NULL, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
              ((f"ord_f{i}", user, user) for i in range(n)))
c.executemany("INSERT INTO events (id, agent_id, seq, kind, order_id, body, created_at) VALUES (?, 'agt_filler', ?, 'new_order', ?, '{}', CURRENT_TIMESTAMP)",
              ((f"evt_f{i}", i + 1, f"ord_f{i}") for i in range(n)))
c.commit(); c.execute("ANALYZE"); c.close()
PY
fi
cat > "$DATA/place.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"agent_id":"$AGENT","gig_id":"$GIG","tier":"B"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Heepr-Client"] = "bench"
wrk.headers["Cookie"] = "$(awk '/heepr_session/{print "heepr_session="$7}' "$DATA/jar")"
LUA
echo "backend ${DB:-sqlite}; N=$N; wrk -t2 -c16 -d10s"
echo "## place (POST /api/customer/orders)"
wrk -t2 -c16 -d10s --latency -s "$DATA/place.lua" $BASE/api/customer/orders | grep -E 'Requests/sec|  50%|  99%|Non-2xx'
echo "## replay (GET /api/events?since=…)"
wrk -t2 -c16 -d10s --latency -H "Authorization: Bearer $KEY" "$BASE/api/events?since=$FIRST" | grep -E 'Requests/sec|  50%|  99%|Non-2xx'
