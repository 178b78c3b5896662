#!/usr/bin/env bash
# Prints the path of a corpus of N headline-sized articles (default
# 1,000,000; 10 to 25 random words each, a name among them, 30% of them
# exact reprints of an earlier one, seed 5; 206 MB at a million),
# generating it under target/ the first time. For memory and speed per
# article where per-document costs dominate (issue 17's "tiny articles").
#
#   scripts/corpus-tiny.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
corpus=target/tiny-$n.jsonl
if [ ! -s "$corpus" ]; then
    mkdir -p target
    python3 - "$n" "$corpus.tmp" <<'PY'
import json, random, string, sys
n, out = int(sys.argv[1]), sys.argv[2]
random.seed(5)
vocab = ["".join(random.choice(string.ascii_lowercase) for _ in range(random.randint(3, 9)))
         for _ in range(50000)]
names = [w.capitalize() for w in vocab[:3000]]
base = []
with open(out, "w") as f:
    for i in range(n):
        if base and random.random() < 0.3:
            t = random.choice(base)
        else:
            words = [random.choice(vocab) for _ in range(random.randint(10, 25))]
            words[0] = words[0].capitalize()
            words[3] = random.choice(names)
            t = " ".join(words) + "."
            if len(base) < 100000:
                base.append(t)
        f.write(json.dumps({"id": f"t{i}", "title": " ".join(t.split()[:6]), "text": t}) + "\n")
PY
    mv "$corpus.tmp" "$corpus"
fi
echo "$corpus"
