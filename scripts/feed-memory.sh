#!/usr/bin/env bash
# Peak resident memory of `wirecluster stream` with a 3-day window on a
# 200k-article stream, at 50k, 100k and 200k articles. The stream is
# make_corpus.py's 200k corpus with publication times 86 s apart in file
# order (about 1,000 articles a day). Needs ../shared/ and GNU time; takes a
# few minutes; writes only under target/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/feed-memory
mkdir -p "$out"
if [ ! -s "$out/stream.jsonl" ]; then
    corpus=$(scripts/corpus-200k.sh)
    python3 - "$corpus" "$out/stream.jsonl" <<'PY'
import datetime, json, sys
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as dst:
    for i, line in enumerate(src):
        d = json.loads(line)
        t = datetime.datetime.fromtimestamp(1_500_000_000 + i * 86, datetime.timezone.utc)
        d["published"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
        dst.write(json.dumps(d) + "\n")
PY
fi
cargo build --release --quiet
for n in 50000 100000 200000; do
    head -n "$n" "$out/stream.jsonl" > "$out/head.jsonl"
    /usr/bin/time -f "$n articles: peak RSS %M kB, %e s" \
        target/release/wirecluster --threads 1 stream "$out/head.jsonl" --window-days 3 -o /dev/null
done
