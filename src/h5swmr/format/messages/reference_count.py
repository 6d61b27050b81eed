"""Object reference count message, type 0x0016 (spec §IV.A.2.w; libhdf5 H5Orefcount.c).

Present in an object header when more than one hard link points to the object.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.constants import MessageFlags, MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike

_LAYOUT = struct.Struct("<BI")  # version, count
_WHAT = "reference count message"


@dataclass(frozen=True, slots=True)
class ReferenceCountMessage:
    """How many hard links point to the object (libhdf5 writes it with flag DONT_SHARE)."""

    TYPE: ClassVar[MessageType] = MessageType.REFERENCE_COUNT
    FLAGS: ClassVar[MessageFlags] = MessageFlags.DONT_SHARE
    VERSION: ClassVar[int] = 0

    count: int

    def __post_init__(self) -> None:
        if not 0 < self.count <= 0xFFFF_FFFF:
            raise FormatError(f"{_WHAT}: count {self.count}", structure=_WHAT)

    def encode(self) -> bytes:
        return _LAYOUT.pack(self.VERSION, self.count)

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        version, count = ByteCursor(buf, _WHAT).unpack(_LAYOUT)
        if version != cls.VERSION:
            raise FormatError(f"{_WHAT}: version {version}", structure=_WHAT)
        return cls(count)
