#!/usr/bin/env python3
"""How often the canonical of a duplicate group is the original dispatch.

Reads a corpus made by ../shared/eval/make_corpus.py (each record's `edits`
holds "original" for the dispatch itself) and the JSONL that
`wirecluster cluster` writes for it on standard input:

    wirecluster cluster target/corpus.jsonl --no-stories -q \
        | scripts/canonical-original.py target/corpus.jsonl

Counts predicted groups of two or more members that hold their cluster's
original, and how many of them name it canonical; for the wrong picks,
the edits the chosen reprint had.
"""
import collections
import json
import sys

meta, original = {}, {}
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line)
    meta[d["id"]] = d
    if "original" in d.get("edits", []):
        original[d["cluster"]] = d["id"]
groups = collections.defaultdict(list)
for line in sys.stdin:
    a = json.loads(line)
    groups[a["duplicate_group"]].append(a["id"])
right = total = 0
wrong_edits = collections.Counter()
for canonical, members in groups.items():
    if len(members) < 2:
        continue
    cluster = collections.Counter(meta[m]["cluster"] for m in members).most_common(1)[0][0]
    if original.get(cluster) not in members:
        continue
    total += 1
    if canonical == original[cluster]:
        right += 1
    else:
        wrong_edits.update(e.split(":")[0] for e in meta[canonical]["edits"])
print(f"canonical is the original in {right} of {total} groups ({right / max(total, 1):.4f})")
print("edits of the reprints chosen instead:", dict(wrong_edits.most_common(8)))
