"""SwmrFileReader: read an HDF5 file while a SWMR writer appends to it, without libhdf5.

The reader holds a shared lock while the file is open, as libhdf5's readers do: a SWMR writer
(libhdf5's drops its lock, h5swmr's keeps a shared one) is read live, a file a non-SWMR writer
holds exclusively is refused (reader/source.py). It reads the superblock and object headers once per
``refresh()``; everything a snapshot needs is read again only after the next refresh.

External links and the sources of virtual datasets are read through a reader of their own file,
opened when first needed (reader/external.py) and closed at the next ``refresh()`` or
``close()``, so a virtual dataset's extent follows its growing sources from refresh to refresh.
"""

from __future__ import annotations

import math
import os
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Literal, Self

import numpy as np

from h5swmr.access.object_headers import read_object_header
from h5swmr.access.source import FileSource
from h5swmr.access.superblocks import FileInfo, read_file_info, writer_is_active
from h5swmr.closing import Closing
from h5swmr.errors import (
    DatasetNotFoundError,
    FilterError,
    FormatError,
    InvalidArgumentError,
    InvalidStateError,
    UnsupportedError,
)
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.constants import UNLIMITED
from h5swmr.format.messages.layout import ChunkedLayoutMessage, ContiguousLayoutMessage
from h5swmr.format.messages.virtual_layout import VirtualLayoutMessage
from h5swmr.format.object_header import RawMessage
from h5swmr.format.paths import split_lookup_path
from h5swmr.reader.attributes import read_attributes
from h5swmr.reader.dataset import DatasetState, is_dataset, load_dataset
from h5swmr.reader.external import VDS_PREFIX, LinkedFiles, Origin
from h5swmr.reader.follow import follow_frames
from h5swmr.reader.frames import FrameReader, frames_are_chunk_rows
from h5swmr.reader.global_heap import resolve_strings
from h5swmr.reader.groups import is_group, read_links
from h5swmr.reader.links import Link
from h5swmr.reader.rows import read_rows
from h5swmr.reader.virtual import VirtualView, read_mappings
from h5swmr.reader.virtual_plan import SourceDataset

MAX_LINK_DEPTH = 16
"""Soft and external links followed for one path, and virtual datasets nested in one another."""
DEFAULT_READ_LIMIT = 1 << 30
"""Largest result of one read unless ``max_read_bytes`` says otherwise: sizes come from the file."""


