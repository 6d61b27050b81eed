"""Fill value message, type 0x0005 (spec §IV.A.2.f; libhdf5 H5Ofill.c H5O__fill_new_encode).

h5swmr writes version 3; versions 1 and 2 are decoded for the reader. h5py's default for a
chunked dataset is ``03 0b``: allocation incremental, fill written if set, default value.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.constants import MessageFlags, MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike

_WHAT = "fill value message"
_V3_HEADER = struct.Struct("<BB")  # version, flags
_V12_HEADER = struct.Struct("<3B")  # alloc time, fill time, defined (after the version)
_ALLOC_MASK = 0x03
_FILL_TIME_SHIFT = 2
_FILL_TIME_MASK = 0x0C
FLAG_UNDEFINED = 0x10
FLAG_HAS_VALUE = 0x20


class AllocTime(IntEnum):
    """H5D_alloc_time_t: when chunk space is allocated."""

    DEFAULT = 0
    EARLY = 1
    LATE = 2
    INCREMENTAL = 3


class FillTime(IntEnum):
    """H5D_fill_time_t: when the fill value is written."""

    ALLOC = 0
    NEVER = 1
    IFSET = 2


def _error(message: str) -> FormatError:
    return FormatError(f"{_WHAT}: {message}", structure=_WHAT)


@dataclass(frozen=True, slots=True)
class FillValueMessage:
    """Allocation time, fill time and the fill value (None: the default, all zero bytes).

    ``undefined`` marks a fill value explicitly set to undefined (flag bit 4); it has no value.
    """

    TYPE: ClassVar[MessageType] = MessageType.FILL_VALUE
    FLAGS: ClassVar[MessageFlags] = MessageFlags.CONSTANT
    VERSION: ClassVar[int] = 3

    alloc_time: AllocTime = AllocTime.INCREMENTAL
    fill_time: FillTime = FillTime.IFSET
    value: bytes | None = None
    undefined: bool = False

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "alloc_time", AllocTime(self.alloc_time))
            object.__setattr__(self, "fill_time", FillTime(self.fill_time))
        except ValueError as exc:
            raise _error(f"alloc time {self.alloc_time}, fill time {self.fill_time}") from exc
        if self.value is not None:
            object.__setattr__(self, "value", bytes(self.value))
            if self.undefined:
                raise _error("an undefined fill value cannot have a value")
            if len(self.value) >= 1 << 32:
                raise _error(f"value of {len(self.value)} bytes")

    def encode(self) -> bytes:
        flags = self.alloc_time | self.fill_time << _FILL_TIME_SHIFT
        if self.undefined:
            flags |= FLAG_UNDEFINED
        if self.value is None:
            return _V3_HEADER.pack(self.VERSION, flags)
        header = _V3_HEADER.pack(self.VERSION, flags | FLAG_HAS_VALUE)
        return header + struct.pack("<I", len(self.value)) + self.value

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        cur = ByteCursor(buf, _WHAT)
        version = cur.u8()
        if version == 3:
            flags = cur.u8()
            if flags & ~(_ALLOC_MASK | _FILL_TIME_MASK | FLAG_UNDEFINED | FLAG_HAS_VALUE):
                raise _error(f"flags {flags:#x}")
            if flags & FLAG_UNDEFINED and flags & FLAG_HAS_VALUE:
                raise _error("flags say both undefined and value present")
            value = cur.read(cur.u32()) if flags & FLAG_HAS_VALUE else None
            alloc, fill_time = flags & _ALLOC_MASK, (flags & _FILL_TIME_MASK) >> _FILL_TIME_SHIFT
            return cls(alloc, fill_time, value, bool(flags & FLAG_UNDEFINED))  # type: ignore[arg-type]
        if version in (1, 2):
            alloc, fill_time, defined = cur.unpack(_V12_HEADER)
            value = None
            if version == 1 or defined:
                value = cur.read(cur.u32()) or None
            return cls(alloc, fill_time, value, not defined and value is None)  # type: ignore[arg-type]
        raise _error(f"version {version}, expected 1, 2 or 3")
