#!/usr/bin/env bash
# The thread level on real headline feeds: the UCI news aggregator sample
# (../shared/data/uci-news-aggregator-sample), headlines and links only
# (`date` and `timestamp_ms` removed: they are crawl times that leak the
# label), split by CRC-32 of the aggregator's story id: even = dev (the only
# half the thread defaults were chosen on), odd = held out. Prints each
# half's (and the whole sample's) thread BCubed F1 against the aggregator's
# stories, in the batch and in the live index placed in file order (as
# placed, and after a final re-linking, which must be within 0.03 of the
# batch; on the whole sample, as placed too); with --min-held-out F, exits
# 1 when the held-out half is below F. Writes only under target/.
set -euo pipefail
cd "$(dirname "$0")/.."
min=""
if [ "${1:-}" = "--min-held-out" ]; then min="$2"; fi
src=../shared/data/uci-news-aggregator-sample/uci_news_headlines.jsonl
out=target/aggregator-threads
mkdir -p "$out"
python3 - "$src" "$out" <<'PY'
import json, sys, zlib
src, out = sys.argv[1], sys.argv[2]
with open(src) as f, open(f"{out}/dev.jsonl", "w") as dev, open(f"{out}/held-out.jsonl", "w") as test, open(f"{out}/whole.jsonl", "w") as whole:
    for line in f:
        r = json.loads(line)
        r.pop("date", None)
        r.pop("timestamp_ms", None)
        half = zlib.crc32(r["cluster"].encode()) % 2
        (test if half else dev).write(json.dumps(r) + "\n")
        whole.write(json.dumps(r) + "\n")
PY
cargo build --release --quiet
for half in dev held-out whole; do
    args=()
    if [ "$half" = held-out ] && [ -n "$min" ]; then args=(--min-thread-bcubed-f1 "$min"); fi
    target/release/wirecluster eval "$out/$half.jsonl" --thread-level --thread-field cluster \
        --feed --json --quiet "${args[@]}" > "$out/$half.json" || status=$?
    python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
t, st = s["threads"]["bcubed"], s["stories"]["bcubed"]
f = s["feed"]
placed, after = f["threads"]["bcubed"]["f1"], f["threads_after_consolidate"]["bcubed"]["f1"]
print("%s: threads BCubed P %.4f R %.4f F1 %.4f; stories BCubed F1 %.4f" % (sys.argv[2], t["precision"], t["recall"], t["f1"], st["f1"]))
print("%s: live index in file order, threads BCubed F1 %.4f as placed, %.4f after a final re-linking" % (sys.argv[2], placed, after))
if abs(after - t["f1"]) > 0.03:
    sys.exit("FAIL: re-linked live threads %.4f, batch %.4f" % (after, t["f1"]))
if sys.argv[2] == "whole" and abs(placed - t["f1"]) > 0.03:
    sys.exit("FAIL: live threads as placed %.4f, batch %.4f" % (placed, t["f1"]))' \
        "$out/$half.json" "$half" || status=$?
    if [ "${status:-0}" != 0 ]; then exit "$status"; fi
done
