"""Zstandard, filter id 32015 (HDF5 plugin zstd_h5plugin.c, as hdf5plugin builds it).

Chunk bytes: one zstd frame that records its content size (the plugin sizes its output buffer
from it). Also holds the frame-header reader that bitshuffle+zstd chunks share.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar, Final, Self

from h5swmr.errors import FilterError
from h5swmr.filters import placement
from h5swmr.filters._optional import import_codec
from h5swmr.filters.base import Filter
from h5swmr.filters.split import ChunkSplitter
from h5swmr.format.constants import FilterId
from h5swmr.format.cursor import BytesLike

MIN_LEVEL: Final = -131072
"""ZSTD_minCLevel(); hdf5plugin stores negative levels as their uint32 two's complement."""
MAX_LEVEL: Final = 22
DEFAULT_LEVEL: Final = 3
SPLIT_MIN_PART_BYTES: Final = 512 * 1024
"""Smallest job worth one of zstd's worker threads: ZSTDMT takes no job under 512 KiB; two such
jobs ran a 1 MiB chunk at 1.5x (benchmarks/split_threshold.py, 2 cores)."""

NO_OVERLAP: Final = 1
"""ZSTD_c_overlapLog 1: a job reloads nothing of the previous job's input. zstd's default for
level 3 (dfast) reloads 1/8 of the window, 256 KiB for a 2 MiB chunk, which the second job
hashes before it starts its own input: on the critical path of the chunk. Without it the
frame of a 1024x1024 uint16 Poisson(2) chunk grew by 0.07% (466.2 to 466.5 kB)."""

PAUSE: Final = 20e-6
"""Seconds the caller sleeps after handing zstd each job of a chunk but the last (a 20 us sleep
lasts about 70 us with Linux's default timer slack).

zstd's pool holds one waiting job at most, and a worker woken for a job cannot take it before
the caller lets go of its CPU, or before a halted CPU wakes up. Without the pause the next job
finds the slot still full and waits for the first job's first output, half the job. Mean per
2 MiB level-3 chunk, 16 distinct Poisson(2) frames, 600 chunks in each of three processes, 2
cores (``benchmarks/zstd_jobs.py --rounds 3``): 5.28-5.36 ms without the pause, 4.04-4.15 ms
with it, 3.81-3.84 ms with it and the workers spread one per CPU (``placement``)."""

WORKER_NAME: Final = "h5swmr-zstd"
"""The name zstd's worker threads carry (``placement.start_named``), as ``top -H`` shows them."""

_MAGIC: Final = 0xFD2FB528
_U32: Final = 1 << 32
_FCS_SIZES: Final = (0, 2, 4, 8)
_DICT_ID_SIZES: Final = (0, 1, 2, 4)


def check_level(level: object, label: str, minimum: int = MIN_LEVEL) -> int:
    if isinstance(level, bool) or not isinstance(level, int):
        raise FilterError(f"{label} level {level!r}: expected an int {minimum}..{MAX_LEVEL}")
    if not minimum <= level <= MAX_LEVEL:
        raise FilterError(f"{label} level {level} outside {minimum}..{MAX_LEVEL}")
    return level


def frame_content_size(frame: BytesLike) -> int | None:
    """The Frame_Content_Size of a zstd frame header (RFC 8878 3.1.1.1), or None if absent."""
    view = memoryview(frame).cast("B")
    if view.nbytes < 5 or int.from_bytes(view[:4], "little") != _MAGIC:
        raise FilterError("zstd: chunk does not start with a zstd frame (magic 28 b5 2f fd)")
    descriptor = view[4]
    single_segment = descriptor >> 5 & 1
    fcs_size = _FCS_SIZES[descriptor >> 6] or single_segment
    start = 5 + (0 if single_segment else 1) + _DICT_ID_SIZES[descriptor & 3]
    if fcs_size == 0:
        return None
    if view.nbytes < start + fcs_size:
        raise FilterError("zstd: chunk ends inside its frame header")
    size = int.from_bytes(view[start : start + fcs_size], "little")
    return size + 256 if fcs_size == 2 else size


