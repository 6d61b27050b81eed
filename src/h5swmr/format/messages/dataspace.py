"""Dataspace message, type 0x0001 (spec §IV.A.2.b; libhdf5 H5Osdspace.c).

h5swmr writes version 2. Version 1 (libhdf5's older form) is decoded for the reader.
The dims of a streaming dataset are rewritten in place: the encoding of a given rank and
maxdims has a fixed size (``size``) whatever the dims.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Final, Self

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import SIZE_OF_LENGTHS, UNLIMITED, MessageFlags, MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike

MAX_RANK = 32
"""H5S_MAX_RANK."""

FLAG_MAXDIMS = 0x01
FLAG_PERMUTATION = 0x02  # version 1 only; never written by libhdf5

_V2_HEADER = struct.Struct("<4B")  # version, rank, flags, type
_DIM = struct.Struct("<Q")
_V1_HEADER = struct.Struct("<3B5x")  # version, rank, flags, reserved (1 + 4)
pack_dim_into: Final = _DIM.pack_into
"""``pack_dim_into(image, offset, n)`` stores one dimension at ``offset``: ``patch_first_dim``
for a caller that computed ``body_offset + FIRST_DIM_OFFSET`` once (a writer, at every commit)."""
_WHAT = "dataspace message"


class DataspaceType(IntEnum):
    """Dataspace type byte of version 2."""

    SCALAR = 0
    SIMPLE = 1
    NULL = 2


def _error(message: str) -> FormatError:
    return FormatError(f"{_WHAT}: {message}", structure=_WHAT)


@dataclass(frozen=True, slots=True)
class DataspaceMessage:
    """The shape of a dataset or attribute: ``dims`` and optional ``maxdims`` (UNLIMITED allowed).

    Rank 0 is a scalar. ``maxdims=None`` stores no maximum (libhdf5 then takes dims as maximum).
    """

    TYPE: ClassVar[MessageType] = MessageType.DATASPACE
    FLAGS: ClassVar[MessageFlags] = MessageFlags.NONE
    VERSION: ClassVar[int] = 2
    FIRST_DIM_OFFSET: ClassVar[int] = _V2_HEADER.size
    """Where dims[0] lies in a version 2 body: after the version, rank, flags and type bytes."""

    dims: tuple[int, ...]
    maxdims: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "dims", tuple(self.dims))
        if self.maxdims is not None:
            maxdims = tuple(self.maxdims)
            object.__setattr__(self, "maxdims", maxdims if maxdims or self.dims else None)
        if len(self.dims) > MAX_RANK:
            raise _error(f"rank {len(self.dims)} exceeds {MAX_RANK}")
        if any(not 0 <= d < UNLIMITED for d in self.dims):
            raise _error(f"dims {self.dims} must be in 0..2**64-2")
        if self.maxdims is None:
            return
        if len(self.maxdims) != len(self.dims):
            raise _error(f"maxdims {self.maxdims} and dims {self.dims} differ in rank")
        for d, m in zip(self.dims, self.maxdims, strict=True):
            if m != UNLIMITED and not d <= m:
                raise _error(f"dims {self.dims} exceed maxdims {self.maxdims}")

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def is_scalar(self) -> bool:
        return not self.dims

    @property
    def size(self) -> int:
        """Bytes of the encoding: fixed for a given rank and presence of maxdims."""
        n = self.rank * (2 if self.maxdims is not None else 1)
        return _V2_HEADER.size + SIZE_OF_LENGTHS * n

    @classmethod
    def first_dim_in(cls, image: BytesLike, body_offset: int) -> int:
        """dims[0] of the version 2 body that starts at ``body_offset`` of ``image``."""
        return int(_DIM.unpack_from(image, body_offset + cls.FIRST_DIM_OFFSET)[0])

    @classmethod
    def patch_first_dim(cls, image: bytearray, body_offset: int, n: int) -> None:
        """Set dims[0] of the version 2 body at ``body_offset`` of ``image`` in place: a streaming
        dataset's frame count, the one field a commit changes (the caller reseals the block)."""
        _DIM.pack_into(image, body_offset + cls.FIRST_DIM_OFFSET, n)

    def with_dims(self, dims: tuple[int, ...]) -> DataspaceMessage:
        """A copy with new current dims (same maxdims)."""
        return dataclasses.replace(self, dims=tuple(dims))

    def encode(self) -> bytes:
        flags = FLAG_MAXDIMS if self.maxdims is not None else 0
        kind = DataspaceType.SIMPLE if self.dims else DataspaceType.SCALAR
        values = self.dims + (self.maxdims or ())
        header = _V2_HEADER.pack(self.VERSION, self.rank, flags, kind)
        return header + struct.pack(f"<{len(values)}Q", *values)

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        cur = ByteCursor(buf, _WHAT)
        version = cur.u8()
        if version == 1:
            cur.offset = 0
            _, rank, flags = cur.unpack(_V1_HEADER)
        elif version == 2:
            rank, flags, kind = cur.u8(), cur.u8(), cur.u8()
            if kind == DataspaceType.NULL:
                raise UnsupportedError(f"{_WHAT}: null dataspaces are not supported")
            if kind not in (DataspaceType.SCALAR, DataspaceType.SIMPLE):
                raise _error(f"type {kind}")
            if (kind == DataspaceType.SCALAR) != (rank == 0):
                raise _error(f"type {kind} with rank {rank}")
        else:
            raise _error(f"version {version}, expected 1 or 2")
        if rank > MAX_RANK:
            raise _error(f"rank {rank} exceeds {MAX_RANK}")
        if flags & ~(FLAG_MAXDIMS | (FLAG_PERMUTATION if version == 1 else 0)):
            raise _error(f"flags {flags:#x}")
        dims = tuple(cur.u64() for _ in range(rank))
        maxdims = tuple(cur.u64() for _ in range(rank)) if flags & FLAG_MAXDIMS else None
        if flags & FLAG_PERMUTATION:
            cur.skip(SIZE_OF_LENGTHS * rank)
        return cls(dims, maxdims)
