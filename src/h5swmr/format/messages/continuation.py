"""Object header continuation message, type 0x0010 (spec §IV.A.2.q; libhdf5 H5Ocont.c).

Points to an OCHK block; ``length`` includes its signature and checksum.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.constants import MessageFlags, MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike

_LAYOUT = struct.Struct("<QQ")  # address (O), length (L)
_WHAT = "continuation message"


@dataclass(frozen=True, slots=True)
class ContinuationMessage:
    """Where the next chunk of an object header lives, and its length in bytes."""

    TYPE: ClassVar[MessageType] = MessageType.CONTINUATION
    FLAGS: ClassVar[MessageFlags] = MessageFlags.NONE

    address: int
    length: int

    def __post_init__(self) -> None:
        if not (0 <= self.address < 1 << 64 and 0 < self.length < 1 << 64):
            raise FormatError(
                f"{_WHAT}: address {self.address}, length {self.length}", structure=_WHAT
            )

    def encode(self) -> bytes:
        return _LAYOUT.pack(self.address, self.length)

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        address, length = ByteCursor(buf, _WHAT).unpack(_LAYOUT)
        return cls(address, length)
