"""Bitshuffle, filter id 32008 (bshuf_h5filter.c, bitshuffle.c, as hdf5plugin builds them).

With LZ4 or zstd, chunk bytes are a 12-byte header (u64 BE uncompressed bytes, u32 BE block size
in bytes), then per whole block of ``block_size`` elements a u32 BE compressed size and an LZ4
raw block (or a zstd frame) of the bit-shuffled block; then the last partial block, rounded down
to a multiple of 8 elements, the same way; then the last ``(n % 8) * element_size`` bytes raw.
Without compression the chunk is the bit-shuffled data alone, no header.
"""

from __future__ import annotations

import importlib
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, Final, Self

import numpy as np

from h5swmr.errors import FilterError
from h5swmr.filters._optional import import_codec
from h5swmr.filters.base import Filter
from h5swmr.filters.lz4 import decompress_block
from h5swmr.filters.split import ChunkSplitter
from h5swmr.filters.zstd import DEFAULT_LEVEL, check_declared, check_level, decompress_frame
from h5swmr.format.constants import FilterId
from h5swmr.format.cursor import BytesLike

VERSION: Final = (0, 4)
"""Major and minor version the plugin stores in cd_values[0:2]."""
BLOCKED_MULT: Final = 8
TARGET_BLOCK_BYTES: Final = 8192
MIN_DEFAULT_BLOCK: Final = 128
MAX_BLOCK_SIZE: Final = 1 << 28
MAX_RATIO: Final = 255
"""No LZ4 block expands to more than 255 times its size (zstd ones can)."""

SPLIT_MIN_PART_BYTES: Final = 512 * 1024
"""Smallest run of blocks worth a thread of its own (benchmarks/split_threshold.py, 2 cores: the
split of a 512 KiB chunk ran at 0.7x, 1 MiB 1.06x, 2 MiB 1.16x, 4 MiB 1.33x, measured while
every part still opened an OpenMP team of the bitshuffle wheel on top of the split, which
``one_openmp_thread`` now prevents). A 1 MiB part compresses in about 0.36 ms on one core, and
two threads each compressing 1 MiB parts did twice the work of one in the same time (the codec
releases the GIL): the split, not OpenMP, is what spreads a chunk now."""

_HEADER = struct.Struct(">QI")
_BLOCK = struct.Struct(">I")
_LABEL: Final = "the bitshuffle filter"


class BitshuffleCompression(IntEnum):
    """cd_values[4]: what compresses each bit-shuffled block."""

    NONE = 0
    LZ4 = 2
    ZSTD = 3


