#!/usr/bin/env bash
# Whether two builds give the same output: runs `cluster`, `stream` (with
# and without a window, with a saved and resumed index) and `eval --feed`
# with each binary on the 20k and heavy synthetic corpora, the bundled
# sample, the Syria sample and the ECB+ articles, and compares every file
# byte for byte (timings aside). For refactors that must not change results.
#
#   scripts/same-output.sh OLD_BINARY NEW_BINARY
#
# Build the old binary from a worktree, e.g.:
#   git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release)
#   scripts/same-output.sh /tmp/old/target/release/wirecluster target/release/wirecluster
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 OLD_BINARY NEW_BINARY" >&2; exit 2; }
old=$(realpath "$1")
new=$(realpath "$2")
gen=../shared/eval/make_corpus.py
mkdir -p target
[ -f target/corpus.jsonl ] || python3 "$gen" --n-base 5000 --max-reprints 12 --seed 1 --out target/corpus.jsonl
[ -f target/heavy.jsonl ] || python3 "$gen" --n-base 40 --max-reprints 600 --seed 9 --out target/heavy.jsonl
ecb=$(mktemp -d)
trap 'rm -rf "$ecb" "$work"' EXIT
gunzip -c tests/data/ecb-plus/*.jsonl.gz > "$ecb/ecbplus.jsonl"
work=$(mktemp -d)

outputs() { # BINARY DIR
    local b=$1 o=$2
    mkdir -p "$o"
    for f in target/corpus.jsonl target/heavy.jsonl data/news-sample.jsonl data/syria-2016.jsonl "$ecb/ecbplus.jsonl"; do
        n=$(basename "$f" .jsonl)
        "$b" -q cluster "$f" -o "$o/$n.cluster.jsonl"
        "$b" -q stream "$f" -o "$o/$n.stream.jsonl"
        "$b" -q stream "$f" --window-days 3 -o "$o/$n.window.jsonl"
    done
    for f in target/corpus.jsonl data/news-sample.jsonl; do
        n=$(basename "$f" .jsonl)
        "$b" eval "$f" --feed 2>&1 | grep -Ev 'in [0-9.]+ s|stages \(s\)|docs/s|articles/s' \
            | sed 's/-0\.0000/+0.0000/g' > "$o/$n.eval.txt"
    done
    "$b" -q stream data/news-sample.jsonl --window-arrivals 50 -o "$o/arrivals.jsonl"
    "$b" -q cluster data/news-sample.jsonl --no-stories -o "$o/no-stories.jsonl"
    "$b" -q cluster data/news-sample.jsonl --canonical earliest -o "$o/earliest.jsonl"
    "$b" -q stream data/news-sample.jsonl --index "$o/live.wcf" -o "$o/index.jsonl"
    head -200 "$ecb/ecbplus.jsonl" | "$b" -q stream --index "$o/live.wcf" -o "$o/resumed.jsonl"
    rm -f "$o"/live.wcf*
}

outputs "$old" "$work/old"
outputs "$new" "$work/new"
if diff -r -q "$work/old" "$work/new"; then
    echo "same output: $(ls "$work/new" | wc -l) files"
else
    echo "outputs differ" >&2
    exit 1
fi
