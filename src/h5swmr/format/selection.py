"""Serialized dataspace selections (spec §IV.A.2.b "Dataspace selection"; libhdf5 H5Sselect.c
H5S_select_serialize/deserialize, H5Sall.c, H5Snone.c, H5Shyper.c).

Every selection starts with its type (u32) and version (u32). What follows:

- all / none, version 1: four reserved bytes and a length (u32, 0): 16 bytes in total;
- hyperslab version 1: reserved (4), length (u32), rank (u32), number of blocks (u32), then per
  block its start and end coordinates (rank u32 each); no unlimited counts;
- hyperslab version 2 (readable by libhdf5 1.10+): flags (u8, bit 0 regular), length (u32),
  rank (u32), then per dimension start, stride, count, block as u64; count or block may be
  H5S_UNLIMITED (all ones). libhdf5 writes it only for regular selections;
- hyperslab version 3 (libhdf5 1.12+): flags (u8), encoded width (u8: 2, 4 or 8), rank (u32),
  then per dimension start, stride, count, block in that width (regular), or the number of blocks
  and per block start and end coordinates (irregular). Unlimited is all ones in the width.

libhdf5 picks version 1 for a single-block, 32-bit selection and version 2 for any other regular
selection when the file's low bound is v110, and version 3 when it is v112 or later.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, TypeAlias

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import UNLIMITED
from h5swmr.format.cursor import ByteCursor, BytesLike

MAX_RANK = 32
FLAG_REGULAR = 0x01
_TYPE_VERSION = struct.Struct("<II")
_RESERVED_LENGTH = struct.Struct("<4xI")
_U32_MAX = 0xFFFF_FFFF
_WHAT = "dataspace selection"


class SelectionType(IntEnum):
    """H5S_sel_type as stored."""

    NONE = 0
    POINTS = 1
    HYPERSLABS = 2
    ALL = 3


def _error(message: str) -> FormatError:
    return FormatError(f"{_WHAT}: {message}", structure=_WHAT)


@dataclass(frozen=True, slots=True)
class AllSelection:
    """Every element of the dataspace (H5S_SEL_ALL, version 1: 16 bytes)."""

    TYPE: ClassVar[SelectionType] = SelectionType.ALL
    VERSION: ClassVar[int] = 1

    def encode(self) -> bytes:
        return _TYPE_VERSION.pack(self.TYPE, self.VERSION) + _RESERVED_LENGTH.pack(0)


@dataclass(frozen=True, slots=True)
class NoneSelection:
    """No element (H5S_SEL_NONE, version 1: 16 bytes)."""

    TYPE: ClassVar[SelectionType] = SelectionType.NONE
    VERSION: ClassVar[int] = 1

    def encode(self) -> bytes:
        return _TYPE_VERSION.pack(self.TYPE, self.VERSION) + _RESERVED_LENGTH.pack(0)


def _width_for(values: list[int]) -> int:
    """The narrowest version-3 width (2, 4 or 8 bytes) for ``values``; all ones means unlimited,
    so a width holds values strictly below its all-ones pattern."""
    top = max((v for v in values if v != UNLIMITED), default=0)
    return next(w for w in (2, 4, 8) if top < (1 << (8 * w)) - 1)


def _encode_value(value: int, width: int) -> bytes:
    if value == UNLIMITED:
        return b"\xff" * width
    return value.to_bytes(width, "little")


def _decode_value(cur: ByteCursor, width: int) -> int:
    value = cur.uint(width)
    return UNLIMITED if value == (1 << (8 * width)) - 1 else value


@dataclass(frozen=True, slots=True)
class HyperslabSelection:
    """A regular hyperslab: per dimension ``start``, ``stride``, ``count`` blocks of ``block``
    elements (H5Sselect_hyperslab). ``count`` (or ``block``) may be UNLIMITED: the selection
    then grows with the dataspace, as VDS mappings onto growing sources need.

    ``version`` 0 picks what libhdf5 writes for a file whose low bound is v110 (1 for a single
    32-bit block, else 2); 3 gives the compact form libhdf5 1.12+ writes.
    """

    TYPE: ClassVar[SelectionType] = SelectionType.HYPERSLABS

    start: tuple[int, ...]
    stride: tuple[int, ...]
    count: tuple[int, ...]
    block: tuple[int, ...]
    version: int = 0

    def __post_init__(self) -> None:
        fields = [
            tuple(int(v) for v in f) for f in (self.start, self.stride, self.count, self.block)
        ]
        if len(fields[1]) == len(fields[2]):  # one block along a dimension: its stride is moot
            fields[1] = tuple(1 if c == 1 else s for s, c in zip(fields[1], fields[2], strict=True))
        for name, values in zip(("start", "stride", "count", "block"), fields, strict=True):
            object.__setattr__(self, name, values)
        rank = len(self.start)
        if not 1 <= rank <= MAX_RANK or any(len(f) != rank for f in fields):
            raise _error(f"hyperslab fields of ranks {[len(f) for f in fields]}")
        for s, st, c, b in zip(*fields, strict=True):
            if not (0 <= s < UNLIMITED and 1 <= st < UNLIMITED and c >= 0 and b >= 1):
                raise _error(f"hyperslab start {s}, stride {st}, count {c}, block {b}")
            if c == UNLIMITED and b == UNLIMITED:
                raise _error("count and block cannot both be unlimited")
            if c not in (0, 1, UNLIMITED) and b != UNLIMITED and st < b:
                raise _error(f"stride {st} smaller than block {b}: blocks would overlap")
        if sum(UNLIMITED in (c, b) for c, b in zip(self.count, self.block, strict=True)) > 1:
            raise _error("at most one dimension may be unlimited")
        version = self.version or self._default_version()
        if version not in (1, 2, 3):
            raise _error(f"version {version}")
        if version == 1 and (self.unlimited_dim is not None or self.n_blocks > 1 << 20):
            raise _error("version 1 cannot hold unlimited or huge selections")
        object.__setattr__(self, "version", version)

    @classmethod
    def from_slices(
        cls, slices: tuple[tuple[int, int], ...], *, version: int = 0
    ) -> HyperslabSelection:
        """One block per dimension: ``(start, stop)`` pairs, ``stop`` UNLIMITED to grow."""
        start = tuple(a for a, _ in slices)
        count = tuple(UNLIMITED if b == UNLIMITED else 1 for _, b in slices)
        block = tuple(1 if b == UNLIMITED else b - a for a, b in slices)
        return cls(start, (1,) * len(slices), count, block, version)

    def _default_version(self) -> int:
        if self.unlimited_dim is None and self.n_blocks == 1:
            ends = [s + c * b for s, c, b in zip(self.start, self.count, self.block, strict=True)]
            if max(ends) <= _U32_MAX:
                return 1
        return 2

    @property
    def rank(self) -> int:
        return len(self.start)

    @property
    def unlimited_dim(self) -> int | None:
        """The dimension whose count or block is unlimited, if any."""
        for dim, (c, b) in enumerate(zip(self.count, self.block, strict=True)):
            if UNLIMITED in (c, b):
                return dim
        return None

    @property
    def n_blocks(self) -> int:
        """Blocks selected (UNLIMITED counts as one)."""
        return math.prod(1 if c == UNLIMITED else c for c in self.count)

    def blocks(self) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
        """(start, end) corners, ends inclusive, of every block of a limited selection."""
        if self.unlimited_dim is not None:
            raise UnsupportedError(f"{_WHAT}: an unlimited hyperslab has no finite block list")
        corners: list[tuple[tuple[int, ...], tuple[int, ...]]] = [((), ())]
        for s, st, c, b in zip(self.start, self.stride, self.count, self.block, strict=True):
            corners = [
                ((*lo, s + i * st), (*hi, s + i * st + b - 1))
                for lo, hi in corners
                for i in range(c)
            ]
        return corners

    def encode(self) -> bytes:
        head = _TYPE_VERSION.pack(self.TYPE, self.version)
        rank = self.rank
        columns = zip(self.start, self.stride, self.count, self.block, strict=True)
        if self.version == 1:
            blocks = self.blocks()
            length = 8 + len(blocks) * rank * 8
            body = [_RESERVED_LENGTH.pack(length), struct.pack("<II", rank, len(blocks))]
            body += [struct.pack(f"<{2 * rank}I", *lo, *hi) for lo, hi in blocks]
            return head + b"".join(body)
        values = [v for column in columns for v in column]
        if self.version == 2:
            length = 4 + 32 * rank
            return head + struct.pack(f"<BII{4 * rank}Q", FLAG_REGULAR, length, rank, *values)
        width = _width_for(values)
        encoded = b"".join(_encode_value(v, width) for v in values)
        return head + struct.pack("<BBI", FLAG_REGULAR, width, rank) + encoded


@dataclass(frozen=True, slots=True)
class HyperslabBlockList:
    """An irregular hyperslab: a list of (start, end) blocks, ends inclusive (versions 1, 3)."""

    TYPE: ClassVar[SelectionType] = SelectionType.HYPERSLABS

    blocks: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]
    version: int = 1

    def __post_init__(self) -> None:
        blocks = tuple((tuple(lo), tuple(hi)) for lo, hi in self.blocks)
        object.__setattr__(self, "blocks", blocks)
        ranks = {len(c) for block in blocks for c in block}
        if len(ranks) != 1 or not 1 <= next(iter(ranks)) <= MAX_RANK:
            raise _error(f"block list with ranks {sorted(ranks)}")
        if any(
            not 0 <= a <= b < UNLIMITED for lo, hi in blocks for a, b in zip(lo, hi, strict=True)
        ):
            raise _error("a block whose end precedes its start")
        if self.version not in (1, 3):
            raise _error(f"block lists are stored as version 1 or 3, not {self.version}")

    @property
    def rank(self) -> int:
        return len(self.blocks[0][0])

    def encode(self) -> bytes:
        rank = self.rank
        head = _TYPE_VERSION.pack(self.TYPE, self.version)
        coords = [v for lo, hi in self.blocks for v in (*lo, *hi)]
        if self.version == 1:
            if max(coords) > _U32_MAX:
                raise _error("version 1 holds 32-bit coordinates only")
            length = 8 + len(self.blocks) * rank * 8
            return (
                head
                + _RESERVED_LENGTH.pack(length)
                + struct.pack(f"<II{len(coords)}I", rank, len(self.blocks), *coords)
            )
        width = _width_for([*coords, len(self.blocks)])
        encoded = b"".join(v.to_bytes(width, "little") for v in (len(self.blocks), *coords))
        return head + struct.pack("<BBI", 0, width, rank) + encoded


Selection: TypeAlias = AllSelection | NoneSelection | HyperslabSelection | HyperslabBlockList


def decode_selection(cur: ByteCursor) -> Selection:
    """Decode the selection at ``cur`` and move past it."""
    raw_type, version = cur.unpack(_TYPE_VERSION)
    if raw_type in (SelectionType.ALL, SelectionType.NONE):
        if version != 1:
            raise _error(f"{SelectionType(raw_type).name.lower()} selection version {version}")
        cur.unpack(_RESERVED_LENGTH)
        return AllSelection() if raw_type == SelectionType.ALL else NoneSelection()
    if raw_type == SelectionType.POINTS:
        raise UnsupportedError(f"{_WHAT}: point selections are not supported")
    if raw_type != SelectionType.HYPERSLABS:
        raise _error(f"selection type {raw_type}")
    if version == 1:
        (length,) = cur.unpack(_RESERVED_LENGTH)
        rank, n = cur.u32(), cur.u32()
        _check_rank(rank)
        if length != 8 + n * rank * 8:
            raise _error(f"version 1 length {length} for {n} blocks of rank {rank}")
        return _block_list(cur, rank, n, 4, 1)
    if version == 2:
        flags, length, rank = cur.unpack(struct.Struct("<BII"))
        _check_rank(rank)
        if not flags & FLAG_REGULAR:
            raise UnsupportedError(f"{_WHAT}: irregular version 2 hyperslabs are not supported")
        if length != 4 + 32 * rank:
            raise _error(f"version 2 length {length} for rank {rank}")
        values = [cur.u64() for _ in range(4 * rank)]
        return _regular(values, rank, 2)
    if version == 3:
        flags, width, rank = cur.unpack(struct.Struct("<BBI"))
        _check_rank(rank)
        if width not in (2, 4, 8) or flags & ~FLAG_REGULAR:
            raise _error(f"version 3 flags {flags:#x}, width {width}")
        if flags & FLAG_REGULAR:
            return _regular([_decode_value(cur, width) for _ in range(4 * rank)], rank, 3)
        return _block_list(cur, rank, cur.uint(width), width, 3)
    raise _error(f"hyperslab version {version}")


def decode_selection_bytes(buf: BytesLike) -> Selection:
    """Decode a selection that fills ``buf`` exactly."""
    cur = ByteCursor(buf, _WHAT)
    selection = decode_selection(cur)
    if cur.remaining:
        raise _error(f"{cur.remaining} bytes after the selection")
    return selection


def _check_rank(rank: int) -> None:
    if not 1 <= rank <= MAX_RANK:
        raise _error(f"rank {rank}")


def _regular(values: list[int], rank: int, version: int) -> HyperslabSelection:
    start, stride, count, block = (tuple(values[k::4]) for k in range(4))
    if len(start) != rank:
        raise _error("regular hyperslab fields")
    return HyperslabSelection(start, stride, count, block, version)


def _block_list(cur: ByteCursor, rank: int, n: int, width: int, version: int) -> Selection:
    if n * 2 * rank * width > cur.remaining:
        cur.skip(n * 2 * rank * width)  # raises TruncatedError
    blocks = []
    for _ in range(n):
        coords = [cur.uint(width) for _ in range(2 * rank)]
        blocks.append((tuple(coords[:rank]), tuple(coords[rank:])))
    if n == 0:
        raise UnsupportedError(f"{_WHAT}: a hyperslab of no blocks is not supported")
    if n == 1 and version == 1:  # what libhdf5 writes for a regular single block
        lo, hi = blocks[0]
        if all(a <= b for a, b in zip(lo, hi, strict=True)):
            shape = tuple(b - a + 1 for a, b in zip(lo, hi, strict=True))
            return HyperslabSelection(lo, (1,) * rank, (1,) * rank, shape, version)
    return HyperslabBlockList(tuple(blocks), version)
