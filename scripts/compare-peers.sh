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
rm -f "$work/wirecluster-times.txt"
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
    # The whole process, JSONL in and assignments out, three runs.
    for run in 1 2 3; do
        start=$(date +%s.%N)
        ./target/release/wirecluster --threads 1 "${args[@]}" cluster "$corpus" -o /dev/null -q
        end=$(date +%s.%N)
        echo "$cfg $start $end" >> "$work/wirecluster-times.txt"
    done
done
echo "== wirecluster against rensa (same run; rensa's rate without loading, and as a whole process)"
python3 - "$work/out/report.json" "$work/wirecluster-times.txt" <<'PY'
import json, statistics, sys
report = json.load(open(sys.argv[1]))
docs = report["docs"]
rensa = next((r for r in report["results"] if r["lib"] == "rensa" and "error" not in r), None)
times = {}
for line in open(sys.argv[2]):
    cfg, start, end = line.split()
    times.setdefault(cfg, []).append(float(end) - float(start))
for cfg, ts in times.items():
    rate = docs / statistics.median(ts)
    line = f"wirecluster {cfg}: {rate:,.0f} docs/s (whole process, median of {len(ts)}: " + \
        ", ".join(f"{t:.2f} s" for t in ts) + ")"
    if rensa:
        for name, secs in (("rensa without loading", rensa["total_s"]),
                           ("rensa as a whole process", rensa.get("process_wall_s"))):
            if secs:
                line += f"; {rate / (docs / secs):.1f}x {name}"
    print(line)
PY
