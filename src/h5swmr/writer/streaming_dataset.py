"""One streaming dataset: frames in, chunks written, chunk index and dims kept for the commit."""

from __future__ import annotations

import dataclasses

import numpy as np

from h5swmr.access.source import FileSource
from h5swmr.errors import (
    FilterError,
    FormatError,
    FrameDtypeError,
    FrameError,
    H5SwmrError,
    InvalidStateError,
    UnsupportedError,
)
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.chunk_records import ChunkRecord, ElementCodec
from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.messages.datatype import DatatypeMessage
from h5swmr.format.object_header import ObjectHeader, RawMessage
from h5swmr.storage.allocator import EofAllocator
from h5swmr.storage.commit import Write
from h5swmr.writer.chunk_sink import ChunkSink, ChunkSlot
from h5swmr.writer.chunking import ChunkGrid, Strip, as_bytes
from h5swmr.writer.extensible_array_index import ExtensibleArrayIndex, params_for
from h5swmr.writer.fill import fill_element, with_fill_value
from h5swmr.writer.headers import (
    Block,
    DatasetHeaderImage,
    dataset_fixed_messages,
    dataset_header,
    dataset_header_size,
)
from h5swmr.writer.tree import DatasetNode

NUMBER_KINDS = "biufc"
"""numpy kinds of the numbers a streaming dataset holds (bool, ints, floats, complex); a field of
a record (structured dtype) holds one of these too."""
STREAMING_DTYPE_KINDS = NUMBER_KINDS + "S"
"""numpy kinds of a streaming dataset's elements besides records: numbers and bytes ``S<n>``."""
STRIP_NBYTES = 256 * 1024
"""Tiles per strip of an unfiltered frame: large enough that handing a strip to the helper
thread costs little beside writing it, small enough that a megapixel frame makes several."""
SMALL_BAND_NBYTES = 64 * 1024
"""An unfiltered, untiled band of at most this many bytes (a value or a small array per frame:
ids, timestamps) collects its frames in memory and writes them at the next commit, in one write
for every frame since the last: a write per frame would cost a system call for a few bytes,
several per frame when a frame has metadata. Nothing is visible before the commit anyway."""


def _dtype_text(dtype: np.dtype) -> str:
    return str(dtype) if dtype.fields is not None else dtype.str


def _record_difference(got: np.dtype, expected: np.dtype) -> str:
    """What differs between two dtypes when the dataset's is structured: a record's bytes are
    only copied field by field between dtypes of the same names, types and offsets."""
    if expected.fields is None:
        return ""
    if got.fields is None:
        return "; the frame is not a structured array"
    if got.names != expected.names:
        return f"; fields {got.names}, expected {expected.names}"
    for name in expected.names or ():
        (g, g_offset, *_), (e, e_offset, *_) = got.fields[name], expected.fields[name]
        if g.newbyteorder("=") != e.newbyteorder("="):
            return f"; field {name!r} is {_dtype_text(g)}, expected {_dtype_text(e)}"
        if g_offset != e_offset:
            return f"; field {name!r} at offset {g_offset}, expected {e_offset}"
    return f"; itemsize {got.itemsize}, expected {expected.itemsize}"


