#!/usr/bin/env python3
"""Updated figures on real wire copy: recall and what it costs in precision.

Builds a corpus from the Reuters-21578 stories (`../shared/data/reuters-21578`):
every story of at least 40 words, and for half of those holding a figure a
later version in which each figure (a run of digits) is raised by 1 to 9 with
probability `--changed` (0.5). Reuters is figure-dense (14% of its words hold
a digit, against 4% in the bundled sample): earnings tables, market reports,
trade statistics.

Clusters it twice with `wirecluster cluster --no-stories`: with the default
config and with the updated-figures rule off (`figures_jaccard: null`), and
prints for each
  * joined: the share of later versions in their original's group, overall
    and by the original's figure density (share of words holding a digit);
  * merged pairs: pairs of distinct Reuters stories in one group. Reuters
    holds real near-duplicates (repeated and corrected transmissions) and
    recurring reports (the same template every day or week), so this is not
    zero; the rule's cost is the difference between the two runs.

Exit status 1 when the default config joins less than `--min-joined`.

Usage: scripts/updated-figures.py [--bin target/release/wirecluster]
       [--reuters PATH] [--changed 0.5] [--seed 1] [--min-joined 0.95]
"""

import argparse
import collections
import json
import os
import random
import re
import subprocess
import sys
import tempfile


def build(reuters, changed, seed, out):
    rng = random.Random(seed)
    n_orig = n_later = 0
    with open(reuters, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as w:
        for line in f:
            d = json.loads(line)
            text = d.get("text") or ""
            if len(text.split()) < 40:
                continue
            # Stories with the same words share a label (natural duplicates).
            label = " ".join(text.split())
            base = {"id": "r" + d["id"], "title": d.get("title"), "text": text, "cluster": label}
            w.write(json.dumps(base) + "\n")
            n_orig += 1
            if rng.random() < 0.5 and re.search(r"\d", text):

                def bump(m):
                    s = m.group(0)
                    return str(int(s) + 1 + rng.randrange(9)) if rng.random() < changed else s

                later = re.sub(r"\d{1,15}", bump, text)
                if later != text:
                    w.write(json.dumps(dict(base, id=base["id"] + "~later", text=later)) + "\n")
                    n_later += 1
    return n_orig, n_later


def density(text):
    words = text.split()
    return sum(1 for x in words if re.search(r"\d", x)) / max(1, len(words))


def measure(binary, corpus, config, outdir, name):
    out = os.path.join(outdir, name + ".jsonl")
    cmd = [binary, "cluster", corpus, "--no-stories", "-q", "-o", out]
    if config:
        cmd += ["--config", config]
    subprocess.run(cmd, check=True)
    group = {}
    with open(out, encoding="utf-8") as f:
        for line in f:
            a = json.loads(line)
            group[a["id"]] = a["duplicate_group"]
    return group


def report(name, docs, group):
    bands = collections.defaultdict(lambda: [0, 0])
    joined = total = 0
    for i, d in docs.items():
        if not i.endswith("~later"):
            continue
        orig = i[: -len("~later")]
        ok = group[i] == group[orig]
        total += 1
        joined += ok
        band = min(int(density(docs[orig]["text"]) * 10), 3)
        bands[band][0] += 1
        bands[band][1] += ok
    members = collections.defaultdict(list)
    for i, g in group.items():
        members[g].append(docs[i]["cluster"])
    merged = 0
    for labels in members.values():
        n = len(labels)
        same = sum(k * (k - 1) // 2 for k in collections.Counter(labels).values())
        merged += n * (n - 1) // 2 - same
    names = {0: "<10%", 1: "10-20%", 2: "20-30%", 3: ">=30%"}
    by_band = ", ".join(
        f"{names[b]} {j}/{n}" for b, (n, j) in sorted(bands.items())
    )
    print(f"{name}: joined {joined / total:.4f} ({joined}/{total}; by figure density {by_band}); "
          f"merged pairs of distinct stories {merged}")
    return joined / total, merged


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=os.path.join(root, "target/release/wirecluster"))
    p.add_argument("--reuters", default=os.path.join(
        root, "../shared/data/reuters-21578/reuters21578.jsonl"))
    p.add_argument("--changed", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--min-joined", type=float, default=0.95)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.jsonl")
        n_orig, n_later = build(a.reuters, a.changed, a.seed, corpus)
        print(f"{n_orig} Reuters stories, {n_later} later versions "
              f"(each figure raised with probability {a.changed})")
        docs = {}
        with open(corpus, encoding="utf-8") as f:
            for line in f:
                d = json.loads(line)
                docs[d["id"]] = d
        off = os.path.join(tmp, "off.json")
        with open(off, "w") as f:
            f.write('{"figures_jaccard": null}')
        _, merged_off = report("rule off", docs, measure(a.bin, corpus, off, tmp, "off"))
        joined, merged = report("default ", docs, measure(a.bin, corpus, None, tmp, "on"))
        print(f"the rule joins {merged - merged_off:+d} pairs of distinct stories")
    if joined < a.min_joined:
        print(f"FAIL: joined {joined:.4f} < {a.min_joined}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
