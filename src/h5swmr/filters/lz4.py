"""LZ4, filter id 32004 (HDF5 plugin H5Zlz4.c, as hdf5plugin builds it).

Chunk bytes: u64 BE uncompressed size, u32 BE block size, then per block a u32 BE compressed size
and a raw LZ4 block (no frame). A block that does not shrink is stored as is, with its compressed
size equal to its own size. The last block may be short.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from types import ModuleType
from typing import ClassVar, Final, Self

from h5swmr.errors import FilterError
from h5swmr.filters._optional import import_codec
from h5swmr.filters.base import Filter
from h5swmr.filters.split import ChunkSplitter
from h5swmr.filters.zstd import check_declared
from h5swmr.format.constants import FilterId
from h5swmr.format.cursor import BytesLike

PLUGIN_BLOCK_SIZE: Final = 1 << 30
"""Block size (bytes) the plugin uses for cd_values ``(0,)``, clamped to the chunk size: one
block per chunk, which nobody can split across threads and keep the same bytes."""
DEFAULT_BLOCK_SIZE: Final = 256 * 1024
"""h5swmr's default block size, stored in cd_values so every reader sees it. Blocks of 256 KiB
let a chunk of 512 KiB or more be split across the filter threads; against one block per chunk
they cost 0.1-0.16% of the compressed size and no single-thread speed, where 64 KiB blocks cost
14-30% (lz4 compresses inputs under 64 KiB + 11 bytes in its small-input mode)
(benchmarks/lz4_block_size.py, Poisson(2) and EIGER-like frames)."""
WHOLE_CHUNK: Final = 0
"""``block_size`` for one block per chunk: hdf5plugin's default, its exact bytes (cd_values
``(0,)``); never split across threads."""
MAX_BLOCK_SIZE: Final = 0x7E00_0000
"""LZ4_MAX_INPUT_SIZE."""
MAX_RATIO: Final = 255
"""No LZ4 block expands to more than 255 times its compressed size."""

_HEADER = struct.Struct(">QI")
_BLOCK = struct.Struct(">I")
_NUMCODECS_SIZE = struct.Struct("<I")
SPLIT_MIN_PART_BYTES: Final = 128 * 1024
"""Smallest run of blocks worth a thread of its own (benchmarks/split_threshold.py, 2 cores,
64 KiB blocks: 1.14x for a 256 KiB chunk, 1.65x from 512 KiB)."""


@dataclass(frozen=True, slots=True)
class LZ4Filter(Filter):
    """LZ4 blocks of ``block_size`` bytes; cd_values ``(block_size,)``.

    The default, 256 KiB (``DEFAULT_BLOCK_SIZE``), lets a large chunk be compressed on several
    threads; hdf5plugin and h5py read the block size from the chunk. ``block_size=0``
    (``WHOLE_CHUNK``) is hdf5plugin's default, one block per chunk: hdf5plugin's exact bytes
    for the same data, on one thread. Any size gives hdf5plugin's bytes at that size.

    Backed by numcodecs' LZ4 (a core dependency; it bundles lz4 1.10 as hdf5plugin does, so the
    bytes are identical, where python-lz4's 1.9.4 differs), which releases the GIL. numcodecs
    frames a block with a 4-byte LE size, which is dropped here and put back to decode.
    """

    filter_id: ClassVar[FilterId] = FilterId.LZ4
    name: ClassVar[str] = (
        "HDF5 lz4 filter; see"
        " https://github.com/HDFGroup/hdf5_plugins/blob/master/docs/RegisteredFilterPlugins.md"
    )

    block_size: int = DEFAULT_BLOCK_SIZE

    def __post_init__(self) -> None:
        if isinstance(self.block_size, bool) or not isinstance(self.block_size, int):
            raise FilterError(f"lz4 block size {self.block_size!r}: expected an int of bytes")
        if not 0 <= self.block_size <= MAX_BLOCK_SIZE:
            raise FilterError(f"lz4 block size {self.block_size} outside 0..{MAX_BLOCK_SIZE}")
        import_codec("numcodecs.lz4", "the lz4 filter")

    def cd_values(self, element_size: int) -> tuple[int, ...]:
        return (self.block_size,)

    @classmethod
    def from_cd_values(cls, cd_values: tuple[int, ...]) -> Self:
        if len(cd_values) > 1:
            raise FilterError(f"lz4: cd_values {cd_values}, expected (block size,) or ()")
        return cls(cd_values[0] if cd_values else WHOLE_CHUNK)

    def encode(self, chunk: BytesLike, element_size: int) -> bytes:
        view = memoryview(chunk).cast("B")
        block = self._block(view.nbytes)
        return b"".join((_HEADER.pack(view.nbytes, block), *_blocks(view, block)))

    def encode_split(self, chunk: BytesLike, element_size: int, splitter: ChunkSplitter) -> bytes:
        """The same bytes as ``encode``: runs of whole blocks, each run on its own thread."""
        view = memoryview(chunk).cast("B")
        block = self._block(view.nbytes)
        blocks = -(-view.nbytes // block) if block else 0
        count = min(blocks, splitter.parts(view.nbytes, SPLIT_MIN_PART_BYTES))
        if count < 2:
            return self.encode(chunk, element_size)
        step = -(-blocks // count) * block
        runs = [view[start : start + step] for start in range(0, view.nbytes, step)]
        parts = splitter.map(lambda run: _blocks(run, block), runs)
        return b"".join((_HEADER.pack(view.nbytes, block), *(p for run in parts for p in run)))

    def _block(self, total: int) -> int:
        return min(self.block_size or PLUGIN_BLOCK_SIZE, total)

    def decode(self, chunk: BytesLike, element_size: int, limit: int | None = None) -> bytes:
        codec = import_codec("numcodecs.lz4", "the lz4 filter")
        view = memoryview(chunk).cast("B")
        total, block = _read_header(view)
        check_declared("lz4", total, limit)
        block = min(block, total)
        parts: list[bytes] = []
        done, pos = 0, _HEADER.size
        while done < total:
            size = min(block, total - done)
            if pos + _BLOCK.size > view.nbytes:
                raise FilterError(f"lz4: chunk ends before the block at byte {done} of {total}")
            (packed,) = _BLOCK.unpack_from(view, pos)
            pos += _BLOCK.size
            data = view[pos : pos + packed]
            if data.nbytes != packed:
                raise FilterError(f"lz4: block at byte {done} runs past the chunk's end")
            pos += packed
            if packed == size:
                parts.append(bytes(data))
            else:
                parts.append(decompress_block(codec, data, size, f"lz4: block at byte {done}"))
            done += size
        if pos != view.nbytes:
            raise FilterError(f"lz4: {view.nbytes - pos} bytes after the last block")
        return b"".join(parts)

    def declared_size(self, chunk: BytesLike) -> int | None:
        """The uncompressed size in the chunk's header, without decoding."""
        return _read_header(memoryview(chunk).cast("B"))[0]


