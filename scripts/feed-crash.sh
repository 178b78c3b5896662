#!/usr/bin/env bash
# Crash safety of the live index: 20 `stream` runs on one index, each fed
# part of INPUT through a pipe and then killed (SIGKILL and SIGTERM in turn)
# while a second writer tries the same index; then one run to the end.
# Checks that the second writer is refused every time, that the index loads
# after every kill, and that at the end it holds every article of INPUT.
#
#   scripts/feed-crash.sh [INPUT.jsonl]   (default: data/news-sample.jsonl)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/wirecluster
input=${1:-data/news-sample.jsonl}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
idx=$dir/live.wcf
total=$(grep -c . "$input")
RANDOM=7
for i in $(seq 1 20); do
    mkfifo "$dir/feed"
    "$bin" -q stream --index "$idx" --checkpoint 20 --skip-invalid \
        < "$dir/feed" > /dev/null 2> "$dir/err" &
    pid=$!
    exec 3> "$dir/feed"
    lines=$((10 + RANDOM % 60))
    head -n "$lines" "$input" >&3
    sleep 0.3
    if "$bin" -q stream "$input" --index "$idx" > /dev/null 2> "$dir/second"; then
        echo "cycle $i: a second writer ran beside the first" >&2
        exit 1
    fi
    grep -q "in use by another process" "$dir/second" || { cat "$dir/second" >&2; exit 1; }
    if ((i % 2)); then signal=KILL; else signal=TERM; fi
    kill -s "$signal" "$pid"
    status=0
    { wait "$pid"; } 2> /dev/null || status=$?
    exec 3>&-
    rm "$dir/feed"
    if [ "$signal" = TERM ] && [ "$status" -ne 0 ]; then
        echo "cycle $i: SIGTERM ended with status $status" >&2
        cat "$dir/err" >&2
        exit 1
    fi
done
# The last run places what is missing; everything else is already indexed.
"$bin" stream "$input" --index "$idx" --skip-invalid > /dev/null 2> "$dir/err"
live=$("$bin" stream /dev/null --index "$idx" 2>&1 >/dev/null \
    | sed -n 's/.*(\([0-9]*\) live articles.*/\1/p')
echo "feed-crash: 20 cycles, index holds $live of $total articles"
[ "$live" -eq "$total" ]
