#!/usr/bin/env bash
# How the story stage's time grows with the corpus: make_corpus.py's 200k
# corpus against the 10% of its stories whose label hashes (CRC-32) to 0 mod
# 10, one thread, five alternating runs each. The story stage is the sum of
# the CLI's "story …" stage times. Needs ../shared/; takes about five
# minutes; writes only under target/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/story-scaling
mkdir -p "$out"
ln -sf "../corpus-200k.jsonl" "$out/c200k.jsonl"
scripts/corpus-200k.sh > /dev/null
if [ ! -s "$out/c20k.jsonl" ]; then
    python3 - "$out/c200k.jsonl" "$out/c20k.jsonl" <<'PY'
import json, sys, zlib
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as dst:
    for line in src:
        if zlib.crc32(json.loads(line)["cluster"].encode()) % 10 == 0:
            dst.write(line)
PY
fi
cargo build --release --quiet
for _ in 1 2 3 4 5; do
    for f in c20k c200k; do
        target/release/wirecluster --threads 1 cluster "$out/$f.jsonl" -o /dev/null 2>&1 |
            grep -E "^  stages" | sed "s/^/$f /"
    done
done > "$out/stages.txt"
python3 - "$out" <<'PY'
import re, statistics, sys
out = sys.argv[1]
times = {"c20k": [], "c200k": []}
for line in open(f"{out}/stages.txt"):
    name = line.split()[0]
    stages = re.findall(r"(story [a-z]+) ([\d.]+)", line)
    times[name].append(sum(float(t) for _, t in stages))
docs = {n: sum(1 for _ in open(f"{out}/{n}.jsonl")) for n in times}
small, large = (statistics.median(times[n]) for n in ("c20k", "c200k"))
print(f"documents: {docs['c20k']} and {docs['c200k']} ({docs['c200k'] / docs['c20k']:.1f}x)")
for n in times:
    print(f"{n}: story stage " + ", ".join(f"{t:.3f}" for t in times[n]) + " s")
print(f"story stage grows {large / small:.1f}x (medians {small:.3f} s and {large:.3f} s; "
      f"fastest runs {min(times['c200k']) / min(times['c20k']):.1f}x)")
PY
