"""SwmrFileWriter: rust-hdf5's SWMR streaming writer, in Python, without libhdf5.

The writer moves through three states: *defining* (datasets and links may be created, frames may be
appended), *swmr* (after ``start_swmr``: readers attach, frames are appended and flushed) and
*closed*. Every ``flush`` is one ordered commit: chunk bytes, then the chunk index from its leaves
up to its header, then the dataset headers with their new dims, then the superblock, so a reader
never meets a pointer to bytes that are not there yet, or dims beyond indexed data.
"""

from __future__ import annotations

import datetime
import functools
import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack, cast

import numpy as np
from numpy.typing import DTypeLike

from h5swmr.access.source import FileSource
from h5swmr.closing import Closing
from h5swmr.errors import (
    DatasetNotFoundError,
    FrameDtypeError,
    InvalidArgumentError,
    InvalidStateError,
    StorageError,
    UnsupportedError,
)
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.format.paths import split_path
from h5swmr.format.superblock import SIGNATURE, ConsistencyFlags, Superblock
from h5swmr.storage.allocator import EofAllocator
from h5swmr.storage.commit import Durability, OrderedWriter
from h5swmr.storage.file import FileHandle, file_size_limit
from h5swmr.storage.filesystem import file_system_type, is_unordered
from h5swmr.storage.locking import FileLocking, lock, unlock
from h5swmr.writer import nexus, resume
from h5swmr.writer.chunk_sink import ChunkSink
from h5swmr.writer.chunking import check_dims
from h5swmr.writer.commit import CommitPlan
from h5swmr.writer.cut_ahead import CutAhead
from h5swmr.writer.grid_dataset import GridDataset
from h5swmr.writer.headers import SuperblockImage
from h5swmr.writer.live_check import check_not_cut, refuse_live_file
from h5swmr.writer.monitor import Monitor, WriterStats
from h5swmr.writer.options import CreateOptions, Settings, WriterOptions
from h5swmr.writer.streaming_dataset import StreamingDataset
from h5swmr.writer.structure import DatasetRef, DatasetRequest, FileStructure

EOF_RESERVE = 1 << 20
"""Bytes by which the end of file in the superblock runs ahead of the allocated end while the
file is open (the file is extended to it with ftruncate: sparse, never past the file's end).
The superblock is then rewritten only when appends pass that end, once a MiB of chunks, not at
every commit: one pwrite and one checksum less per flush of small frames. A SWMR reader reads
the superblock once, at open; after a crash the stored end covers every byte written (libhdf5's
``h5clear --increment`` adds 1 MiB the same way), so clearing the flags still suffices; close
truncates the file to the allocated end and stores that. Never past the process's file-size
limit (RLIMIT_FSIZE): the reserve must not fail where the data itself would fit."""


class UnorderedFileSystemWarning(UserWarning):
    """The file is on a network file system where SWMR readers may see stale or zero data."""


class DirectIOUnavailableWarning(UserWarning):
    """``direct_io=True``, but the file system does not take ``O_DIRECT``: chunks are written
    through the page cache, as without the option."""


class _State(Enum):
    DEFINING = "defining"
    SWMR = "swmr"
    CLOSED = "closed"


_Method = TypeVar("_Method", bound=Callable[..., Any])


class _FailureGuard:
    """The ``with`` block of ``_failing_on_error``: records what escaped it as the writer's
    failure. A class, not a generator context manager: every frame enters two of them, and this
    costs a third of what contextlib's machinery does."""

    __slots__ = ("_writer",)

    def __init__(self, writer: SwmrFileWriter) -> None:
        self._writer = writer

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is not None:
            self._writer._failure = exc


