"""Walking a v1 B-tree (libhdf5's default format): chunk indexes of layout v3, and group nodes.

Nodes carry no checksum: a torn read cannot be detected, only a malformed one. Every walk is
bounded: no node is visited twice and the depth is limited.
"""

from __future__ import annotations

from collections.abc import Iterator

from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError
from h5swmr.format.btree_v1 import CHUNK_NODE, BTreeV1Node, ChunkKey
from h5swmr.format.chunk_records import ChunkRecord

MAX_LEVEL = 64


def _read_node(src: FileSource, address: int, node_type: int, chunk_dims: int) -> BTreeV1Node:
    head = src.read(address, BTreeV1Node.HEAD_SIZE, "v1 B-tree node")
    size = BTreeV1Node.used_size(head, node_type, chunk_dims)
    node = BTreeV1Node.decode(
        src.read(address, size, "v1 B-tree node"), chunk_dims=chunk_dims, address=address
    )
    if node.node_type != node_type:
        raise FormatError(f"v1 B-tree node at {address}: type {node.node_type}, not {node_type}")
    return node


def leaves(
    src: FileSource, address: int, node_type: int, chunk_dims: int = 0
) -> Iterator[tuple[ChunkKey | int, int]]:
    """(left key, child address) for every child of every leaf node, left to right."""
    seen: set[int] = set()
    stack: list[tuple[int, int | None]] = [(address, None)]
    while stack:
        node_address, expected_level = stack.pop()
        if node_address in seen:
            raise FormatError(f"v1 B-tree: node at address {node_address} reached twice")
        seen.add(node_address)
        node = _read_node(src, node_address, node_type, chunk_dims)
        if node.level > MAX_LEVEL or (expected_level is not None and node.level != expected_level):
            raise FormatError(f"v1 B-tree node at {node_address}: level {node.level}")
        if node.level == 0:
            yield from zip(node.keys, node.children, strict=False)
        else:
            stack.extend((child, node.level - 1) for child in reversed(node.children))


def btree_v1_chunk_records(
    src: FileSource, address: int, chunk_dims: tuple[int, ...], *, filtered: bool
) -> dict[tuple[int, ...], ChunkRecord]:
    """Scaled chunk coordinates -> record for a layout v3 chunked dataset."""
    found = {}
    rank = len(chunk_dims)
    for key, child in leaves(src, address, CHUNK_NODE, rank + 1):
        if not isinstance(key, ChunkKey):
            raise FormatError("v1 B-tree chunk node with a group key")  # pragma: no cover
        scaled = tuple(o // c for o, c in zip(key.offsets[:rank], chunk_dims, strict=True))
        size = key.size if filtered else 0
        found[scaled] = ChunkRecord(child, size, key.filter_mask if filtered else 0)
    return found
