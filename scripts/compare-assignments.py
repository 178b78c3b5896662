#!/usr/bin/env python3
"""Scores one assignments file against another (or against a corpus's gold
labels): duplicate groups by pairwise P/R/F1, stories by BCubed P/R/F1.

    scripts/compare-assignments.py PREDICTED.jsonl REFERENCE.jsonl
    scripts/compare-assignments.py PREDICTED.jsonl --gold CORPUS.jsonl [--group-field cluster] [--story-field F]

Both files are what `wirecluster cluster` (or scripts/spark-cluster.sh)
writes; records are matched by id, and an id missing from either side is an
error. With --gold, the reference groups (and stories, unless
--story-field names another field) are the corpus's labels.
"""

import argparse
import json
import sys
from collections import Counter


def read(path, group, story):
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            r = json.loads(line)
            if r["id"] in out:
                sys.exit(f"{path}:{n}: id {r['id']!r} again")
            out[r["id"]] = (str(r[group]), str(r.get(story, r[group])))
    return out


def pairwise(pred, gold):
    c2 = lambda n: n * (n - 1) // 2
    both = sum(c2(n) for n in Counter(zip(pred, gold)).values())
    p_pairs = sum(c2(n) for n in Counter(pred).values())
    g_pairs = sum(c2(n) for n in Counter(gold).values())
    p = both / p_pairs if p_pairs else 1.0
    r = both / g_pairs if g_pairs else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def bcubed(pred, gold):
    cell, ps, gs = Counter(zip(pred, gold)), Counter(pred), Counter(gold)
    p = sum(cell[(a, b)] / ps[a] for a, b in zip(pred, gold)) / len(pred)
    r = sum(cell[(a, b)] / gs[b] for a, b in zip(pred, gold)) / len(pred)
    return p, r, 2 * p * r / (p + r)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("predicted")
    ap.add_argument("reference", nargs="?")
    ap.add_argument("--gold", help="a labelled corpus instead of a reference assignments file")
    ap.add_argument("--group-field", default="cluster")
    ap.add_argument("--story-field")
    a = ap.parse_args()
    if (a.reference is None) == (a.gold is None):
        ap.error("give a reference assignments file or --gold CORPUS")
    pred = read(a.predicted, "duplicate_group", "story")
    if a.gold:
        ref = read(a.gold, a.group_field, a.story_field or a.group_field)
    else:
        ref = read(a.reference, "duplicate_group", "story")
    missing = set(pred) ^ set(ref)
    if missing:
        sys.exit(f"{len(missing)} ids are on one side only, e.g. {sorted(missing)[0]!r}")
    ids = sorted(pred)
    pg, rg = [pred[i][0] for i in ids], [ref[i][0] for i in ids]
    ps, rs = [pred[i][1] for i in ids], [ref[i][1] for i in ids]
    print("groups  pairwise P %.4f R %.4f F1 %.4f" % pairwise(pg, rg))
    print("stories BCubed   P %.4f R %.4f F1 %.4f" % bcubed(ps, rs))


if __name__ == "__main__":
    main()
