"""Reading one frame at a time, fast, from a dataset whose unfiltered chunks hold whole frames.

The general path (rows.read_rows) plans chunks, looks each up through the index and copies
views; for one small frame that costs more than reading it. Here, per snapshot, chunk addresses
are kept in a table filled a whole index block or page at a time (decoded with numpy), and a
frame is one ``preadv`` into a fresh array. The table holds only chunks an index block or page
names, so its size is bounded by what was read from the file, whatever the dims claim.
"""

from __future__ import annotations

import math

import numpy as np

from h5swmr.access.chunk_index import row_addresses
from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError
from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.messages.layout import ChunkedLayoutMessage
from h5swmr.reader.dataset import DatasetState
from h5swmr.reader.rows import check_allocation, new_array


def frames_are_chunk_rows(state: DatasetState) -> bool:
    """Whether frames can be read straight from chunks: chunked, unfiltered, each chunk spanning
    whole frames (frames per chunk >= 1, the other dimensions entire). Rank 1 is left to the
    general path, whose frames are numpy scalars as h5py's are."""
    layout = state.layout
    return (
        isinstance(layout, ChunkedLayoutMessage)
        and state.pipeline is None
        and state.index is not None
        and len(state.dims) >= 2
        and layout.chunk_dims[1:] == state.dims[1:]
        and math.prod(state.dims[1:]) > 0
    )


class FrameReader:
    """Frames of one dataset snapshot, each read with one positional read."""

    __slots__ = (
        "_fill",
        "_frame_bytes",
        "_limit",
        "_per_chunk",
        "_rank",
        "_src",
        "_state",
        "_table",
        "dtype",
        "frame_shape",
        "n_frames",
    )

    def __init__(self, src: FileSource, state: DatasetState, limit: int) -> None:
        layout = state.layout
        if not isinstance(layout, ChunkedLayoutMessage):  # pragma: no cover
            raise TypeError("FrameReader needs a chunked dataset")
        self._src = src
        self._state = state
        self._rank = len(state.dims)
        self._per_chunk = layout.chunk_dims[0]
        self.n_frames = state.dims[0]
        self.frame_shape = state.dims[1:]
        self.dtype = state.dtype
        self._frame_bytes = math.prod(self.frame_shape) * state.dtype.itemsize
        check_allocation(self._frame_bytes, limit, "one frame")
        self._limit = limit
        self._table: dict[int, int] = {}
        self._fill: np.ndarray | None = None

    def read(self, position: int) -> np.ndarray:
        """Frame ``position`` (0 <= position < n_frames)."""
        row, within = divmod(position, self._per_chunk)
        address = self._table.get(row)
        if address is None:
            address = self._look_up(row)
        if address == UNDEFINED_ADDRESS:
            return self._fill_frame()
        out = new_array(self.frame_shape, self.dtype)
        self._src.read_into(address + within * self._frame_bytes, out.data.cast("B"), "chunk data")
        return out

    def read_rows(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start:stop`` (0 <= start <= stop <= n_frames): chunks stored back to back
        are read with one ``preadv`` straight into the result."""
        check_allocation((stop - start) * self._frame_bytes, self._limit, f"rows {start}:{stop}")
        out = new_array((stop - start, *self.frame_shape), self.dtype)
        flat = out.reshape(-1).view(np.uint8).data
        per_chunk, frame_bytes = self._per_chunk, self._frame_bytes
        run_address = run_start = -1  # the pending run: file address and first row
        row = start
        while row < stop:
            chunk, within = divmod(row, per_chunk)
            address = self._table.get(chunk)
            if address is None:
                address = self._look_up(chunk)
            rows = min(per_chunk - within, stop - row)
            here = address + within * frame_bytes
            if run_start >= 0 and (
                address == UNDEFINED_ADDRESS
                or here != run_address + (row - run_start) * frame_bytes
            ):
                self._read_run(flat, run_address, run_start - start, row - run_start)
                run_start = -1
            if address == UNDEFINED_ADDRESS:
                out[row - start : row - start + rows] = self._fill_frame()
            elif run_start < 0:
                run_address, run_start = here, row
            row += rows
        if run_start >= 0:
            self._read_run(flat, run_address, run_start - start, stop - run_start)
        return out

    def _read_run(self, flat: memoryview, address: int, first: int, rows: int) -> None:
        size = self._frame_bytes
        self._src.read_into(address, flat[first * size : (first + rows) * size], "chunk data")

    def _look_up(self, row: int) -> int:
        if self._state.index is None:  # pragma: no cover
            raise TypeError("FrameReader needs a chunk index")
        first, addresses = row_addresses(self._state.index, row, self._rank)
        self._table.update(
            zip(range(first, first + len(addresses)), addresses.tolist(), strict=True)
        )
        address = self._table.get(row)
        if address is None:  # pragma: no cover - every run holds the row asked for
            raise FormatError(f"chunk index: no entry for chunk row {row}")
        return address

    def _fill_frame(self) -> np.ndarray:
        if self._fill is None:
            value = np.frombuffer(self._state.fill, self.dtype, count=1)[0]
            self._fill = np.full(self.frame_shape, value, self.dtype)
        return self._fill.copy()
