"""The batch pipeline on Apache Spark: the output of ``wirecluster cluster``
from a corpus that need not fit on one machine.

Each stage runs the crate's own rules (``wirecluster::distributed``) on the
executors over Arrow batches; Spark does the grouping, joining and
counting between them. No stage needs the whole corpus in one place: the
driver holds only the learned boilerplate sentences, the story-term and
thread-term document frequencies, and, with the thread level on, every
story's thread vector sum for the thread linkage (DESIGN.md, "Scale
out").

>>> from pyspark.sql import SparkSession            # doctest: +SKIP
>>> from wirecluster.spark import cluster            # doctest: +SKIP
>>> spark = SparkSession.builder.master("local[2]").getOrCreate()  # doctest: +SKIP
>>> stats = cluster(spark, ["corpus.jsonl"], "assignments.jsonl")  # doctest: +SKIP

Run as a program: ``python -m wirecluster.spark INPUT OUTPUT [--config F]``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from typing import Any, Iterator, Mapping, Optional, Sequence, Union

import pyarrow as pa
import pyarrow.compute as pc

from . import _columns as col
from ._wirecluster import Shard, WireclusterError

__all__ = ["cluster", "connected_components", "main"]

ConfigArg = Union[None, Mapping[str, Any], str, "os.PathLike[str]"]

# Shards built on an executor, by what they were built from: a Python
# worker serves many tasks, and building one (the learned sentences, the
# document frequencies) is worth doing once.
_SHARDS: dict = {}


def _shard(key: tuple, build) -> Shard:
    if key not in _SHARDS:
        _SHARDS.clear()
        _SHARDS[key] = build()
    return _SHARDS[key]


def _config_json(config: ConfigArg) -> str:
    """The whole config, validated, as JSON: what every executor builds its
    shard from."""
    if config is None:
        return Shard().config_json()
    if isinstance(config, Mapping):
        return Shard(json.dumps(dict(config))).config_json()
    return Shard(config_path=os.fspath(config)).config_json()


def _by_component(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.Table]:
    """Tables of whole components from batches sorted by ``comp``: rows of
    the last component of a batch wait for the next batch."""
    pending: Optional[pa.Table] = None
    for b in batches:
        t = pa.Table.from_batches([b])
        if pending is not None and pending.num_rows:
            t = pa.concat_tables([pending, t])
        if t.num_rows == 0:
            continue
        comp = t.column("comp").combine_chunks()
        last = comp[len(comp) - 1].as_py()
        cut = pc.index(comp, last).as_py()
        if cut > 0:
            yield t.slice(0, cut).combine_chunks()
        pending = t.slice(cut)
    if pending is not None and pending.num_rows:
        yield pending.combine_chunks()


def _label_components(a, b):
    """Components of the ``(a, b)`` edges held in NumPy arrays: the vertices
    and the smallest vertex of each one's component. Labels move to the
    smaller end of every edge and then to their label's label until nothing
    changes; each pass is a few vectorized sweeps over the edges."""
    import numpy as np

    nodes = np.unique(np.concatenate([a, b]))
    ia, ib = np.searchsorted(nodes, a), np.searchsorted(nodes, b)
    label = np.arange(len(nodes))
    while True:
        before = label.copy()
        low = np.minimum(label[ia], label[ib])
        np.minimum.at(label, ia, low)
        np.minimum.at(label, ib, low)
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
        if np.array_equal(before, label):
            return nodes, nodes[label]


def connected_components(
    edges, max_rounds: int = 200, local_limit: int = 20_000_000, rounds: Optional[list] = None
):
    """Labels ``(v, c)``: every vertex of the ``(a, b)`` edges with the
    smallest vertex of its component.

    Up to ``local_limit`` edges (16 bytes each on the driver) are labelled
    on the driver with NumPy, which is many times faster than rounds of
    Spark jobs. Above it, each round in Spark takes the smallest label of
    each vertex's neighbours and then its label's label (rounds grow with
    the logarithm of the diameter), shuffling the edges once per round.
    """
    from pyspark.sql import functions as F

    spark = edges.sparkSession
    if local_limit > 0 and edges.limit(local_limit + 1).count() <= local_limit:
        e = _to_numpy(spark, edges.select("a", "b"))
        if len(e.get("a", [])) == 0:
            return spark.createDataFrame([], "v long, c long")
        v, c = _label_components(e["a"].astype("int64"), e["b"].astype("int64"))
        if rounds is not None:
            rounds.append(0)
        import pandas as pd

        return spark.createDataFrame(pd.DataFrame({"v": v, "c": c}), "v long, c long")
    e = edges.select(F.col("a").alias("src"), F.col("b").alias("dst"))
    e = e.unionByName(e.select(F.col("dst").alias("src"), F.col("src").alias("dst")))
    e = e.localCheckpoint()
    labels = e.select(F.col("src").alias("v")).distinct().withColumn("c", F.col("v"))
    labels = labels.localCheckpoint()
    for _ in range(max_rounds):
        hop = e.join(labels, e.src == labels.v).select(F.col("dst").alias("v"), F.col("c"))
        new = labels.unionByName(hop).groupBy("v").agg(F.min("c").alias("c")).localCheckpoint()
        jump = new.alias("x").join(new.alias("y"), F.col("x.c") == F.col("y.v"))
        new = jump.select(F.col("x.v").alias("v"), F.least("x.c", "y.c").alias("c")).localCheckpoint()
        changed = (
            new.join(labels.withColumnRenamed("c", "old"), "v")
            .filter(F.col("c") != F.col("old"))
            .limit(1)
            .count()
        )
        labels = new
        if rounds is not None:
            rounds.append(1)
        if changed == 0:
            return labels
    raise WireclusterError(f"connected components did not settle in {max_rounds} rounds")


def _blocks(spark, raw, paths: Sequence[str]) -> dict:
    """For every block of the input (file, start byte): its first document
    index and first line number, so that indices follow the input order."""
    rows = raw.groupBy("file", "block").count().collect()
    order = {}
    for i, p in enumerate(paths):
        order.setdefault(os.path.abspath(p), i)

    def rank(file: str):
        local = file[len("file:"):] if file.startswith("file:") else file
        while local.startswith("//"):
            local = local[1:]
        for p, i in order.items():
            if local == p or local.startswith(p.rstrip("/") + "/"):
                return (i, file)
        return (len(order), file)

    out, start, line, current = {}, 0, 0, None
    for r in sorted(rows, key=lambda r: (rank(r["file"]), r["block"])):
        if r["file"] != current:
            current, line = r["file"], 0
        out[(r["file"], r["block"])] = (start, line)
        start += r["count"]
        line += r["count"]
    return out


def _document_frequencies(spark, frame):
    """The documents of each term of ``frame``'s ``terms`` lists (distinct
    per row), broadcast as ``(terms, counts)`` int64 buffers, and the
    number of distinct terms."""
    from pyspark.sql import functions as F

    c = _to_numpy(spark, frame.select(F.explode("terms").alias("t")).groupBy("t").count())
    terms, counts = c.get("t", []), c.get("count", [])
    table = (col.ints(pa.array(terms, pa.int64())), col.ints(pa.array(counts, pa.int64())))
    return spark.sparkContext.broadcast(table), len(terms)


def _to_numpy(spark, df):
    """A small result on the driver as NumPy columns, through Arrow."""
    pdf = df.toPandas()
    return {c: pdf[c].to_numpy() for c in pdf.columns}


def cluster(
    spark,
    inputs: Union[str, Sequence[str]],
    output: Optional[str] = None,
    *,
    config: ConfigArg = None,
    input_format: str = "jsonl",
    output_format: str = "jsonl",
    partitions: Optional[int] = None,
    skip_invalid: bool = False,
    local_components: int = 20_000_000,
    progress=None,
) -> dict:
    """Clusters the records of ``inputs`` (JSONL files, gzipped or not, or
    Parquet with the JSONL fields as columns) and writes one assignment per
    record, in input order, as ``wirecluster cluster`` does: a JSONL file at
    ``output`` (``output_format="jsonl"``) or a Parquet folder. Returns
    counts and the seconds of each stage.

    A bad record raises :class:`WireclusterError` naming its file and line
    (with ``skip_invalid``, bad records are counted and left out, as the
    command line's ``--skip-invalid`` does); so does a repeated id.

    ``progress``, if given, is called with a line of text after each stage.

    Graphs of up to ``local_components`` edges have their connected
    components labelled on the driver (see :func:`connected_components`);
    0 labels every graph in Spark.
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    if input_format not in ("jsonl", "parquet"):
        raise WireclusterError(f"input format {input_format!r}: jsonl or parquet")
    if output_format not in ("jsonl", "parquet"):
        raise WireclusterError(f"output format {output_format!r}: jsonl or parquet")
    paths = [inputs] if isinstance(inputs, (str, os.PathLike)) else list(inputs)
    paths = [os.fspath(p) for p in paths]
    for p in paths:
        if "://" not in p and not glob.glob(p):
            raise WireclusterError(f"{p}: no such file")
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    cfg_json = _config_json(config)
    cfg = json.loads(cfg_json)
    stories = cfg["story"]["enabled"]
    # What is kept between stages holds texts and shingle sets: written to
    # the checkpoint folder (the context's, else a temporary one here), so
    # that executor memory goes to the stages themselves and each stage's
    # plan starts from files instead of growing with every join before it.
    if spark.sparkContext.getCheckpointDir() is None:
        spark.sparkContext.setCheckpointDir(_own_checkpoints())
    disk = StorageLevel.DISK_ONLY

    def keep(df):
        return df.checkpoint(eager=True)
    stats: dict = {"stage_secs": {}}
    clock = [time.perf_counter(), time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        stats["stage_secs"][name] = round(now - clock[0], 3)
        clock[0] = now
        if progress is not None:
            progress(f"{name}: {now - clock[1]:.1f} s")

    # Stage 0: lines, numbered in input order; records parsed and checked.
    meta = [F.col("_metadata.file_path").alias("file"), F.col("_metadata.file_block_start").alias("block")]
    if input_format == "jsonl":
        raw = spark.read.text(paths).select("value", *meta)
    else:
        table = spark.read.parquet(*paths)
        fields = [c for c in table.columns]
        raw = table.select(F.to_json(F.struct(*fields)).alias("value"), *meta)
    blocks = spark.sparkContext.broadcast(_blocks(spark, raw, paths))

    def number(batches):
        import numpy as np

        seen: dict = {}
        for b in batches:
            f_arr, blk = b.column("file"), b.column("block")
            # Rows of one block are contiguous: work per run, not per row.
            n = b.num_rows
            keys = pc.binary_join_element_wise(f_arr.cast(pa.string()), blk.cast(pa.string()), "\x00")
            enc = pc.dictionary_encode(keys)
            idx_col, line_col = [], []
            codes = enc.indices.to_numpy(zero_copy_only=False)
            starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if n else np.array([], dtype=np.int64)
            ends = np.r_[starts[1:], n]
            for s, e in zip(starts, ends):
                file, block = f_arr[int(s)].as_py(), blk[int(s)].as_py()
                first, line = blocks.value[(file, block)]
                done = seen.get((file, block), 0)
                seen[(file, block)] = done + (e - s)
                pos = np.arange(done, done + (e - s), dtype=np.int64)
                idx_col.append(first + pos)
                line_col.append(line + pos + 1)
            idx = np.concatenate(idx_col) if idx_col else np.array([], dtype=np.int64)
            line = np.concatenate(line_col) if line_col else np.array([], dtype=np.int64)
            shard = _shard((cfg_json,), lambda: Shard(cfg_json))
            errors, ids = shard.parse(*col.var(b.column("value")))
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(idx, pa.int64()),
                    pa.array(line, pa.int64()),
                    f_arr.cast(pa.string()),
                    b.column("value").cast(pa.string()),
                    col.binary_out(errors, string=True),
                    col.binary_out(ids, string=True),
                ],
                names=["idx", "line", "file", "value", "error", "id"],
            )

    numbered = raw.mapInArrow(
        number,
        "idx long, line long, file string, value string, error string, id string",
    ).persist(disk)
    bad = numbered.filter(~F.col("error").isin("", "-"))
    bad_rows = bad.select("file", "line", "error").orderBy("idx").limit(10).collect()
    stats["invalid_records"] = bad.count() if bad_rows else 0
    if bad_rows and not skip_invalid:
        r = bad_rows[0]
        more = f" (and {stats['invalid_records'] - 1} more bad lines)" if stats["invalid_records"] > 1 else ""
        raise WireclusterError(f"{_local(r['file'])}:{r['line']}: {r['error']}{more}")
    for r in bad_rows if skip_invalid else []:
        print(f"skipped {_local(r['file'])}:{r['line']}: {r['error']}", file=sys.stderr)
    docs = keep(numbered.filter(F.col("error") == "").select("idx", "line", "file", "value", "id"))
    n_docs = docs.count()
    stats["documents"] = n_docs
    # Shuffles sized to the corpus (about 5,000 documents a partition),
    # unless the caller chose: many small partitions cost more than they
    # spread on a small corpus.
    shuffle_before = spark.conf.get("spark.sql.shuffle.partitions")
    shuffle = partitions or max(spark.sparkContext.defaultParallelism * 2, -(-n_docs // 5000))
    spark.conf.set("spark.sql.shuffle.partitions", str(shuffle))
    parts = shuffle
    dup = (
        docs.groupBy("id")
        .agg(F.count("*").alias("n"), F.min(F.struct("idx", "file", "line")).alias("first"),
             F.max(F.struct("idx", "file", "line")).alias("last"))
        .filter(F.col("n") > 1)
        .orderBy(F.col("first.idx"))
        .limit(1)
        .collect()
    )
    if dup:
        d = dup[0]
        raise WireclusterError(
            f"duplicate id {d['id']!r}: {_local(d['first']['file'])}:{d['first']['line']} and "
            f"{_local(d['last']['file'])}:{d['last']['line']}"
            + (f" ({d['n']} records)" if d["n"] > 2 else "")
        )
    numbered.unpersist()
    lap("read")

    # Stage 1: boilerplate sentences, counted over the corpus.
    def contexts(batches):
        shard = _shard((cfg_json,), lambda: Shard(cfg_json))
        for b in batches:
            keys, ctxs = shard.sentence_contexts(*col.var(b.column("value")))
            yield pa.RecordBatch.from_arrays(
                [b.column("idx"), col.list_out(keys), col.list_out(ctxs)], names=["idx", "keys", "ctxs"]
            )

    shard0 = Shard(cfg_json)
    min_docs = shard0.min_sentence_docs(n_docs)
    pairs = docs.select("idx", "value").mapInArrow(contexts, "idx long, keys array<long>, ctxs array<long>")
    counted = (
        pairs.select("idx", F.explode(F.arrays_zip("keys", "ctxs")).alias("p"))
        .select("idx", F.col("p.keys").alias("key"), F.col("p.ctxs").alias("ctx"))
        .groupBy("key")
        .agg(F.countDistinct("idx").alias("docs"), F.countDistinct("ctx").alias("contexts"))
        .filter(F.col("docs") >= min_docs)
    )
    c = _to_numpy(spark, counted)
    learned = shard0.learned_sentences(
        n_docs,
        col.ints(pa.array(c.get("key", []), pa.int64())),
        col.ints(pa.array(c.get("docs", []), pa.int64())),
        col.ints(pa.array(c.get("contexts", []), pa.int64())),
    )
    stats["learned_boilerplate_sentences"] = len(learned) // 8
    learned_b = spark.sparkContext.broadcast(learned)
    learned_key = uuid.uuid4().hex
    lap("boilerplate")

    # Stage 2: sketches.
    def sketch(batches):
        shard = _shard((cfg_json, learned_key), lambda: Shard(cfg_json).with_boilerplate(learned_b.value))
        for b in batches:
            bands, fps, terms, pair, doc = shard.sketch(*col.var(b.column("value")))
            yield pa.RecordBatch.from_arrays(
                [b.column("idx"), col.list_out(bands), col.list_out(fps), col.list_out(terms),
                 col.binary_out(pair), col.binary_out(doc)],
                names=["idx", "bands", "fps", "terms", "pair", "doc"],
            )

    sk = docs.select("idx", "value").mapInArrow(
        sketch, "idx long, bands array<long>, fps array<long>, terms array<long>, pair binary, doc binary"
    )
    sk = keep(sk)
    lap("sketch")

    df_b, df_key = None, None
    if stories:
        df_b, stats["story_terms"] = _document_frequencies(spark, sk)
        df_key = uuid.uuid4().hex
        lap("document frequencies")

    def full_shard():
        def build():
            s = Shard(cfg_json).with_boilerplate(learned_b.value)
            if df_b is not None:
                terms, counts = df_b.value
                s = s.with_document_frequencies(n_docs, terms, counts)
            return s

        return _shard((cfg_json, learned_key, df_key), build)

    # Stage 3: candidate pairs and verification.
    def list_pairs(bucket: bool, cap: int):
        def run(batches):
            shard = _shard((cfg_json,), lambda: Shard(cfg_json))
            for b in batches:
                a, bb = shard.list_pairs(*col.var(b.column("m")), bucket, cap)
                yield pa.RecordBatch.from_arrays([col.ints_out(a), col.ints_out(bb)], names=["a", "b"])

        return run

    def postings(items, key: str, cap: int):
        """Pairs of items holding one key, with the keys they share, over
        keys held by 2 to ``cap`` items (bounded lists, never a giant one)."""
        x = items.select("idx", F.explode(key).alias("k"))
        usable = x.groupBy("k").count().filter((F.col("count") >= 2) & (F.col("count") <= cap)).select("k")
        lists = x.join(usable, "k").groupBy("k").agg(F.collect_list("idx").alias("m")).select("m")
        return lists.mapInArrow(list_pairs(False, cap), "a long, b long").groupBy("a", "b").count()

    lsh = (
        sk.select("idx", F.explode("bands").alias("k"))
        .groupBy("k")
        .agg(F.collect_list("idx").alias("m"))
        .filter(F.size("m") > 1)
        .select("m")
        .mapInArrow(list_pairs(True, 0), "a long, b long")
        .withColumn("shared", F.lit(-1).cast("long"))
    )
    contained = postings(sk, "fps", cfg["max_posting"]).select("a", "b", F.col("count").alias("shared"))
    cands = lsh.unionByName(contained).groupBy("a", "b").agg(F.min("shared").alias("shared"))
    pp = sk.select("idx", "pair")
    joined = (
        cands.join(pp.select(F.col("idx").alias("a"), F.col("pair").alias("pa")), "a")
        .join(pp.select(F.col("idx").alias("b"), F.col("pair").alias("pb")), "b")
    )

    def verify(batches):
        shard = full_shard()
        for b in batches:
            keep = shard.verify(*col.var(b.column("pa")), *col.var(b.column("pb")), col.ints(b.column("shared")))
            mask = col.flags_out(keep)
            yield pa.RecordBatch.from_arrays([b.column("a"), b.column("b")], names=["a", "b"]).filter(mask)

    edges = keep(joined.select("a", "b", "shared", "pa", "pb").mapInArrow(verify, "a long, b long"))
    stats["duplicate_pairs"] = edges.count()
    lap("candidates and verification")

    # Stage 4: duplicate groups per component.
    r: list = []
    comp = connected_components(edges, local_limit=local_components, rounds=r)
    stats["component_rounds"] = len(r)
    lap("components")
    doc_rows = (
        sk.select("idx", "doc")
        .join(comp, sk.idx == comp.v, "left")
        .select(F.coalesce("c", "idx").alias("comp"), F.lit(0).alias("kind"), "idx",
                F.lit(None).cast("long").alias("a"), F.lit(None).cast("long").alias("b"),
                F.col("doc").alias("part"))
    )
    edge_rows = edges.join(comp, edges.a == comp.v).select(
        F.col("c").alias("comp"), F.lit(1).alias("kind"), F.lit(None).cast("long").alias("idx"),
        "a", "b", F.lit(None).cast("binary").alias("part"))

    def run_components(t: pa.Table, method, scored: bool):
        kind = t.column("kind")
        items = t.filter(pc.equal(kind, 0))
        links = t.filter(pc.equal(kind, 1))
        extra = [col.floats(links.column("score"))] if scored else []
        return method(
            col.ints(items.column("comp")), col.ints(items.column("idx")), *col.var(items.column("part")),
            col.ints(links.column("comp")), col.ints(links.column("a")), col.ints(links.column("b")), *extra,
        )

    def group(batches):
        shard = full_shard()
        for t in _by_component(batches):
            kind, idx, terms, part, score = run_components(t, shard.group_components, False)
            yield pa.RecordBatch.from_arrays(
                [col.ints_out(kind), col.ints_out(idx), col.list_out(terms), col.binary_out(part),
                 col.binary_out(score)],
                names=["kind", "idx", "terms", "part", "score_part"],
            )

    grouped = (
        doc_rows.unionByName(edge_rows)
        .repartition(parts, "comp")
        .sortWithinPartitions("comp", "kind", "idx", "a", "b")
        .mapInArrow(group, "kind long, idx long, terms array<long>, part binary, score_part binary")
    )
    grouped = keep(grouped)
    stats["rows_grouped"] = grouped.count()
    sizes = comp.groupBy("c").count()
    stats["largest_duplicate_component"] = int(sizes.agg(F.max("count")).collect()[0][0] or 1)
    lap("groups")

    # Stage 5: stories. Candidate unit pairs are scored and mixed with
    # their shared-neighbour scores here; only pairs whose mixed score
    # reaches the threshold can join stories, so the components of those
    # (small, unlike those of all candidate pairs) are linked apart.
    asg = grouped.filter(F.col("kind") == 0).select("idx", "part")
    if stories:
        sc = cfg["story"]
        units = grouped.filter(F.col("kind") == 1).select("idx", "terms", "part", "score_part")
        upairs = (
            postings(units.select("idx", "terms"), "terms", sc["max_posting"])
            .filter(F.col("count") >= sc["min_shared_terms"])
            .select("a", "b")
        )
        sp = units.select("idx", "score_part")
        to_score = upairs.join(sp.select(F.col("idx").alias("a"), F.col("score_part").alias("sa")), "a").join(
            sp.select(F.col("idx").alias("b"), F.col("score_part").alias("sb")), "b")

        def score(batches):
            shard = full_shard()
            for b in batches:
                s = shard.score_pairs(*col.var(b.column("sa")), *col.var(b.column("sb")))
                yield pa.RecordBatch.from_arrays([b.column("a"), b.column("b"), col.floats_out(s)],
                                                 names=["a", "b", "score"])

        scored = keep(to_score.select("a", "b", "sa", "sb").mapInArrow(score, "a long, b long, score double"))
        stats["story_candidates"] = scored.count()
        both = scored.select(F.col("a").alias("u"), F.col("b").alias("o"), "score").unionByName(
            scored.select(F.col("b").alias("u"), F.col("a").alias("o"), "score"))
        gathered = both.groupBy("u").agg(F.collect_list(F.struct("score", "o")).alias("c"))

        def neighbours(batches):
            shard = full_shard()
            for b in batches:
                c = b.column("c")
                offsets = c.offsets.to_numpy(zero_copy_only=False).astype("<i8").tobytes()
                values = c.values
                knn = shard.neighbours(offsets, col.floats(values.field("score")), col.ints(values.field("o")))
                yield pa.RecordBatch.from_arrays([b.column("u"), col.list_out(knn)], names=["u", "knn"])

        knn = gathered.mapInArrow(neighbours, "u long, knn array<long>")
        to_mix = scored.join(knn.select(F.col("u").alias("a"), F.col("knn").alias("ka")), "a", "left").join(
            knn.select(F.col("u").alias("b"), F.col("knn").alias("kb")), "b", "left")

        def mix(batches):
            shard = full_shard()
            for b in batches:
                m = shard.mixed_scores(col.ints(b.column("a")), col.ints(b.column("b")), col.floats(b.column("score")),
                                       *col.var(b.column("ka")), *col.var(b.column("kb")))
                yield pa.RecordBatch.from_arrays([b.column("a"), b.column("b"), col.floats_out(m)],
                                                 names=["a", "b", "score"])

        mixed = (
            to_mix.select("a", "b", "score", F.coalesce("ka", F.array().cast("array<long>")).alias("ka"),
                          F.coalesce("kb", F.array().cast("array<long>")).alias("kb"))
            .mapInArrow(mix, "a long, b long, score double")
        )
        mixed = keep(mixed)
        lap("story scores")
        r = []
        ucomp = connected_components(mixed.filter(F.col("score") >= sc["threshold"]).select("a", "b"),
                                     local_limit=local_components, rounds=r)
        stats["story_component_rounds"] = len(r)
        usizes = ucomp.groupBy("c").count()
        stats["largest_story_component_units"] = int(usizes.agg(F.max("count")).collect()[0][0] or 1)
        lap("story components")
        unit_rows = units.join(ucomp, units.idx == ucomp.v, "left").select(
            F.coalesce("c", "idx").alias("comp"), F.lit(0).alias("kind"), "idx",
            F.lit(None).cast("long").alias("a"), F.lit(None).cast("long").alias("b"), "part",
            F.lit(None).cast("double").alias("score"))
        ca, cb = ucomp.select(F.col("v").alias("a"), F.col("c").alias("ca")), ucomp.select(
            F.col("v").alias("b"), F.col("c").alias("cb"))
        pair_rows = (
            mixed.join(ca, "a").join(cb, "b").filter(F.col("ca") == F.col("cb"))
            .select(F.col("ca").alias("comp"), F.lit(1).alias("kind"), F.lit(None).cast("long").alias("idx"),
                    "a", "b", F.lit(None).cast("binary").alias("part"), "score")
        )

        def link(batches):
            shard = full_shard()
            for t in _by_component(batches):
                idx, story, canonical, sim = run_components(t, shard.link_components, True)
                yield pa.RecordBatch.from_arrays(
                    [col.ints_out(idx), col.binary_out(story, string=True), col.flags_out(canonical),
                     col.floats_out(sim)],
                    names=["idx", "story", "story_canonical", "similarity"],
                )

        places = (
            unit_rows.unionByName(pair_rows)
            .repartition(parts, "comp")
            .sortWithinPartitions("comp", "kind", "idx", "a", "b")
            .mapInArrow(link, "idx long, story string, story_canonical boolean, similarity double")
        )
        asg = asg.join(places, "idx", "left")
        lap("stories")
    else:
        asg = asg.select("idx", "part", F.lit(None).cast("string").alias("story"),
                         F.lit(None).cast("boolean").alias("story_canonical"),
                         F.lit(None).cast("double").alias("similarity"))

    # Stage 6: threads (DESIGN.md, "Scale out"). The nearest neighbours are
    # a join of each document's terms with the kept holders of each term;
    # only the linkage of the story sums runs on the driver.
    if cfg["thread"]["enabled"]:
        asg = _threads(spark, cfg_json, cfg["thread"], docs, asg, n_docs, stories, keep, lap, stats)
    else:
        asg = asg.select("*", F.lit(None).cast("string").alias("thread"),
                         F.lit(None).cast("boolean").alias("thread_canonical"))

    # Stage 7: output lines in input order.
    def lines(batches):
        shard = full_shard()
        for b in batches:
            has = pc.is_valid(b.column("story"))
            has_thread = pc.is_valid(b.column("thread"))
            out = shard.assignment_lines(
                *col.var(b.column("part")), col.flags(has), *col.var(b.column("story")),
                col.flags(b.column("story_canonical")), col.floats(b.column("similarity")),
                col.flags(has_thread), *col.var(b.column("thread")), col.flags(b.column("thread_canonical")),
            )
            yield pa.RecordBatch.from_arrays([b.column("idx"), col.binary_out(out, string=True)], names=["idx", "line"])

    out = asg.mapInArrow(lines, "idx long, line string").orderBy("idx")
    if output is not None:
        _write(spark, out, output, output_format)
    spark.conf.set("spark.sql.shuffle.partitions", shuffle_before)
    lap("write")
    stats["total_secs"] = round(sum(stats["stage_secs"].values()), 3)
    return stats


def _threads(spark, cfg_json: str, tc: dict, docs, asg, n_docs: int, stories: bool, keep, lap, stats: dict):
    """The thread level over the assignments ``asg`` (with their stories):
    ``asg`` with ``thread`` and ``thread_canonical`` columns. Each step is
    a ``wirecluster::distributed::Shard`` thread step."""
    from pyspark.sql import functions as F

    def base_shard():
        return _shard((cfg_json,), lambda: Shard(cfg_json))

    # Thread terms per document, and their document frequencies.
    def sketch(batches):
        shard = base_shard()
        for b in batches:
            terms, part = shard.thread_sketch(*col.var(b.column("value")))
            yield pa.RecordBatch.from_arrays(
                [b.column("idx"), b.column("id"), col.list_out(terms), col.binary_out(part)],
                names=["idx", "id", "terms", "tpart"],
            )

    ts = keep(docs.select("idx", "id", "value").mapInArrow(
        sketch, "idx long, id string, terms array<long>, tpart binary"))
    df_b, stats["thread_terms"] = _document_frequencies(spark, ts)
    df_key = uuid.uuid4().hex

    def build():
        terms, counts = df_b.value
        return Shard(cfg_json).with_thread_frequencies(n_docs, terms, counts)

    def shard_of():
        return _shard((cfg_json, "threads", df_key), build)

    # Base vectors: terms with weights (float32 bits), date, time bucket.
    def weigh(batches):
        shard = shard_of()
        for b in batches:
            terms, weights, published, bucket, part = shard.thread_base(*col.var(b.column("tpart")))
            yield pa.RecordBatch.from_arrays(
                [b.column("idx"), b.column("id"), col.list_out(terms), col.list_out(weights),
                 col.opt_ints_out(published), col.opt_ints_out(bucket), col.binary_out(part)],
                names=["idx", "id", "terms", "weights", "published", "bucket", "vpart"],
            )

    base = keep(ts.select("idx", "id", "tpart").mapInArrow(
        weigh,
        "idx long, id string, terms array<long>, weights array<long>, published long, bucket long, vpart binary"))
    held = base.select("idx", "id", "published", "bucket",
                       F.explode(F.arrays_zip("terms", "weights")).alias("p")).select(
        "idx", "id", "published", "bucket", F.col("p.terms").alias("t"), F.col("p.weights").alias("w"))

    # Postings: each term's holders per time bucket, cut to the heaviest.
    def cut(batches):
        shard = shard_of()
        for b in batches:
            offsets, h = col.lists(b.column("h"))
            kept = shard.thread_cut(offsets, col.ints(pc.struct_field(h, "idx")), *col.var(pc.struct_field(h, "id")),
                                    col.ints(pc.struct_field(h, "w")))
            rows = pc.list_parent_indices(b.column("h"))
            out = pa.RecordBatch.from_arrays(
                [b.column("t").take(rows), pc.struct_field(h, "idx"), pc.struct_field(h, "w"), pc.struct_field(h, "published"), pc.struct_field(h, "bucket")],
                names=["t", "j", "wj", "pj", "bj"],
            )
            yield out.filter(col.flags_out(kept))

    kept = keep(
        held.groupBy("t", "bucket")
        .agg(F.collect_list(F.struct("idx", "id", "w", "published", "bucket")).alias("h"))
        .select("t", "h")
        .mapInArrow(cut, "t long, j long, wj long, pj long, bj long")
    )
    lap("thread terms")

    # Nearest neighbours: every query term against its kept holders in the
    # buckets a query reads (its own and the next ones; undated read all
    # and are read by all); the step rules out what it does not read.
    q = held.select(F.col("idx").alias("i"), F.col("published").alias("pi"), F.col("bucket").alias("q"), "t",
                    F.col("w").alias("wi"))
    matched = q.join(kept, "t").filter(
        F.col("q").isNull() | F.col("bj").isNull() | (F.abs(F.col("q") - F.col("bj")) <= 1))
    gathered = matched.groupBy("i", "pi").agg(F.collect_list(F.struct("t", "wi", "j", "wj", "pj")).alias("m"))

    def nearest(batches):
        shard = shard_of()
        for b in batches:
            offsets, m = col.lists(b.column("m"))
            near, sims = shard.thread_neighbours(
                col.ints(b.column("i")), *col.opt_ints(b.column("pi")), offsets,
                col.ints(pc.struct_field(m, "t")), col.ints(pc.struct_field(m, "wi")), col.ints(pc.struct_field(m, "j")), col.ints(pc.struct_field(m, "wj")),
                *col.opt_ints(pc.struct_field(m, "pj")),
            )
            yield pa.RecordBatch.from_arrays([b.column("i"), col.list_out(near), col.list_out(sims)],
                                             names=["i", "near", "sims"])

    knn = keep(gathered.mapInArrow(nearest, "i long, near array<long>, sims array<long>"))
    stats["thread_neighbour_lists"] = knn.count()
    lap("thread neighbours")

    # Expansion with the first neighbours' base vectors, in their order.
    nb = (
        knn.select("i", F.posexplode(F.arrays_zip("near", "sims")).alias("pos", "p"))
        .filter(F.col("pos") < tc["neighbours"])
        .select("i", "pos", F.col("p.near").alias("j"), F.col("p.sims").alias("s"))
        .join(base.select(F.col("idx").alias("j"), F.col("vpart").alias("jpart")), "j")
        .groupBy("i")
        .agg(F.array_sort(F.collect_list(F.struct("pos", "s", "jpart"))).alias("n"))
    )

    def expand(batches):
        shard = shard_of()
        for b in batches:
            offsets, n = col.lists(b.column("n"))
            out = shard.thread_expand(*col.var(b.column("vpart")), offsets, col.ints(pc.struct_field(n, "s")),
                                      *col.var(pc.struct_field(n, "jpart")))
            yield pa.RecordBatch.from_arrays([b.column("i"), col.binary_out(out)], names=["idx", "epart"])

    expanded = keep(
        base.select(F.col("idx").alias("i"), "vpart").join(nb, "i", "left")
        .mapInArrow(expand, "idx long, epart binary")
    )
    lap("thread expansion")

    # Each story's sum, keyed by its smallest document index.
    if stories:
        member = asg.select("idx", "story", "story_canonical")
    else:
        def groups(batches):
            shard = base_shard()
            for b in batches:
                g, c = shard.assignment_groups(*col.var(b.column("part")))
                yield pa.RecordBatch.from_arrays([b.column("idx"), col.binary_out(g, string=True), col.flags_out(c)],
                                                 names=["idx", "story", "story_canonical"])

        member = asg.select("idx", "part").mapInArrow(groups, "idx long, story string, story_canonical boolean")
    member = keep(member)

    def sums(batches):
        shard = shard_of()
        for b in batches:
            offsets, m = col.lists(b.column("m"))
            keys, parts = shard.thread_stories(col.ints(b.column("canonical")), offsets, col.ints(pc.struct_field(m, "idx")),
                                               *col.var(pc.struct_field(m, "epart")))
            yield pa.RecordBatch.from_arrays([b.column("story"), col.ints_out(keys), col.binary_out(parts)],
                                             names=["story", "key", "upart"])

    units = keep(
        member.join(expanded, "idx")
        .groupBy("story")
        .agg(F.max(F.when(F.col("story_canonical"), F.col("idx"))).alias("canonical"),
             F.collect_list(F.struct("idx", "epart")).alias("m"))
        .mapInArrow(sums, "story string, key long, upart binary")
    )
    key_of = keep(member.join(units.select("story", "key"), "story").select("idx", "key"))
    links = (
        knn.select("i", F.posexplode("near").alias("pos", "j"))
        .filter(F.col("pos") < tc["links"])
        .join(key_of.select(F.col("idx").alias("i"), F.col("key").alias("ka")), "i")
        .join(key_of.select(F.col("idx").alias("j"), F.col("key").alias("kb")), "j")
        .filter(F.col("ka") != F.col("kb"))
        .select(F.least("ka", "kb").alias("a"), F.greatest("ka", "kb").alias("b"))
        .distinct()
    )
    # The linkage, on the driver: every story's sum and the linked pairs.
    u = units.select("key", "upart").toPandas()
    p = _to_numpy(spark, links)
    # Built here rather than through the executors' cache (which would
    # then be pickled with every step run as a program).
    shard = build()
    story_keys, thread_ids, canonical = shard.link_threads(
        col.ints(pa.array(u["key"].to_numpy(), pa.int64())), *col.var(pa.array(list(u["upart"]), pa.binary())),
        col.ints(pa.array(p.get("a", []), pa.int64())), col.ints(pa.array(p.get("b", []), pa.int64())),
    )
    import pandas as pd

    places = spark.createDataFrame(
        pd.DataFrame({
            "key": col.ints_out(story_keys).to_numpy(),
            "thread": col.binary_out(thread_ids, string=True).to_pylist(),
            "tcanon": col.ints_out(canonical).to_numpy(),
        }),
        "key long, thread string, tcanon long",
    )
    stats["threads"] = int(pd.Series(col.binary_out(thread_ids, string=True).to_pylist()).nunique())
    lap("thread linkage")
    return (
        asg.join(key_of, "idx")
        .join(places, "key")
        .withColumn("thread_canonical", F.col("idx") == F.col("tcanon"))
        .drop("key", "tcanon")
    )

_CHECKPOINTS: list = []


def _own_checkpoints() -> str:
    """A temporary checkpoint folder for this process, removed at exit."""
    if not _CHECKPOINTS:
        import atexit

        _CHECKPOINTS.append(tempfile.mkdtemp(prefix="wirecluster-spark-checkpoints-"))
        atexit.register(shutil.rmtree, _CHECKPOINTS[0], True)
    return _CHECKPOINTS[0]


def _local(file: str) -> str:
    return file[len("file:"):] if file.startswith("file:") else file


def _write(spark, out, output: str, fmt: str) -> None:
    """JSONL: one file on the driver's file system, written whole or not at
    all (the parts Spark writes in index order, joined). Parquet: a folder
    on any file system Spark writes to."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if fmt == "parquet":
        schema = T.StructType([
            T.StructField("id", T.StringType()), T.StructField("duplicate_group", T.StringType()),
            T.StructField("canonical", T.BooleanType()), T.StructField("group_size", T.LongType()),
            T.StructField("jaccard_to_canonical", T.DoubleType()),
            T.StructField("containment_in_canonical", T.DoubleType()),
            T.StructField("story", T.StringType()), T.StructField("story_canonical", T.BooleanType()),
            T.StructField("story_similarity", T.DoubleType()),
            T.StructField("thread", T.StringType()), T.StructField("thread_canonical", T.BooleanType()),
        ])
        out.select(F.from_json("line", schema).alias("a")).select("a.*").write.mode("overwrite").parquet(output)
        return
    target = os.path.abspath(output)
    folder = os.path.dirname(target) or "."
    os.makedirs(folder, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".wirecluster-spark-", dir=folder)
    try:
        out.select("line").write.mode("overwrite").text(os.path.join(tmp, "parts"))
        part_files = sorted(glob.glob(os.path.join(tmp, "parts", "part-*")))
        joined = os.path.join(tmp, "joined")
        with open(joined, "wb") as w:
            for p in part_files:
                with open(p, "rb") as r:
                    shutil.copyfileobj(r, w, 1 << 20)
        os.replace(joined, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m wirecluster.spark",
        description="Clusters a corpus on Spark and writes what `wirecluster cluster` writes.",
    )
    ap.add_argument("input", nargs="+", help="JSONL files (gzipped or not), or Parquet with --input-format")
    ap.add_argument("output", help="the assignments: a JSONL file, or a Parquet folder")
    ap.add_argument("--config", help="a JSON or TOML config file")
    ap.add_argument("--master", default=os.environ.get("SPARK_MASTER"),
                    help="Spark master (default: local[2], or what spark-submit was given)")
    ap.add_argument("--partitions", type=int)
    ap.add_argument("--input-format", choices=["jsonl", "parquet"], default="jsonl")
    ap.add_argument("--output-format", choices=["jsonl", "parquet"], default="jsonl")
    ap.add_argument("--skip-invalid", action="store_true")
    ap.add_argument("--local-components", type=int, default=20_000_000,
                    help="label graphs of up to this many edges on the driver (0: always in Spark)")
    ap.add_argument("--driver-memory", default=os.environ.get("SPARK_DRIVER_MEMORY"),
                    help="default 1g when this program starts Spark itself")
    ap.add_argument("--executor-memory", default=os.environ.get("SPARK_EXECUTOR_MEMORY"),
                    help="default 2g when this program starts Spark itself")
    args = ap.parse_args(argv)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    # Under spark-submit the JVM is up and configured: only what was asked
    # for here is set. Started from Python, this program chooses.
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    builder = SparkSession.builder.appName("wirecluster")
    settings = {
        "spark.master": args.master or (None if submitted else "local[2]"),
        "spark.driver.memory": args.driver_memory or (None if submitted else "1g"),
        "spark.executor.memory": args.executor_memory or (None if submitted else "2g"),
        "spark.sql.files.maxPartitionBytes": "32m",
        "spark.sql.execution.arrow.maxRecordsPerBatch": "2000",
        "spark.ui.showConsoleProgress": "false",
    }
    for key, value in settings.items():
        if value is not None:
            builder = builder.config(key, value)
    if not submitted:
        builder = builder.config("spark.ui.enabled", "false")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        stats = cluster(
            spark, args.input, args.output, config=args.config, input_format=args.input_format,
            output_format=args.output_format, partitions=args.partitions, skip_invalid=args.skip_invalid,
            local_components=args.local_components,
            progress=lambda line: print(f"wirecluster.spark: {line}", file=sys.stderr, flush=True),
        )
    except WireclusterError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        spark.stop()
    print(f"wirecluster.spark: {stats['documents']} documents in {stats['total_secs']:.1f} s; "
          f"stats: {json.dumps(stats)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
