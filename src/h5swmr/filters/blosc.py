"""Blosc (version 1), filter id 32001 (hdf5-blosc blosc_filter.c, as hdf5plugin builds it).

Chunk bytes: one blosc1 buffer, whose 16-byte header holds version, versionlz, flags, typesize,
then u32 LE nbytes, blocksize and cbytes (cbytes counts the header). The plugin gives blosc an
output buffer the size of the chunk, so a chunk that does not shrink fails the (optional) filter
and libhdf5 stores it raw with the filter's mask bit set; ``encode`` raises FilterError there so
that FilterPipeline does the same.
"""

from __future__ import annotations

import ctypes
import functools
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Final, Self

import numpy as np

from h5swmr.errors import FilterError
from h5swmr.filters._optional import import_codec
from h5swmr.filters.base import Filter
from h5swmr.filters.split import ChunkSplitter
from h5swmr.filters.zstd import check_declared
from h5swmr.format.constants import FilterId
from h5swmr.format.cursor import BytesLike

FILTER_REVISION: Final = 2
"""FILTER_BLOSC_VERSION, cd_values[0]."""
FORMAT_VERSION: Final = 2
"""BLOSC_VERSION_FORMAT of blosc1, cd_values[1] and the first header byte."""
MAX_TYPESIZE: Final = 255
MAX_BUFFERSIZE: Final = 0x7FFF_FFFF - 16
MIN_LEVEL: Final = 0
MAX_LEVEL: Final = 9

SPLIT_MIN_PART_BYTES: Final = 512 * 1024
"""Smallest share of a chunk worth one of blosc's internal threads (benchmarks/split_threshold.py,
2 cores, lz4 + byte shuffle: 1.35x from a 1 MiB chunk, no gain below 512 KiB)."""

_HEADER = struct.Struct("<BBBBIII")
_MEMCPYED: Final = 0x2
_LABEL: Final = "the blosc filter"


class BloscCompressor(IntEnum):
    """cd_values[6]: blosc1's compressor codes."""

    BLOSCLZ = 0
    LZ4 = 1
    LZ4HC = 2
    SNAPPY = 3
    ZLIB = 4
    ZSTD = 5


class BloscShuffle(IntEnum):
    """cd_values[5]: blosc's own pre-filter."""

    NONE = 0
    BYTE = 1
    BIT = 2


def typesize_of(element_size: int) -> int:
    """The typesize the plugin's set_local stores: the element size, or 1 above 255."""
    return element_size if element_size <= MAX_TYPESIZE else 1


