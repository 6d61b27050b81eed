"""Attribute info message, type 0x0015 (spec §IV.A.2.v; libhdf5 H5Oainfo.c).

An object in the latest format may carry one. Attributes stay in the object header (compact
storage, undefined fractal-heap address) until there are more than the object's compact limit
(8 by default) or one is too large for a header message; libhdf5 then moves every attribute
into a fractal heap indexed by name in a v2 B-tree (dense storage).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.constants import UNDEFINED_ADDRESS, MessageFlags, MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike

_WHAT = "attribute info message"
_HEADER = struct.Struct("<BB")  # version, flags
FLAG_TRACK_CREATION_ORDER = 0x01
FLAG_INDEX_CREATION_ORDER = 0x02


@dataclass(frozen=True, slots=True)
class AttributeInfoMessage:
    """Where an object's attributes live; the defaults describe compact storage.

    ``max_creation_index`` (16 bits here, unlike the link info message) is stored when creation
    order is tracked, and ``creation_order_index_address`` when it is also indexed.
    """

    TYPE: ClassVar[MessageType] = MessageType.ATTRIBUTE_INFO
    FLAGS: ClassVar[MessageFlags] = MessageFlags.NONE
    VERSION: ClassVar[int] = 0

    max_creation_index: int | None = None
    fractal_heap_address: int = UNDEFINED_ADDRESS
    name_index_address: int = UNDEFINED_ADDRESS
    creation_order_index_address: int | None = None

    def __post_init__(self) -> None:
        if self.creation_order_index_address is not None and self.max_creation_index is None:
            raise FormatError(
                f"{_WHAT}: a creation-order index needs creation order tracked", structure=_WHAT
            )
        if not 0 <= (self.max_creation_index or 0) < 1 << 16:
            raise FormatError(f"{_WHAT}: max creation index out of range", structure=_WHAT)
        addresses = (
            self.fractal_heap_address,
            self.name_index_address,
            self.creation_order_index_address or 0,
        )
        if any(not 0 <= a < 1 << 64 for a in addresses):
            raise FormatError(f"{_WHAT}: address out of range in {self}", structure=_WHAT)

    @property
    def is_dense(self) -> bool:
        return self.fractal_heap_address != UNDEFINED_ADDRESS

    def encode(self) -> bytes:
        flags = 0
        parts = []
        if self.max_creation_index is not None:
            flags |= FLAG_TRACK_CREATION_ORDER
            parts.append(struct.pack("<H", self.max_creation_index))
        parts.append(struct.pack("<QQ", self.fractal_heap_address, self.name_index_address))
        if self.creation_order_index_address is not None:
            flags |= FLAG_INDEX_CREATION_ORDER
            parts.append(struct.pack("<Q", self.creation_order_index_address))
        return _HEADER.pack(self.VERSION, flags) + b"".join(parts)

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        cur = ByteCursor(buf, _WHAT)
        version, flags = cur.unpack(_HEADER)
        if version != cls.VERSION:
            raise FormatError(f"{_WHAT}: version {version}", structure=_WHAT)
        if flags & ~(FLAG_TRACK_CREATION_ORDER | FLAG_INDEX_CREATION_ORDER):
            raise FormatError(f"{_WHAT}: flags {flags:#x}", structure=_WHAT)
        max_index = cur.u16() if flags & FLAG_TRACK_CREATION_ORDER else None
        heap, name_index = cur.u64(), cur.u64()
        order_index = cur.u64() if flags & FLAG_INDEX_CREATION_ORDER else None
        return cls(max_index, heap, name_index, order_index)
