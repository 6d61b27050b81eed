"""Symbol tables of libhdf5's default-format groups (spec §III.C, §IV.A.2.r; libhdf5 H5Gnode.c,
H5Gent.c, H5Ostab.c): the symbol table message, symbol table entries and SNOD nodes.

None of these is checksummed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.cursor import ByteCursor, BytesLike

NODE_SIGNATURE = b"SNOD"
NODE_VERSION = 1
_ENTRY = struct.Struct("<QQI4x16s")  # link name offset, object header address, cache type, scratch
_NODE_HEAD = struct.Struct("<4sBBH")  # signature, version, reserved, number of symbols
_MESSAGE = struct.Struct("<QQ")  # v1 B-tree address, local heap address


@dataclass(frozen=True, slots=True)
class SymbolTableMessage:
    """Message 0x0011: where a group's v1 B-tree and local heap (of link names) are."""

    btree_address: int
    heap_address: int

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        return cls(*ByteCursor(buf, "symbol table message").unpack(_MESSAGE))


@dataclass(frozen=True, slots=True)
class SymbolTableEntry:
    """One link: the offset of its name in the group's local heap and its object header address."""

    SIZE: ClassVar[int] = _ENTRY.size

    name_offset: int
    object_address: int
    cache_type: int
    scratch: bytes

    @property
    def soft_link_offset(self) -> int:
        """Heap offset of a soft link's target (cache type 2): the scratch pad's first 4 bytes."""
        return int.from_bytes(self.scratch[:4], "little")

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        name_offset, address, cache_type, scratch = ByteCursor(buf, "symbol table entry").unpack(
            _ENTRY
        )
        return cls(name_offset, address, cache_type, bytes(scratch))


@dataclass(frozen=True, slots=True)
class SymbolTableNode:
    """SNOD: up to 2K entries of a group, sorted by name; a leaf of the group's v1 B-tree."""

    entries: tuple[SymbolTableEntry, ...]

    HEAD_SIZE: ClassVar[int] = _NODE_HEAD.size

    @staticmethod
    def size(leaf_k: int) -> int:
        """Bytes libhdf5 allocates for a node: its header and 2K entries."""
        return _NODE_HEAD.size + 2 * leaf_k * SymbolTableEntry.SIZE

    @staticmethod
    def used_size(head: BytesLike) -> int:
        """Bytes of the entries a node holds, from its first HEAD_SIZE bytes: what to read."""
        count = ByteCursor(head, "symbol table node").unpack(_NODE_HEAD)[3]
        return _NODE_HEAD.size + count * SymbolTableEntry.SIZE

    @classmethod
    def decode(cls, buf: BytesLike, *, address: int | None = None) -> Self:
        what = "symbol table node"
        cur = ByteCursor(buf, what)
        signature, version, _, count = cur.unpack(_NODE_HEAD)
        if signature != NODE_SIGNATURE or version != NODE_VERSION:  # type: ignore[comparison-overlap]
            raise FormatError(
                f"{what} at address {address}: {signature!r} version {version}",
                structure=what,
                address=address,
            )
        entries = tuple(
            SymbolTableEntry.decode(cur.read(SymbolTableEntry.SIZE)) for _ in range(count)
        )
        return cls(entries)
