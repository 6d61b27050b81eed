"""Reading a run of rows (frames: positions along the first dimension) of a dataset into numpy.

Unfiltered chunks whose addresses follow one another are read with one ``pread`` per run; each
chunk is then a view of that buffer (``np.frombuffer``) copied once into the result.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from h5swmr.access.source import FileSource
from h5swmr.errors import FilterError, FormatError, UnsupportedError
from h5swmr.filters.pipeline import intermediate_limit
from h5swmr.format.chunk_records import ChunkRecord
from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.messages.layout import (
    ChunkedLayoutMessage,
    CompactLayoutMessage,
    ContiguousLayoutMessage,
)
from h5swmr.reader.dataset import DatasetState


@dataclass(frozen=True, slots=True)
class _Planned:
    scaled: tuple[int, ...]
    record: ChunkRecord


def _fill_array(state: DatasetState, shape: tuple[int, ...]) -> np.ndarray:
    value = np.frombuffer(state.fill, state.dtype, count=1)[0]
    return np.full(shape, value, dtype=state.dtype)


def check_allocation(nbytes: int, limit: int, what: str) -> None:
    """FormatError for a result above ``limit``: sizes come from a file that may be corrupt."""
    if nbytes > limit:
        raise FormatError(f"{what}: {nbytes} bytes requested, more than the limit of {limit}")


def new_array(shape: int | tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """An array the read fills: records start as zeros, since numpy copies them field by field
    and would leave the padding between fields as whatever the new memory held (h5py gives
    zeros there); anything else starts empty."""
    return np.zeros(shape, dtype) if dtype.fields is not None else np.empty(shape, dtype)


def read_rows(
    src: FileSource, state: DatasetState, start: int, stop: int, limit: int
) -> np.ndarray:
    """Rows ``start:stop`` (already clipped to the dims) of the dataset; rank 0 reads everything."""
    if not state.dims:
        start, stop = 0, 1
    shape: tuple[int, ...] = (stop - start, *state.dims[1:]) if state.dims else ()
    row_bytes = math.prod(state.dims[1:]) * state.dtype.itemsize
    check_allocation((stop - start) * row_bytes, limit, f"rows {start}:{stop}")
    layout = state.layout
    if stop <= start or 0 in shape:
        return new_array(shape, state.dtype)
    if isinstance(layout, CompactLayoutMessage):
        if len(layout.data) < state.nbytes:
            raise FormatError(f"compact data of {len(layout.data)} bytes, need {state.nbytes}")
        data = layout.data[start * row_bytes : stop * row_bytes]
        return np.frombuffer(data, state.dtype).reshape(shape).copy()
    if isinstance(layout, ContiguousLayoutMessage):
        if layout.address == UNDEFINED_ADDRESS:
            return _fill_array(state, shape)
        if layout.size < state.nbytes:
            raise FormatError(f"contiguous storage of {layout.size} bytes, need {state.nbytes}")
        data = src.read(
            layout.address + start * row_bytes, (stop - start) * row_bytes, "contiguous data"
        )
        return np.frombuffer(data, state.dtype).reshape(shape).copy()
    if not isinstance(layout, ChunkedLayoutMessage):  # pragma: no cover - reader/virtual.py
        raise UnsupportedError("virtual datasets are read by reader/virtual.py")
    check_allocation(layout.chunk_nbytes, limit, "one chunk")
    _check_chunk_count(state, layout, start, stop, limit)
    return _read_chunked(src, state, layout, start, stop)


CHUNK_VISIT_BYTES = 64
"""What visiting one chunk of a read counts against ``max_read_bytes``: a file may declare a huge
dataset of one-element chunks, whose lookups alone (not the result) would take hours."""
MIN_CHUNK_VISITS = 1 << 16
"""Chunks any read may visit, however small ``max_read_bytes`` (a second of lookups at most)."""


def _check_chunk_count(
    state: DatasetState, layout: ChunkedLayoutMessage, start: int, stop: int, limit: int
) -> None:
    dims, chunk = state.dims or (1,), layout.chunk_dims
    count = (stop - 1) // chunk[0] - start // chunk[0] + 1
    for d, c in zip(dims[1:], chunk[1:], strict=True):
        count *= -(-d // c)
    allowed = max(MIN_CHUNK_VISITS, limit // CHUNK_VISIT_BYTES)
    if count > allowed:
        raise FormatError(
            f"rows {start}:{stop}: {count} chunks to visit, more than the limit of {allowed}"
            f" (max_read_bytes / {CHUNK_VISIT_BYTES}, at least {MIN_CHUNK_VISITS})"
        )


def _plan(
    state: DatasetState, layout: ChunkedLayoutMessage, start: int, stop: int
) -> tuple[list[_Planned], bool]:
    """The allocated chunks that overlap the rows, in grid order, and whether any is missing."""
    if state.index is None:
        raise FormatError("chunked dataset without a chunk index")  # pragma: no cover
    dims, chunk = state.dims or (1,), layout.chunk_dims
    axes = [range(start // chunk[0], (stop - 1) // chunk[0] + 1)]
    axes += [range(-(-d // c)) for d, c in zip(dims[1:], chunk[1:], strict=True)]
    planned, missing = [], False
    for scaled in itertools.product(*axes):
        record = state.index.lookup(scaled)
        if record is None:
            missing = True
        else:
            planned.append(_Planned(scaled, record))
    return planned, missing


@dataclass(frozen=True, slots=True)
class _Target:
    """Where chunks go: the result (as rank-N rows ``start:``) and the dataset they come from."""

    state: DatasetState
    layout: ChunkedLayoutMessage
    view: np.ndarray
    start: int

    @property
    def whole_rows(self) -> bool:
        """Chunks span whole rows (every other dimension entire): a run of chunks is a run of
        rows, read straight into the result."""
        dims = self.state.dims
        return (
            bool(dims) and self.layout.chunk_dims[1:] == dims[1:] and self.view.flags.c_contiguous
        )

    def place(self, scaled: tuple[int, ...], data: bytes | memoryview) -> None:
        """Copy the part of one chunk that lies inside the dims and the selected rows."""
        chunk = self.layout.chunk_dims
        dims = self.state.dims or (1,) * self.layout.rank
        source = np.frombuffer(data, self.state.dtype, count=math.prod(chunk)).reshape(chunk)
        src_index, dst_index = [], []
        for axis, (s, c, d) in enumerate(zip(scaled, chunk, dims, strict=True)):
            lo, hi = s * c, min(s * c + c, d)
            if axis == 0 and self.state.dims:
                lo, hi = max(lo, self.start), min(hi, self.start + self.view.shape[0])
                dst_index.append(slice(lo - self.start, hi - self.start))
            else:
                dst_index.append(slice(lo, hi))
            src_index.append(slice(lo - s * c, hi - s * c))
        self.view[tuple(dst_index)] = source[tuple(src_index)]


def _read_chunked(
    src: FileSource, state: DatasetState, layout: ChunkedLayoutMessage, start: int, stop: int
) -> np.ndarray:
    planned, missing = _plan(state, layout, start, stop)
    shape = (stop - start, *state.dims[1:]) if state.dims else ()
    out = _fill_array(state, shape) if missing else new_array(shape, state.dtype)
    rows = (stop - start, *state.dims[1:]) if state.dims else (1,) * layout.rank
    target = _Target(state, layout, out.reshape(rows), start)
    if state.pipeline is None:
        for run in _runs(planned, layout.chunk_nbytes, whole_rows=target.whole_rows):
            _read_run(src, target, run)
    else:
        for item in planned:
            target.place(item.scaled, _read_filtered(src, state, item))
    return out


def _runs(planned: list[_Planned], nbytes: int, *, whole_rows: bool) -> list[list[_Planned]]:
    """Consecutive chunks stored back to back: each run is one read. A run of whole-row chunks
    is read straight into the result as consecutive rows, so it also needs consecutive chunk
    rows: two chunks stored back to back with unwritten ones between them are two runs."""
    runs: list[list[_Planned]] = []
    for item in planned:
        last = runs[-1][-1] if runs else None
        if (
            last is not None
            and last.record.address + nbytes == item.record.address
            and (not whole_rows or last.scaled[0] + 1 == item.scaled[0])
        ):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def _read_run(src: FileSource, target: _Target, run: list[_Planned]) -> None:
    nbytes = target.layout.chunk_nbytes
    if target.whole_rows:
        _read_rows_into(src, target, run)
        return
    data = src.read_padded(run[0].record.address, nbytes * len(run), "chunk data")
    for position, item in enumerate(run):
        target.place(item.scaled, memoryview(data)[position * nbytes : (position + 1) * nbytes])


def _read_filtered(src: FileSource, state: DatasetState, item: _Planned) -> bytes:
    """One filtered chunk, decoded within a small multiple of its size whatever the file says
    (FilterError naming the chunk otherwise; the caller adds the dataset's name)."""
    if state.pipeline is None or not isinstance(state.layout, ChunkedLayoutMessage):
        raise FormatError("filtered read of an unfiltered dataset")  # pragma: no cover
    record, expected = item.record, state.layout.chunk_nbytes
    where = f"chunk {item.scaled} at address {record.address}"
    try:
        if record.size > intermediate_limit(expected):
            raise FilterError(f"{record.size} bytes stored for a {expected}-byte chunk")
        stored = src.read(record.address, record.size, "filtered chunk")
        return state.pipeline.decode(stored, state.dtype.itemsize, record.filter_mask, expected)
    except FilterError as exc:
        raise FilterError(f"{where}: {exc}", chunk=item.scaled, address=record.address) from exc


def _read_rows_into(src: FileSource, target: _Target, run: list[_Planned]) -> None:
    """The selected rows of a run of whole-row chunks: one read into the result."""
    rows_per_chunk = target.layout.chunk_dims[0]
    row_bytes = target.layout.chunk_nbytes // rows_per_chunk
    first = run[0].scaled[0] * rows_per_chunk
    lo = max(first, target.start)
    hi = min(first + rows_per_chunk * len(run), target.start + target.view.shape[0])
    out = memoryview(target.view.reshape(-1).view(np.uint8).data)
    begin = (lo - target.start) * row_bytes
    address = run[0].record.address + (lo - first) * row_bytes
    src.read_into(address, out[begin : begin + (hi - lo) * row_bytes], "chunk data")
