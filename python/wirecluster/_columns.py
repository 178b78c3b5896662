"""Arrow columns to and from the buffers the Rust steps take
(``_wirecluster.Shard``): int64 values as little-endian bytes, and
variable-length columns (binary, string, lists of int64) as int64 byte
offsets plus data. Whole columns cross at once, never a Python object per
row."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def ints(arr: pa.Array) -> bytes:
    """An int64 column without nulls as bytes."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.int64())
    if arr.null_count:
        raise ValueError("an int64 column holds nulls")
    return arr.to_numpy(zero_copy_only=False).astype("<i8", copy=False).tobytes()


def floats(arr: pa.Array) -> bytes:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.float64()).fill_null(0.0)
    return arr.to_numpy(zero_copy_only=False).astype("<f8", copy=False).tobytes()


def flags(arr: pa.Array) -> bytes:
    """A boolean column (nulls as false) as one byte per row."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.fill_null(False)
    return arr.to_numpy(zero_copy_only=False).astype(np.uint8).tobytes()


def var(arr: pa.Array) -> tuple[bytes, bytes]:
    """A binary, string or list-of-int64 column (nulls as empty) as
    ``(offsets, data)``."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
        arr = arr.cast(pa.large_list(pa.int64()))
        offsets = arr.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
        if arr.null_count:
            raise ValueError("a list column holds nulls")
        values = ints(arr.values) if len(arr.values) else b""
        return (offsets * 8).astype("<i8").tobytes(), values
    arr = arr.cast(pa.large_binary())
    _, off_buf, data_buf = arr.buffers()
    n = len(arr)
    offsets = np.frombuffer(off_buf, dtype="<i8")[arr.offset : arr.offset + n + 1]
    data = data_buf.to_pybytes() if data_buf is not None else b""
    return offsets.tobytes(), data


def binary_out(pair: tuple[bytes, bytes], string: bool = False) -> pa.Array:
    off, data = pair
    n = len(off) // 8 - 1
    typ = pa.large_string() if string else pa.large_binary()
    arr = pa.Array.from_buffers(typ, n, [None, pa.py_buffer(off), pa.py_buffer(data)])
    return arr.cast(pa.string() if string else pa.binary())


def list_out(pair: tuple[bytes, bytes]) -> pa.Array:
    off, data = pair
    offsets = pa.array(np.frombuffer(off, dtype="<i8") // 8)
    values = pa.array(np.frombuffer(data, dtype="<i8"), type=pa.int64())
    return pa.LargeListArray.from_arrays(offsets, values).cast(pa.list_(pa.int64()))


def ints_out(b: bytes) -> pa.Array:
    return pa.array(np.frombuffer(b, dtype="<i8"), type=pa.int64())


def flags_out(b: bytes) -> pa.Array:
    return pa.array(np.frombuffer(b, dtype=np.uint8).astype(bool), type=pa.bool_())


def floats_out(b: bytes) -> pa.Array:
    return pa.array(np.frombuffer(b, dtype="<f8"), type=pa.float64())


def opt_ints(arr: pa.Array) -> tuple[bytes, bytes]:
    """An int64 column with nulls as ``(values, presence bytes)``."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.int64())
    present = flags(pc.is_valid(arr))
    return ints(arr.fill_null(0)), present


def opt_ints_out(pair: tuple[bytes, bytes]) -> pa.Array:
    values, present = pair
    v = np.frombuffer(values, dtype="<i8")
    mask = np.frombuffer(present, dtype=np.uint8) == 0
    return pa.array(v, type=pa.int64(), mask=mask)


def lists(arr: pa.Array) -> tuple[bytes, pa.Array]:
    """A list column (nulls as empty lists) as element offsets (int64
    bytes, from 0) and its flattened values."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(arr), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype("<i8")
    return offsets.tobytes(), arr.flatten()
