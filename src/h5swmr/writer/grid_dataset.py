"""A grid dataset: a fixed shape filled chunk by chunk, in any order (a scan's extra dimensions).

It shares a streaming dataset's header and commit machinery, but its dims never change and its
chunk index is a fixed array with one element per chunk of the grid, so a commit only rewrites
the index: chunk bytes first, always at fresh addresses (a reader may be reading the chunk a
rewrite replaces), then the pages or block that point at them, then the fixed array header.
"""

from __future__ import annotations

import math

import numpy as np

from h5swmr.errors import (
    InvalidArgumentError,
)
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.chunk_records import ChunkRecord, ElementCodec
from h5swmr.format.messages.datatype import DatatypeMessage
from h5swmr.writer.chunk_sink import ChunkSink, ChunkSlot
from h5swmr.writer.chunking import ChunkGrid, as_bytes
from h5swmr.writer.fixed_array_index import FixedArrayIndex
from h5swmr.writer.headers import grid_fixed_messages
from h5swmr.writer.streaming_dataset import StreamingDataset, coerce_array
from h5swmr.writer.tree import DatasetNode


class GridDataset(StreamingDataset):
    """Dims ``dims`` (the first one is the "frames" axis of the shared header code), chunks
    ``chunk`` of the same rank, a chunk stored whole at scaled coordinates."""

    index: FixedArrayIndex  # type: ignore[assignment]  # the base class's commit calls agree

    def __init__(
        self,
        node: DatasetNode,
        dtype: np.dtype,
        dims: tuple[int, ...],
        chunk: tuple[int, ...],
        *,
        pipeline: FilterPipeline | None,
        index: FixedArrayIndex,
    ) -> None:
        grid = ChunkGrid(dims[1:], chunk, dtype.itemsize)
        fixed = grid_fixed_messages(
            DatatypeMessage.from_numpy(dtype), chunk, dtype.itemsize, pipeline, index
        )
        super().__init__(
            node,
            dtype,
            grid,
            pipeline=pipeline,
            index=index,  # type: ignore[arg-type]
            fixed_messages=fixed,
            frames=dims[0],
            max_frames=dims[0],
        )
        self.dims = dims
        self.chunk = chunk
        self.chunks_per_dim = tuple(-(-d // c) for d, c in zip(dims, chunk, strict=True))
        self.frames_published = 0

    @property
    def n_chunks(self) -> int:
        return math.prod(self.chunks_per_dim)

    def describe_chunk(self) -> str:
        shape = "x".join(str(c) for c in self.chunk)
        return f"chunk {shape} {self.dtype.str} of grid {'x'.join(str(d) for d in self.dims)}"

    # -- the streaming calls do not apply --------------------------------------------------------

    def coerce(self, data: object) -> np.ndarray:
        raise InvalidArgumentError(
            f"append_frame({self.name!r}): a grid dataset has a fixed shape {self.dims}; "
            "write its chunks with write_chunk_at(ds, coords, data)"
        )

    def check_chunk(self, chunk: object, filter_mask: int) -> tuple[memoryview, ChunkRecord]:
        raise InvalidArgumentError(
            f"append_chunk({self.name!r}): a grid dataset has a fixed shape {self.dims}; "
            "write its chunks with write_chunk_at(ds, coords, data)"
        )

    def first_open_chunk(self) -> int:
        return 0

    def has_data(self) -> bool:
        return self._data_written  # frames_appended is the fixed first dim

    # -- chunks at coordinates -------------------------------------------------------------------

    def chunk_number(self, coords: object) -> int:
        """The linear index (fixed array element) of chunk ``coords``, in chunk units, checked."""
        where = f"write_chunk_at({self.name!r})"
        try:
            values = tuple(int(c) for c in coords)  # type: ignore[attr-defined]
            bad_type = any(isinstance(c, bool | float) for c in coords)  # type: ignore[attr-defined]
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"{where}: coords must be a sequence of {len(self.dims)} integers, not {coords!r}"
            ) from exc
        if bad_type or len(values) != len(self.dims):
            raise InvalidArgumentError(
                f"{where}: coords {coords!r} must be {len(self.dims)} integers (chunk units)"
            )
        if any(not 0 <= v < n for v, n in zip(values, self.chunks_per_dim, strict=True)):
            raise InvalidArgumentError(
                f"{where}: coords {values} out of range; the grid has {self.chunks_per_dim} "
                f"chunks of {self.chunk} (coords are in chunk units)"
            )
        number = 0
        for value, count in zip(values, self.chunks_per_dim, strict=True):
            number = number * count + value
        return number

    def coerce_chunk(self, data: object) -> np.ndarray:
        """``data`` as one C-contiguous chunk in the dataset's byte order, or an error that
        changes nothing."""
        return coerce_array(
            data,
            self.dtype,
            self.chunk,
            self.grid.chunk_nbytes,
            where=f"write_chunk_at({self.name!r})",
            noun="chunk",
            describe=f"{self.describe_chunk()}; pad edge chunks",
            dataset=self.name,
            expected_shape=f"the full chunk {self.chunk}",
        )

    def write_chunk(self, number: int, chunk: np.ndarray, sink: ChunkSink) -> None:
        """Store a checked chunk at fresh space and point element ``number`` at it (at the next
        commit readers see it); a filtered one is filtered on the pool first."""
        self._data_written = True
        if self.pipeline is None:
            self.index.set(number, ChunkRecord(sink.place(as_bytes(chunk))))
            return
        # lent: filtered before this call returns, or copied to be queued (the caller may
        # reuse its array)
        slot = ChunkSlot(self.index, number)
        sink.filter(self.pipeline, chunk, self.dtype.itemsize, slot, borrowed=True)


def grid_codec(dtype: np.dtype, chunk: tuple[int, ...], *, filtered: bool) -> ElementCodec:
    return ElementCodec.for_chunks(math.prod(chunk) * dtype.itemsize, filtered=filtered)
