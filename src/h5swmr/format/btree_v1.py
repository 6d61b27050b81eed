"""Version 1 B-tree nodes (spec §III.A.1; libhdf5 H5B.c, H5Gnode.c, H5Dbtree.c).

``TREE``, node type (0 group, 1 chunk), level, entries used (u16), left and right sibling (O),
then keys and child addresses interleaved: key 0, child 0, key 1, ..., child n-1, key n.
Group keys are a heap offset (L); chunk keys are the chunk's stored size (u32), filter mask
(u32) and its element offsets (u64 each, rank + 1 of them, the last always 0). Not checksummed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar, Self

from h5swmr.errors import FormatError
from h5swmr.format.cursor import ByteCursor, BytesLike

SIGNATURE = b"TREE"
GROUP_NODE = 0
CHUNK_NODE = 1
_HEAD = struct.Struct("<4sBBHQQ")
_CHUNK_KEY_HEAD = struct.Struct("<II")


def _key_size(node_type: int, chunk_dims: int) -> int:
    return 8 if node_type == GROUP_NODE else _CHUNK_KEY_HEAD.size + 8 * chunk_dims


@dataclass(frozen=True, slots=True)
class ChunkKey:
    """A chunk node key: stored size, filter mask and element offsets of the chunk's corner."""

    size: int
    filter_mask: int
    offsets: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class BTreeV1Node:
    """One node; ``keys`` has one more entry than ``children``. Group keys are ints."""

    node_type: int
    level: int
    children: tuple[int, ...]
    keys: tuple[ChunkKey | int, ...]

    HEAD_SIZE: ClassVar[int] = _HEAD.size
    """Signature to right sibling: enough to know how many entries a node uses."""

    @staticmethod
    def size(node_type: int, k: int, chunk_dims: int = 0) -> int:
        """Bytes of a node with 2K children (libhdf5 allocates that much)."""
        return _HEAD.size + 2 * k * 8 + (2 * k + 1) * _key_size(node_type, chunk_dims)

    @staticmethod
    def used_size(head: BytesLike, node_type: int, chunk_dims: int = 0) -> int:
        """Bytes of the entries a node uses, from its first HEAD_SIZE bytes: what to read."""
        used = ByteCursor(head, "v1 B-tree node").unpack(_HEAD)[3]
        return _HEAD.size + used * 8 + (used + 1) * _key_size(node_type, chunk_dims)

    @classmethod
    def decode(cls, buf: BytesLike, *, chunk_dims: int = 0, address: int | None = None) -> Self:
        """Decode a node; ``chunk_dims`` (rank + 1) is needed for chunk nodes."""
        what = "v1 B-tree node"
        cur = ByteCursor(buf, what)
        signature, node_type, level, used, _, _ = cur.unpack(_HEAD)
        if signature != SIGNATURE or node_type not in (GROUP_NODE, CHUNK_NODE):  # type: ignore[comparison-overlap]
            raise FormatError(
                f"{what} at address {address}: {signature!r} type {node_type}",
                structure=what,
                address=address,
            )
        if node_type == CHUNK_NODE and not 1 <= chunk_dims <= 33:
            raise FormatError(f"{what}: chunk node needs the dimensionality", structure=what)
        keys: list[ChunkKey | int] = []
        children = []
        for position in range(2 * used + 1):
            if position % 2:
                children.append(cur.u64())
            elif node_type == GROUP_NODE:
                keys.append(cur.u64())
            else:
                size, mask = cur.unpack(_CHUNK_KEY_HEAD)
                keys.append(ChunkKey(size, mask, tuple(cur.u64() for _ in range(chunk_dims))))
        return cls(node_type, level, tuple(children), tuple(keys))