@dataclass(frozen=True, slots=True)
class ZstdFilter(Filter):
    """One zstd frame per chunk at ``level`` (-131072..22, 0 = zstd's default 3).

    cd_values ``(level,)``, a negative level as its uint32 two's complement as hdf5plugin stores
    it. Backed by ``zstandard``, which releases the GIL while it compresses.
    """

    filter_id: ClassVar[FilterId] = FilterId.ZSTD
    name: ClassVar[str] = (
        "HDF5 zstd filter; see"
        " https://github.com/HDFGroup/hdf5_plugins/blob/master/docs/RegisteredFilterPlugins.md"
    )

    level: int = DEFAULT_LEVEL

    def __post_init__(self) -> None:
        check_level(self.level, "zstd")
        import_codec("zstandard", "the zstd filter")

    def cd_values(self, element_size: int) -> tuple[int, ...]:
        return (self.level % _U32,)

    @classmethod
    def from_cd_values(cls, cd_values: tuple[int, ...]) -> Self:
        if len(cd_values) > 1:
            raise FilterError(f"zstd: cd_values {cd_values}, expected (level,) or ()")
        if not cd_values:
            return cls(DEFAULT_LEVEL)
        level = cd_values[0]
        return cls(level - _U32 if level >= 1 << 31 else level)

    def encode(self, chunk: BytesLike, element_size: int) -> bytes:
        zstandard = import_codec("zstandard", "the zstd filter")
        packed: bytes = zstandard.ZstdCompressor(level=self.level).compress(chunk)
        return packed

    def encode_split(self, chunk: BytesLike, element_size: int, splitter: ChunkSplitter) -> bytes:
        """One frame (content size recorded) made by zstd's own worker threads, one per part.

        zstd's multi-threaded mode cuts the input into jobs and joins their blocks into a single
        frame, which the plugin decodes as any other; the calling thread waits meanwhile. The
        jobs share nothing (``NO_OVERLAP``). The input goes in one job at a time, with a
        ``PAUSE`` after each but the last, so that every job has a worker running it at once;
        the frame usually comes out of the last call whole, and is returned without a copy.
        The compressor and its workers are kept per thread from chunk to chunk, the workers
        spread one per CPU where they are as many (``placement.spread``).
        """
        nbytes = memoryview(chunk).nbytes
        count = splitter.parts(nbytes, SPLIT_MIN_PART_BYTES)
        if count < 2:
            return self.encode(chunk, element_size)
        job = -(-nbytes // count)
        stream = _threaded_compressor(self.level, nbytes, count, job).compressobj(size=nbytes)
        view = memoryview(chunk).cast("B")
        packed = [stream.compress(view[:job])]
        for start in range(job, nbytes, job):
            time.sleep(PAUSE)
            packed.append(stream.compress(view[start : start + job]))
        packed.append(stream.flush())
        pieces = [piece for piece in packed if piece]
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def decode(self, chunk: BytesLike, element_size: int, limit: int | None = None) -> bytes:
        zstandard = import_codec("zstandard", "the zstd filter")
        size = frame_content_size(chunk)
        if size is None:
            raise FilterError("zstd: frame without a content size (the plugin cannot read it)")
        check_declared("zstd", size, limit)
        return decompress_frame(zstandard, chunk, size, "zstd")

    def declared_size(self, chunk: BytesLike) -> int | None:
        """The frame content size in the chunk's zstd frame header, without decoding."""
        return frame_content_size(chunk)


KEPT_PER_THREAD: Final = 4
"""Compressors a thread keeps (one per chunk size and level in use: two datasets of different
frame sizes must not make and drop one per chunk, each with its worker threads)."""

_kept = threading.local()
"""Per thread, ``compressors``: settings -> multi-threaded compressor, oldest first."""

_forked_away: list[object] = []
"""Compressors a forked child inherited without their workers, which stayed in the parent: never
used again, never freed (freeing one waits for its workers)."""


def _threaded_compressor(level: int, nbytes: int, count: int, job: int) -> Any:
    """A compressor with ``count`` worker threads and ``job``-byte jobs for ``nbytes`` inputs,
    kept for this thread (5.7 MiB for 2 MiB chunks at level 3, ``KEPT_PER_THREAD`` at most),
    freed with the thread (a pool thread ends with its writer). Its workers start at once,
    named ``WORKER_NAME`` and spread over the CPUs."""
    compressors: dict[tuple[int, ...], Any] | None = getattr(_kept, "compressors", None)
    if compressors is None:
        compressors = _kept.compressors = {}
    settings = (level, nbytes, count, job)
    compressor = compressors.get(settings)
    if compressor is None:
        if len(compressors) >= KEPT_PER_THREAD:
            del compressors[next(iter(compressors))]  # the oldest and its workers go first
        zstandard = import_codec("zstandard", "the zstd filter")
        parameters = zstandard.ZstdCompressionParameters.from_level(
            level, source_size=nbytes, threads=count, job_size=job, overlap_log=NO_OVERLAP
        )
        compressor = zstandard.ZstdCompressor(compression_params=parameters)
        # zstd starts its workers on the first input of a stream whose size is pledged
        _, workers = placement.start_named(
            WORKER_NAME, lambda: compressor.compressobj(size=nbytes).compress(b"\0")
        )
        placement.spread(workers)
        compressors[settings] = compressor
    return compressor


def _forget_compressors_in_child() -> None:
    """After ``fork`` only the forking thread lives on, and its compressors' workers do not:
    a job handed to them would wait for ever. The child makes new ones."""
    compressors = getattr(_kept, "compressors", None)
    if compressors:
        _forked_away.extend(compressors.values())
    _kept.compressors = {}


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_compressors_in_child)


def check_declared(label: str, size: int, limit: int | None) -> None:
    """FilterError if a chunk's header declares more than ``limit`` bytes: checked before
    anything of that size is allocated, since the header may be hostile."""
    if limit is not None and size > limit:
        raise FilterError(f"{label}: header declares {size} bytes, more than the {limit} expected")


def decompress_frame(zstandard: ModuleType, frame: BytesLike, size: int, label: str) -> bytes:
    """Decompress one whole zstd frame that must give exactly ``size`` bytes."""
    try:
        out: bytes = zstandard.ZstdDecompressor().decompress(frame, max_output_size=size)
    except zstandard.ZstdError as exc:
        raise FilterError(f"{label}: corrupt zstd frame: {exc}") from exc
    if len(out) != size:
        raise FilterError(f"{label}: zstd frame gave {len(out)} bytes, expected {size}")
    return out