def _serialized(method: _Method) -> _Method:
    """Run ``method`` holding the writer's lock (the per-frame calls take it inline: cheaper)."""

    @functools.wraps(method)
    def run(self: SwmrFileWriter, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return cast(_Method, run)


class SwmrFileWriter(Closing):
    """Streams frames into an HDF5 file that libhdf5 SWMR readers read while it grows.

    Create it with ``create`` or ``create_with_locking``; use it as a context manager so the file
    is closed cleanly (flags cleared, any HDF5 tool can open it) even when an error interrupts.
    Its methods may be called from several threads (a producer appending frames and a timer
    thread flushing, say): each call runs whole, one at a time.
    """

    def __init__(
        self,
        handle: FileHandle,
        locking: FileLocking,
        locked: bool,
        settings: Settings,
        *,
        reopen: bool = False,
        final_path: str | None = None,
    ) -> None:
        self._lock = threading.RLock()  # reentrant: a lazy dataset's first frame starts SWMR
        self._monitor = Monitor(settings.watchdog)
        self._final_path = final_path
        self._flush_every = settings.flush_every
        self._flush_interval = settings.flush_interval
        self._auto_flush = self._flush_every is not None or self._flush_interval is not None
        self._last_commit = time.monotonic()
        self._committed_eoa = 0
        """The end of the file at the last commit (0 before the first): the file is never
        shorter, unless another program truncated it."""
        self._stored_eof = 0
        """The end of file the superblock on disk gives (0 before the first commit): the
        allocated end plus up to EOF_RESERVE bytes, all physically in the file."""
        self._size_limit = file_size_limit()
        """RLIMIT_FSIZE, read once: the EOF reserve stops short of it."""
        self._committed_flags: ConsistencyFlags | None = None
        """The flags of the superblock the last commit wrote (None before the first)."""
        self._closing = False
        """Set by close: its commits store each chunk index's header exact, where flushes
        let it run ahead of the elements set (ExtensibleArrayIndex._header_max_index)."""
        self._counted_datasets = -1
        self._frames_are_chunks = False
        """Whether each of the ``_counted_datasets`` datasets stores every frame as a chunk of
        its own, written as it is appended: a commit then has no pending frame to write or
        filter, and no filter to wait for."""
        self._superblock_image = SuperblockImage()
        self._plan = CommitPlan()
        self._handle = handle
        self._locking = locking
        self._locked = locked
        self._durability = settings.durability
        self._allocator = EofAllocator(
            Superblock.SIZE,
            align_threshold=settings.alignment_threshold,
            align_interval=settings.alignment_interval,
        )
        self._out = OrderedWriter(handle, settings.durability)
        if settings.direct_io:
            self._out.use_direct_io(self._direct_io_refused)
        spare_core = settings.workers > 0 and (os.cpu_count() or 1) > 1
        self._sink = ChunkSink(
            self._out,
            self._allocator,
            workers=settings.workers,
            cut_ahead=CutAhead(enabled=spare_core),
        )
        self._encoder = self._sink.encoder
        self._state = _State.DEFINING
        self._failure: BaseException | None = None
        self._lazy: dict[str, tuple[int, FilterPipeline | None]] = {}
        self._start_time: str | None = None
        """NeXus start_time (creation time) to write unless the user writes one first."""
        self._swmr_requested = False
        if reopen:
            reopened = resume.reopen(FileSource(handle), self._allocator)
            self._structure = FileStructure(
                self._allocator, reopened.tree, reopened.datasets, reopened.static_datasets
            )
            if handle.physical_size < self._allocator.eoa:
                handle.truncate(self._allocator.eoa)
            self._structure.adopt_nexus()
        else:
            self._structure = FileStructure(self._allocator)
            if settings.nexus:
                self._structure.use_nexus()
                self._start_time = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
                for flag in self._structure.finished_flags:
                    flag.append(np.zeros((), "u1"), self._sink)
        self._commit(ConsistencyFlags.WRITE_ACCESS, publish_structure=True)
        if reopen:
            self._set_finished_flags(0)  # written again: not finished

    # -- creation ------------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], **options: Unpack[CreateOptions]) -> Self:
        """A new file at ``path``, replacing any existing one; locking as ``HDF5_USE_FILE_LOCKING``
        says (FALSE or 0: off; TRUE or 1: on; otherwise libhdf5's default, best effort).

        Options:

        - ``durability``: ``"none"`` (default), ``"flush"`` or ``"close"``: when data is synced
          to the device (docs/crash-safety.md says what each protects against).
        - ``workers``: threads that run the filters (default: the cores, at most 4; 0 filters
          in the caller's thread).
        - ``flush_every``, ``flush_interval``: flush policies (as areaDetector's NDFileHDF5
          NumFramesFlush, and a timed one): once ``start_swmr`` has run, an ``append_frame`` or
          ``append_chunk`` that leaves ``flush_every`` or more unpublished frames in its dataset,
          or that comes ``flush_interval`` seconds or more after the last commit, ends with a
          ``flush()``. Both are checked when frames are appended (no thread writes behind the
          caller's back). None (the default) leaves flushing to explicit ``flush()`` calls.
        - ``watchdog``: seconds an ``append_frame``, ``append_chunk`` or ``flush`` may take;
          a slower one raises a ``SlowStorageWarning`` (after it completes; the frame is
          written) and counts in ``stats().slow_calls``. Turn it into an error with
          ``warnings.simplefilter("error", SlowStorageWarning)``, or log it with
          ``logging.captureWarnings(True)``. None (the default) times nothing.
        - ``alignment_threshold``, ``alignment_interval``: blocks of at least the threshold's
          bytes (chunks, in practice) start at a multiple of the interval, as h5py's options of
          the same names: the Lustre stripe size or the GPFS block size, so that no chunk
          straddles two storage servers. 1 and 1 (the defaults) align nothing.
        - ``direct_io``: write chunks of 256 KiB or more with ``O_DIRECT`` (each in whole
          pages of its own, copied once into a reused aligned buffer), headers and indexes
          through the page cache as usual: less CPU a chunk where new page-cache pages are
          expensive (a virtual machine that returns free memory to its host); readers and
          ``recover`` see the same file. Where the file system refuses ``O_DIRECT`` a
          ``DirectIOUnavailableWarning`` says so and chunks are written buffered.
        - ``nexus``: lay the file out as NeXus (docs/nexus.md): a dataset given by a bare name
          (``"data"``) goes to ``/entry/instrument/detector/data`` (NXdetector) with a hard link
          in ``/entry/data`` (NXdata), a key dataset per frame for readers that follow files as
          swmr-tools does, and a finished flag that ``close`` sets. ``/entry/start_time`` (the
          creation time) is written unless the user writes one before ``start_swmr``;
          ``write_dataset`` with a bare name adds an NXdetector field.
        - ``temp_suffix``: write to ``path + temp_suffix`` and rename to ``path`` at ``close``.
        - ``create_dirs``: create missing directories of ``path``.
        - ``overwrite``: replace an existing file even if its superblock says a writer has it
          open. Without it such a file (a live SWMR writer's, which holds no lock, or a crashed
          writer's) is refused with FileLockedError and left untouched: ``recover`` keeps a
          crashed writer's frames.
        """
        return cls.create_with_locking(path, FileLocking.from_environment(), **options)

    @classmethod
    def create_with_locking(
        cls, path: str | os.PathLike[str], locking: FileLocking, **options: Unpack[CreateOptions]
    ) -> Self:
        """Like ``create`` with an explicit locking policy (and the same options).

        The file is locked before it is truncated, so a file another process holds is refused
        with FileLockedError and left untouched; so is one whose superblock says a writer has
        it open, unless ``overwrite=True``.
        """
        return cls._open(path, locking, Settings.parse(options), reopen=False)

    @classmethod
    def open_append(cls, path: str | os.PathLike[str], **options: Unpack[WriterOptions]) -> Self:
        """Reopen a file h5swmr wrote and closed (or that ``recover`` repaired) to append more
        frames to its streaming datasets; readers see one continuous stream. Datasets keep their
        numbers in the order they are found (see ``dataset_index``); new ones may be created
        before ``start_swmr``. Datasets written whole before (``write_dataset``, or by libhdf5)
        take new attributes and links (NeXus ``units``): their header is written anew at a
        fresh address when published, never changed under a reader; one whose header h5swmr
        cannot encode (version 1, times, tracked or dense attributes) refuses them with
        UnsupportedError saying why. Options as for ``create`` (but those only a new file
        takes)."""
        return cls.open_append_with_locking(path, FileLocking.from_environment(), **options)

    @classmethod
    def open_append_with_locking(
        cls, path: str | os.PathLike[str], locking: FileLocking, **options: Unpack[WriterOptions]
    ) -> Self:
        """Like ``open_append`` with an explicit locking policy."""
        settings = Settings.parse(cast(CreateOptions, options))
        return cls._open(path, locking, settings, reopen=True)

    @classmethod
    def _open(
        cls,
        path: str | os.PathLike[str],
        locking: FileLocking,
        settings: Settings,
        *,
        reopen: bool,
    ) -> Self:
        if not isinstance(locking, FileLocking):
            raise InvalidArgumentError(f"locking must be a FileLocking, not {locking!r}")
        final_path = os.fspath(path)
        path_str = final_path + settings.temp_suffix
        if settings.create_dirs:
            try:
                Path(path_str).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    exc.errno, f"cannot create the directories of {path_str!r}: {exc.strerror}"
                ) from exc
        fs_type = file_system_type(path_str)
        if is_unordered(fs_type):
            warnings.warn(
                f"{path_str!r} is on {fs_type}, which does not keep the write order SWMR readers "
                "rely on: readers in other processes may see zeros or stale data while the file "
                "grows (the closed file is fine). Write to a local disk, Lustre or GPFS instead.",
                UnorderedFileSystemWarning,
                stacklevel=3,
            )
        handle = FileHandle.open(path_str, create=not reopen)
        try:
            locked = lock(handle.fd, path_str, locking, exclusive=True)
            if handle.physical_size and not reopen:
                if not settings.overwrite:
                    refuse_live_file(handle, path_str)
                handle.truncate(0)
            return cls(
                handle,
                locking,
                locked,
                settings,
                reopen=reopen,
                final_path=final_path if settings.temp_suffix else None,
            )
        except BaseException:
            handle.close()
            raise

    @property
    def path(self) -> str:
        return self._handle.path

    @property
    def closed(self) -> bool:
        return self._state is _State.CLOSED

    @property
    def is_swmr(self) -> bool:
        return self._state is _State.SWMR

    @property
    def dataset_names(self) -> list[str]:
        return self._structure.names

    @_serialized
    def dataset_index(self, name: str) -> int:
        return self._dataset(name, "dataset_index").node.index

    @_serialized
    def frame_count(self, ds: DatasetRef) -> int:
        """Frames appended to ``ds`` so far (published or not)."""
        return self._dataset(ds, "frame_count").frames_appended

    def __repr__(self) -> str:
        count = len(self._structure.datasets)
        return f"<SwmrFileWriter {self.path!r} ({self._state.value}, {count} datasets)>"

    # -- datasets ------------------------------------------------------------------------------

    def create_streaming_dataset(
        self, name: str, dtype: DTypeLike, frame_dims: tuple[int, ...]
    ) -> int:
        """Dataset ``[0, *frame_dims]``, one frame per chunk, unlimited along frames."""
        return self._create_dataset("create_streaming_dataset", name, dtype, frame_dims)

    def create_streaming_dataset_compressed(
        self, name: str, dtype: DTypeLike, frame_dims: tuple[int, ...], pipeline: FilterPipeline
    ) -> int:
        return self._create_dataset(
            "create_streaming_dataset_compressed", name, dtype, frame_dims, pipeline=pipeline
        )

    def create_streaming_dataset_tiled(
        self, name: str, dtype: DTypeLike, frame_dims: tuple[int, ...], frame_chunk: tuple[int, ...]
    ) -> int:
        """One frame per chunk, each frame stored as tiles ``frame_chunk`` (edge tiles partial)."""
        return self._create_dataset(
            "create_streaming_dataset_tiled", name, dtype, frame_dims, tile=frame_chunk
        )

    def create_streaming_dataset_tiled_compressed(
        self,
        name: str,
        dtype: DTypeLike,
        frame_dims: tuple[int, ...],
        frame_chunk: tuple[int, ...],
        pipeline: FilterPipeline,
    ) -> int:
        return self._create_dataset(
            "create_streaming_dataset_tiled_compressed",
            name,
            dtype,
            frame_dims,
            tile=frame_chunk,
            pipeline=pipeline,
        )

    def create_streaming_dataset_chunked(
        self, name: str, dtype: DTypeLike, frame_dims: tuple[int, ...], chunk: tuple[int, ...]
    ) -> int:
        """Chunks ``chunk = (frames_per_chunk, *tile)``; frames are buffered until a band fills,
        and the frame count always equals the frames appended."""
        return self._create_dataset(
            "create_streaming_dataset_chunked", name, dtype, frame_dims, chunk=chunk
        )

    def create_streaming_dataset_chunked_compressed(
        self,
        name: str,
        dtype: DTypeLike,
        frame_dims: tuple[int, ...],
        chunk: tuple[int, ...],
        pipeline: FilterPipeline,
    ) -> int:
        return self._create_dataset(
            "create_streaming_dataset_chunked_compressed",
            name,
            dtype,
            frame_dims,
            chunk=chunk,
            pipeline=pipeline,
        )

    @_serialized
    def create_grid_dataset(
        self,
        name: str,
        dtype: DTypeLike,
        dims: tuple[int, ...],
        chunk: tuple[int, ...],
        pipeline: FilterPipeline | None = None,
    ) -> int:
        """A dataset of fixed shape ``dims`` stored in chunks ``chunk`` (same rank) that
        ``write_chunk_at`` fills in any order: a scan grid, areaDetector's "extra dimensions".
        Its chunk index is a fixed array (as libhdf5 gives a dataset without unlimited dims),
        so HDF5 1.10 and later read it.

        Readers see the full shape from the start. A chunk not written yet, or written but not
        flushed, reads as the fill value, 0, exactly like a chunk that holds zeros: a reader
        that must tell unwritten points apart needs a record of its own, such as a streaming
        dataset of the coordinates written, appended (and flushed) with each chunk.
        """
        self._require_state("create_grid_dataset", _State.DEFINING)
        dataset = self._structure.create_grid_dataset(name, dtype, dims, chunk, pipeline)
        return dataset.node.index

    def write_chunk_at(self, ds: DatasetRef, coords: tuple[int, ...], data: object) -> None:
        """Store the chunk at ``coords`` (chunk units: element ``coords[i] * chunk[i]`` of dim i
        onward) of a grid dataset: a numpy array of exactly the chunk shape and the dataset's
        dtype (any byte order), or bytes of one chunk, raw, in the dataset's byte order. Edge
        chunks are passed whole, padded (libhdf5 stores whole chunks too). With a pipeline the
        chunk is filtered on the writer's pool.

        Any order is fine. Writing coords again stores the new chunk at fresh space and repoints
        the index (a reader never sees a mix of the two). Readers see the chunk after the next
        flush. A rejected call changes nothing.
        """
        with self._lock:
            started = None if self._monitor.watchdog is None else time.perf_counter()
            self._require_state("write_chunk_at", _State.DEFINING, _State.SWMR)
            dataset = self._grid_dataset(ds)
            number = dataset.chunk_number(coords)
            chunk = dataset.coerce_chunk(data)
            with self._failing_on_error():
                dataset.write_chunk(number, chunk, self._sink)
                if self._auto_flush:
                    self._flush_by_policy(dataset)
            if started is not None:
                self._watch("write_chunk_at", started)

    @_serialized
    def _create_dataset(
        self,
        call: str,
        name: str,
        dtype: DTypeLike,
        frame_dims: tuple[int, ...],
        **chunking: Any,
    ) -> int:
        self._require_state(call, _State.DEFINING)
        request = DatasetRequest(call, name, dtype, frame_dims, **chunking)
        return self._structure.create_dataset(request).node.index

    @_serialized
    def create_hard_link(self, parent_group_path: str, link_name: str, target_path: str) -> None:
        """Another name, ``parent_group_path/link_name``, for the existing object at
        ``target_path``. Made before ``start_swmr`` it is visible to SWMR readers at once; made
        after, it is published by ``close``."""
        self._require_state("create_hard_link", _State.DEFINING, _State.SWMR)
        self._structure.create_hard_link(parent_group_path, link_name, target_path)

    @_serialized
    def create_group(self, path: str) -> None:
        """The group ``path`` (and missing parents). Made before ``start_swmr`` it is visible to
        SWMR readers at once; made after, it is published by ``close`` (libhdf5's SWMR readers
        never see new objects while the file is being written)."""
        self._require_state("create_group", _State.DEFINING, _State.SWMR)
        self._structure.create_group(path, f"create_group({path!r})")

    @_serialized
    def set_attribute(
        self, path: str, name: str, value: object, *, fixed_length: bool = False
    ) -> None:
        """Attribute ``name`` of the group or dataset at ``path``: a number, a numpy array of
        numbers, a str or a list of str. Strings are variable-length UTF-8, as h5py stores a
        ``str`` (h5py reads back ``str``); ``fixed_length=True`` (or a ``numpy.bytes_`` value)
        stores fixed-length NUL-terminated strings instead (h5py reads back ``numpy.bytes_``).
        Set before ``start_swmr`` it is visible to SWMR readers at once; set after, ``close``
        publishes it."""
        self._require_state("set_attribute", _State.DEFINING, _State.SWMR)
        self._structure.set_attribute(path, name, value, fixed_length=bool(fixed_length))

    @_serialized
    def write_dataset(
        self, path: str, data: object, *, pipeline: FilterPipeline | None = None
    ) -> None:
        """A dataset holding ``data`` whole (rust-hdf5's ``write_dataset``): a number, or an
        array of any shape of bool, (u)int8-64, float16/32/64, complex64/128 or fixed-length
        bytes, scalar included; text (a ``str``, a list of ``str``) makes a string dataset, as
        ``write_string_dataset``. Small data is stored in the dataset's header (compact layout),
        larger data contiguously; with ``pipeline`` it is compressed as one chunk (numbers and
        fixed-length bytes: text, stored as variable-length strings, keeps its bytes in global
        heap collections, which HDF5 never filters, so a pipeline for text is refused).

        Parents are created as ``create_group`` creates them; in a ``nexus=True`` file a bare
        name goes to the NXdetector group. Written before ``start_swmr`` it is visible to SWMR
        readers for the whole stream; written after, ``close`` publishes it. ``set_attribute``
        works on it. A name that exists, or a dtype HDF5 cannot hold, is refused and changes
        nothing."""
        self._require_state("write_dataset", _State.DEFINING, _State.SWMR)
        self._structure.write_dataset(path, data, pipeline, "write_dataset")

    @_serialized
    def write_string_dataset(self, path: str, strings: object) -> None:
        """A dataset of variable-length UTF-8 strings, as h5py stores ``str`` data: a ``str``
        makes a scalar dataset (NeXus ``start_time``, ``title``), a list (or numpy array) of
        ``str`` one of its shape. h5py reads back ``bytes``, or ``str`` with ``.asstr()``.
        Published as ``write_dataset`` says."""
        self._require_state("write_string_dataset", _State.DEFINING, _State.SWMR)
        self._structure.write_string_dataset(path, strings, "write_string_dataset")

    @_serialized
    def set_dataset_fill_value(self, ds: DatasetRef, value: object) -> None:
        """The fill value of streaming or grid dataset ``ds`` (h5py's ``Dataset.fillvalue``):
        what readers get for a grid chunk not written yet, and what pads an incomplete band of
        frames. Only before the first frame (or chunk) is written to ``ds``."""
        self._require_state("set_dataset_fill_value", _State.DEFINING, _State.SWMR)
        self._dataset(ds, "set_dataset_fill_value").set_fill_value(value)

    # -- streaming -----------------------------------------------------------------------------

    @_serialized
    def start_swmr(self) -> None:
        """Publish everything created so far and let SWMR readers in.

        After this, ``h5py.File(path, "r", swmr=True)`` opens the file; no dataset can be created.
        """
        self._require_state("start_swmr", _State.DEFINING)
        if self._lazy:  # NDFileHDF5's LazyOpen: SWMR starts once every lazy dataset has a frame
            if self._swmr_requested:
                raise InvalidStateError("start_swmr: already called; waiting for first frames")
            self._swmr_requested = True
            return
        self._write_start_time()
        with self._failing_on_error():
            self._commit(ConsistencyFlags.SWMR_WRITING, publish_structure=True)
        self._state = _State.SWMR
        if self._locked:
            lock(self._handle.fd, self.path, self._locking, exclusive=False)

    @_serialized
    def create_lazy_dataset(
        self,
        name: str,
        *,
        frames_per_chunk: int = 1,
        pipeline: FilterPipeline | None = None,
    ) -> str:
        """A streaming dataset whose dtype and frame shape come from its first frame (as
        NDFileHDF5's LazyOpen): returns its path, which ``append_frame`` takes. A ``start_swmr``
        called before every lazy dataset has its first frame takes effect with that frame."""
        self._require_state("create_lazy_dataset", _State.DEFINING)
        where = f"create_lazy_dataset({name!r})"
        path = "/" + "/".join(split_path(name, what=f"{where}: name"))
        check_dims((frames_per_chunk,), what=f"{where}: frames_per_chunk")
        if path == "/" or path in self._lazy:
            raise InvalidArgumentError(f"{where}: {path!r} is not a new dataset name")
        self._structure.check_new_link(split_path(path), where)
        if pipeline is not None and not isinstance(pipeline, FilterPipeline):
            raise InvalidArgumentError(f"{where}: pipeline must be a FilterPipeline")
        self._lazy[path] = (int(frames_per_chunk), pipeline)
        return path

    def _define_lazy(self, path: str, data: object) -> None:
        """Create lazy dataset ``path`` from its first frame, then start SWMR if it was asked
        for and this was the last lazy dataset."""
        if not isinstance(data, np.ndarray):
            raise FrameDtypeError(
                f"append_frame({path!r}): the first frame of a lazy dataset must be a numpy "
                "array (its dtype and shape define the dataset)",
                dataset=path,
            )
        k, pipeline = self._lazy[path]
        self._structure.create_dataset(
            DatasetRequest(
                "append_frame",
                path,
                data.dtype,
                data.shape,
                chunk=(k, *data.shape),
                pipeline=pipeline,
            )
        )
        del self._lazy[path]
        if self._swmr_requested and not self._lazy:
            self.start_swmr()

    def append_frame(
        self, ds: DatasetRef, data: object, metadata: Mapping[DatasetRef, object] | None = None
    ) -> None:
        """Append one frame: a numpy array of the frame's shape and the dataset's dtype (any byte
        order), or bytes-like data of exactly one frame, raw, in the dataset's byte order.

        ``metadata`` maps other streaming datasets (per-frame timestamp, frame id, exposure...)
        to their value for this frame: they are appended in lockstep and published before the
        frame in the same commit, so a reader never sees the frame without its metadata.
        A rejected call changes nothing. The frame is visible to readers after the next flush.
        """
        with self._lock:
            started = None if self._monitor.watchdog is None else time.perf_counter()
            if self._state is not _State.SWMR or self._failure is not None:  # per frame: cheap
                self._require_state("append_frame", _State.DEFINING, _State.SWMR)
            datasets = self._structure.datasets
            if type(ds) is int and 0 <= ds < len(datasets):  # the per-frame case, first
                dataset = datasets[ds]
            else:
                if isinstance(ds, str) and self._lazy:
                    lazy = "/" + "/".join(split_path(ds))
                    if lazy in self._lazy:
                        self._define_lazy(lazy, data)
                        ds = lazy
                dataset = self._dataset(ds, "append_frame")
            frame = dataset.coerce(data)
            companions = None if metadata is None else self._metadata_frames(dataset, metadata)
            try:  # _failing_on_error, spelled out on the per-frame path (a try costs nothing)
                if companions:
                    for companion, value in companions:
                        companion.append(value, self._sink)
                dataset.append(frame, self._sink)
                if dataset.keys:
                    for key in dataset.keys:
                        key.append(np.asarray(dataset.frames_appended, "<i8"), self._sink)
                if self._auto_flush:
                    self._flush_by_policy(dataset)
            except BaseException as exc:
                self._failure = exc
                raise
            if started is not None:
                self._watch("append_frame", started)

    def _metadata_frames(
        self, dataset: StreamingDataset, metadata: Mapping[DatasetRef, object] | None
    ) -> list[tuple[StreamingDataset, np.ndarray]]:
        """The metadata of one frame, each checked against its dataset before anything is
        written; those datasets are published before ``dataset`` from now on."""
        if metadata is None:
            return []
        if not isinstance(metadata, Mapping):
            raise InvalidArgumentError(
                f"append_frame({dataset.name!r}): metadata maps datasets to values, "
                f"not {type(metadata).__name__}"
            )
        companions = []
        for ref, value in metadata.items():
            companion = self._dataset(ref, "append_frame metadata")
            if companion is dataset or companion.publish_rank > 0:
                raise InvalidArgumentError(
                    f"append_frame({dataset.name!r}): {companion.name!r} cannot be metadata of "
                    "this frame (the frame's own dataset, a key or a flag)"
                )
            companions.append((companion, companion.coerce(value)))
        if len({id(c) for c, _ in companions}) != len(companions):
            raise InvalidArgumentError(f"append_frame({dataset.name!r}): a dataset twice")
        for companion, _ in companions:
            companion.publish_rank = -1
        return companions

    def append_chunk(
        self,
        ds: DatasetRef,
        chunk_bytes: object,
        filter_mask: int = 0,
        metadata: Mapping[DatasetRef, object] | None = None,
    ) -> None:
        """Append ``frames_per_chunk`` frames as one chunk the caller already filtered with the
        dataset's pipeline (a DECTRIS stream bitshuffle-LZ4 payload, an NDPluginCodec array),
        stored verbatim. ``filter_mask`` bit k says filter k was skipped. The dataset's chunks
        must hold whole frames. Where the codec records the uncompressed size (LZ4, bitshuffle,
        blosc, zstd), a chunk that declares another size is refused. ``metadata`` is one value
        per metadata dataset, as for ``append_frame`` (meant for chunks of one frame)."""
        with self._lock:
            started = None if self._monitor.watchdog is None else time.perf_counter()
            self._require_state("append_chunk", _State.DEFINING, _State.SWMR)
            dataset = self._dataset(ds, "append_chunk")
            view, record = dataset.check_chunk(chunk_bytes, filter_mask)
            companions = self._metadata_frames(dataset, metadata)
            with self._failing_on_error():
                for companion, value in companions:
                    companion.append(value, self._sink)
                first = dataset.frames_appended
                dataset.store_chunk(view, record, self._sink)
                for key in dataset.keys:  # NeXus keys, one per frame, as append_frame writes
                    for count in range(first + 1, dataset.frames_appended + 1):
                        key.append(np.asarray(count, "<i8"), self._sink)
                if self._auto_flush:
                    self._flush_by_policy(dataset)
            if started is not None:
                self._watch("append_chunk", started)

    def flush(self) -> None:
        """Make every frame appended so far visible to SWMR readers, in one ordered commit."""
        with self._lock:
            started = None if self._monitor.watchdog is None else time.perf_counter()
            if self._state is not _State.SWMR or self._failure is not None:  # per frame: cheap
                self._require_state("flush", _State.DEFINING, _State.SWMR)
            try:  # _failing_on_error, spelled out on the per-frame path
                defining = self._state is _State.DEFINING
                flags = ConsistencyFlags.WRITE_ACCESS if defining else ConsistencyFlags.SWMR_WRITING
                self._commit(flags, publish_structure=defining)  # self._flags, spelled out
            except BaseException as exc:
                self._failure = exc
                raise
            if started is not None:
                self._watch("flush", started)

    def stats(self) -> WriterStats:
        """Frames appended and published per dataset, commits and their timings, file size and
        throughput so far: what a status display or a log line needs."""
        with self._lock:
            datasets = self._structure.datasets
            return self._monitor.snapshot(
                {d.name: d.frames_appended for d in datasets},
                {d.name: d.frames_published for d in datasets},
                self._allocator.eoa,
            )

    @_serialized
    def close(self) -> None:
        """Write what is pending, publish late links, clear the SWMR flags, release the file.

        Closing a closed writer does nothing.
        """
        if self._state is _State.CLOSED:
            return
        if self._failure is not None:  # the file keeps its last good commit; see recover()
            self._release()
            return
        try:
            self._write_start_time()
            self._closing = True  # the last commits: chunk indexes exact (see _commit)
            self._commit(self._flags, publish_structure=True)
            self._set_finished_flags(1)  # only once every frame is published
            if self._durability is not Durability.NONE:
                self._out.sync()
            self._handle.truncate(self._allocator.eoa)
            superblock = Superblock(ConsistencyFlags.NONE, self._allocator.eoa, self._root_address)
            self._out.write(0, superblock.encode())
            if self._durability is not Durability.NONE:
                self._out.sync()
        finally:
            self._release()
        if self._final_path is not None:
            try:
                Path(self._handle.path).replace(self._final_path)
            except OSError as exc:
                raise StorageError(
                    exc.errno,
                    f"renaming {self._handle.path!r} to {self._final_path!r}: {exc.strerror}",
                ) from exc

    # -- internals -----------------------------------------------------------------------------

    def _write_start_time(self) -> None:
        """A nexus=True file's /entry/start_time, the time the writer created the file, unless
        the user wrote one (published with start_swmr, or at close without it)."""
        if self._start_time is not None and self._structure.tree.resolve(nexus.START_TIME) is None:
            self._structure.write_string_dataset(nexus.START_TIME, self._start_time, "nexus")
        self._start_time = None

    def _direct_io_refused(self, reason: str) -> None:
        warnings.warn(
            f"{self._handle.path!r}: direct_io off, chunks go through the page cache: {reason}",
            DirectIOUnavailableWarning,
            stacklevel=2,
        )

    def _watch(self, call: str, started: float) -> None:
        """Tell the watchdog how long ``call`` took (it warns if that was too long)."""
        self._monitor.check(call, time.perf_counter() - started, self.path, stacklevel=3)

    def _set_finished_flags(self, value: int) -> None:
        """Give every finished flag ``value``, in a commit of its own after the frames."""
        if not self._structure.finished_flags:
            return
        for flag in self._structure.finished_flags:
            flag.replace_first_frame(np.full((), value, "u1"), self._sink)
        self._commit(self._flags, publish_structure=False)

    def _failing_on_error(self) -> _FailureGuard:
        """A write that failed midway (disk full, I/O error, a filter that broke) leaves the
        writer's memory ahead of the file: from then on only close() is allowed, and the file
        keeps every frame of its last completed flush (readers see them; recover() clears the
        flags). Errors raised before anything is written (bad frames) do not count."""
        return _FailureGuard(self)

    def _release(self) -> None:
        self._state = _State.CLOSED
        self._sink.close()
        self._out.close()
        if self._locked:
            unlock(self._handle.fd)
        self._handle.close()

    @property
    def _flags(self) -> ConsistencyFlags:
        if self._state is _State.SWMR:
            return ConsistencyFlags.SWMR_WRITING
        return ConsistencyFlags.WRITE_ACCESS

    @property
    def _root_address(self) -> int:
        return self._structure.tree.root.address

    def _require_state(self, call: str, *allowed: _State) -> None:
        if self._failure is not None and self._state is not _State.CLOSED:
            raise InvalidStateError(
                f"{call}: an earlier write to {self.path!r} failed ({self._failure}); the file "
                "keeps every frame of the last completed flush. close() the writer, then "
                "h5swmr.recover() the file and open_append() it to go on"
            ) from self._failure
        if self._state in allowed:
            return
        if self._state is _State.CLOSED:
            raise InvalidStateError(f"{call}: the writer of {self.path!r} is closed")
        if self._state is _State.SWMR:
            advice = "" if call == "start_swmr" else "; create every dataset before start_swmr()"
            raise InvalidStateError(f"{call}: {self.path!r} is already in SWMR mode{advice}")
        raise InvalidStateError(f"{call}: call start_swmr() first")

    def _dataset(self, ds: object, call: str) -> StreamingDataset:
        return self._structure.dataset(ds, call)

    def _grid_dataset(self, ds: object) -> GridDataset:
        try:
            dataset = self._dataset(ds, "write_chunk_at")
        except DatasetNotFoundError:
            if isinstance(ds, str) and split_path(ds) and self._structure.tree.resolve(ds):
                raise UnsupportedError(
                    f"write_chunk_at({ds!r}): a dataset of a reopened file that h5swmr cannot "
                    "write to (open_append keeps grid datasets as they are, readable, but does "
                    "not write their chunks)"
                ) from None
            raise
        if not isinstance(dataset, GridDataset):
            raise InvalidArgumentError(
                f"write_chunk_at({dataset.name!r}): a streaming dataset grows by frames; "
                "use append_frame or append_chunk (write_chunk_at is for datasets made by "
                "create_grid_dataset)"
            )
        return dataset

    def _flush_by_policy(self, dataset: StreamingDataset) -> None:
        """The flush ``flush_every`` or ``flush_interval`` asks for after an append, if any."""
        if self._state is not _State.SWMR:
            return
        every = self._flush_every
        if (every is not None and dataset.frames_appended - dataset.frames_published >= every) or (
            self._flush_interval is not None
            and time.monotonic() - self._last_commit >= self._flush_interval
        ):
            self._commit(ConsistencyFlags.SWMR_WRITING, publish_structure=False)

    def _commit(self, flags: ConsistencyFlags, *, publish_structure: bool) -> None:
        started = time.perf_counter()
        handle = self._handle
        committed = self._committed_eoa
        if committed:  # check_not_cut, its usual outcome spelled out
            observed = handle.size_and_head(len(SIGNATURE))
            if observed[0] < committed or observed[1] != SIGNATURE:
                check_not_cut(handle, committed, observed)  # raises
        datasets = self._structure.datasets
        if self._counted_datasets != len(datasets):  # datasets are only ever added
            self._counted_datasets = len(datasets)
            self._frames_are_chunks = all(
                type(d) is StreamingDataset and d.frame_is_chunk for d in datasets
            )
        if not self._frames_are_chunks:  # some dataset may hold frames not written yet
            for dataset in datasets:
                if dataset.pipeline is not None:
                    dataset.filter_partial_band(self._sink)
                else:
                    dataset.write_pending(self._sink)
            self._encoder.drain()
        plan = self._plan
        plan.clear()
        final = self._closing
        for dataset in datasets:
            dataset.index.commit(plan, final=final)
        if publish_structure:
            attribute_writes, group_writes = self._structure.publish()
            plan.leaves += attribute_writes
            plan.group_headers += group_writes
        ranked = sorted(datasets, key=lambda d: d.publish_rank) if len(datasets) > 1 else datasets
        object_headers = plan.object_headers
        for dataset in ranked:
            write = dataset.commit_header()
            if write is not None:
                object_headers.append(write)
        eoa = self._allocator.eoa
        superblock = None
        if eoa > self._stored_eof:
            end = eoa + EOF_RESERVE
            if self._size_limit is not None:  # reserve nothing past what the process may write
                end = max(eoa, min(end, self._size_limit))
            self._stored_eof = end
            if handle.physical_size < end:  # never an EOF past the file's end
                handle.truncate(end)
            publish_structure = True  # a new end of file for the superblock
        if publish_structure or flags != self._committed_flags:
            root = self._structure.tree.root.address  # self._root_address, when it may change
            superblock = self._superblock_image.update(flags, self._stored_eof, root)
            self._committed_flags = flags
        self._out.commit(plan.phases(superblock))  # chunk data synced first, with FLUSH
        if self._frames_are_chunks:  # first_open_chunk() is the frame count: spelled out
            for dataset in datasets:
                dataset.index.release_below(dataset.frames_appended)
        else:
            for dataset in datasets:
                dataset.index.release_below(dataset.first_open_chunk())
        self._committed_eoa = eoa
        self._last_commit = time.monotonic()
        self._monitor.record_commit(time.perf_counter() - started)
