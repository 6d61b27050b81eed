"""Filter pipeline message, type 0x000B (spec §IV.A.2.l; libhdf5 H5Opline.c)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.constants import MessageFlags, MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike

_RESERVED_IDS = 256
"""Filters below this id are libhdf5's own and carry no name in a version 2 message."""

FLAG_OPTIONAL: int = 0x0001


@dataclass(frozen=True, slots=True)
class FilterDescription:
    """One filter as stored: id, flags (bit 0 optional), informational name and client data."""

    filter_id: int
    flags: int = FLAG_OPTIONAL
    name: str = ""
    cd_values: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.filter_id <= 0xFFFF:
            raise FormatError(f"filter id {self.filter_id} outside 0..65535", structure="pipeline")
        if any(not 0 <= v <= 0xFFFF_FFFF for v in self.cd_values):
            raise FormatError(
                f"filter {self.filter_id}: cd_values {self.cd_values} must be unsigned 32-bit",
                structure="pipeline",
            )

    @property
    def is_optional(self) -> bool:
        return bool(self.flags & FLAG_OPTIONAL)


@dataclass(frozen=True, slots=True)
class FilterPipelineMessage:
    """An ordered list of filters applied to every chunk, first to last on write."""

    TYPE: ClassVar[MessageType] = MessageType.FILTER_PIPELINE
    FLAGS: ClassVar[MessageFlags] = MessageFlags.CONSTANT
    VERSION: ClassVar[int] = 2

    filters: tuple[FilterDescription, ...]

    def encode(self) -> bytes:
        parts = [struct.pack("<BB", self.VERSION, len(self.filters))]
        for f in self.filters:
            name = f.name.encode("ascii") + b"\x00" if f.name else b""
            if f.filter_id >= _RESERVED_IDS:
                header = struct.pack("<HHHH", f.filter_id, len(name), f.flags, len(f.cd_values))
                parts += (header, name)
            else:
                parts.append(struct.pack("<HHH", f.filter_id, f.flags, len(f.cd_values)))
            parts.append(struct.pack(f"<{len(f.cd_values)}I", *f.cd_values))
        return b"".join(parts)

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        cur = ByteCursor(buf, "filter pipeline message")
        version, count = cur.u8(), cur.u8()
        if version not in (1, 2):
            raise FormatError(f"filter pipeline message: version {version}", structure="pipeline")
        if version == 1:
            cur.skip(6)
        filters = []
        for _ in range(count):
            filter_id = cur.u16()
            name_size = cur.u16() if version == 1 or filter_id >= _RESERVED_IDS else 0
            flags, n_values = cur.u16(), cur.u16()
            name = b""
            if name_size:
                name = cur.read(name_size).split(b"\x00", 1)[0]
                if version == 1 and name_size % 8:
                    raise FormatError("filter pipeline v1: name not padded", structure="pipeline")
            values = tuple(cur.u32() for _ in range(n_values))
            if version == 1 and n_values % 2:
                cur.skip(4)
            filters.append(
                FilterDescription(filter_id, flags, name.decode("ascii", "replace"), values)
            )
        return cls(tuple(filters))
