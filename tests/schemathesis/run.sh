#!/usr/bin/env bash
# Fuzzes a live heepr server (SQLite) with schemathesis against its own /openapi.json:
# 0 server errors and 0 answers that break the document. Bounded in time.
# Usage: tests/schemathesis/run.sh path/to/heepr-server
set -euo pipefail
bin=${1:?the server binary}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
log="$work/server.log"
pid=
trap '[ -n "$pid" ] && { kill $pid 2>/dev/null; wait $pid 2>/dev/null; }; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export DATABASE_URL="sqlite://$work/heepr.db" HEEPR_DATA_DIR="$work/data"
HEEPR_ADMIN_PASSWORD='correct horse battery' "$bin" admin create-user --email admin@fuzz.test --admin >/dev/null
# Rate limits raised so the fuzzer is not answered 429 throughout (429 is documented).
HEEPR_BIND="127.0.0.1:$port" \
  HEEPR_WORKERS=2 HEEPR_LOGIN_LIMIT_EMAIL=100000 HEEPR_LOGIN_LIMIT_IP=100000 HEEPR_AM_REGISTER_LIMIT=100000 \
  HEEPR_MAIL=log RUST_LOG=info "$bin" >"$log" 2>&1 &
pid=$!
deadline=$((SECONDS + 30))
until grep -q "listening on" "$log"; do
  if (( SECONDS > deadline )) || ! kill -0 $pid 2>/dev/null; then cat "$log"; echo "the server did not start"; exit 1; fi
  sleep 0.2
done
eval "$(python3 "$here/prepare.py" "$base" "$log")"
# The A2A cards, through the official SDK's resolver and types.
python3 "$here/cards.py" "$base" "$AGENT_ID"
# Routes that end the run's own access, or wait on purpose, are left out:
# logout, key revoke/rotate (heepr and AgentMarket), bootstrap regeneration, and the
# long-poll wait of /api/events (its `wait` is excluded by fuzzing it bounded below).
set +e
schemathesis run "$base/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-8}" \
  --max-time "${SCHEMATHESIS_SECONDS:-60}" \
  --request-timeout 10 \
  --workers 2 \
  --seed 20 \
  --no-shrink \
  --exclude-path-regex '^/api/auth/logout$|/revoke-key$|/rotate$|/key/rotate$|/bootstrap$|^/api/events$|^/api/test/' \
  -H "Cookie: heepr_session=$SESSION" \
  -H "X-Heepr-Client: schemathesis" \
  -H "Authorization: Bearer $AGENT_KEY" \
  -H "X-API-Key: $MARKET_KEY" \
  --report ndjson --report-dir "$work/report" 2>&1 | tee "$work/out.txt"
rc=${PIPESTATUS[0]}
set -e
if grep -q "panicked" "$log"; then echo "the server panicked"; grep -n panicked "$log"; exit 1; fi
exit "$rc"
