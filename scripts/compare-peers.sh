#!/usr/bin/env bash
# Runs datasketch, rensa and gaoya (../shared/eval/peers.py) and wirecluster on
# one labelled corpus, one thread each, and prints their rows together.
#
#   scripts/compare-peers.sh [CORPUS.jsonl]
#
# Without an argument it generates the 20k synthetic corpus
# (make_corpus.py --n-base 5000 --max-reprints 12 --seed 1). Everything it
# writes goes under target/compare-peers/. Needs python3 and PyPI access for
# the peers' virtualenv (installed once, pinned by ../shared/eval/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
eval_dir=../shared/eval
work=target/compare-peers
mkdir -p "$work"
corpus=${1:-$work/corpus.jsonl}
if [ ! -f "$corpus" ]; then
    python3 "$eval_dir/make_corpus.py" --n-base 5000 --max-reprints 12 --seed 1 --out "$corpus"
fi
if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q -r "$eval_dir/requirements.txt"
fi
echo "== peers (peers.py, one thread, corpus loading excluded)"
"$work/venv/bin/python" "$eval_dir/peers.py" "$corpus" --repeat 3 --out-dir "$work/out"
cargo build --release --quiet
for cfg in groups_only stories; do
    if [ "$cfg" = groups_only ]; then
        echo '{"story":{"enabled":false}}' > "$work/groups_only.json"
        args=(--config "$work/groups_only.json")
    else
        args=()
    fi
    echo "== wirecluster ($cfg, one thread, JSONL parsing included)"
    ./target/release/wirecluster --threads 1 "${args[@]}" eval "$corpus"
done