def _blocks(view: memoryview, block: int) -> list[BytesLike]:
    """Size prefixes and LZ4 blocks of ``view`` in ``block``-byte blocks (the last may be short);
    a block that does not shrink is stored as is."""
    codec = import_codec("numcodecs.lz4", "the lz4 filter")
    parts: list[BytesLike] = []
    for start in range(0, view.nbytes, block or 1):
        raw = view[start : start + block]
        packed = memoryview(codec.compress(raw))[_NUMCODECS_SIZE.size :]
        if packed.nbytes >= raw.nbytes:
            parts += (_BLOCK.pack(raw.nbytes), raw)
        else:
            parts += (_BLOCK.pack(packed.nbytes), packed)
    return parts


def decompress_block(codec: ModuleType, block: BytesLike, size: int, where: str) -> bytes:
    """Decompress one raw LZ4 block that must give exactly ``size`` bytes (numcodecs.lz4)."""
    try:
        out = bytes(codec.decompress(b"".join((_NUMCODECS_SIZE.pack(size), block))))
    except RuntimeError as exc:
        raise FilterError(f"{where}: corrupt lz4 block: {exc}") from exc
    if len(out) != size:
        raise FilterError(f"{where}: lz4 block gave {len(out)} of {size} bytes")
    return out


def _read_header(view: memoryview) -> tuple[int, int]:
    if view.nbytes < _HEADER.size:
        raise FilterError(f"lz4: {view.nbytes}-byte chunk is shorter than its 12-byte header")
    total, block = _HEADER.unpack_from(view)
    if total and not block:
        raise FilterError(f"lz4: header declares {total} bytes in blocks of 0 bytes")
    if total > MAX_RATIO * view.nbytes + _HEADER.size:
        raise FilterError(f"lz4: header declares {total} bytes in a {view.nbytes}-byte chunk")
    return total, block