def padded_records(data: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``data`` as records of ``dtype`` whose padding bytes are zeros: numpy copies records field
    by field and leaves the bytes between fields as they were in a new array (anything)."""
    out = np.zeros(data.shape, dtype)
    out[...] = data
    return out


def coerce_array(
    data: object,
    dtype: np.dtype,
    shape: tuple[int, ...],
    nbytes: int,
    *,
    where: str,
    noun: str,
    describe: str,
    dataset: str,
    expected_shape: str | None = None,
) -> np.ndarray:
    """``data`` as a C-contiguous array of ``dtype`` and ``shape``: a numpy array of that shape
    and dtype in any byte order, or ``nbytes`` of raw bytes in ``dtype``'s order (viewed, not
    copied).
    Anything else is a FrameError or FrameDtypeError naming the ``noun`` and what was expected,
    raised before anything is written."""
    if isinstance(data, np.ndarray):
        if data.dtype.newbyteorder("=") != dtype.newbyteorder("="):
            raise FrameDtypeError(
                f"{where}: {noun} dtype {_dtype_text(data.dtype)}, expected "
                f"{_dtype_text(dtype)} ({describe}{_record_difference(data.dtype, dtype)})",
                dataset=dataset,
            )
        if data.shape != shape:
            raise FrameError(
                f"{where}: {noun} shape {data.shape}, expected {expected_shape or shape} "
                f"({describe})",
                dataset=dataset,
            )
        if dtype.fields is not None and not (data.dtype == dtype and data.flags.c_contiguous):
            return padded_records(data, dtype)
        return np.ascontiguousarray(data, dtype=dtype)
    try:
        view = memoryview(data)  # type: ignore[arg-type]
    except TypeError as exc:
        raise FrameDtypeError(
            f"{where}: a {noun} must be a numpy array or a bytes-like object, "
            f"not {type(data).__name__}",
            dataset=dataset,
        ) from exc
    if not view.c_contiguous:
        raise FrameError(f"{where}: the buffer is not contiguous", dataset=dataset)
    if view.nbytes != nbytes:
        raise FrameError(
            f"{where}: {view.nbytes} bytes, expected {nbytes} ({describe})", dataset=dataset
        )
    raw = np.frombuffer(view.cast("B"), np.uint8)
    return raw.view(dtype).reshape(shape)


def string_frame(
    data: object, dtype: np.dtype, shape: tuple[int, ...], where: str, dataset: str
) -> object:
    """A frame for a dataset of ``S<n>`` strings, before ``coerce_array`` checks it: ``bytes``
    or ``str`` (UTF-8) as the value of a one-string frame, an ``S<m>`` array padded to ``n``
    bytes; a value longer than ``n`` bytes is a FrameError, never cut short. Numbers and text
    arrays are refused here (numpy would turn 5 into b"5"); anything else is returned as given.
    """
    n = dtype.itemsize
    if isinstance(data, str | bytes) and not shape:
        value = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        _check_fits(len(value.rstrip(b"\x00")), n, where, dataset)  # NULs pad it anyway
        return np.array(value, dtype)
    if isinstance(data, np.generic):
        data = np.asarray(data)
    if isinstance(data, np.ndarray) and data.dtype.kind == "S" and data.dtype.itemsize != n:
        if data.dtype.itemsize > n:
            _check_fits(int(np.char.str_len(data).max(initial=0)), n, where, dataset)
        return data.astype(dtype)  # coerce_array checks the shape
    text = isinstance(data, str) or (isinstance(data, np.ndarray) and data.dtype.kind == "U")
    if (
        text
        or isinstance(data, bool | int | float | complex)
        or (isinstance(data, np.ndarray) and data.dtype.kind != "S")
    ):
        kind = data.dtype.str if isinstance(data, np.ndarray) else type(data).__name__
        hint = " (encode text with np.char.encode(frame, 'utf-8'))" if text else ""
        of_shape = f" of shape {shape}" if shape else ""
        raise FrameDtypeError(
            f"{where}: a frame of {kind}, expected S{n} bytes{of_shape}{hint}", dataset=dataset
        )
    return data


def _check_fits(length: int, n: int, where: str, dataset: str) -> None:
    if length > n:
        raise FrameError(
            f"{where}: a value of {length} bytes does not fit S{n}; strings are never cut short",
            dataset=dataset,
        )


class StreamingDataset:
    """Frames ``(n, *frame_dims)`` stored in chunks ``(frames_per_chunk, *tile)``.

    Unfiltered chunks are written where they will stay as soon as their frames arrive (a band of
    several frames is filled in place, beyond the published dims). Filtered chunks are filtered
    on the pool when complete (a frame alone between flushes by the calling thread too, with the
    pool's help: writer/encoder.py); a flush filters a partial band to a fresh address, never
    over a chunk a reader may be reading.
    """

    def __init__(
        self,
        node: DatasetNode,
        dtype: np.dtype,
        grid: ChunkGrid,
        *,
        pipeline: FilterPipeline | None,
        index: ExtensibleArrayIndex,
        fixed_messages: tuple[RawMessage, ...],
        frames: int = 0,
        max_frames: int | None = None,
    ) -> None:
        self.node = node
        self.dtype = dtype
        self.is_records = dtype.fields is not None
        self.raw_dtype = np.dtype((np.void, dtype.itemsize)) if self.is_records else dtype
        """What the chunk buffers hold: records as raw bytes, so that copying a frame into a
        chunk keeps its padding bytes (numpy copies records field by field)."""
        self.grid = grid
        self.pipeline = pipeline
        self.frame_is_chunk = pipeline is None and grid.frames_per_chunk == 1 and grid.n_tiles == 1
        """Unfiltered, one chunk per frame, untiled: chunk index = frame number, each frame
        written whole when it is appended (a commit has nothing of it left to write)."""
        self.index = index
        self.fixed_messages = fixed_messages
        """Header messages that never change; only the dims and the link count are rewritten."""
        self.frames_appended = frames
        self.frames_published = frames
        self.max_frames = max_frames
        """None: frames are appended without limit; else the fixed first dim of a grid."""
        self._header_size = dataset_header_size(
            fixed_messages, grid.frame_dims, max_frames=max_frames
        )
        self._header_image = DatasetHeaderImage(
            fixed_messages, grid.frame_dims, self._header_size, max_frames
        )
        self.header_links = 0
        self.publish_rank = 0
        """Dims are published in rank order within a commit: per-frame metadata (-1) before
        the frames, keys (1) and the finished flag (2) after them."""
        self.keys: list[StreamingDataset] = []
        """Key datasets this dataset fills: element i = i + 1 once frame i is appended."""
        self.attribute_block: Block | None = None
        """The OCHK block of the dataset's attributes, once written."""
        self.header_attribute_block: Block | None = None
        """The block the header on disk points at."""
        self.fill_value: np.ndarray | None = None
        """The fill value set by set_fill_value (None: zeros, the default)."""
        self._data_written = False
        self._band: np.ndarray | None = None
        self._band_addresses: list[int] = []
        self._pending = bytearray()
        """Frames of a small band (SMALL_BAND_NBYTES) not yet written, from _pending_address."""
        self._pending_address = UNDEFINED_ADDRESS
        self._band_frames_filtered = 0
        self._tile_buffer: np.ndarray | None = None
        """Scratch for the tiles of one unfiltered frame: written out before the next frame."""
        self._strips: list[Strip] = []

    @classmethod
    def create(
        cls,
        node: DatasetNode,
        dtype: np.dtype,
        grid: ChunkGrid,
        *,
        pipeline: FilterPipeline | None,
        index_address: int,
        allocator: EofAllocator,
    ) -> StreamingDataset:
        """A new, empty dataset whose chunk index header will live at ``index_address``."""
        codec = ElementCodec.for_chunks(grid.chunk_nbytes, filtered=pipeline is not None)
        index = ExtensibleArrayIndex(
            params_for(codec.element_size), codec, index_address, allocator
        )
        fixed = dataset_fixed_messages(DatatypeMessage.from_numpy(dtype), grid, pipeline, index)
        return cls(node, dtype, grid, pipeline=pipeline, index=index, fixed_messages=fixed)

    @property
    def header_size(self) -> int:
        """Bytes of the dataset's object header, fixed for its life."""
        return self._header_size

    @header_size.setter
    def header_size(self, size: int) -> None:
        self._header_size = size
        self._header_image = DatasetHeaderImage(
            self.fixed_messages, self.grid.frame_dims, size, self.max_frames
        )

    def header(self, frames: int, links: int) -> ObjectHeader:
        return dataset_header(
            self.fixed_messages,
            self.grid.frame_dims,
            frames,
            links,
            self.header_size,
            attributes=self.attribute_block,
            max_frames=self.max_frames,
        )

    def commit_header(self) -> Write | None:
        """The commit step of the dataset's object header: its new bytes if the frame count,
        the link count or the attribute block changed since the last commit (None otherwise, or
        while the header has no address yet). The dataset counts what it has now published."""
        node = self.node
        if node.address == UNDEFINED_ADDRESS:
            return None
        frames, links = self.frames_appended, node.published_link_count
        if (
            frames == self.frames_published
            and links == self.header_links
            and self.attribute_block == self.header_attribute_block
        ):
            return None
        # header(frames, links).encode(), patched from the previous commit's bytes
        write = (node.address, self._header_image.encode(frames, links, self.attribute_block))
        self.frames_published, self.header_links = frames, links
        self.header_attribute_block = self.attribute_block
        return write

    @property
    def name(self) -> str:
        return self.node.path

    @property
    def is_filtered(self) -> bool:
        return self.pipeline is not None

    def describe_frame(self) -> str:
        dims = "x".join(str(d) for d in self.grid.frame_dims)
        if self.dtype.fields is not None:  # its str is "|V<n>"; the full dtype is said already
            return f"{dims} records".strip()
        return f"{dims} {self.dtype.str}"

    def coerce(self, data: object) -> np.ndarray:
        """``data`` as a C-contiguous frame in the dataset's byte order, or a FrameError that
        changes nothing."""
        if (
            type(data) is np.ndarray
            and data.dtype == self.dtype
            and data.shape == self.grid.frame_dims
            and data.flags.c_contiguous
        ):
            return data  # the usual frame, as coerce_array would return it (no copy)
        expected = self.grid.frame_nbytes
        where = f"append_frame({self.name!r})"
        if self.dtype.kind == "S":
            data = string_frame(data, self.dtype, self.grid.frame_dims, where, self.name)
            if isinstance(data, np.ndarray) and data.shape == self.grid.frame_dims == ():
                return data  # 0-d, of the dataset's dtype (ascontiguousarray would make it 1-d)
        if isinstance(data, np.generic):
            data = np.asarray(data)
        elif not self.grid.frame_dims and isinstance(data, bool | int | float | complex):
            value = np.asarray(data)  # a plain number for a dataset of one value per frame
            if not np.can_cast(value.dtype, self.dtype, casting="same_kind"):
                raise FrameDtypeError(
                    f"{where}: {data!r} does not fit {self.dtype.str}", dataset=self.name
                )
            return np.asarray(data, dtype=self.dtype)
        elif not self.grid.frame_dims and self.dtype.names and isinstance(data, tuple):
            try:  # one record, field by field, each value checked as numpy checks it
                record = np.zeros((), self.dtype)
                record[()] = data
                return record
            except (TypeError, ValueError, OverflowError) as exc:
                raise FrameDtypeError(
                    f"{where}: {data!r} is not a record of {self.dtype} ({exc})",
                    dataset=self.name,
                ) from exc
        return coerce_array(
            data,
            self.dtype,
            self.grid.frame_dims,
            expected,
            where=where,
            noun="frame",
            describe=self.describe_frame(),
            dataset=self.name,
        )

    def has_data(self) -> bool:
        """Whether a frame or chunk was ever written (then the fill value is fixed)."""
        return self.frames_appended > 0 or self._data_written

    def set_fill_value(self, value: object) -> None:
        """Store ``value`` (one element of the dataset's dtype) in the fill value message, which
        readers use for chunks not written; pad incomplete bands with it. Only before any data,
        and only if the header keeps its size (it has room: DATASET_HEADER_SPARE)."""
        where = f"set_dataset_fill_value({self.name!r})"
        if self.has_data():
            raise InvalidStateError(
                f"{where}: data was already written to it; set the fill value before the "
                "first append_frame, append_chunk or write_chunk_at"
            )
        fill = fill_element(value, self.dtype, where)
        previous = self.fixed_messages
        self.fixed_messages = with_fill_value(previous, fill.tobytes())
        if self.node.address == UNDEFINED_ADDRESS:  # not placed yet: size it anew
            self.header_size = dataset_header_size(
                self.fixed_messages, self.grid.frame_dims, max_frames=self.max_frames
            )
        else:
            try:  # rewritten in place at the next commit: it must fit
                self.header(self.frames_appended, max(1, self.node.link_count)).encode()
            except H5SwmrError as exc:
                self.fixed_messages = previous
                raise UnsupportedError(
                    f"{where}: no room left in the dataset's header for a fill value"
                ) from exc
            self.header_size = self.header_size  # a new image, with the new messages
            self.header_links = -1  # forces the header's rewrite at the next commit
        self.fill_value = fill

    def append(self, frame: np.ndarray, sink: ChunkSink) -> None:
        """Store one frame that ``coerce`` accepted."""
        if self.is_records:
            frame = frame.view(self.raw_dtype)
        if self.frame_is_chunk:  # the common case, spelled out
            self.index.set_address(self.frames_appended, sink.place(as_bytes(frame)))
            self.frames_appended += 1
            return
        band, position = divmod(self.frames_appended, self.grid.frames_per_chunk)
        if self.pipeline is not None:
            self._append_filtered(frame, band, position, sink)
        else:
            self._append_unfiltered(frame, band, position, sink)
        self.frames_appended += 1

    def _append_unfiltered(
        self, frame: np.ndarray, band: int, position: int, sink: ChunkSink
    ) -> None:
        grid = self.grid
        if grid.frames_per_chunk == 1:
            addresses = sink.allocator.allocate_each(grid.n_tiles, grid.chunk_nbytes)
            adjacent = addresses[-1] - addresses[0] == (grid.n_tiles - 1) * grid.chunk_nbytes
            if grid.tiles_are_contiguous:
                self._write_slabs(frame, addresses, sink, adjacent=adjacent)
            else:
                self._write_tiles(frame, addresses, sink, adjacent=adjacent)
            self._set_band(band, addresses)
            return
        small = grid.n_tiles == 1 and grid.chunk_nbytes <= SMALL_BAND_NBYTES
        if position == 0:
            if small:
                self.write_pending(sink)  # the band before: complete, every frame written
            self._band_addresses = sink.allocator.allocate_each(grid.n_tiles, grid.chunk_nbytes)
            self._set_band(band, self._band_addresses)
        offset = position * grid.slab_nbytes
        if small:
            if not self._pending:
                self._pending_address = self._band_addresses[0] + offset
            self._pending += as_bytes(frame)
            return
        slab_addresses = [address + offset for address in self._band_addresses]
        if grid.tiles_are_contiguous:
            self._write_slabs(frame, slab_addresses, sink, adjacent=False)
        else:
            self._write_tiles(frame, slab_addresses, sink, adjacent=False)

    def write_pending(self, sink: ChunkSink) -> None:
        """Write the frames a small band holds in memory (the commit's first step)."""
        if self._pending:
            sink.write_at(self._pending_address, self._pending)
            self._pending_address += len(self._pending)
            self._pending.clear()

    def _write_slabs(
        self, frame: np.ndarray, addresses: list[int], sink: ChunkSink, *, adjacent: bool
    ) -> None:
        """Write a frame whose tiles are runs of its bytes: at once when they go to ``adjacent``
        addresses, else each to its own."""
        data = as_bytes(frame)
        if adjacent:
            sink.write_at(addresses[0], data)
            return
        size = self.grid.slab_nbytes
        for tile, address in enumerate(addresses):
            sink.write_at(address, data[tile * size : (tile + 1) * size])

    def _set_band(self, band: int, addresses: list[int]) -> None:
        """Point the index at the unfiltered tile chunks of ``band`` (consecutive elements)."""
        self.index.set_addresses(self.grid.chunk_index(band, 0), addresses)

    def _write_tiles(
        self, frame: np.ndarray, addresses: list[int], sink: ChunkSink, *, adjacent: bool
    ) -> None:
        """Tile one unfiltered frame strip by strip, each strip's tiles written to
        ``addresses`` (one per tile; ``adjacent`` ones in one write) while the next strip is
        tiled on the helper thread. The tile buffer is reused frame after frame: ``run``
        returns only when nothing touches it any more."""
        grid = self.grid
        if self._tile_buffer is None:
            self._tile_buffer = np.zeros((grid.n_tiles, 1, *grid.tile), self.raw_dtype)
            # one strip (one numpy call) when nothing overlaps the writes
            self._strips = grid.strips(STRIP_NBYTES if sink.cut_ahead.enabled else 1 << 62)
        tiles, strips = self._tile_buffer, self._strips

        def cut(piece: int) -> None:
            strips[piece].cut(frame, tiles[strips[piece].tiles])

        def write(piece: int) -> None:
            span = strips[piece].tiles
            if adjacent:
                sink.write_at(addresses[span.start], as_bytes(tiles[span]))
                return
            for tile in range(span.start, span.stop):
                sink.write_at(addresses[tile], as_bytes(tiles[tile]))

        sink.cut_ahead.run(len(strips), cut, write)

    def _append_filtered(
        self, frame: np.ndarray, band: int, position: int, sink: ChunkSink
    ) -> None:
        grid = self.grid
        if grid.frames_per_chunk == 1:
            if grid.is_tiled:
                self._submit(grid.split(frame[np.newaxis]), band, sink)
                return
            slot = ChunkSlot(self.index, grid.chunk_index(band, 0))
            assert self.pipeline is not None
            # the caller's frame, lent: filtered before append returns, or copied to be queued
            sink.filter(self.pipeline, frame, self.dtype.itemsize, slot, borrowed=True)
            return
        if self._band is None:
            shape = (grid.frames_per_chunk, *grid.frame_dims)
            if self.fill_value is None:
                self._band = np.zeros(shape, self.raw_dtype)
            else:
                self._band = np.full(shape, self.fill_value.view(self.raw_dtype), self.raw_dtype)
        self._band[position] = frame
        if position + 1 == grid.frames_per_chunk:
            self._submit(grid.split(self._band), band, sink)
            self._band = None
            self._band_frames_filtered = 0

    def _submit(self, tiles: np.ndarray, band: int, sink: ChunkSink) -> None:
        """Filter each tile chunk of ``tiles`` (shape ``(n_tiles, ...)``) on the pool."""
        assert self.pipeline is not None
        for tile in range(self.grid.n_tiles):
            slot = ChunkSlot(self.index, self.grid.chunk_index(band, tile))
            sink.filter(self.pipeline, tiles[tile], self.dtype.itemsize, slot)

    def check_chunk(self, chunk: object, filter_mask: int) -> tuple[memoryview, ChunkRecord]:
        """An already-filtered chunk of ``frames_per_chunk`` whole frames, checked against the
        dataset before anything is written (``store_chunk`` then writes it)."""
        where = f"append_chunk({self.name!r})"
        grid = self.grid
        if grid.is_tiled:
            raise UnsupportedError(
                f"{where}: chunks {grid.chunk} hold tiles of a frame; pre-compressed chunks need "
                f"chunks of whole frames ({grid.frames_per_chunk}, *{grid.frame_dims})"
            )
        position = self.frames_appended % grid.frames_per_chunk
        if position:
            raise InvalidStateError(
                f"{where}: {position} frames of an incomplete chunk came from append_frame; "
                f"append {grid.frames_per_chunk - position} more frames first"
            )
        try:
            view = memoryview(chunk).cast("B")  # type: ignore[arg-type]
        except TypeError as exc:
            raise FrameDtypeError(
                f"{where}: a chunk is bytes-like, not {type(chunk).__name__}", dataset=self.name
            ) from exc
        return view, self._chunk_record(view, filter_mask, where)

    def store_chunk(self, view: memoryview, record: ChunkRecord, sink: ChunkSink) -> None:
        band = self.frames_appended // self.grid.frames_per_chunk
        address = sink.place(view)
        self._data_written = True
        self.index.set(self.grid.chunk_index(band, 0), dataclasses.replace(record, address=address))
        self.frames_appended += self.grid.frames_per_chunk

    def _chunk_record(self, view: memoryview, filter_mask: int, where: str) -> ChunkRecord:
        """Check a pre-filtered chunk against the dataset before anything is written."""
        expected = self.grid.chunk_nbytes
        if self.pipeline is None:
            if filter_mask:
                raise FilterError(f"{where}: filter_mask {filter_mask:#x} on an unfiltered dataset")
            if view.nbytes != expected:
                raise FrameError(
                    f"{where}: {view.nbytes} bytes, expected {expected} (chunk {self.grid.chunk} "
                    f"{self.dtype.str}, unfiltered)",
                    dataset=self.name,
                )
            return ChunkRecord()
        n_filters = len(self.pipeline.filters)
        if not isinstance(filter_mask, int) or not 0 <= filter_mask < 1 << n_filters:
            raise FilterError(
                f"{where}: filter_mask {filter_mask!r}; the pipeline has {n_filters} filters "
                f"(mask bits 0..{n_filters - 1})"
            )
        if not view.nbytes:
            raise FrameError(f"{where}: an empty chunk", dataset=self.name)
        last_skipped = filter_mask >> (n_filters - 1) & 1
        declared = None if last_skipped else self.pipeline.declared_size(view)
        if declared is not None and declared != expected:
            raise FrameError(
                f"{where}: the chunk's header declares {declared} bytes uncompressed, expected "
                f"{expected} (chunk {self.grid.chunk} {self.dtype.str})",
                dataset=self.name,
            )
        return ChunkRecord(size=view.nbytes, filter_mask=filter_mask)

    def filter_partial_band(self, sink: ChunkSink) -> None:
        """Make frames of an incomplete filtered band readable: filter the band, zero-padded,
        to fresh chunks (the complete band will later go to fresh chunks again)."""
        band, position = divmod(self.frames_appended, self.grid.frames_per_chunk)
        if self._band is None or position in (0, self._band_frames_filtered):
            return
        self._submit(self.grid.split(self._band.copy()), band, sink)
        self._band_frames_filtered = position

    def resume_band(self, src: FileSource) -> None:
        """Pick up an incomplete band of a reopened dataset, so appends continue inside it: the
        addresses of unfiltered chunks, or the frames of filtered ones (decoded)."""
        grid = self.grid
        band, position = divmod(self.frames_appended, grid.frames_per_chunk)
        if position == 0:
            return
        records = [self.index.get(grid.chunk_index(band, t)) for t in range(grid.n_tiles)]
        if any(not r.is_allocated for r in records):
            raise FormatError(
                f"{self.name!r}: {self.frames_appended} frames but the chunks of its last "
                "band are not in its index",
                structure="chunk index",
            )
        if self.pipeline is None:
            self._band_addresses = [r.address for r in records]
            return
        itemsize = self.dtype.itemsize
        tiles = np.empty((grid.n_tiles, grid.frames_per_chunk, *grid.tile), self.raw_dtype)
        for tile, record in enumerate(records):
            raw = src.read(record.address, record.size, "chunk")
            decoded = self.pipeline.decode(
                raw, itemsize, record.filter_mask, expected=grid.chunk_nbytes
            )
            if len(decoded) != grid.chunk_nbytes:
                raise FormatError(
                    f"{self.name!r}: chunk at {record.address} decodes to {len(decoded)} bytes, "
                    f"expected {grid.chunk_nbytes}",
                    structure="chunk",
                    address=record.address,
                )
            tiles[tile] = np.frombuffer(decoded, self.raw_dtype).reshape(tiles.shape[1:])
        self._band = grid.merge(tiles)
        self._band_frames_filtered = position

    def replace_first_frame(self, frame: np.ndarray, sink: ChunkSink) -> None:
        """Give frame 0 new content in a fresh chunk, then point the index at it: a reader sees
        the old frame or the new one, never a mix (for the finished flag)."""
        if self.is_filtered or self.grid.frames_per_chunk != 1 or self.grid.is_tiled:
            raise UnsupportedError(f"{self.name!r}: only single-frame unfiltered chunks")
        address = sink.place(as_bytes(frame))
        self.index.set(0, ChunkRecord(address))

    def first_open_chunk(self) -> int:
        """Chunks below this index will never be set again."""
        if self.frame_is_chunk:  # every commit asks
            return self.frames_appended
        band = self.frames_appended // self.grid.frames_per_chunk
        return self.grid.chunk_index(band, 0)
