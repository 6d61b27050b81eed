"""``Dataset``: h5py's read side of a dataset, over SwmrFileReader's snapshots.

Everything a ``Dataset`` reports (``shape``, chunks, values) comes from the snapshot taken at
open or at the last ``refresh()``, as an h5py dataset opened with ``swmr=True`` reports it until
its own ``refresh()``. The object is bound to its path; a refresh re-reads every header, so the
path may now name a grown (or, after a writer relinked it, another) dataset.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

import numpy as np

from h5swmr.errors import InvalidArgumentError, SelectionTypeError, SelectionValueError
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.constants import UNLIMITED, FilterId
from h5swmr.format.messages.datatype import StringCharset
from h5swmr.format.messages.layout import (
    ChunkedLayoutMessage,
    CompactLayoutMessage,
    ContiguousLayoutMessage,
    LayoutClass,
)
from h5swmr.format.messages.virtual_layout import VirtualLayoutMessage
from h5swmr.format.selection import Selection as StoredSelection
from h5swmr.reader.attrs import AttributeManager
from h5swmr.reader.dataset import DatasetState
from h5swmr.reader.failures import reading
from h5swmr.reader.global_heap import resolve_strings
from h5swmr.reader.regions import chunk_boxes, lookup, read_chunk, read_region
from h5swmr.reader.selection import Selection, SliceAxis, parse_selection

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from h5swmr.reader.file import SwmrFileReader


class OpenFile(Protocol):
    """What a Dataset needs of its ``File`` (reader/group.py, which imports this module: the
    protocol keeps the two modules free of an import cycle)."""

    @property
    def reader(self) -> SwmrFileReader: ...

    @property
    def closed(self) -> bool: ...

    @property
    def decode_pool(self) -> Executor: ...

    def object_key(self, path: str) -> tuple[str, int]: ...

    def refresh(self) -> None: ...

    def __getitem__(self, name: str) -> Any: ...


_COMPRESSION = {FilterId.DEFLATE: "gzip", FilterId.SZIP: "szip", 32000: "lzf"}
"""h5py's names for the filters ``Dataset.compression`` reports."""
_NOT_COMPRESSION = {FilterId.SHUFFLE, FilterId.FLETCHER32, FilterId.SCALEOFFSET}
"""Filters h5py knows that are no compression; any other (a plugin's) makes it "unknown"."""


class StoreInfo(NamedTuple):
    """One stored chunk, as h5py's ``DatasetID.get_chunk_info`` describes it."""

    chunk_offset: tuple[int, ...]
    filter_mask: int
    byte_offset: int | None
    size: int


class VDSmap(NamedTuple):
    """One mapping of a virtual dataset (h5py's ``Dataset.virtual_sources()`` items): the
    selections are h5swmr's decoded ones (``h5swmr.format.selection``), not h5py SpaceIDs."""

    vspace: StoredSelection
    file_name: str
    dset_name: str
    src_space: StoredSelection


