#!/usr/bin/env bash
# Before/after in one series: alternates two server builds on the lifecycle benchmark,
# same load generator, same machine, so drift between runs hits both alike.
#   bash bench/ab.sh BEFORE_DIR AFTER_DIR [rounds] [workers] [seconds]
#   DB=postgres bash bench/ab.sh …
# Each DIR holds a release `heepr-server`; the generator is AFTER_DIR/lifecycle.
# Prints one line per run and the median of each side.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=$1; AFTER=$2; ROUNDS=${3:-3}; WORKERS=${4:-32}; SECS=${5:-15}
declare -A runs=([before]="" [after]="")
for r in $(seq "$ROUNDS"); do
  for side in before after; do
    dir=$BEFORE; [ "$side" = after ] && dir=$AFTER
    out=$(SERVER_BIN="$dir/heepr-server" GEN_BIN="$AFTER/lifecycle" bash bench/lifecycle.sh "$WORKERS" "$SECS")
    rate=$(grep -Eo '[0-9]+(\.[0-9]+)? orders/s' <<<"$out" | head -1 | cut -d' ' -f1)
    ledger=$(grep -c 'ledger ok' <<<"$out" || true)
    echo "round $r $side: ${rate:-?} orders/s (ledger ok: $ledger)"
    runs[$side]+="${rate:-0} "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "median before: $(median <<<"${runs[before]}") orders/s; after: $(median <<<"${runs[after]}") orders/s"
