"""Superblock versions 0 and 1, libhdf5's default format (spec §II.A; libhdf5 H5Fsuper_cache.c).

Version 0: signature, versions (superblock, free space, root symbol table entry, reserved,
shared header), sizes of offsets and lengths, reserved, group leaf and internal node K (u16 each),
consistency flags (u32); version 1 adds the indexed-storage internal node K (u16) and 2 reserved
bytes. Then base, free-space, end-of-file and driver-info addresses, and the root group's symbol
table entry. Not checksummed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Self

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.cursor import ByteCursor, BytesLike
from h5swmr.format.superblock import SIGNATURE
from h5swmr.format.symbol_table import SymbolTableEntry

_HEAD = struct.Struct("<8s8BHHI")
_ADDRESSES = struct.Struct("<4Q")
_WHAT = "superblock v0/v1"
DEFAULT_CHUNK_K = 32


@dataclass(frozen=True, slots=True)
class SuperblockV0:
    """What a reader needs from a version 0 or 1 superblock."""

    version: int
    group_leaf_k: int
    group_internal_k: int
    chunk_internal_k: int
    flags: int
    base_address: int
    eof_address: int
    root: SymbolTableEntry

    @property
    def root_address(self) -> int:
        return self.root.object_address

    @classmethod
    def decode(cls, buf: BytesLike) -> Self:
        cur = ByteCursor(buf, _WHAT)
        signature, version, _, _, _, _, offsets, lengths, _, leaf_k, internal_k, flags = cur.unpack(
            _HEAD
        )
        if signature != SIGNATURE or version not in (0, 1):  # type: ignore[comparison-overlap]
            raise FormatError(
                f"{_WHAT}: signature {signature!r}, version {version}", structure=_WHAT
            )
        if (offsets, lengths) != (8, 8):
            raise UnsupportedError(f"{_WHAT}: {offsets}-byte offsets, {lengths}-byte lengths")
        chunk_k = DEFAULT_CHUNK_K
        if version == 1:
            chunk_k = cur.u16()
            cur.skip(2)
        if not (leaf_k and internal_k and chunk_k):
            raise FormatError(f"{_WHAT}: B-tree K of 0", structure=_WHAT)
        base, _, eof, _ = cur.unpack(_ADDRESSES)
        root = SymbolTableEntry.decode(cur.read(SymbolTableEntry.SIZE))
        return cls(version, leaf_k, internal_k, chunk_k, flags, base, eof, root)
