"""The pipeline on Spark (``wirecluster.spark``): the command line's answers,
clear errors on bad input, Parquet in and out, and both ways of labelling
connected components.

Skipped where PySpark is not installed, unless WIRECLUSTER_REQUIRE_SPARK is
set (CI sets it in target/spark-venv, where scripts/spark-cluster.sh
installs PySpark)."""

import json
import os
import pathlib
import random
import sys

import pytest

if os.environ.get("WIRECLUSTER_REQUIRE_SPARK"):
    import pyspark  # noqa: F401  (fails the run when missing)
else:
    pytest.importorskip("pyspark")

import pyarrow as pa
import pyarrow.parquet as pq

from wirecluster import WireclusterError, cluster
from wirecluster import spark as ws

DATA = pathlib.Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    s = (
        SparkSession.builder.master("local[2]")
        .appName("wirecluster-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def records(name):
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_news_sample_equals_the_command_line(spark, tmp_path):
    out = tmp_path / "out.jsonl"
    stats = ws.cluster(spark, str(DATA / "news-sample.jsonl"), str(out), partitions=3)
    assert read_lines(out) == cluster(records("news-sample.jsonl"))
    assert stats["documents"] == 399


def test_groups_only_config_and_parquet_in_and_out(spark, tmp_path):
    recs = records("news-sample.jsonl")
    src = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(recs), src)
    cfg = {"story": {"enabled": False}}
    ws.cluster(spark, str(src), str(tmp_path / "out"), config=cfg,
               input_format="parquet", output_format="parquet")
    got = pq.read_table(tmp_path / "out").to_pylist()
    want = cluster(recs, cfg)
    assert len(got) == len(want)
    by_id = {g["id"]: g for g in got}
    for w in want:
        g = by_id[w["id"]]
        assert (g["duplicate_group"], g["story"], g["canonical"]) == (w["duplicate_group"], w["story"], w["canonical"])
        assert g["jaccard_to_canonical"] == pytest.approx(w["jaccard_to_canonical"])


def test_a_bad_line_names_file_and_line_and_skipping_loses_nothing_else(spark, tmp_path):
    lines = (DATA / "syria-2016.jsonl").read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines[:2] + ['{"id": "x"', ""] + lines[2:]) + "\n", encoding="utf-8")
    with pytest.raises(WireclusterError, match=r"bad\.jsonl:3: "):
        ws.cluster(spark, str(bad), str(tmp_path / "out.jsonl"))
    assert not (tmp_path / "out.jsonl").exists()
    stats = ws.cluster(spark, str(bad), str(tmp_path / "out.jsonl"), skip_invalid=True)
    assert stats["invalid_records"] == 1
    assert [a["id"] for a in read_lines(tmp_path / "out.jsonl")] == [json.loads(x)["id"] for x in lines]


def test_a_repeated_id_names_both_lines(spark, tmp_path):
    lines = (DATA / "syria-2016.jsonl").read_text(encoding="utf-8").splitlines()
    dup = tmp_path / "dup.jsonl"
    dup.write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(WireclusterError, match=rf"duplicate id .*dup\.jsonl:2 and .*dup\.jsonl:{len(lines) + 1}"):
        ws.cluster(spark, str(dup), str(tmp_path / "out.jsonl"))


def test_missing_input_and_bad_config_are_clear(spark, tmp_path):
    with pytest.raises(WireclusterError, match="no such file"):
        ws.cluster(spark, str(tmp_path / "nope.jsonl"), str(tmp_path / "o.jsonl"))
    with pytest.raises(WireclusterError, match="num_perm|config"):
        ws.cluster(spark, str(DATA / "syria-2016.jsonl"), str(tmp_path / "o.jsonl"), config={"num_perm": 0})


def test_components_in_spark_equal_those_on_the_driver(spark):
    rng = random.Random(5)
    edges = [(i, i + 1) for i in range(0, 40)]  # a long path
    edges += [(100 + rng.randrange(30), 100 + rng.randrange(30)) for _ in range(40)]
    edges += [(500, 501), (502, 501)]
    edges = [(min(a, b), max(a, b)) for a, b in edges if a != b]
    df = spark.createDataFrame(edges, "a long, b long")
    in_spark = {r["v"]: r["c"] for r in ws.connected_components(df, local_limit=0).collect()}
    on_driver = {r["v"]: r["c"] for r in ws.connected_components(df).collect()}
    assert in_spark == on_driver
    assert in_spark[40] == 0 and in_spark[500] == 500 and in_spark[502] == 500
    # A union-find over the same edges agrees.
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    assert in_spark == {v: find(v) for v in in_spark}


def test_stories_with_spark_components_equal_the_command_line(spark, tmp_path):
    out = tmp_path / "out.jsonl"
    ws.cluster(spark, str(DATA / "syria-2016.jsonl"), str(out), local_components=0)
    assert read_lines(out) == cluster(records("syria-2016.jsonl"))


def test_threads_equal_the_command_line(spark, tmp_path):
    cfg = {"thread": {"enabled": True}}
    out = tmp_path / "out.jsonl"
    stats = ws.cluster(spark, str(DATA / "news-sample.jsonl"), str(out), config=cfg, partitions=3)
    got = read_lines(out)
    assert got == cluster(records("news-sample.jsonl"), cfg)
    stories, threads = {a["story"] for a in got}, {a["thread"] for a in got}
    assert len(threads) < len(stories), "threads join stories"
    assert stats["threads"] == len(threads)


def test_threads_without_stories_with_cut_postings_and_a_short_window(spark, tmp_path):
    # Each duplicate group is a story; postings are cut to two holders per
    # term and time bucket, so the cut decides, and so do the dates.
    cfg = {"story": {"enabled": False},
           "thread": {"enabled": True, "max_posting": 2, "time_window_days": 2}}
    out = tmp_path / "out.jsonl"
    ws.cluster(spark, str(DATA / "syria-2016.jsonl"), str(out), config=cfg)
    assert read_lines(out) == cluster(records("syria-2016.jsonl"), cfg)
