"""Virtual datasets (layout class 3), read as libhdf5 reads them (H5Dvirtual.c).

Each mapping puts the elements of its source selection, in row-major order, at the elements of
its virtual selection; an element no mapping reaches, or whose source file or dataset is
missing, reads as the virtual dataset's fill value. Where a source selection reaches past a
chunked source's extent (the newest part of a printf series, still being written), those
elements read as the source's fill value, as libhdf5's chunk reader gives them.

A read of rows ``start:stop`` takes, per mapping, the run of virtual selection rows inside them:
a run of element ranks, which is a run of rows of the source selection too (both are products,
reader/hyperslabs.py). Only those source rows are read, through the source file's own reader.
"""

from __future__ import annotations

import math

import numpy as np

from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.messages.virtual_layout import VirtualLayoutMessage, VirtualMappingList
from h5swmr.format.selection import HyperslabSelection
from h5swmr.reader.dataset import DatasetState
from h5swmr.reader.global_heap import read_collection
from h5swmr.reader.hyperslabs import Axis, axes_of, shape_of
from h5swmr.reader.rows import check_allocation, new_array
from h5swmr.reader.virtual_plan import Piece, SourceDataset, SourceOpener, about, plan

_SAFE_KINDS = frozenset("iuf")


def read_mappings(src: FileSource, layout: VirtualLayoutMessage) -> VirtualMappingList:
    """The mapping list a virtual layout points at (no mappings when its address is undefined)."""
    if layout.heap_address == UNDEFINED_ADDRESS:
        return VirtualMappingList(())
    collection = read_collection(src, layout.heap_address)
    return VirtualMappingList.decode(collection.object(layout.heap_index).data)


