#!/usr/bin/env bash
# Soak: 64 concurrent order loops (place → poll → deliver → release → accept) for 10
# minutes on each backend; every request must succeed (the generator stops at the first
# non-2xx answer, so a finished run means 0 5xx), the server log must hold no ERROR
# line, and `admin check-ledger` must pass afterwards. Not in CI.
#   bash bench/soak.sh [seconds] [workers]       # default 600 s, 64 workers
#   BACKENDS=sqlite bash bench/soak.sh 60        # one backend, shorter
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-600}; WORKERS=${2:-64}
cargo build --release -q -p heepr-server
cargo build --release -q -p heepr-e2e --example lifecycle
status=0
for db in ${BACKENDS:-sqlite postgres}; do
  log=$(mktemp)
  echo "== $db: $WORKERS workers, $SECS s"
  if ! out=$(DB=$db KEEP_LOG=$log SERVER_BIN=target/release/heepr-server \
      GEN_BIN=target/release/examples/lifecycle bash bench/lifecycle.sh "$WORKERS" "$SECS" 2>&1); then
    echo "$out"; echo "$db: the load generator failed (a non-2xx answer)"; status=1; continue
  fi
  echo "$out" | grep -E 'orders/s|p50|ledger'
  errors=$(grep -c 'ERROR' "$log" || true)
  echo "$db: server log ERROR lines: $errors"
  grep -q 'ledger ok' <<<"$out" || { echo "$db: ledger check failed"; status=1; }
  [ "$errors" = 0 ] || status=1
  rm -f "$log"
done
exit $status
