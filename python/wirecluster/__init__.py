"""wirecluster: reprints and rewrites of news copy grouped into duplicate
groups and stories, each with a canonical article.

Records are dicts with the fields of the command line's JSONL input
(``id``, ``text`` or ``body``, optional ``title``, ``summary``,
``published``, ``source``, ``url``, ``cluster``). Results are dicts with the
fields ``wirecluster cluster`` writes.

>>> from wirecluster import cluster
>>> text = ("The central bank raised its key interest rate by half a point on "
...         "Tuesday, citing inflation that has run above its target for a year.")
>>> out = cluster([{"id": "a", "text": text}, {"id": "b", "text": text + "\\nSubscribe now"}])
>>> out[1]["duplicate_group"]
'a'
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Mapping, Optional, Union

from . import _wirecluster
from ._wirecluster import WireclusterError

__all__ = ["cluster", "Clusterer", "Config", "features", "FeedIndex", "WireclusterError"]

Record = Mapping[str, Any]
ConfigArg = Union[None, "Config", Mapping[str, Any], str, "os.PathLike[str]"]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class Config:
    """A validated config: ``Config()`` (the defaults), ``Config({...})`` (a
    dict of ``Config`` fields, the rest defaults) or
    ``Config.from_file(path)`` (TOML or JSON). Bad fields raise
    :class:`WireclusterError` naming them.

    >>> Config({"jaccard_threshold": 0.6})["jaccard_threshold"]
    0.6
    >>> Config()["story"]["enabled"]
    True
    """

    def __init__(self, fields: Optional[Mapping[str, Any]] = None, *, _json: Optional[str] = None) -> None:
        if _json is None:
            _json = _wirecluster.Shard(None if fields is None else _dumps(dict(fields))).config_json()
        self._json = _json

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> "Config":
        return cls(_json=_wirecluster.Shard(config_path=os.fspath(path)).config_json())

    def to_dict(self) -> dict:
        """Every field, with its value."""
        return json.loads(self._json)

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"Config({self.to_dict()!r})"


def _config(config: ConfigArg) -> dict:
    """Keyword arguments for the Rust side: a dict as JSON, a path as a path."""
    if config is None:
        return {}
    if isinstance(config, Config):
        return {"config_json": config._json}
    if isinstance(config, Mapping):
        return {"config_json": _dumps(dict(config))}
    return {"config_path": os.fspath(config)}


def cluster(records: Iterable[Record], config: ConfigArg = None) -> list[dict]:
    """Clusters records; one assignment per record, in order.

    ``config`` is a dict of ``Config`` fields (the rest keep their defaults),
    or the path of a TOML or JSON config file. Bad records raise
    :class:`WireclusterError` naming the record (0-based) and the reason.
    """
    texts = [_dumps(dict(r)) for r in records]
    return json.loads(_wirecluster.cluster(texts, **_config(config)))


class Clusterer:
    """Clusters batches with one validated config.

    ``cluster(records)`` takes dicts and returns dicts, as :func:`cluster`;
    ``cluster_arrow(records)`` takes a pyarrow string array of JSONL records
    and returns a pyarrow Table of the assignments, without a Python object
    per row either way.

    >>> import pyarrow as pa
    >>> text = "Floods closed roads across the north on Monday, officials said, and schools stayed shut."
    >>> t = Clusterer().cluster_arrow(pa.array(['{"id": "a", "text": "%s"}' % text, '{"id": "b", "text": "%s"}' % text]))
    >>> t.column("duplicate_group").to_pylist()
    ['a', 'a']
    """

    def __init__(self, config: ConfigArg = None) -> None:
        self.config = config if isinstance(config, Config) else (
            Config.from_file(config) if isinstance(config, (str, os.PathLike)) else Config(config))

    def cluster(self, records: Iterable[Record]) -> list[dict]:
        return cluster(records, self.config)

    def cluster_arrow(self, records: Any) -> "pyarrow.Table":
        import pyarrow as pa

        from . import _columns as col

        if isinstance(records, pa.ChunkedArray):
            records = records.combine_chunks()
        strings, size, flags, floats = _wirecluster.cluster_column(*col.var(records), config_json=self.config._json)
        return pa.table(
            {
                "id": col.binary_out(strings[0], string=True),
                "duplicate_group": col.binary_out(strings[1], string=True),
                "canonical": col.flags_out(flags[0]),
                "group_size": col.ints_out(size),
                "jaccard_to_canonical": col.floats_out(floats[0]),
                "containment_in_canonical": col.floats_out(floats[1]),
                "story": col.binary_out(strings[2], string=True),
                "story_canonical": col.flags_out(flags[1]),
                "story_similarity": col.floats_out(floats[2]),
                "thread": col.binary_out(strings[3], string=True),
                "thread_canonical": col.flags_out(flags[2]),
            }
        )


def features(records: Any, config: ConfigArg = None) -> "pyarrow.Table":
    """Per-document features for pipelines of one's own (Dask, Ray, Spark
    UDFs): a pyarrow Table with one row per record and the int64 list
    columns ``shingles`` (the shingle set), ``signature`` (MinHash),
    ``band_keys`` (LSH), ``fingerprints`` (winnowed, for containment) and
    ``story_terms``. Values are stable 64-bit hashes shown as int64 with the
    same bits, so features computed anywhere agree. No boilerplate is
    learned: each record is taken on its own.

    ``records`` is a pyarrow string array (or chunked array) of JSONL
    records, which crosses into Rust whole, without a Python object per
    row; or an iterable of dicts. Needs ``pyarrow``.

    >>> import pyarrow as pa
    >>> t = features(pa.array(['{"id": "a", "text": "Floods closed roads across the north on Monday."}']))
    >>> t.column_names
    ['shingles', 'signature', 'band_keys', 'fingerprints', 'story_terms']
    >>> len(t.column("signature")[0])
    128
    """
    import pyarrow as pa

    from . import _columns as col

    if not isinstance(records, (pa.Array, pa.ChunkedArray)):
        records = pa.array([_dumps(dict(r)) for r in records], pa.string())
    shard = _wirecluster.Shard(**_config(config))
    cols = shard.features(*col.var(records))
    names = ["shingles", "signature", "band_keys", "fingerprints", "story_terms"]
    return pa.table([col.list_out(c) for c in cols], names=names)


class FeedIndex:
    """A live index: articles placed one at a time (see the Rust docs of
    ``FeedIndex``). ``feed`` is a dict of ``FeedConfig`` fields."""

    def __init__(self, config: ConfigArg = None, feed: Optional[Mapping[str, Any]] = None,
                 *, _inner: Any = None) -> None:
        if _inner is not None:
            self._inner = _inner
            return
        kwargs = _config(config)
        if feed is not None:
            kwargs["feed_json"] = _dumps(dict(feed))
        self._inner = _wirecluster.FeedIndex(**kwargs)

    def insert(self, record: Record) -> dict:
        """Places one record; where it went."""
        return self.insert_batch([record])[0]

    def insert_batch(self, records: Iterable[Record]) -> list[dict]:
        """Places records in order (features on all cores; the result is
        the same as one by one)."""
        return json.loads(self._inner.insert_batch([_dumps(dict(r)) for r in records]))

    def query(self, record: Record) -> dict:
        """Where a record would go, without placing it."""
        return json.loads(self._inner.query(_dumps(dict(record))))

    def get(self, id: str) -> Optional[dict]:
        """The state of a live article, or None."""
        s = self._inner.get(id)
        return None if s is None else json.loads(s)

    def remove(self, id: str) -> dict:
        """Removes a live article; its state before."""
        return json.loads(self._inner.remove(id))

    def consolidate(self) -> int:
        """Re-links the live stories; the number of stories."""
        return self._inner.consolidate()

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Saves the whole index, whole or not at all."""
        self._inner.save(os.fspath(path))

    def checkpoint(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Appends what changed since the last save or checkpoint."""
        self._inner.checkpoint(os.fspath(path))

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "FeedIndex":
        """Loads a saved index and replays its checkpoints."""
        return cls(_inner=_wirecluster.FeedIndex.load(os.fspath(path)))

    def stats(self) -> dict:
        return json.loads(self._inner.stats())

    def __len__(self) -> int:
        return len(self._inner)