class VirtualView:
    """One snapshot of a virtual dataset: its pieces, its extent, and reads of its rows."""

    def __init__(
        self,
        name: str,
        state: DatasetState,
        mappings: VirtualMappingList,
        open_source: SourceOpener,
        limit: int,
    ) -> None:
        if not state.dims:
            raise UnsupportedError(f"virtual dataset {name!r}: a scalar virtual dataset")
        self.name = name
        self._state = state
        self._open_source = open_source
        self._limit = limit
        with about(f"virtual dataset {name!r}"):
            self._pieces, self.dims = plan(mappings.mappings, state.dims, open_source)
        self._virtual_axes: dict[int, tuple[Axis, ...]] = {}

    def backed_rows(self) -> int | None:
        """How many rows from the first hold source data throughout, when every piece maps one
        block of whole rows onto a block of as many source rows (a printf master's parts):
        the newest part's unwritten rows, which read as fill, are not among them. None when
        the mappings are not that simple."""
        end = 0
        for piece in self._pieces:
            v, s, dataset = piece.virtual, piece.source, piece.dataset
            if not isinstance(v, HyperslabSelection) or not isinstance(s, HyperslabSelection):
                return None
            whole_rows = v.start[1:] == (0,) * (len(self.dims) - 1) and v.block[1:] == self.dims[1:]
            if set(v.count) | set(s.count) != {1} or not whole_rows or v.block[0] != s.block[0]:
                return None
            if v.start[0] != end:
                break
            have = 0 if dataset is None else dataset.state.dims[0] - s.start[0]
            end += min(max(have, 0), s.block[0])
            if have < s.block[0]:
                break
        return end

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` (within the extent) as the virtual dataset's dtype."""
        shape = (stop - start, *self.dims[1:])
        dtype = self._state.dtype
        check_allocation(
            math.prod(shape) * dtype.itemsize, self._limit, f"{self.name!r} rows {start}:{stop}"
        )
        if stop <= start:
            return new_array(shape, dtype)
        found = []
        for number, piece in enumerate(self._pieces):
            with about(f"virtual dataset {self.name!r}, {piece.where}"):
                axes = self._axes(number, piece)
                first, last = axes[0].count_below(start), axes[0].count_below(stop)
                if first < last and 0 not in shape_of(axes[1:]):
                    found.append((piece, axes, first, last))
        if len(found) == 1 and _covers(*found[0][1:], rows=range(start, stop), dims=self.dims):
            piece, axes, first, last = found[0]  # one source has every row: no fill, no copy
            with about(f"virtual dataset {self.name!r}, {piece.where}"):
                values = self._values(piece, axes, first, last)
            if values is not None:
                return np.ascontiguousarray(values.reshape(shape))
        out = np.full(shape, self._state.fill_value, dtype)
        for piece, axes, first, last in found:
            with about(f"virtual dataset {self.name!r}, {piece.where}"):
                values = self._values(piece, axes, first, last)
            if values is not None:
                rows = axes[0].positions(first, last) - start
                out[_index((rows, *(a.positions(0, a.size) for a in axes[1:])))] = values
        return out

    def _values(
        self, piece: Piece, v_axes: tuple[Axis, ...], first: int, last: int
    ) -> np.ndarray | None:
        """The values ``piece`` puts at virtual selection rows ``first:last``, shaped as those
        rows, in the virtual dataset's dtype; None when its source is missing (fill)."""
        source = piece.open(self._open_source)
        if source is None:
            return None
        if not source.state.dims:
            raise UnsupportedError("a scalar source dataset")
        s_axes = axes_of(piece.source, source.state.dims, slices=piece.source_slices)
        wanted, offered = math.prod(shape_of(v_axes)), math.prod(shape_of(s_axes))
        if wanted != offered:
            raise FormatError(f"{offered} source elements for {wanted} virtual ones")
        frame = shape_of(v_axes[1:])
        inner = math.prod(frame)
        values = _gather(source, s_axes, first * inner, last * inner, self._limit)
        return _converted(values, self._state.dtype).reshape(last - first, *frame)

    def _axes(self, number: int, piece: Piece) -> tuple[Axis, ...]:
        axes = self._virtual_axes.get(number)
        if axes is None:
            axes = axes_of(piece.virtual, self.dims, slices=piece.virtual_slices)
            for dim, (axis, extent) in enumerate(zip(axes, self.dims, strict=True)):
                if dim and axis.end > extent:
                    raise FormatError(f"dimension {dim}: selection to {axis.end}, extent {extent}")
            self._virtual_axes[number] = axes
        return axes


def _covers(
    axes: tuple[Axis, ...], first: int, last: int, *, rows: range, dims: tuple[int, ...]
) -> bool:
    """Whether selection rows ``first:last`` are every element of the dataset's ``rows``."""
    whole_frames = all(axis.size == extent for axis, extent in zip(axes[1:], dims[1:], strict=True))
    ends = axes[0].positions(first, first + 1), axes[0].positions(last - 1, last)
    return (
        whole_frames
        and last - first == len(rows)
        and (int(ends[0][0]), int(ends[1][0])) == (rows[0], rows[-1])
    )


def _gather(
    source: SourceDataset, axes: tuple[Axis, ...], first: int, last: int, limit: int
) -> np.ndarray:
    """Elements ``first:last`` (ranks in row-major order) of the source selection, flat."""
    frame = shape_of(axes[1:])
    inner = math.prod(frame)
    lo, hi = first // inner, -(-last // inner)
    itemsize = source.state.dtype.itemsize
    check_allocation((hi - lo) * inner * itemsize, limit, f"source rows {lo}:{hi}")
    positions = (axes[0].positions(lo, hi), *(a.positions(0, a.size) for a in axes[1:]))
    box = _read_box(source, positions)
    flat: np.ndarray = box.reshape(-1)[first - lo * inner : last - lo * inner]
    return flat


def _read_box(source: SourceDataset, positions: tuple[np.ndarray, ...]) -> np.ndarray:
    """The source elements at the product of ``positions`` (each ascending); those past the
    source's extent read as its fill value."""
    state = source.state
    if len(positions) != len(state.dims):
        raise FormatError(f"a source selection of rank {len(positions)} for rank {len(state.dims)}")
    shape = tuple(len(p) for p in positions)
    inside = tuple(int(np.searchsorted(p, d)) for p, d in zip(positions, state.dims, strict=True))
    if inside != shape and not source.pads:
        raise UnsupportedError(
            f"a source selection past the extent {state.dims} of a source that is not chunked"
        )
    if 0 in inside:
        return np.full(shape, state.fill_value, state.dtype)
    others = tuple(p[:k] for p, k in zip(positions[1:], inside[1:], strict=True))
    runs = _row_runs(positions[0][: inside[0]])
    if inside == shape and len(runs) == 1:  # the rows read are the box: no copy
        run = runs[0][1]
        rows = source.read_rows(int(run[0]), int(run[-1]) + 1)
        box: np.ndarray = rows[_index((run - run[0], *others))]
        return box
    out = new_array(shape, state.dtype)
    if inside != shape:
        out[...] = state.fill_value
    dest = out[tuple(slice(0, k) for k in inside)]
    for offset, run in runs:
        rows = source.read_rows(int(run[0]), int(run[-1]) + 1)
        dest[offset : offset + len(run)] = rows[_index((run - run[0], *others))]
    return out


def _row_runs(rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(offset, rows) groups to read one ``read_rows`` each: all at once when the rows are
    dense enough (at most as many rows skipped as used), else each run of consecutive rows."""
    if int(rows[-1] - rows[0]) + 1 <= 2 * len(rows):
        return [(0, rows)]
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    runs = np.split(rows, breaks)
    offsets = np.concatenate(([0], np.cumsum([len(r) for r in runs])[:-1]))
    return [(int(o), r) for o, r in zip(offsets, runs, strict=True)]


def _index(positions: tuple[np.ndarray, ...]) -> tuple[slice, ...] | tuple[np.ndarray, ...]:
    """Basic slices when every dimension's positions are consecutive (a plain copy), else an
    open mesh for numpy's advanced indexing."""
    if all(len(p) == 0 or int(p[-1] - p[0]) + 1 == len(p) for p in positions):
        return tuple(slice(int(p[0]), int(p[-1]) + 1) if len(p) else slice(0) for p in positions)
    mesh: tuple[np.ndarray, ...] = np.ix_(*positions)
    return mesh


def _converted(values: np.ndarray, dtype: np.dtype[np.generic]) -> np.ndarray:
    """Source values as the virtual dataset's type: numeric types that widen without loss (as
    libhdf5 converts them); any other pair is refused rather than guessed."""
    if values.dtype == dtype:
        return values
    if (
        values.dtype.kind in _SAFE_KINDS
        and dtype.kind in _SAFE_KINDS
        and np.can_cast(values.dtype, dtype, "safe")
    ):
        return values.astype(dtype)
    raise UnsupportedError(f"source type {values.dtype} read as {dtype}")
