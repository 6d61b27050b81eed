"""Local heaps (spec §III.D; libhdf5 H5HLcache.c): the link names of a symbol-table group.

``HEAP``, version 0, 3 reserved bytes, data segment size (L), offset of the free list head (L),
data segment address (O). Not checksummed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.cursor import ByteCursor, BytesLike

SIGNATURE = b"HEAP"
_LAYOUT = struct.Struct("<4sB3xQQQ")


@dataclass(frozen=True, slots=True)
class LocalHeap:
    """A local heap's header: where its data segment is and how big."""

    SIZE: ClassVar[int] = _LAYOUT.size

    data_size: int
    free_list_offset: int
    data_address: int

    @classmethod
    def decode(cls, buf: BytesLike, *, address: int | None = None) -> Self:
        signature, version, size, free, data = ByteCursor(buf, "local heap").unpack(_LAYOUT)
        if signature != SIGNATURE or version != 0:  # type: ignore[comparison-overlap]
            raise FormatError(
                f"local heap at address {address}: {signature!r} version {version}",
                structure="local heap",
                address=address,
            )
        return cls(size, free, data)


def heap_string(data: BytesLike, offset: int) -> str:
    """The NUL-terminated string at ``offset`` of a heap's data segment."""
    if not 0 <= offset < len(data):
        raise FormatError(f"local heap: offset {offset} outside {len(data)} bytes")
    raw = bytes(data[offset:])
    end = raw.find(b"\x00")
    if end < 0:
        raise FormatError(f"local heap: string at offset {offset} has no NUL terminator")
    try:
        return raw[:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"local heap: string at offset {offset} is not UTF-8") from exc
