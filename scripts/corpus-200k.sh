#!/usr/bin/env bash
# Prints the path of make_corpus.py's 200k corpus (50,000 bases, up to 12
# reprints, seed 1, 36,000 synthetic bases; 203,472 docs, 388 MB),
# generating it under target/ the first time. Shared by the scripts that
# measure at that size. Needs ../shared/.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=target/corpus-200k.jsonl
if [ ! -s "$corpus" ]; then
    mkdir -p target
    python3 ../shared/eval/make_corpus.py --n-base 50000 --max-reprints 12 --seed 1 \
        --synthetic-base 36000 --out "$corpus.tmp" > /dev/null
    mv "$corpus.tmp" "$corpus"
fi
echo "$corpus"