class Dataset:
    """A dataset of an open ``File``: shape, type and storage facts, and numpy-style reads."""

    def __init__(self, file: OpenFile, path: str) -> None:
        self._file = file
        self._path = path

    # -- identity ---------------------------------------------------------------------------------

    @property
    def file(self) -> Any:
        """The ``File`` this dataset was opened from."""
        return self._file

    @property
    def name(self) -> str:
        return self._path

    @property
    def parent(self) -> Any:
        """The ``Group`` holding this dataset."""
        return self._file[self._path.rsplit("/", 1)[0] or "/"]

    @property
    def attrs(self) -> AttributeManager:
        return AttributeManager(self._file.reader, self._path)

    @property
    def id(self) -> DatasetID:
        """Chunk-level access under h5py's low-level names (``dset.id.read_direct_chunk``)."""
        return DatasetID(self)

    def __repr__(self) -> str:
        if self._file.closed:
            return "<Closed HDF5 dataset>"
        short = self._path.rsplit("/", 1)[-1]
        return f'<HDF5 dataset "{short}": shape {self.shape}, type "{self.dtype.str}">'

    def __eq__(self, other: object) -> bool:
        """The same dataset, whatever the path to it, as h5py compares objects."""
        return (
            isinstance(other, Dataset)
            and other._file is self._file
            and self._file.object_key(other._path) == self._file.object_key(self._path)
        )

    def __hash__(self) -> int:
        return hash(self._file.object_key(self._path))

    def __bool__(self) -> bool:
        return not self._file.closed

    # -- snapshot facts ---------------------------------------------------------------------------

    def _snapshot(self) -> tuple[SwmrFileReader, DatasetState]:
        with reading(self._path):
            return self._file.reader._target(self._path)

    @property
    def _state(self) -> DatasetState:
        return self._snapshot()[1]

    @property
    def shape(self) -> tuple[int, ...]:
        return self._state.dims

    @property
    def dtype(self) -> np.dtype[Any]:
        """The numpy dtype; variable-length strings give h5py's ``string_dtype()``."""
        state = self._state
        if state.strings is not None:
            return np.dtype("O", metadata={"vlen": str})
        return state.dtype

    @property
    def ndim(self) -> int:
        return len(self._state.dims)

    @property
    def size(self) -> int:
        return math.prod(self._state.dims)

    @property
    def nbytes(self) -> int:
        return self._state.nbytes

    @property
    def maxshape(self) -> tuple[int | None, ...]:
        return tuple(None if m == UNLIMITED else m for m in self._state.maxdims)

    @property
    def chunks(self) -> tuple[int, ...] | None:
        return self._state.chunks

    @property
    def filters(self) -> FilterPipeline | None:
        """The filter pipeline (h5swmr's own view of it; h5py has no single attribute)."""
        return self._state.pipeline

    def _filter_ids(self) -> list[int]:
        pipeline = self._state.pipeline
        return [int(f.filter_id) for f in pipeline.filters] if pipeline else []

    @property
    def compression(self) -> str | None:
        """ "gzip", "szip" or "lzf" as h5py names them, "unknown" for a plugin's filter (h5py's
        word), else None."""
        ids = self._filter_ids()
        for filter_id in ids:
            if filter_id in _COMPRESSION:
                return _COMPRESSION[filter_id]
        if any(i not in _NOT_COMPRESSION for i in ids):
            return "unknown"
        return None

    @property
    def compression_opts(self) -> int | None:
        """The deflate level, as h5py reports it for "gzip"; None for other filters."""
        pipeline = self._state.pipeline
        for item in pipeline.filters if pipeline else ():
            if item.filter_id == FilterId.DEFLATE:
                level = getattr(item, "level", None)
                return int(level) if level is not None else None
        return None

    @property
    def shuffle(self) -> bool:
        return FilterId.SHUFFLE in self._filter_ids()

    @property
    def fletcher32(self) -> bool:
        return FilterId.FLETCHER32 in self._filter_ids()

    @property
    def fillvalue(self) -> Any:
        return self._state.fill_value

    @property
    def is_virtual(self) -> bool:
        return self._state.is_virtual

    def virtual_sources(self) -> list[VDSmap]:
        owner, state = self._snapshot()
        layout = state.layout
        if not isinstance(layout, VirtualLayoutMessage):
            raise SelectionTypeError(f"{self._path!r}: not a virtual dataset")
        mappings = owner._src.retried(
            lambda: _read_mappings(owner, layout), f"mappings of {self._path!r}"
        )
        return [
            VDSmap(m.virtual_selection, m.source_file, m.source_dataset, m.source_selection)
            for m in mappings.mappings
        ]

    def refresh(self) -> None:
        """Take a new snapshot (h5py's SWMR ``refresh()``): the shape and data a writer has
        flushed since. Re-reads the superblock, so what a writer's close published appears."""
        self._file.refresh()

    # -- reading ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        dims = self._state.dims
        if not dims:
            raise SelectionTypeError("Attempt to take len() of scalar dataset")
        return dims[0]

    def len(self) -> int:
        return len(self)

    def __iter__(self) -> Iterator[Any]:
        """Rows along the first axis, as h5py iterates a dataset."""
        for i in range(len(self)):
            yield self[i]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        data = np.asarray(self[()]) if self._state.dims else np.asarray(self[...])
        return data if dtype is None else data.astype(dtype)

    def __getitem__(self, key: object) -> Any:
        """h5py's selection rules; variable-length strings come as ``bytes``, as h5py gives
        them (``asstr()[key]`` for ``str``). Field names anywhere in the key select fields of
        records, as in h5py: one name gives that field's values, several a record of those
        fields alone, packed, in the order given."""
        if not (
            isinstance(key, str)
            or (isinstance(key, tuple) and any(isinstance(p, str) for p in key))
        ):  # the usual read (d[i], frame by frame) pays one check
            return self._get(key, text=False)
        parts = key if isinstance(key, tuple) else (key,)
        names = [part for part in parts if isinstance(part, str)]
        data = self._get(tuple(p for p in parts if not isinstance(p, str)), text=False)
        return _fields(data, names, self._state.dtype, self._path)

    def asstr(self, encoding: str | None = None, errors: str = "strict") -> AsStrView:
        """Strings read as ``str`` (h5py's ``Dataset.asstr()``): decoded with ``encoding``, by
        default the dataset's charset (ASCII or UTF-8), as h5py decodes them."""
        state = self._state
        if state.strings is None and state.text is None:
            raise SelectionTypeError(f"{self._path!r}: asstr() is for string datasets")
        if encoding is None and errors == "strict" and state.strings is not None:
            return AsStrView(self)  # variable-length: decoded as they are resolved
        charset = state.text if state.text is not None else state.strings
        default = "utf-8" if charset == StringCharset.UTF8 else "ascii"
        return AsStrView(self, encoding or default, errors)

    def _get(self, key: object, *, text: bool) -> Any:
        engine = self._file.reader
        owner, state = self._snapshot()
        if type(key) is int and state.dims and state.strings is None:
            # d[i], the frame-by-frame read: what the general parser would make of one integer
            # on the first axis (a dropped axis, the others whole), without its cost per frame
            index = key + state.dims[0] if key < 0 else key
            if 0 <= index < state.dims[0]:
                with reading(self._path):
                    return engine.read_frame(self._path, index)
        selection = parse_selection(key, state.dims)
        with reading(self._path):
            if selection.mask is not None:
                whole = self._read(engine, owner, state, parse_selection((), state.dims))
                result = whole[selection.mask]
            else:
                result = self._read(engine, owner, state, selection)
            if state.strings is None:
                return result
            if isinstance(result, np.ndarray) and result.dtype.kind == "V":
                result = resolve_strings(owner._src, result, state.strings)
                result = result[()] if selection.scalar_result else result
        return result if text else _encoded(result)

    def _read(
        self, engine: SwmrFileReader, owner: SwmrFileReader, state: DatasetState, sel: Selection
    ) -> Any:
        axes, dims = sel.axes, state.dims
        if axes and all(
            isinstance(axis, SliceAxis) and axis.covers(n)
            for axis, n in zip(axes[1:], dims[1:], strict=True)
        ):
            first = axes[0]
            if isinstance(first, SliceAxis) and first.step == 1:
                if first.drop:
                    return engine.read_frame(self._path, first.start)
                if state.pipeline is None:
                    return engine.read_frames(self._path, first.start, first.start + first.count)
        data = read_region(
            owner._src,
            state,
            axes,
            engine.max_read_bytes,
            lambda start, stop: owner._rows(state, start, stop),
            pool=self._file.decode_pool if state.pipeline is not None else None,
        )
        data = data.reshape(sel.result_shape)
        return data[()] if sel.scalar_result else data

    def read_direct(
        self, dest: np.ndarray, source_sel: object = None, dest_sel: object = None
    ) -> None:
        """Read ``self[source_sel]`` into ``dest[dest_sel]`` (h5py's ``read_direct``)."""
        data = self[() if source_sel is None else source_sel]
        target: Any = () if dest_sel is None else dest_sel
        try:
            dest[target] = data
        except ValueError as exc:
            raise SelectionValueError(f"read_direct: {exc}") from exc

    def astype(self, dtype: Any) -> np.ndarray:
        """The whole dataset converted to ``dtype`` (h5py returns a wrapper; this reads now)."""
        return np.asarray(self).astype(dtype)

    def iter_chunks(self, sel: object = None) -> Iterator[tuple[slice, ...]]:
        """For each chunk that ``sel`` (default: everything) meets, the slices of the part of
        ``sel`` inside it."""
        state = self._state
        if state.chunks is None:
            raise SelectionTypeError("Dataset is not chunked")
        parsed = parse_selection(() if sel is None else sel, state.dims)
        axes = []
        for axis in parsed.axes:
            if not isinstance(axis, SliceAxis) or axis.step != 1:
                raise SelectionTypeError("iter_chunks: only slices of step 1 are supported")
            axes.append(axis)
        yield from chunk_boxes(state.dims, state.chunks, tuple(axes))

    # -- growing datasets -------------------------------------------------------------------------

    def frames(
        self, start: int = 0, stop: int | None = None, *, batch: int = 64
    ) -> Iterator[np.ndarray]:
        """Frames ``start:stop`` (clipped as a slice) of this snapshot, read ``batch`` at a
        time."""
        if batch < 1:
            raise InvalidArgumentError(f"frames: batch must be >= 1, not {batch}")
        first, last, _ = slice(start, stop).indices(len(self))
        engine = self._file.reader
        for position in range(first, last, batch):
            yield from engine.read_frames(self._path, position, min(last, position + batch))

    def follow(
        self,
        *,
        timeout: float = 5.0,
        poll_interval: float = 0.005,
        start: int | Literal["end"] = 0,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """(index, frame) for every frame from ``start`` (default 0: every frame from the
        first; ``"end"``: only frames flushed from now on), refreshing as needed. Ends
        ``timeout`` seconds after the last new frame, or once the writer closed the file and
        every frame was yielded."""
        engine = self._file.reader
        if start == "end":
            engine.refresh()
            position = len(self)
        elif isinstance(start, int) and not isinstance(start, bool) and start >= 0:
            position = start
        else:
            raise InvalidArgumentError(
                f"follow({self._path!r}): start must be a frame number >= 0 or 'end', not {start!r}"
            )
        return engine.follow(
            self._path, timeout=timeout, poll_interval=poll_interval, start=position
        )


def _encoded(value: Any) -> Any:
    """Strings as h5py gives them without ``asstr()``: ``bytes`` (UTF-8)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, np.ndarray) and value.dtype == object:
        out = np.empty(value.shape, dtype=object)
        for index, item in np.ndenumerate(value):
            out[index] = item.encode("utf-8", "surrogateescape") if isinstance(item, str) else item
        return out
    return value


def _fields(data: Any, names: list[str], dtype: np.dtype, path: str) -> Any:
    """The fields ``names`` of records ``data`` (an array or one record) read from ``path``."""
    fields = dtype.fields
    if fields is None:
        raise SelectionValueError(f"{path!r}: field names are for record (compound) datasets")
    for name in names:
        if name not in fields:
            raise SelectionValueError(f"{path!r}: no field {name!r} in {dtype}")
    if len(names) == 1:
        value = data[names[0]]
        return value.copy() if isinstance(value, np.ndarray) else value  # C order, its own
    packed = np.dtype([(name, fields[name][0]) for name in names])
    out = np.zeros(np.shape(data), packed)
    for name in names:
        out[name] = data[name]
    return out if isinstance(data, np.ndarray) else out[()]


class AsStrView:
    """A string dataset read as ``str`` (what h5py's ``Dataset.asstr()`` returns)."""

    def __init__(self, dataset: Dataset, encoding: str | None = None, errors: str = "strict"):
        self._dataset = dataset
        self._encoding = encoding
        """None: variable-length strings as resolved; else the bytes read, decoded so."""
        self._errors = errors

    def __getitem__(self, key: object) -> Any:
        if self._encoding is None:
            return self._dataset._get(key, text=True)
        value = self._dataset._get(key, text=False)
        if isinstance(value, bytes):
            return value.decode(self._encoding, self._errors)
        raw = np.asarray(value)
        texts = [bytes(b).decode(self._encoding, self._errors) for b in raw.flat]
        return np.array(texts, dtype=object).reshape(raw.shape)

    def __len__(self) -> int:
        return len(self._dataset)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        data = np.asarray(self[()] if self._dataset.shape else self[...])
        return data if dtype is None else data.astype(dtype)


def _read_mappings(owner: SwmrFileReader, layout: VirtualLayoutMessage) -> Any:
    from h5swmr.reader.virtual import read_mappings

    return read_mappings(owner._src, layout)


class DatasetCreatePlist(NamedTuple):
    """What h5py's ``DatasetID.get_create_plist()`` answers that a reader can know: the layout."""

    layout: LayoutClass

    def get_layout(self) -> int:
        """h5py's ``h5d.COMPACT`` (0), ``CONTIGUOUS`` (1), ``CHUNKED`` (2) or ``VIRTUAL`` (3)."""
        return int(self.layout)


class DatasetID:
    """h5py's low-level chunk calls on a dataset, under their h5py names."""

    def __init__(self, dataset: Dataset) -> None:
        self._dataset = dataset

    def get_create_plist(self) -> DatasetCreatePlist:
        """The storage layout, so tools tell compact data from contiguous as h5py's do."""
        layout = self._dataset._snapshot()[1].layout
        if isinstance(layout, CompactLayoutMessage):
            return DatasetCreatePlist(LayoutClass.COMPACT)
        if isinstance(layout, ContiguousLayoutMessage):
            return DatasetCreatePlist(LayoutClass.CONTIGUOUS)
        if isinstance(layout, VirtualLayoutMessage):
            return DatasetCreatePlist(LayoutClass.VIRTUAL)
        return DatasetCreatePlist(LayoutClass.CHUNKED)

    def _chunked(self) -> tuple[SwmrFileReader, DatasetState, ChunkedLayoutMessage]:
        owner, state = self._dataset._snapshot()
        if not isinstance(state.layout, ChunkedLayoutMessage) or state.index is None:
            raise SelectionTypeError(f"{self._dataset.name!r}: not a chunked dataset")
        return owner, state, state.layout

    def _stored(self) -> Iterator[StoreInfo]:
        _, state, layout = self._chunked()
        counts = [-(-d // c) for d, c in zip(state.dims, layout.chunk_dims, strict=True)]
        index = state.index
        if index is None:  # pragma: no cover - _chunked
            return
        for scaled in np.ndindex(*counts):
            record = index.lookup(tuple(int(s) for s in scaled))
            if record is not None and record.is_allocated:
                offset = tuple(int(s) * c for s, c in zip(scaled, layout.chunk_dims, strict=True))
                size = record.size if state.pipeline is not None else layout.chunk_nbytes
                yield StoreInfo(offset, record.filter_mask, record.address, size)

    def get_num_chunks(self) -> int:
        return sum(1 for _ in self._stored())

    def get_chunk_info(self, index: int) -> StoreInfo:
        """The ``index``-th stored chunk, in row-major order of its position."""
        for position, info in enumerate(self._stored()):
            if position == index:
                return info
        raise SelectionValueError(f"get_chunk_info: no stored chunk number {index}")

    def get_chunk_info_by_coord(self, offset: tuple[int, ...]) -> StoreInfo:
        _, state, layout = self._chunked()
        scaled = self._scaled(state, layout, offset)
        record = state.index.lookup(scaled) if state.index is not None else None
        if record is None or not record.is_allocated:
            return StoreInfo(tuple(offset), 0, None, 0)
        size = record.size if state.pipeline is not None else layout.chunk_nbytes
        return StoreInfo(tuple(offset), record.filter_mask, record.address, size)

    def read_direct_chunk(self, offset: tuple[int, ...]) -> tuple[int, bytes]:
        """(filter mask, the chunk's bytes as stored: still compressed) at element ``offset``."""
        owner, state, layout = self._chunked()
        scaled = self._scaled(state, layout, offset)
        record = state.index.lookup(scaled) if state.index is not None else None
        if record is None or not record.is_allocated:
            raise SelectionValueError(f"read_direct_chunk: no chunk stored at {tuple(offset)}")
        size = record.size if state.pipeline is not None else layout.chunk_nbytes
        return record.filter_mask, owner._src.read_padded(record.address, size, "chunk data")

    def read_chunk(self, offset: tuple[int, ...]) -> np.ndarray | None:
        """The decoded chunk at element ``offset`` (None where none is stored)."""
        owner, state, layout = self._chunked()
        record = lookup(state, self._scaled(state, layout, offset))
        return read_chunk(owner._src, state, layout, record)

    def get_storage_size(self) -> int:
        return self._dataset._file.reader.storage_size(self._dataset.name)

    @staticmethod
    def _scaled(
        state: DatasetState, layout: ChunkedLayoutMessage, offset: tuple[int, ...]
    ) -> tuple[int, ...]:
        offset = tuple(int(o) for o in offset)
        if len(offset) != len(state.dims) or any(
            o < 0 or o % c or (o >= d and d)
            for o, c, d in zip(offset, layout.chunk_dims, state.dims, strict=True)
        ):
            raise SelectionValueError(
                f"chunk offset {offset}: not the start of a chunk of {layout.chunk_dims} "
                f"in {state.dims}"
            )
        return tuple(o // c for o, c in zip(offset, layout.chunk_dims, strict=True))
