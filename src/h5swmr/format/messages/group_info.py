"""Group info message, type 0x000A (spec §IV.A.2.k; libhdf5 H5Oginfo.c, H5Gprivate.h).

libhdf5 moves a group to dense storage once it has more than ``max_compact`` links (default 8);
h5swmr keeps groups compact, so a group with more links stores a larger ``max_compact``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.constants import MessageFlags, MessageType
from h5swmr.format.cursor import ByteCursor, BytesLike

_WHAT = "group info message"
_HEADER = struct.Struct("<BB")  # version, flags
_PAIR = struct.Struct("<HH")
FLAG_PHASE_CHANGE = 0x01
FLAG_EST_ENTRIES = 0x02
DEFAULT_MAX_COMPACT = 8
DEFAULT_MIN_DENSE = 6
_U16 = 0xFFFF


@dataclass(frozen=True, slots=True)
class GroupInfoMessage:
    """Link phase-change values and size estimates; None means "not stored" (libhdf5 defaults)."""

    TYPE: ClassVar[MessageType] = MessageType.GROUP_INFO
    FLAGS: ClassVar[MessageFlags] = MessageFlags.CONSTANT
    VERSION: ClassVar[int] = 0

    max_compact: int | None = None
    min_dense: int | None = None
    est_entries: int | None = None
    est_name_len: int | None = None

    def __post_init__(self) -> None:
        pairs = ((self.max_compact, self.min_dense), (self.est_entries, self.est_name_len))
        for a, b in pairs:
            if (a is None) != (b is None):
                raise FormatError(f"{_WHAT}: {self} stores half of a pair", structure=_WHAT)
            if a is not None and b is not None and not (0 <= a <= _U16 and 0 <= b <= _U16):
                raise FormatError(f"{_WHAT}: {self} has a value beyond 16 bits", structure=_WHAT)
        if (
            self.max_compact is not None
            and self.min_dense is not None
            and self.min_dense > self.max_compact
        ):
            raise FormatError(
                f"{_WHAT}: min_dense {self.min_dense} > max_compact {self.max_compact}",
                structure=_WHAT,
            )

    @classmethod
    def for_links(cls, n: int) -> GroupInfoMessage:
        """The group info that keeps a group of ``n`` links compact in libhdf5's eyes."""
        if n <= DEFAULT_MAX_COMPACT:
            return cls()
        if n > _U16:
            raise FormatError(f"{_WHAT}: {n} links cannot stay compact", structure=_WHAT)
        return cls(max_compact=n, min_dense=DEFAULT_MIN_DENSE)

    def encode(self) -> bytes:
        flags = 0
        parts = []
        if self.max_compact is not None and self.min_dense is not None:
            flags |= FLAG_PHASE_CHANGE
            parts.append(_PAIR.pack(self.max_compact, self.min_dense))
        if self.est_entries is not None and self.est_name_len is not None:
            flags |= FLAG_EST_ENTRIES
            parts.append(_PAIR.pack(self.est_entries, self.est_name_len))
        return _HEADER.pack(self.VERSION, flags) + b"".join(parts)

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        cur = ByteCursor(buf, _WHAT)
        version, flags = cur.unpack(_HEADER)
        if version != cls.VERSION:
            raise FormatError(f"{_WHAT}: version {version}", structure=_WHAT)
        if flags & ~(FLAG_PHASE_CHANGE | FLAG_EST_ENTRIES):
            raise FormatError(f"{_WHAT}: flags {flags:#x}", structure=_WHAT)
        max_compact = min_dense = est_entries = est_name_len = None
        if flags & FLAG_PHASE_CHANGE:
            max_compact, min_dense = cur.unpack(_PAIR)
        if flags & FLAG_EST_ENTRIES:
            est_entries, est_name_len = cur.unpack(_PAIR)
        return cls(max_compact, min_dense, est_entries, est_name_len)
