"""Reading a selection (reader/selection.py) of one dataset: only the chunks it touches.

Along each axis the selected positions are split by chunk: a slice into runs (a stepped slice
skips the chunks between its positions), an index list into groups. Every combination of one
run per axis is one chunk, read (and decoded) once and copied into the result; a chunk the index
does not know reads as the fill value. Contiguous, compact and virtual datasets read the rows
the selection spans along the first axis and take the selection from them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from h5swmr.access.source import FileSource
from h5swmr.errors import FilterError, FormatError
from h5swmr.filters.pipeline import intermediate_limit
from h5swmr.format.chunk_records import ChunkRecord
from h5swmr.format.messages.layout import ChunkedLayoutMessage
from h5swmr.reader.dataset import DatasetState
from h5swmr.reader.rows import check_allocation, new_array
from h5swmr.reader.selection import PointsAxis, SliceAxis

Axis = SliceAxis | PointsAxis
CHUNK_VISIT_BYTES = 64
"""What visiting one chunk counts against ``max_read_bytes``: a file may declare a huge dataset
of one-element chunks, whose lookups alone (not the result) would take hours."""
RowReader = Callable[[int, int], np.ndarray]
"""Rows ``start:stop`` of the dataset (SwmrFileReader._rows), for non-chunked layouts."""


@dataclass(frozen=True, slots=True)
class Span:
    """The part of one axis's selection inside chunk ``k``: where it is in the chunk and where
    it goes in the result."""

    k: int
    inside: slice | np.ndarray
    out: slice


def spans(axis: Axis, chunk: int) -> Iterator[Span]:
    """The chunks along one axis that hold a selected position, in order."""
    if isinstance(axis, PointsAxis):
        positions = axis.positions()
        if not len(positions):
            return
        ks = positions // chunk
        cuts = [0, *(np.flatnonzero(np.diff(ks)) + 1).tolist(), len(positions)]
        for lo, hi in itertools.pairwise(cuts):
            k = int(ks[lo])
            yield Span(k, positions[lo:hi] - k * chunk, slice(lo, hi))
        return
    start, step, count = axis.start, axis.step, axis.count
    if not count:
        return
    k = start // chunk
    last = axis.last // chunk
    while k <= last:
        begin, end = k * chunk, (k + 1) * chunk
        i_lo = max(0, -(-(begin - start) // step))
        i_hi = min(count, -(-(end - start) // step))
        if i_lo < i_hi:
            first = start + i_lo * step - begin
            stop = start + (i_hi - 1) * step - begin + 1
            yield Span(k, slice(first, stop, step), slice(i_lo, i_hi))
            if i_hi >= count:
                return
            k = max(k + 1, (start + i_hi * step) // chunk)
        else:
            k += 1


def lookup(state: DatasetState, scaled: tuple[int, ...]) -> ChunkRecord | None:
    """The stored chunk at ``scaled``, None where none is (it reads as the fill value)."""
    if state.index is None:
        raise FormatError("chunked dataset without a chunk index")  # pragma: no cover
    record = state.index.lookup(scaled)
    return record if record is not None and record.is_allocated else None


def read_chunk(
    src: FileSource,
    state: DatasetState,
    layout: ChunkedLayoutMessage,
    record: ChunkRecord | None,
    window: tuple[int, int] | None = None,
) -> np.ndarray | None:
    """One chunk as an array of the chunk's shape; None for no chunk. For an unfiltered chunk,
    ``window`` (first and one past the last element, row-major) limits the bytes read to those
    elements; the rest of the array is left unset. Touches no index: safe on pool threads."""
    if record is None:
        return None
    nbytes = layout.chunk_nbytes
    if state.pipeline is None:
        count = math.prod(layout.chunk_dims)
        first, stop = window if window is not None else (0, count)
        out = new_array(count, state.dtype)
        itemsize = state.dtype.itemsize
        target = memoryview(out.view(np.uint8).data)[first * itemsize : stop * itemsize]
        src.read_into(record.address + first * itemsize, target, "chunk data")
        return out.reshape(layout.chunk_dims)
    if record.size > intermediate_limit(nbytes):
        raise FilterError(
            f"chunk at address {record.address}: {record.size} bytes stored for a "
            f"{nbytes}-byte chunk",
            address=record.address,
        )
    stored = src.read(record.address, record.size, "filtered chunk")
    data = state.pipeline.decode(stored, state.dtype.itemsize, record.filter_mask, nbytes)
    if len(data) != nbytes:
        raise FormatError(
            f"chunk at address {record.address} decodes to {len(data)} bytes, expected {nbytes}",
            address=record.address,
        )
    return np.frombuffer(data, state.dtype, count=math.prod(layout.chunk_dims)).reshape(
        layout.chunk_dims
    )


def _window(combo: tuple[Span, ...], chunk: tuple[int, ...]) -> tuple[int, int]:
    """First and one past the last element (row-major in the chunk) that ``combo`` selects."""
    first = last = 0
    for span, stride in zip(combo, _strides(chunk), strict=True):
        inside = span.inside
        if isinstance(inside, slice):
            lo = inside.start
            hi = lo + (len(range(lo, inside.stop, inside.step)) - 1) * inside.step
        else:
            lo, hi = int(inside[0]), int(inside[-1])
        first += lo * stride
        last += hi * stride
    return first, last + 1


def _strides(chunk: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(math.prod(chunk[i + 1 :]) for i in range(len(chunk)))


def _fill(state: DatasetState) -> np.generic:
    value: np.generic = np.frombuffer(state.fill, state.dtype, count=1)[0]
    return value


def read_region(
    src: FileSource,
    state: DatasetState,
    axes: tuple[Axis, ...],
    limit: int,
    rows: RowReader,
    *,
    pool: Executor | None = None,
) -> np.ndarray:
    """The selected elements, shaped one axis per dimension (integer axes kept, of length 1).
    Filtered chunks are decoded on ``pool`` when one is given and several are needed."""
    shape = tuple(axis.count for axis in axes)
    itemsize = state.dtype.itemsize
    check_allocation(math.prod(shape) * itemsize, limit, f"selection of shape {shape}")
    if 0 in shape:
        return new_array(shape, state.dtype)
    layout = state.layout
    if not isinstance(layout, ChunkedLayoutMessage) or not state.dims:
        return _from_rows(state, axes, rows)
    out = new_array(shape, state.dtype)
    per_axis = [list(spans(axis, c)) for axis, c in zip(axes, layout.chunk_dims, strict=True)]
    visits = math.prod(len(found) for found in per_axis)
    if visits * CHUNK_VISIT_BYTES > limit:
        raise FormatError(
            f"selection of shape {shape}: {visits} chunks to visit, more than the limit of "
            f"{limit // CHUNK_VISIT_BYTES} (max_read_bytes / {CHUNK_VISIT_BYTES})"
        )
    combos = list(itertools.product(*per_axis))
    # index lookups here, in order (the index loads its blocks lazily); reads and decodes after
    records = [lookup(state, tuple(span.k for span in combo)) for combo in combos]

    def load(combo: tuple[Span, ...], record: ChunkRecord | None) -> np.ndarray | None:
        window = None if state.pipeline is not None else _window(combo, layout.chunk_dims)
        return read_chunk(src, state, layout, record, window)

    if pool is not None and state.pipeline is not None and len(combos) > 1:
        chunks: Iterator[np.ndarray | None] = pool.map(load, combos, records)  # no GIL held
    else:
        chunks = map(load, combos, records)
    fill = None
    for combo, chunk in zip(combos, chunks, strict=True):
        target = tuple(span.out for span in combo)
        if chunk is None:
            fill = _fill(state) if fill is None else fill
            out[target] = fill
        else:
            out[target] = chunk[tuple(span.inside for span in combo)]
    return out


def _from_rows(state: DatasetState, axes: tuple[Axis, ...], rows: RowReader) -> np.ndarray:
    """The selection taken from the rows it spans (non-chunked layouts, scalar datasets)."""
    if not axes:
        return rows(0, 1)
    first = axes[0]
    positions = first.positions()
    lo, hi = int(positions[0]), int(positions[-1]) + 1
    block = rows(lo, hi)
    index: list[slice | np.ndarray] = []
    for dim, axis in enumerate(axes):
        if isinstance(axis, PointsAxis):
            index.append(axis.positions() - (lo if dim == 0 else 0))
        else:
            start = axis.start - (lo if dim == 0 else 0)
            index.append(slice(start, start + (axis.count - 1) * axis.step + 1, axis.step))
    result: np.ndarray = block[tuple(index)]
    return result


def chunk_boxes(
    dims: tuple[int, ...], chunks: tuple[int, ...], axes: tuple[SliceAxis, ...]
) -> Iterator[tuple[slice, ...]]:
    """Per chunk that a box selection meets, the part of the box inside it (h5py's
    ``iter_chunks``: slices of step 1 clipped to the dims)."""
    per_axis = []
    for axis, c, d in zip(axes, chunks, dims, strict=True):
        if not axis.count:
            return
        lo, hi = axis.start, axis.last + 1
        per_axis.append(
            [
                slice(max(lo, k * c), min(hi, (k + 1) * c, d), 1)
                for k in range(lo // c, (hi - 1) // c + 1)
            ]
        )
    yield from itertools.product(*per_axis)
