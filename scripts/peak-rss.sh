#!/usr/bin/env bash
# Runs a command and prints, on stderr, its wall time and the peak of the
# summed resident memory of it and all its descendants (sampled every 0.2 s):
# for jobs that spread over several processes, such as Spark's JVM and its
# Python workers.
#
#   scripts/peak-rss.sh COMMAND [ARGS...]
set -euo pipefail
"$@" &
pid=$!
peak=0
start=$(date +%s.%N)
tree() {
    local p=$1
    echo "$p"
    for c in $(pgrep -P "$p" 2> /dev/null); do tree "$c"; done
}
while kill -0 "$pid" 2> /dev/null; do
    kb=0
    for p in $(tree "$pid"); do
        r=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2> /dev/null || true)
        kb=$((kb + ${r:-0}))
    done
    [ "$kb" -gt "$peak" ] && peak=$kb
    sleep 0.2
done
wait "$pid" && rc=0 || rc=$?
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v k="$peak" \
    'BEGIN { printf "wall %.1f s, peak RSS (process tree) %.0f MB\n", e - s, k / 1024 }' >&2
exit "$rc"
