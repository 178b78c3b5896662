#!/usr/bin/env bash
# Runs a command and prints, on stderr, its wall time, the peak of the
# summed resident memory of it and all its descendants, and each process's
# own peak (sampled every 0.2 s): for jobs that spread over several
# processes, such as Spark's JVMs and their Python workers.
#
#   scripts/peak-rss.sh COMMAND [ARGS...]
set -euo pipefail
"$@" &
pid=$!
peak=0
declare -A own name
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
        r=${r:-0}
        kb=$((kb + r))
        if [ "$r" -gt "${own[$p]:-0}" ]; then
            own[$p]=$r
            cmd=$(tr '\0' ' ' < "/proc/$p/cmdline" 2> /dev/null | grep -oE 'CoarseGrainedExecutorBackend|deploy\.(master|worker)\.[A-Za-z]+|SparkSubmit|pyspark\.daemon|wirecluster\.spark|-m [a-z_.]+' | head -1 || true)
            name[$p]=${cmd:-$(cat "/proc/$p/comm" 2> /dev/null || echo "?")}
        fi
    done
    [ "$kb" -gt "$peak" ] && peak=$kb
    sleep 0.2
done
wait "$pid" && rc=0 || rc=$?
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v k="$peak" \
    'BEGIN { printf "wall %.1f s, peak RSS (process tree) %.0f MB\n", e - s, k / 1024 }' >&2
for p in "${!own[@]}"; do
    echo "${own[$p]} ${name[$p]}"
done | sort -rn | head -6 | awk '{ n = $1; $1 = ""; printf "  peak %.0f MB %s\n", n / 1024, $0 }' >&2
exit "$rc"
