"""The Python API: the same answers as the command line, clear errors on bad
input, and a live index that survives a restart."""

import json
import os
import pathlib
import subprocess

import pytest

import wirecluster
from wirecluster import FeedIndex, WireclusterError, cluster

DATA = pathlib.Path(__file__).resolve().parents[2] / "data"


def records(name):
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_syria_sample_groups_and_stories():
    out = cluster(records("syria-2016.jsonl"))
    by_id = {a["id"]: a for a in out}
    assert [a["id"] for a in out] == [r["id"] for r in records("syria-2016.jsonl")]
    assert by_id["syr-001"]["duplicate_group"] == "syr-000"
    assert by_id["syr-002"]["story"] == "syr-000"
    assert by_id["syr-003"]["story"] == "syr-003"
    assert by_id["syr-004"]["story"] == "syr-004"


@pytest.mark.skipif("WIRECLUSTER_BIN" not in os.environ, reason="WIRECLUSTER_BIN names the CLI binary")
def test_same_assignments_as_the_command_line():
    path = DATA / "news-sample.jsonl"
    cli = subprocess.run([os.environ["WIRECLUSTER_BIN"], "-q", "cluster", str(path)],
                         check=True, capture_output=True, text=True).stdout
    expected = [json.loads(line) for line in cli.splitlines()]
    assert cluster(records("news-sample.jsonl")) == expected


def test_config_as_dict_or_file_and_its_errors(tmp_path):
    recs = records("syria-2016.jsonl")
    no_stories = cluster(recs, {"story": {"enabled": False}})
    assert all(a["story"] == a["duplicate_group"] for a in no_stories)
    toml = tmp_path / "c.toml"
    toml.write_text("[story]\nenabled = false\n")
    assert cluster(recs, toml) == no_stories
    with pytest.raises(WireclusterError, match="jaccard_threshold"):
        cluster(recs, {"jaccard_threshold": 7})
    with pytest.raises(WireclusterError, match="unknown field `jacard_threshold`"):
        cluster(recs, {"jacard_threshold": 0.5})


def test_bad_records_name_their_position_and_reason():
    recs = records("syria-2016.jsonl")
    with pytest.raises(WireclusterError, match=r"record 2: .*text"):
        cluster(recs[:2] + [{"id": "x"}])
    with pytest.raises(WireclusterError, match="syr-000"):
        cluster(recs + [dict(recs[0])])
    assert issubclass(WireclusterError, ValueError)


def test_live_index_places_saves_checkpoints_and_loads(tmp_path):
    recs = records("news-sample.jsonl")
    whole = FeedIndex()
    expected = whole.insert_batch(recs)
    ix = FeedIndex()
    got = ix.insert_batch(recs[:150])
    path = tmp_path / "live.wcf"
    ix.save(path)
    got += ix.insert_batch(recs[150:300])
    ix.checkpoint(path)
    assert (tmp_path / "live.wcf.log").exists()
    ix = FeedIndex.load(path)
    assert len(ix) == 300
    got += ix.insert_batch(recs[300:])
    assert got == expected
    q = ix.query(dict(recs[0], id="copy"))
    assert q["duplicate_group"] == whole.get(recs[0]["id"])["duplicate_group"]
    assert ix.get("copy") is None
    before = ix.remove(recs[0]["id"])
    assert before["id"] == recs[0]["id"] and ix.get(recs[0]["id"]) is None
    assert ix.stats()["removed"] == 1
    with pytest.raises(WireclusterError, match="already in the index"):
        ix.insert(recs[1])
    with pytest.raises(WireclusterError, match="not a wirecluster feed index"):
        (tmp_path / "bad.wcf").write_text("{}")
        FeedIndex.load(tmp_path / "bad.wcf")


def test_module_docs_run():
    """The docstring examples run; those that use pyarrow only where it is
    installed (tests/test_arrow.py runs them all where it must be)."""
    import doctest
    import importlib.util

    has_arrow = importlib.util.find_spec("pyarrow") is not None
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(wirecluster):
        if has_arrow or "pyarrow" not in "".join(e.source for e in test.examples):
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 4 and result.failed == 0
