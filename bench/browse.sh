#!/usr/bin/env bash
# Do browse and the leaderboard stay flat as the catalogue grows? Seeds N agents and R
# reviews (with the R completed orders they review) straight into the tables with bulk SQL,
# prints the query plans of the listing queries (EXPLAIN), then measures with wrk:
#   rating    — GET /api/agents?sort=rating                     (first page)
#   rating_deep — the same, from a cursor half-way down the list (keyset, no OFFSET)
#   min_rating  — GET /api/agents?sort=rating&min_rating=4.5
#   newest_deep — GET /api/agents?sort=newest from half-way down
#   board     — GET /api/leaderboard                            (first page)
#   board_deep  — GET /api/leaderboard from half-way down
#   bash bench/browse.sh 1000 10000                  # SQLite
#   DB=postgres bash bench/browse.sh 100000 1000000
#   SERVER_BIN=…  runs a given server binary instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}; R=${2:-10000}; SECS=${SECS:-10}
command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null  # Debian package
if [ -z "${SERVER_BIN:-}" ]; then cargo build --release -q -p heepr-server; fi
SERVER=${SERVER_BIN:-target/release/heepr-server}
PORT=${PORT:-18087}; BASE=http://127.0.0.1:$PORT; DATA=$(mktemp -d)
if [ "${DB:-sqlite}" = postgres ]; then
  name="heepr_browse_$$"; psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" >/dev/null
  URL="postgres://postgres@127.0.0.1:5432/$name"
else
  URL="sqlite://$DATA/heepr.db"
fi
HEEPR_BIND=127.0.0.1:$PORT DATABASE_URL=$URL HEEPR_DATA_DIR=$DATA \
  RUST_LOG=warn,heepr_server=info "$SERVER" 2>"$DATA/log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; [ -n "${name:-}" ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $name" >/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$DATA/log" && break; sleep 0.1; done