class SwmrFileReader(Closing):
    """A read-only view of an HDF5 file that may still be growing.

    ``shape``, ``dtype``, ``chunks``, ``maxshape`` and reads use the snapshot taken at open or at
    the last ``refresh()``. Paths are "/"-separated, relative to the root group.
    """

    def __init__(
        self,
        src: FileSource,
        *,
        max_read_bytes: int = DEFAULT_READ_LIMIT,
        linked: LinkedFiles[SwmrFileReader] | None = None,
    ) -> None:
        self._src = src
        self.max_read_bytes = max_read_bytes
        self._info: FileInfo = read_file_info(src)
        self._origin = Origin.of(src.path)
        self._headers: dict[int, tuple[RawMessage, ...]] = {}
        self._links: dict[int, dict[str, Link]] = {}
        self._datasets: dict[int, DatasetState] = {}
        self._names: dict[int, str] = {}
        """The name each dataset was first opened by (header address -> name), for errors."""
        self._virtuals: dict[int, VirtualView] = {}
        self._frame_readers: dict[str, FrameReader | None] = {}
        self._owns_linked = linked is None
        """A reader opened by the user owns the files reached from it; the readers of those
        files (given ``linked``) share that set and never close it."""
        if linked is None:
            linked = LinkedFiles(self._open_linked)
            linked.pin(src.path, self)
        self._linked = linked

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        max_read_bytes: int = DEFAULT_READ_LIMIT,
        linked: LinkedFiles[SwmrFileReader] | None = None,
    ) -> Self:
        src = FileSource.open(path)
        try:
            return cls(src, max_read_bytes=max_read_bytes, linked=linked)
        except BaseException:
            src.close()
            raise

    def _open_linked(self, path: str) -> SwmrFileReader:
        return SwmrFileReader.open(path, max_read_bytes=self.max_read_bytes, linked=self._linked)

    # -- life cycle -----------------------------------------------------------------------------

    @property
    def path(self) -> str:
        return self._src.path

    @property
    def closed(self) -> bool:
        return self._src.closed

    def close(self) -> None:
        if self._owns_linked:
            self._linked.close()
        self._src.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"superblock v{self._info.superblock_version}"
        return f"<SwmrFileReader {self.path!r} ({state})>"

    def refresh(self) -> None:
        """Re-read the superblock and forget every header and index read so far, and close the
        linked files and virtual dataset sources; the next call reads them again. A file
        replaced at its path (a VDS master a rollover rewrote) is reopened there."""
        self._check_open()
        if self._owns_linked:
            self._linked.close()
        if self._src.replaced():
            fresh = FileSource.open(self._src.path)
            try:
                info = read_file_info(fresh)
            except BaseException:
                fresh.close()
                raise
            self._src.close()
            self._src, self._info = fresh, info
        else:
            # The superblock again: a writer's close (or another writer's open_append) may
            # publish a new root object header at a new address.
            self._src.rebase(0)
            self._info = read_file_info(self._src)
        self._src.update_size()
        self._headers.clear()
        self._links.clear()
        self._datasets.clear()
        self._virtuals.clear()
        self._frame_readers.clear()

    @property
    def writer_active(self) -> bool:
        """True while the superblock's consistency flags say a writer has the file open."""
        self._check_open()
        return writer_is_active(self._src, self._info)

    # -- datasets ---------------------------------------------------------------------------------

    def shape(self, name: str) -> tuple[int, ...]:
        return self._dataset(name).dims

    def maxshape(self, name: str) -> tuple[int | None, ...]:
        return tuple(None if m == UNLIMITED else m for m in self._dataset(name).maxdims)

    def dtype(self, name: str) -> np.dtype[np.generic]:
        """The numpy dtype; variable-length strings give h5py's ``string_dtype()``, an object
        dtype whose metadata says ``vlen=str``."""
        state = self._dataset(name)
        if state.strings is not None:
            return np.dtype("O", metadata={"vlen": str})
        return state.dtype

    def chunks(self, name: str) -> tuple[int, ...] | None:
        return self._dataset(name).chunks

    def filters(self, name: str) -> FilterPipeline | None:
        """The dataset's filter pipeline, or None for unfiltered data."""
        return self._dataset(name).pipeline

    def is_virtual(self, name: str) -> bool:
        """Whether ``name`` is a virtual dataset (h5py's ``Dataset.is_virtual``)."""
        return self._dataset(name).is_virtual

    def backed_frames(self, name: str) -> int | None:
        """Frames of a printf-mapped virtual dataset that hold data (its shape counts the newest
        part whole, its unwritten frames reading as fill); None where that cannot be told."""
        state = self._dataset(name)
        if not state.is_virtual:
            raise InvalidArgumentError(f"{name!r} is not a virtual dataset")
        return self._virtuals[state.address].backed_rows()

    def virtual_sources(self, name: str) -> list[tuple[str, str]]:
        """(file name, dataset name) of each mapping of a virtual dataset, as stored: ``.`` is
        this file, ``%b`` a printf mapping's part number (``Dataset.virtual_sources()``)."""
        layout = self._dataset(name).layout
        if not isinstance(layout, VirtualLayoutMessage):
            raise InvalidArgumentError(f"{name!r} is not a virtual dataset")
        mappings = self._src.retried(
            lambda: read_mappings(self._src, layout), f"mappings of {name!r}"
        )
        return [(m.source_file, m.source_dataset) for m in mappings.mappings]

    def storage_size(self, name: str) -> int:
        """Bytes the dataset's data takes in the file (h5py's ``id.get_storage_size()``): stored
        chunks within the current shape, or the contiguous or compact data."""
        state = self._dataset(name)
        layout = state.layout
        if not isinstance(layout, ChunkedLayoutMessage):
            return (
                state.nbytes
                if isinstance(layout, ContiguousLayoutMessage)
                else len(getattr(layout, "data", b""))
            )
        if state.index is None:
            return 0
        chunk_nbytes = math.prod(layout.chunk_dims) * state.dtype.itemsize
        counts = [-(-d // c) for d, c in zip(state.dims, layout.chunk_dims, strict=False)]
        total = 0
        for scaled in np.ndindex(*counts):
            record = state.index.lookup(tuple(int(s) for s in scaled))
            if record is not None and record.is_allocated:
                total += record.size if state.pipeline is not None else chunk_nbytes
        return total

    def read(self, name: str) -> np.ndarray:
        """The whole dataset (variable-length strings, here and in ``read_frame(s)``, as an
        object array of ``str``)."""
        owner, state = self._target(name)
        return owner._rows(state, 0, state.dims[0] if state.dims else 1)

    def read_frame(self, name: str, index: int) -> np.ndarray:
        """Frame ``index`` (negative counts from the end) of the dataset's first dimension."""
        fast = self._frame_readers.get(name)
        if fast is None and name not in self._frame_readers:
            fast = self._frame_reader(name)
        if fast is not None:
            n = fast.n_frames
            position = index + n if index < 0 else index
            if not 0 <= position < n:
                raise IndexError(f"read_frame({name!r}, {index}): {n} frames")
            return fast.read(position)
        owner, state = self._target(name)
        n = self._frame_count(name, state)
        position = index + n if index < 0 else index
        if not 0 <= position < n:
            raise IndexError(f"read_frame({name!r}, {index}): {n} frames")
        frame: np.ndarray = owner._rows(state, position, position + 1)[0]
        return frame

    def read_frames(self, name: str, start: int, stop: int | None = None) -> np.ndarray:
        """Frames ``start`` to ``stop - 1``, clipped like a Python slice."""
        fast = self._frame_readers.get(name)
        if fast is None and name not in self._frame_readers:
            fast = self._frame_reader(name)
        if fast is not None:
            first, last, _ = slice(start, stop).indices(fast.n_frames)
            return fast.read_rows(first, max(first, last))
        owner, state = self._target(name)
        first, last, _ = slice(start, stop).indices(self._frame_count(name, state))
        return owner._rows(state, first, max(first, last))

    def follow(
        self,
        name: str,
        *,
        timeout: float = 5.0,
        poll_interval: float = 0.005,
        start: int | Literal["end"] = 0,
    ) -> Generator[tuple[int, np.ndarray], None, None]:
        """(index, frame) for every frame from the first (or from frame ``start``), then each
        new one as it is flushed; ``start="end"`` skips the frames already there, following
        only new ones.

        From the first by default, as a reader of a growing file (and swmr-tools' followers)
        expects: the frames written before the reader came are part of the stream. Refreshes as
        needed; ends ``timeout`` seconds after the last new frame, or once the writer has closed
        the file and every frame has been yielded.
        """
        return follow_frames(self, name, timeout=timeout, poll_interval=poll_interval, start=start)

    # -- groups, links, attributes ---------------------------------------------------------------

    def keys(self, path: str = "/") -> list[str]:
        """Names of the links of the group at ``path``."""
        owner, address = self._locate(path)
        return list(owner._group_links(address))

    def links(self, path: str = "/") -> dict[str, Link]:
        owner, address = self._locate(path)
        return dict(owner._group_links(address))

    def attrs(self, path: str = "/") -> dict[str, object]:
        """Name -> value of the attributes of the object at ``path``."""
        owner, address = self._locate(path)
        return read_attributes(owner._src, owner._header(address))

    def kind(self, path: str) -> str:
        """ "group", "dataset" or "other" for the object at ``path``."""
        owner, address = self._locate(path)
        messages = owner._header(address)
        return "dataset" if is_dataset(messages) else "group" if is_group(messages) else "other"

    def tree(self) -> dict[str, str]:
        """Every object path reachable from the root -> its kind; each object listed once."""
        found: dict[str, str] = {"/": "group"}
        seen = {self._info.root_address}
        self._walk(self._info.root_address, "", found, seen)
        return found

    def _walk(self, address: int, prefix: str, found: dict[str, str], seen: set[int]) -> None:
        for name, link in self._group_links(address).items():
            path = f"{prefix}/{name}"
            if link.kind != "hard":
                found[path] = f"{link.kind} link"
                continue
            kind = self.kind(path)
            found[path] = kind
            if kind == "group" and link.address not in seen:
                seen.add(link.address)
                self._walk(link.address, path, found, seen)

    # -- internals -------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._src.closed:
            raise InvalidStateError(f"{self._src.path!r}: the reader is closed")

    def _header(self, address: int) -> tuple[RawMessage, ...]:
        self._check_open()
        if address not in self._headers:
            self._headers[address] = read_object_header(self._src, address)
        return self._headers[address]

    def _group_links(self, address: int) -> dict[str, Link]:
        if address not in self._links:
            messages = self._header(address)
            if not is_group(messages):
                raise InvalidArgumentError(f"object at address {address} is not a group")
            self._links[address] = read_links(self._src, messages)
        return self._links[address]

    def _locate(self, path: str, depth: int = 0) -> tuple[SwmrFileReader, int]:
        """The reader of the file holding the object at ``path`` and the object's header
        address, following soft links and external links."""
        self._check_open()
        address = self._info.root_address
        parts = split_lookup_path(path)
        for position, part in enumerate(parts):
            link = self._group_links(address).get(part)
            if link is None:
                raise DatasetNotFoundError(f"{path!r}: no link {part!r}", dataset=path)
            if link.kind == "hard":
                address = link.address
                continue
            if depth >= MAX_LINK_DEPTH:
                raise InvalidArgumentError(f"{path!r}: links nested too deeply (a cycle?)")
            rest = "/".join(parts[position + 1 :])
            if link.kind == "soft":
                parent = "/".join(parts[:position])
                base = link.target if link.target.startswith("/") else f"{parent}/{link.target}"
                return self._locate(f"{base}/{rest}", depth + 1)
            return self._external(path, link)._locate(f"{link.target}/{rest}", depth + 1)
        return self, address

    def _external(self, path: str, link: Link) -> SwmrFileReader:
        """The reader of the file an external link names (libhdf5's search, external.py)."""
        target = self._linked.find(link.file_name, self._origin)
        if target is None:
            looked = self._origin.candidates(link.file_name)
            raise DatasetNotFoundError(
                f"{path!r}: external link {link.name!r} to {link.target!r} in file "
                f"{link.file_name!r}: no such HDF5 file (looked for {looked})",
                dataset=path,
            )
        return target

    def _target(self, name: str) -> tuple[SwmrFileReader, DatasetState]:
        """The reader of the file holding dataset ``name`` (another one behind an external
        link) and the dataset's snapshot, which only that reader can read."""
        owner, address = self._locate(name)
        return owner, owner._dataset_at(address, name)

    def _dataset(self, name: str) -> DatasetState:
        return self._target(name)[1]

    def _dataset_at(self, address: int, name: str) -> DatasetState:
        state = self._datasets.get(address)
        if state is None:
            messages = self._header(address)
            if not is_dataset(messages):
                raise DatasetNotFoundError(f"{name!r} is not a dataset", dataset=name)
            state = self._src.retried(
                lambda: load_dataset(self._src, address, messages), f"dataset {name!r}"
            )
            if state.is_virtual:
                state = self._size_virtual(address, name, state)
            self._datasets[address] = state
            self._names[address] = name
        return state

    def _size_virtual(self, address: int, name: str, state: DatasetState) -> DatasetState:
        """Open the virtual dataset's sources to find its extent in this snapshot."""
        layout = state.layout
        if not isinstance(layout, VirtualLayoutMessage):  # pragma: no cover - is_virtual
            raise TypeError("not a virtual dataset")
        mappings = self._src.retried(
            lambda: read_mappings(self._src, layout), f"mappings of {name!r}"
        )
        with self._busy(address, name):
            view = VirtualView(name, state, mappings, self._source, self.max_read_bytes)
        self._virtuals[address] = view
        return replace(state, dims=view.dims)

    @contextmanager
    def _busy(self, address: int, name: str) -> Iterator[None]:
        """Mark a virtual dataset as being sized or read: met again before it is done, it is its
        own source (through others), a loop libhdf5 would not finish either."""
        key = (self._src.path, address)
        busy = self._linked.busy
        if key in busy:
            raise FormatError(f"virtual dataset {name!r} is (through others) its own source")
        if len(busy) >= MAX_LINK_DEPTH:
            raise UnsupportedError(f"virtual dataset {name!r}: sources nested too deeply")
        busy.add(key)
        try:
            yield
        finally:
            busy.discard(key)

    def _source(self, file_name: str, dataset: str) -> SourceDataset | None:
        """A virtual dataset's source, or None where libhdf5 finds none (it reads as fill):
        "." is this file; other names are searched for as external links are."""
        reader = (
            self if file_name == "." else self._linked.find(file_name, self._origin, VDS_PREFIX)
        )
        if reader is None:
            return None
        try:
            owner, state = reader._target(dataset)
        except (DatasetNotFoundError, InvalidArgumentError):
            return None
        return SourceDataset(state, lambda start, stop: owner._rows(state, start, stop))

    def _frame_reader(self, name: str) -> FrameReader | None:
        """The fast single-frame reader of ``name`` in this snapshot, None where it does not
        apply (filtered, not chunked, chunks that split frames); kept until the next refresh."""
        self._check_open()
        owner, state = self._target(name)
        self._frame_count(name, state)
        fast = (
            FrameReader(owner._src, state, self.max_read_bytes)
            if frames_are_chunk_rows(state) and state.strings is None
            else None
        )
        self._frame_readers[name] = fast
        return fast

    @staticmethod
    def _frame_count(name: str, state: DatasetState) -> int:
        if not state.dims:
            raise InvalidArgumentError(f"{name!r} is a scalar dataset: use read()")
        return state.dims[0]

    def _rows(self, state: DatasetState, start: int, stop: int) -> np.ndarray:
        """Rows of a dataset of this file (``state`` from ``_dataset_at``)."""
        if state.is_virtual:
            view = self._virtuals[state.address]
            with self._busy(state.address, view.name):
                return view.read_rows(start, stop)
        try:
            rows: np.ndarray = self._src.retried(
                lambda: read_rows(self._src, state, start, stop, self.max_read_bytes),
                "chunk index",
            )
        except FilterError as exc:
            name = self._names.get(state.address, f"at address {state.address}")
            raise FilterError(
                f"dataset {name!r}, {exc}", dataset=name, chunk=exc.chunk, address=exc.address
            ) from exc
        if state.strings is not None:  # references into the global heap: the strings
            return resolve_strings(self._src, rows, state.strings)
        return rows
