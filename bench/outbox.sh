#!/usr/bin/env bash
# Outbox throughput: N emails queued at once, sent through a local SMTP server (the test
# peer, aiosmtpd, plain SMTP on loopback) by one server process; emails per second from
# the moment they are queued until the last is marked sent.
#   bash bench/outbox.sh [emails]                 # SQLite
#   DB=postgres bash bench/outbox.sh [emails]
#   SERVER_BIN=…                                  run a given binary instead of building
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
[ -z "${SERVER_BIN:-}" ] && cargo build --release -q -p heepr-server
SERVER=${SERVER_BIN:-target/release/heepr-server}
python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install -q aiosmtpd==1.4.6
DATA=$(mktemp -d); mkdir -p "$DATA/mail" "$DATA/certs"
SMTP_PORT=${SMTP_PORT:-18025}; PORT=${PORT:-18091}
if [ "${DB:-sqlite}" = postgres ]; then
  name="heepr_bench_$$"; psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name" >/dev/null
  URL="postgres://postgres@127.0.0.1:5432/$name"
  sql() { psql -qtA "$URL" -c "$1"; }
  insert="INSERT INTO emails (id, to_email, subject, body, created_at, attempts)
    SELECT 'eml_bench' || lpad(x::text, 21, '0'), 'user' || x || '@example.com', 'bench', 'body', now()::timestamp, 0
    FROM generate_series(1, $N) x"
else
  URL="sqlite://$DATA/heepr.db"
  sql() { sqlite3 "$DATA/heepr.db" "$1"; }
  insert="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $N)
    INSERT INTO emails (id, to_email, subject, body, created_at, attempts)
    SELECT printf('eml_bench%021d', x), 'user' || x || '@example.com', 'bench', 'body', strftime('%Y-%m-%d %H:%M:%f', 'now'), 0 FROM c"
fi
python3 tests/smtp/peer.py --port "$SMTP_PORT" --out "$DATA/mail" --certs "$DATA/certs" >"$DATA/peer.log" 2>&1 &
PEER=$!
HEEPR_BIND=127.0.0.1:$PORT DATABASE_URL=$URL HEEPR_DATA_DIR=$DATA HEEPR_MAIL="smtp://127.0.0.1:$SMTP_PORT" \
  RUST_LOG=warn "$SERVER" 2>"$DATA/log" &
PID=$!
trap 'kill $PID $PEER 2>/dev/null; wait $PID $PEER 2>/dev/null; [ -n "${name:-}" ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $name" >/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 300); do grep -q "ready" "$DATA/peer.log" 2>/dev/null && curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "backend ${DB:-sqlite}; $(nproc) cores shared by server, SMTP peer and database; load: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
sql "$insert" >/dev/null
while [ "$(sql "SELECT count(*) FROM emails WHERE sent_at IS NULL")" != 0 ]; do sleep 0.05; done
end=$(date +%s.%N)
got=$(ls "$DATA/mail" | grep -c '^message-' || true)
awk -v n="$N" -v s="$start" -v e="$end" -v got="$got" \
  'BEGIN { printf "%d emails sent (%d received) in %.2f s: %.0f emails/s\n", n, got, e - s, n / (e - s) }'