@dataclass(frozen=True, slots=True)
class BloscFilter(Filter):
    """A blosc1 buffer per chunk: ``compressor`` at ``level`` 0..9 after ``shuffle``.

    cd_values ``(2, 2, typesize, chunk_size, level, shuffle, compressor)``; ``chunk_size`` is
    what set_local stores (typesize times the elements in a chunk) and does not affect the bytes:
    ``FilterPipeline.describe(element_size, chunk_bytes)`` fills it in. Backed by numcodecs'
    blosc1. Off the main thread numcodecs uses a private blosc context, single-threaded and
    without the GIL, and its bytes equal hdf5plugin's. On the main thread numcodecs uses blosc's
    global multi-threaded context under a lock, whose block order (so bytes, not data) may vary.
    """

    filter_id: ClassVar[FilterId] = FilterId.BLOSC
    name: ClassVar[str] = "blosc"

    compressor: BloscCompressor = BloscCompressor.LZ4
    level: int = 5
    shuffle: BloscShuffle = BloscShuffle.BYTE
    chunk_size: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.compressor, BloscCompressor):
            raise FilterError(f"blosc compressor {self.compressor!r}: expected a BloscCompressor")
        if not isinstance(self.shuffle, BloscShuffle):
            raise FilterError(f"blosc shuffle {self.shuffle!r}: expected a BloscShuffle")
        if isinstance(self.level, bool) or not isinstance(self.level, int):
            raise FilterError(
                f"blosc level {self.level!r}: expected an int {MIN_LEVEL}..{MAX_LEVEL}"
            )
        if not MIN_LEVEL <= self.level <= MAX_LEVEL:
            raise FilterError(f"blosc level {self.level} outside {MIN_LEVEL}..{MAX_LEVEL}")
        if isinstance(self.chunk_size, bool) or not isinstance(self.chunk_size, int):
            raise FilterError(f"blosc chunk size {self.chunk_size!r}: expected an int")
        if not 0 <= self.chunk_size < 1 << 32:
            raise FilterError(f"blosc chunk size {self.chunk_size} outside 0..2**32-1")
        blosc = import_codec("numcodecs.blosc", _LABEL)
        name = self.compressor.name.lower()
        if name not in blosc.list_compressors():
            raise FilterError(
                f"blosc compressor {name!r} is not built into numcodecs' blosc;"
                f" available: {', '.join(blosc.list_compressors())}"
            )

    def cd_values(self, element_size: int) -> tuple[int, ...]:
        return (
            FILTER_REVISION,
            FORMAT_VERSION,
            typesize_of(element_size),
            self.chunk_size,
            self.level,
            int(self.shuffle),
            int(self.compressor),
        )

    @classmethod
    def from_cd_values(cls, cd_values: tuple[int, ...]) -> Self:
        # blosc_filter.c: the first 4 are set_local's; level 5, byte shuffle, blosclz if absent.
        if not 4 <= len(cd_values) <= 7:
            raise FilterError(f"blosc: cd_values {cd_values}, expected 4 to 7 values")
        level = cd_values[4] if len(cd_values) > 4 else 5
        try:
            shuffle = BloscShuffle(cd_values[5] if len(cd_values) > 5 else 1)
            compressor = BloscCompressor(cd_values[6] if len(cd_values) > 6 else 0)
        except ValueError as exc:
            raise FilterError(f"blosc: cd_values {cd_values}: {exc}") from None
        return cls(compressor, level, shuffle, cd_values[3])

    def with_chunk_size(self, element_size: int, chunk_bytes: int) -> Self:
        """A copy storing the chunk size set_local would for this element and chunk size."""
        return type(self)(
            self.compressor,
            self.level,
            self.shuffle,
            typesize_of(element_size) * (chunk_bytes // element_size),
        )

    def encode(self, chunk: BytesLike, element_size: int) -> bytes:
        blosc = import_codec("numcodecs.blosc", _LABEL)
        view = memoryview(chunk).cast("B")
        if view.nbytes > MAX_BUFFERSIZE:
            raise FilterError(f"blosc: {view.nbytes}-byte chunk exceeds {MAX_BUFFERSIZE} bytes")
        packed: bytes = blosc.compress(
            view,
            self.compressor.name.lower().encode(),
            self.level,
            int(self.shuffle),
            0,
            typesize_of(element_size),
        )
        if len(packed) > view.nbytes:
            raise FilterError(
                f"blosc: {view.nbytes}-byte chunk does not shrink ({len(packed)} bytes);"
                " the plugin stores it unfiltered"
            )
        return packed

    def encode_split(self, chunk: BytesLike, element_size: int, splitter: ChunkSplitter) -> bytes:
        """A blosc1 buffer made by blosc's own threads, one per part (blosc_compress_ctx).

        numcodecs runs blosc single-threaded off the main thread; its module exports
        blosc_compress_ctx, which takes a thread count and no global state, and ctypes releases
        the GIL around the call. Blocks may then land in any order in the buffer (its offsets
        say where), so the bytes can differ from hdf5plugin's; the data never do.
        """
        view = memoryview(chunk).cast("B")
        count = splitter.parts(view.nbytes, SPLIT_MIN_PART_BYTES)
        compress_ctx = _compress_ctx()
        if count < 2 or compress_ctx is None or view.nbytes > MAX_BUFFERSIZE:
            return self.encode(chunk, element_size)
        source = np.frombuffer(view, dtype=np.uint8)  # an address without a copy, read-only too
        out = np.empty(view.nbytes + _HEADER.size, dtype=np.uint8)
        size = compress_ctx(
            self.level,
            int(self.shuffle),
            typesize_of(element_size),
            view.nbytes,
            source.ctypes.data,
            out.ctypes.data,
            out.nbytes,
            self.compressor.name.lower().encode(),
            0,
            count,
        )
        if size <= 0 or size > view.nbytes:
            return self.encode(chunk, element_size)  # the plugin's own verdict: fail or raw
        return out[:size].tobytes()

    def decode(self, chunk: BytesLike, element_size: int, limit: int | None = None) -> bytes:
        blosc = import_codec("numcodecs.blosc", _LABEL)
        view = memoryview(chunk).cast("B")
        nbytes = _read_header(view)
        check_declared("blosc", nbytes, limit)
        try:
            out: bytes = blosc.decompress(view)
        except RuntimeError as exc:
            raise FilterError(f"blosc: corrupt {view.nbytes}-byte buffer: {exc}") from exc
        if len(out) != nbytes:
            raise FilterError(f"blosc: buffer gave {len(out)} bytes, header says {nbytes}")
        return out

    def declared_size(self, chunk: BytesLike) -> int | None:
        """The uncompressed size (nbytes) in the chunk's blosc header, without decoding."""
        return _read_header(memoryview(chunk).cast("B"))


@functools.cache
def _compress_ctx() -> Callable[..., int] | None:
    """numcodecs' blosc_compress_ctx through ctypes, or None if its module does not export it."""
    blosc = import_codec("numcodecs.blosc", _LABEL)
    try:
        function = ctypes.CDLL(blosc.__file__).blosc_compress_ctx
    except (OSError, AttributeError, TypeError):
        return None
    size_t = ctypes.c_size_t
    function.restype = ctypes.c_int
    function.argtypes = [
        ctypes.c_int,  # clevel
        ctypes.c_int,  # doshuffle
        size_t,  # typesize
        size_t,  # nbytes
        ctypes.c_void_p,  # src
        ctypes.c_void_p,  # dest
        size_t,  # destsize
        ctypes.c_char_p,  # compressor
        size_t,  # blocksize (0: blosc picks, as numcodecs passes)
        ctypes.c_int,  # numinternalthreads
    ]
    return function


def _read_header(view: memoryview) -> int:
    if view.nbytes < _HEADER.size:
        raise FilterError(f"blosc: {view.nbytes}-byte chunk is shorter than its 16-byte header")
    version, _lz, flags, typesize, nbytes, blocksize, cbytes = _HEADER.unpack_from(view)
    if version == 0 or version > FORMAT_VERSION or typesize == 0:
        raise FilterError(f"blosc: header version {version}, typesize {typesize}: not blosc1")
    if cbytes != view.nbytes:
        raise FilterError(f"blosc: header says {cbytes} bytes, the chunk has {view.nbytes}")
    if flags & _MEMCPYED and nbytes + _HEADER.size != cbytes:
        raise FilterError(f"blosc: memcpyed buffer of {cbytes} bytes for {nbytes} bytes")
    if nbytes and (blocksize == 0 or blocksize > max(nbytes, _HEADER.size) * 2):
        raise FilterError(f"blosc: header block size {blocksize} for {nbytes} bytes")
    return int(nbytes)