J=(-s -b "$DATA/jar" -c "$DATA/jar" -H 'X-Heepr-Client: b' -H 'Content-Type: application/json')
curl "${J[@]}" -d '{"email":"o@b.test","password":"bench password"}' $BASE/api/auth/signup >/dev/null
curl "${J[@]}" -X POST $BASE/api/me/owner >/dev/null
# One real agent through the wizard: its settings are copied into every seeded agent.
curl "${J[@]}" -d '{"name":"S","categories":["code"],"accept_mode":{"mode":"auto","bands":[]},"gigs":[{"title":"T","category":"code","tiers":[{"name":"B","price":1,"delivery_days":1,"revisions":1}]}]}' $BASE/api/owner/agents >/dev/null
for _ in $(seq 100); do grep -q "owner/approve?code=" "$DATA/log" && break; sleep 0.1; done
CODE=$(grep -o 'code=apr_[0-9a-f]*' "$DATA/log" | head -1 | cut -d= -f2)
AGENT=$(curl "${J[@]}" -d "{\"code\":\"$CODE\"}" $BASE/api/owner/agents/approve | python3 -c 'import json,sys; print(json.load(sys.stdin)["agent_id"])')
USER=$(curl "${J[@]}" $BASE/api/me | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
C=(-s -H 'X-Heepr-Client: b' -H 'Content-Type: application/json')
CUSTOMER=$(curl "${C[@]}" -d '{"email":"c@b.test","password":"bench password"}' $BASE/api/auth/signup \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

echo "seeding $N agents, $R completed orders and $R reviews…"
# Agent g (1..N): created g seconds apart, price 1 + g % 100, every tenth also in design.
# Review i goes to agent a = 1 + i % N with 1 + min(4, a % 5 + (i / N) % 2) stars: means of
# 1.5, 2.5, 3.5, 4.5 and 5 for a fifth of the agents each. The
# aggregates are then computed from the reviews with the leaderboard's formula
# (heepr_domain::reputation: (10 × 3000 + 1000 × Σ) / (10 + n)).
AGG="UPDATE agents SET rating_sum = s.sum, rating_count = s.n, rating_x100 = s.sum * 100 / s.n,
       score_x1000 = (s.sum * 1000 + 30000) / (s.n + 10), completed_count = s.n
     FROM (SELECT agent_id, SUM(stars) AS sum, COUNT(*) AS n FROM reviews GROUP BY agent_id) s
     WHERE agents.id = s.agent_id"
if [ "${DB:-sqlite}" = postgres ]; then
  psql -q -h 127.0.0.1 -U postgres "$name" <<PSQL
INSERT INTO agents (id, owner_id, name, status, suspended, settings, description, categories, search, price_min, price_max,
                    created_at, updated_at, version)
  SELECT 'agt_b' || lpad(g::text, 7, '0'), '$USER', 'Agent ' || g, 'active', FALSE, a.settings, '',
         CASE WHEN g % 10 = 0 THEN ',code,design,' ELSE ',code,' END, 'agent ' || g, 1 + g % 100, 1 + g % 100,
         now() - make_interval(secs => g), now(), 0
    FROM generate_series(1, $N) g, (SELECT settings FROM agents WHERE id = '$AGENT') a;
INSERT INTO orders (id, customer_id, owner_id, agent_id, state, price, data, due_at, version, created_at, updated_at)
  SELECT 'ord_b' || i, '$CUSTOMER', '$USER', 'agt_b' || lpad((1 + i % $N)::text, 7, '0'), 'completed', 1, '{}', NULL, 1, now(), now()
    FROM generate_series(1, $R) i;
INSERT INTO reviews (id, order_id, agent_id, customer_id, stars, body, created_at)
  SELECT 'rev_b' || lpad(i::text, 8, '0'), 'ord_b' || i, 'agt_b' || lpad((1 + i % $N)::text, 7, '0'), '$CUSTOMER',
         1 + LEAST(4, (1 + i % $N) % 5 + (i / $N) % 2), 'fine', now() FROM generate_series(1, $R) i;
$AGG;
VACUUM ANALYZE;
PSQL
else
  python3 - "$DATA/heepr.db" "$N" "$R" "$USER" "$AGENT" "$AGG" "$CUSTOMER" <<'PY'
import sqlite3, sys
db, n, r, user, agent, agg, customer = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7]
c = sqlite3.connect(db, timeout=30)
settings = c.execute("SELECT settings FROM agents WHERE id = ?", (agent,)).fetchone()[0]
aid = lambda g: f"agt_b{g:07d}"
c.executemany("""INSERT INTO agents (id, owner_id, name, status, suspended, settings, description, categories, search,
                 price_min, price_max, created_at, updated_at, version)
                 VALUES (?, ?, ?, 'active', 0, ?, '', ?, ?, ?, ?, datetime('now', ?), datetime('now'), 0)""",
              ((aid(g), user, f"Agent {g}", settings, ",code,design," if g % 10 == 0 else ",code,", f"agent {g}",
                1 + g % 100, 1 + g % 100, f"-{g} seconds") for g in range(1, n + 1)))
c.executemany("""INSERT INTO orders (id, customer_id, owner_id, agent_id, state, price, data, due_at, version, created_at,
                 updated_at) VALUES (?, ?, ?, ?, 'completed', 1, '{}', NULL, 1, datetime('now'), datetime('now'))""",
              ((f"ord_b{i}", customer, user, aid(1 + i % n)) for i in range(1, r + 1)))
c.executemany("""INSERT INTO reviews (id, order_id, agent_id, customer_id, stars, body, created_at)
                 VALUES (?, ?, ?, ?, ?, 'fine', datetime('now'))""",
              ((f"rev_b{i:08d}", f"ord_b{i}", aid(1 + i % n), customer, 1 + min(4, (1 + i % n) % 5 + (i // n) % 2)) for i in range(1, r + 1)))
c.execute(agg)
c.commit(); c.execute("ANALYZE"); c.close()
PY
fi

# Cursors half-way down each order, built from the row at that position (the cursor is
# `<sort tag><key>.<rank>.<id>`, store/src/browse.rs).
MID=$((N / 2))
q() { if [ "${DB:-sqlite}" = postgres ]; then psql -qAt -h 127.0.0.1 -U postgres "$name" -c "$1"; else sqlite3 "$DATA/heepr.db" "$1"; fi; }
RATING=$(q "SELECT 'r' || rating_x100 || '.0.' || id FROM agents WHERE suspended = FALSE ORDER BY rating_x100 DESC, id DESC LIMIT 1 OFFSET $MID")
BOARD=$(q "SELECT 's' || score_x1000 || '.$MID.' || id FROM agents WHERE score_x1000 > 0 ORDER BY score_x1000 DESC, id DESC LIMIT 1 OFFSET $MID")
if [ "${DB:-sqlite}" = postgres ]; then
  NEWEST=$(q "SELECT 'n' || (extract(epoch FROM created_at) * 1000000)::bigint || '.0.' || id FROM agents ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $MID")
else
  NEWEST=$(q "SELECT 'n' || CAST((julianday(created_at) - 2440587.5) * 86400000000 AS INTEGER) || '.0.' || id FROM agents ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $MID")
fi

# The statements the store sends (see store/src/browse.rs), for the plans.
KEY=${RATING#r}; KEY=${KEY%%.*}; KID=${RATING##*.}
SKEY=${BOARD#s}; SKEY=${SKEY%%.*}; SID=${BOARD##*.}
COLS="id, owner_id, status, suspended, settings, rating_sum, rating_count, rating_x100, completed_count"
LISTED="status <> 'pending_approval' AND suspended = FALSE"
declare -A PLAN=(
  [rating]="SELECT $COLS FROM agents WHERE $LISTED ORDER BY rating_x100 DESC, id DESC LIMIT 21"
  [rating_deep]="SELECT $COLS FROM agents WHERE $LISTED AND (agents.rating_x100, agents.id) < ($KEY, '$KID') ORDER BY rating_x100 DESC, id DESC LIMIT 21"
  [min_rating]="SELECT $COLS FROM agents WHERE $LISTED AND rating_count > 0 AND rating_x100 >= 450 ORDER BY rating_x100 DESC, id DESC LIMIT 21"
  [board_deep]="SELECT $COLS FROM agents WHERE $LISTED AND score_x1000 > 0 AND (agents.score_x1000, agents.id) < ($SKEY, '$SID') ORDER BY score_x1000 DESC, id DESC LIMIT 21"
  [reviews]="SELECT id, stars FROM reviews WHERE agent_id = 'agt_b0000001' ORDER BY id DESC LIMIT 21"
)
for k in rating rating_deep min_rating board_deep reviews; do
  echo "## plan: $k"
  if [ "${DB:-sqlite}" = postgres ]; then
    q "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${PLAN[$k]}" | grep -Ev '^$'
  else
    q "EXPLAIN QUERY PLAN ${PLAN[$k]}"
  fi
done

echo "backend ${DB:-sqlite}; N=$N agents, R=$R reviews; $(nproc) cores shared by server and wrk; wrk -t2 -c16 -d${SECS}s"
for case in "rating:/api/agents?sort=rating" "rating_deep:/api/agents?sort=rating&cursor=$RATING" \
            "min_rating:/api/agents?sort=rating&min_rating=4.5" "newest_deep:/api/agents?sort=newest&cursor=$NEWEST" \
            "board:/api/leaderboard" "board_deep:/api/leaderboard?cursor=$BOARD" \
            "reviews:/api/agents/agt_b0000001/reviews"; do
  label=${case%%:*}; path=${case#*:}
  code=$(curl -s -o "$DATA/body" -w '%{http_code}' "$BASE$path")
  rows=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d.get("agents", d.get("reviews", []))))' "$DATA/body")
  [ "$code" = 200 ] && [ "$rows" -gt 0 ] || { echo "$label: HTTP $code, $rows rows"; cat "$DATA/body"; exit 1; }
  printf '## %-11s %s (%s rows)\n' "$label" "$path" "$rows"
  wrk -t2 -c16 -d"${SECS}s" --latency "$BASE$path" | grep -E 'Requests/sec|  50%|  99%|Non-2xx'
done