def default_block_size(element_size: int) -> int:
    """bshuf_default_block_size: about 8 KiB of elements, a multiple of 8, at least 128."""
    return max(MIN_DEFAULT_BLOCK, TARGET_BLOCK_BYTES // element_size // BLOCKED_MULT * BLOCKED_MULT)


@dataclass(frozen=True, slots=True)
class BitshuffleFilter(Filter):
    """Bit shuffle in blocks of ``block_size`` elements (0: about 8 KiB), then LZ4 or zstd.

    cd_values ``(0, 4, element_size, block_size, compression[, level])``; ``level`` (zstd only,
    0..22) is stored for zstd alone and must stay ``None`` otherwise. Backed by the ``bitshuffle``
    package (its compiled, SIMD bit transpose and LZ4 codec; OpenMP inside), ``zstandard`` and
    numcodecs' LZ4 (to decode); all release the GIL. The chunk must hold whole elements (HDF5
    chunks always do).
    """

    filter_id: ClassVar[FilterId] = FilterId.BITSHUFFLE
    name: ClassVar[str] = "bitshuffle; see https://github.com/kiyo-masui/bitshuffle"

    block_size: int = 0
    compression: BitshuffleCompression = BitshuffleCompression.LZ4
    level: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.block_size, bool) or not isinstance(self.block_size, int):
            raise FilterError(f"bitshuffle block size {self.block_size!r}: expected an int")
        if not 0 <= self.block_size <= MAX_BLOCK_SIZE or self.block_size % BLOCKED_MULT:
            raise FilterError(
                f"bitshuffle block size {self.block_size}: expected a multiple of"
                f" {BLOCKED_MULT} elements in 0..{MAX_BLOCK_SIZE} (0 = default)"
            )
        if not isinstance(self.compression, BitshuffleCompression):
            raise FilterError(
                f"bitshuffle compression {self.compression!r}: expected a BitshuffleCompression"
            )
        if self.compression is BitshuffleCompression.ZSTD:
            check_level(self.level, "bitshuffle zstd", minimum=0)
            import_codec("zstandard", _LABEL)
        elif self.level is not None:
            raise FilterError(f"bitshuffle level {self.level!r}: only zstd takes a level")
        import_codec("bitshuffle", _LABEL)
        if self.compression is BitshuffleCompression.LZ4:
            import_codec("numcodecs.lz4", _LABEL)

    def cd_values(self, element_size: int) -> tuple[int, ...]:
        values = (*VERSION, element_size, self.block_size, int(self.compression))
        return values if self.level is None else (*values, self.level)

    @classmethod
    def from_cd_values(cls, cd_values: tuple[int, ...]) -> Self:
        if len(cd_values) not in (5, 6):
            raise FilterError(
                f"bitshuffle: cd_values {cd_values}, expected (major, minor, element size,"
                " block size, compression[, level])"
            )
        try:
            compression = BitshuffleCompression(cd_values[4])
        except ValueError:
            raise FilterError(f"bitshuffle: unknown compression {cd_values[4]}") from None
        level: int | None = None
        if compression is BitshuffleCompression.ZSTD:
            level = cd_values[5] if len(cd_values) == 6 else DEFAULT_LEVEL
        return cls(cd_values[3], compression, level)

    def _block(self, element_size: int) -> int:
        return self.block_size or default_block_size(element_size)

    def encode(self, chunk: BytesLike, element_size: int) -> bytes:
        array = _elements(chunk, element_size)
        block = self._block(element_size)
        if self.compression is BitshuffleCompression.NONE:
            bitshuffle = import_codec("bitshuffle", _LABEL)
            return memoryview(bitshuffle.bitshuffle(array, block).view(np.uint8)).tobytes()
        body = self._body(array, block, element_size)
        return b"".join((_HEADER.pack(array.nbytes, block * element_size), *body))

    def encode_split(self, chunk: BytesLike, element_size: int, splitter: ChunkSplitter) -> bytes:
        """The same bytes as ``encode``: runs of whole blocks, each run on its own thread.

        Blocks are shuffled and compressed independently, so a run of them (the last one with
        the partial block and the raw tail) encodes alone to its slice of the chunk's body.
        Every thread that runs a part pins bitshuffle's OpenMP to itself meanwhile (one thread
        per team, ``one_openmp_thread``): the splitter's threads are the parallelism, and OpenMP
        teams of their own on top would put twice as many threads as cores on the machine.
        Without ``threadpoolctl`` nothing is pinned, so nothing is split either: bitshuffle's
        own OpenMP threads spread the chunk's blocks.
        """
        openmp = openmp_controller()
        if openmp is None:
            return self.encode(chunk, element_size)
        array = _elements(chunk, element_size)
        block = self._block(element_size)
        blocks = -(-array.size // block)
        count = min(blocks, splitter.parts(array.nbytes, SPLIT_MIN_PART_BYTES))
        if self.compression is BitshuffleCompression.NONE or count < 2:
            return self.encode(chunk, element_size)
        step = -(-blocks // count) * block
        runs = [array[start : start + step] for start in range(0, array.size, step)]

        def body(run: np.ndarray[Any, Any]) -> list[BytesLike]:
            with one_openmp_thread(openmp):
                return self._body(run, block, element_size)

        bodies = splitter.map(body, runs)
        header = _HEADER.pack(array.nbytes, block * element_size)
        return b"".join((header, *(part for body in bodies for part in body)))

    def _body(self, array: np.ndarray[Any, Any], block: int, element_size: int) -> list[BytesLike]:
        """The compressed blocks of ``array`` and its raw tail: a chunk's bytes after the header."""
        bitshuffle = import_codec("bitshuffle", _LABEL)
        if self.compression is BitshuffleCompression.LZ4:
            return [bitshuffle.compress_lz4(array, block)]
        shuffled = memoryview(bitshuffle.bitshuffle(array, block).view(np.uint8))
        zstandard = import_codec("zstandard", _LABEL)
        compressor = zstandard.ZstdCompressor(level=self.level)
        parts: list[BytesLike] = []
        for start, stop in _blocks(array.size, block, element_size):
            packed: bytes = compressor.compress(shuffled[start:stop])
            parts += (_BLOCK.pack(len(packed)), packed)
        parts.append(shuffled[len(array) // BLOCKED_MULT * BLOCKED_MULT * element_size :])
        return parts

    def decode(self, chunk: BytesLike, element_size: int, limit: int | None = None) -> bytes:
        bitshuffle = import_codec("bitshuffle", _LABEL)
        if self.compression is BitshuffleCompression.NONE:
            array = _elements(chunk, element_size)
            return bytes(bitshuffle.bitunshuffle(array, self._block(element_size)).data)
        view = memoryview(chunk).cast("B")
        total, block_bytes = _read_header(view, lz4=self.compression is BitshuffleCompression.LZ4)
        check_declared("bitshuffle", total, limit)
        if not block_bytes or block_bytes > MAX_BLOCK_SIZE * element_size:
            raise FilterError(
                f"bitshuffle: header declares blocks of {block_bytes} bytes, expected 1 to"
                f" {MAX_BLOCK_SIZE} elements"
            )
        if total % element_size or block_bytes % (element_size * BLOCKED_MULT):
            raise FilterError(
                f"bitshuffle: header declares {total} bytes in blocks of {block_bytes} bytes,"
                f" not whole {element_size}-byte elements in multiples of {BLOCKED_MULT}"
            )
        count, block = total // element_size, block_bytes // element_size
        codec = self._block_decoder()
        shuffled = np.empty(total, dtype=np.uint8)
        pos = _HEADER.size
        for start, stop in _blocks(count, block, element_size):
            if pos + _BLOCK.size > view.nbytes:
                raise FilterError(f"bitshuffle: chunk ends before the block at byte {start}")
            (packed,) = _BLOCK.unpack_from(view, pos)
            pos += _BLOCK.size
            data = view[pos : pos + packed]
            if data.nbytes != packed:
                raise FilterError(f"bitshuffle: block at byte {start} runs past the chunk's end")
            pos += packed
            shuffled[start:stop] = np.frombuffer(codec(data, stop - start), dtype=np.uint8)
        tail = count // BLOCKED_MULT * BLOCKED_MULT * element_size
        if view.nbytes - pos != total - tail:
            raise FilterError(
                f"bitshuffle: {view.nbytes - pos} bytes after the last block, expected"
                f" {total - tail}"
            )
        shuffled[tail:] = np.frombuffer(view[pos:], dtype=np.uint8)
        array = shuffled.view(np.dtype(f"V{element_size}"))
        return bytes(bitshuffle.bitunshuffle(array, block).data)

    def _block_decoder(self) -> Any:
        if self.compression is BitshuffleCompression.LZ4:
            codec = import_codec("numcodecs.lz4", _LABEL)
            return lambda data, size: decompress_block(codec, data, size, "bitshuffle")
        zstandard = import_codec("zstandard", _LABEL)
        return lambda data, size: decompress_frame(zstandard, data, size, "bitshuffle")

    def declared_size(self, chunk: BytesLike) -> int | None:
        """The uncompressed size in the chunk's header (None without compression: no header)."""
        if self.compression is BitshuffleCompression.NONE:
            return None
        lz4 = self.compression is BitshuffleCompression.LZ4
        return _read_header(memoryview(chunk).cast("B"), lz4=lz4)[0]


_OPENMP: list[Any] = []
"""threadpoolctl's controller of the OpenMP runtimes loaded, made once (empty: not yet)."""


def openmp_controller() -> Any | None:
    """threadpoolctl's controller of the OpenMP runtimes loaded (made once), or None if
    ``threadpoolctl``, which finds the runtime under whatever name the wheel gave it, is not
    installed."""
    if not _OPENMP:
        try:
            threadpoolctl = importlib.import_module("threadpoolctl")
        except ImportError:
            return None
        _OPENMP.append(threadpoolctl.ThreadpoolController().select(user_api="openmp"))
    return _OPENMP[0]


@contextmanager
def one_openmp_thread(controller: Any) -> Iterator[None]:
    """Inside, every OpenMP parallel region the calling thread opens runs on that thread alone;
    the thread's own setting comes back on the way out.

    The ``bitshuffle`` wheel's extension brings its own libgomp and runs its blocks on OpenMP
    threads, as many as cores. A thread that runs one part of a split chunk already has a core's
    worth of work, so OpenMP's teams on top oversubscribe the cores, and libgomp's threads spin
    while they wait: under load an encode of a 4 MiB chunk took 2.3 s instead of 0.07 s.
    libgomp keeps the thread count per calling thread (an ICV of the thread), so the limit holds
    for this thread alone, and only while its part runs: the part may run on the application's
    own thread (the writer filters a lone chunk there), whose setting is not the filter's to
    keep. Setting and restoring costs about 4 us.
    """
    limiter = controller.limit(limits=1)
    try:
        yield
    finally:
        limiter.restore_original_limits()


def _elements(chunk: BytesLike, element_size: int) -> np.ndarray[Any, Any]:
    """The chunk as a 1-D array of ``element_size``-byte elements, as bitshuffle wants it."""
    if isinstance(element_size, bool) or not isinstance(element_size, int) or element_size < 1:
        raise FilterError(f"bitshuffle: element size {element_size!r}, expected an int >= 1")
    raw = np.frombuffer(chunk, dtype=np.uint8)
    if raw.size % element_size:
        raise FilterError(
            f"bitshuffle: {raw.size}-byte chunk is not whole {element_size}-byte elements"
        )
    return raw.view(np.dtype(f"V{element_size}"))


def _blocks(count: int, block: int, element_size: int) -> list[tuple[int, int]]:
    """Byte ranges of the compressed blocks: whole ones, then the rest rounded down to 8."""
    whole, rest = divmod(count, block)
    step = block * element_size
    ranges = [(i * step, (i + 1) * step) for i in range(whole)]
    last = rest // BLOCKED_MULT * BLOCKED_MULT * element_size
    if last:
        ranges.append((whole * step, whole * step + last))
    return ranges


def _read_header(view: memoryview, *, lz4: bool) -> tuple[int, int]:
    if view.nbytes < _HEADER.size:
        raise FilterError(f"bitshuffle: {view.nbytes}-byte chunk is shorter than its header")
    total, block_bytes = _HEADER.unpack_from(view)
    if lz4 and total > MAX_RATIO * view.nbytes + _HEADER.size:
        raise FilterError(
            f"bitshuffle: header declares {total} bytes in a {view.nbytes}-byte chunk"
        )
    return total, block_bytes
