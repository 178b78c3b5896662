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

__all__ = ["cluster", "features", "FeedIndex", "WireclusterError"]

Record = Mapping[str, Any]
ConfigArg = Union[None, Mapping[str, Any], str, "os.PathLike[str]"]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _config(config: ConfigArg) -> dict:
    """Keyword arguments for the Rust side: a dict as JSON, a path as a path."""
    if config is None:
        return {}
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
