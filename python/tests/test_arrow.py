"""Per-document features over Arrow (``wirecluster.features``).

Skipped where pyarrow is not installed, unless WIRECLUSTER_REQUIRE_SPARK is
set (CI runs it in target/spark-venv)."""

import json
import os

import pytest

if os.environ.get("WIRECLUSTER_REQUIRE_SPARK"):
    import pyarrow as pa
else:
    pa = pytest.importorskip("pyarrow")

from wirecluster import WireclusterError, features

STORY = ("The central bank raised its key interest rate by half a point on Tuesday, citing "
         "inflation that has run above its target for a year. Economists had expected a smaller "
         "move, and the currency rose against the dollar after the announcement.")


def rows(*texts):
    return pa.array([json.dumps({"id": str(i), "text": t}) for i, t in enumerate(texts)])


def test_features_are_stable_and_signatures_estimate_jaccard():
    other = STORY.replace("Tuesday", "Wednesday").replace("smaller", "far smaller") + " Stocks fell."
    t = features(rows(STORY, other, STORY))
    d = t.to_pydict()
    assert len(d["signature"][0]) == 128
    assert d["signature"][0] == d["signature"][2] and d["shingles"][0] == d["shingles"][2]
    a, b = set(d["shingles"][0]), set(d["shingles"][1])
    exact = len(a & b) / len(a | b)
    estimate = sum(x == y for x, y in zip(d["signature"][0], d["signature"][1])) / 128
    assert 0.2 < exact < 0.9
    assert abs(estimate - exact) < 0.15
    # Hashes are unsigned 64-bit values in int64 columns: sorted unsigned.
    unsigned = [v & 0xFFFF_FFFF_FFFF_FFFF for v in d["fingerprints"][0]]
    assert unsigned == sorted(unsigned)
    assert d["story_terms"][0]


def test_dicts_and_configs_are_taken_and_bad_records_named():
    t = features([{"id": "a", "text": STORY}], config={"num_perm": 64, "story": {"enabled": False}})
    assert len(t.column("signature")[0]) == 64
    assert len(t.column("story_terms")[0]) == 0
    with pytest.raises(WireclusterError, match=r"record 1: "):
        features(pa.array(['{"id": "a", "text": "x"}', '{"id": "b"}']))


def test_clusterer_over_arrow_equals_the_dict_api():
    import pathlib

    from wirecluster import Clusterer, Config, cluster

    path = pathlib.Path(__file__).resolve().parents[2] / "data" / "news-sample.jsonl"
    lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    cfg = Config({"jaccard_threshold": 0.6})
    assert cfg["jaccard_threshold"] == 0.6 and cfg == Config(cfg.to_dict())
    got = Clusterer(cfg).cluster_arrow(pa.chunked_array([pa.array(lines[:100]), pa.array(lines[100:])]))
    want = cluster([json.loads(x) for x in lines], cfg)
    assert got.to_pylist() == want
    with pytest.raises(WireclusterError, match="jaccard_threshold"):
        Config({"jaccard_threshold": 2.0})
    with pytest.raises(WireclusterError, match="record 1: "):
        Clusterer().cluster_arrow(pa.array([lines[0], '{"id": "x"}']))


def test_the_examples_in_the_docstrings_run():
    import doctest

    import wirecluster

    result = doctest.testmod(wirecluster)
    assert result.attempted >= 10 and result.failed == 0
