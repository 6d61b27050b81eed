"""What the link info (0x0002) and attribute info (0x0015) messages share: where an object's
links or attributes go once there are too many for its header (a fractal heap and a v2 B-tree
name index; undefined addresses while they stay compact), and whether creation order is tracked
and indexed. Only the width of the stored maximum creation index differs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.constants import UNDEFINED_ADDRESS, MessageFlags
from h5swmr.format.cursor import ByteCursor, BytesLike

_HEADER = struct.Struct("<BB")  # version, flags
_ADDRESSES = struct.Struct("<QQ")  # fractal heap, name index
_ADDRESS = struct.Struct("<Q")
FLAG_TRACK_CREATION_ORDER = 0x01
FLAG_INDEX_CREATION_ORDER = 0x02


@dataclass(frozen=True, slots=True)
class DenseStorageInfo:
    """``max_creation_index`` is stored when creation order is tracked, and
    ``creation_order_index_address`` when it is also indexed."""

    FLAGS: ClassVar[MessageFlags] = MessageFlags.NONE
    VERSION: ClassVar[int] = 0
    WHAT: ClassVar[str]
    MAX_INDEX: ClassVar[struct.Struct]
    """How the maximum creation index is stored."""

    max_creation_index: int | None = None
    fractal_heap_address: int = UNDEFINED_ADDRESS
    name_index_address: int = UNDEFINED_ADDRESS
    creation_order_index_address: int | None = None

    def __post_init__(self) -> None:
        what = self.WHAT
        if self.creation_order_index_address is not None and self.max_creation_index is None:
            raise FormatError(
                f"{what}: a creation-order index needs creation order tracked", structure=what
            )
        if not 0 <= (self.max_creation_index or 0) < 1 << (8 * self.MAX_INDEX.size):
            raise FormatError(f"{what}: max creation index out of range", structure=what)
        addresses = (
            self.fractal_heap_address,
            self.name_index_address,
            self.creation_order_index_address or 0,
        )
        if any(not 0 <= a < 1 << 64 for a in addresses):
            raise FormatError(f"{what}: address out of range in {self}", structure=what)

    @property
    def is_compact(self) -> bool:
        return self.fractal_heap_address == UNDEFINED_ADDRESS

    def encode(self) -> bytes:
        flags = 0
        parts = []
        if self.max_creation_index is not None:
            flags |= FLAG_TRACK_CREATION_ORDER
            parts.append(self.MAX_INDEX.pack(self.max_creation_index))
        parts.append(_ADDRESSES.pack(self.fractal_heap_address, self.name_index_address))
        if self.creation_order_index_address is not None:
            flags |= FLAG_INDEX_CREATION_ORDER
            parts.append(_ADDRESS.pack(self.creation_order_index_address))
        return _HEADER.pack(self.VERSION, flags) + b"".join(parts)

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        what = cls.WHAT
        cur = ByteCursor(buf, what)
        version, flags = cur.unpack(_HEADER)
        if version != cls.VERSION:
            raise FormatError(f"{what}: version {version}", structure=what)
        if flags & ~(FLAG_TRACK_CREATION_ORDER | FLAG_INDEX_CREATION_ORDER):
            raise FormatError(f"{what}: flags {flags:#x}", structure=what)
        max_index = cur.unpack(cls.MAX_INDEX)[0] if flags & FLAG_TRACK_CREATION_ORDER else None
        heap, name_index = cur.u64(), cur.u64()
        order_index = cur.u64() if flags & FLAG_INDEX_CREATION_ORDER else None
        return cls(max_index, heap, name_index, order_index)
