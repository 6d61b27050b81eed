"""Version 1 B-tree nodes, group and chunk, decoded from h5py-written files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from h5swmr.errors import FormatError
from h5swmr.format.btree_v1 import CHUNK_NODE, GROUP_NODE, BTreeV1Node, ChunkKey
from tests.format.real_files import check_corruption, chunk_addresses, default_file, find_all

__all__ = ["default_file"]

HEAD = 24


def node_bytes(data: bytes, address: int, chunk_dims: int = 0) -> bytes:
    used = int.from_bytes(data[address + 6 : address + 8], "little")
    key = 8 if data[address + 4] == GROUP_NODE else 8 + 8 * chunk_dims
    return data[address : address + HEAD + used * 8 + (used + 1) * key]


def _nodes(data: bytes, node_type: int, chunk_dims: int) -> list[tuple[int, BTreeV1Node]]:
    return [
        (a, BTreeV1Node.decode(node_bytes(data, a, chunk_dims), chunk_dims=chunk_dims, address=a))
        for a in find_all(data, b"TREE")
        if data[a + 4] == node_type
    ]


def chunk_trees(data: bytes) -> dict[int, list[int]]:
    """Chunk node addresses of the file's two chunked datasets, by chunk_dims (rank + 1): the
    two-level tree of "chunked" (rank 2) and the one node of "gzip" (rank 1)."""
    chunk_nodes = [a for a in find_all(data, b"TREE") if data[a + 4] == CHUNK_NODE]
    root = next(a for a in chunk_nodes if data[a + 5] == 1)
    tree = [root, *BTreeV1Node.decode(node_bytes(data, root, 3), chunk_dims=3).children]
    return {3: tree, 2: [a for a in chunk_nodes if a not in tree]}


def chunk_leaves(data: bytes, address: int, chunk_dims: int) -> list[tuple[ChunkKey, int]]:
    node = BTreeV1Node.decode(node_bytes(data, address, chunk_dims), chunk_dims=chunk_dims)
    if node.level == 0:
        return [(k, c) for k, c in zip(node.keys, node.children, strict=False)]  # type: ignore[misc]
    return [leaf for child in node.children for leaf in chunk_leaves(data, child, chunk_dims)]


def test_chunk_tree_matches_h5py(default_file: Path) -> None:
    data = default_file.read_bytes()
    expected = chunk_addresses(default_file, "chunked")
    root_address, *leaves = chunk_trees(data)[3]
    assert len(leaves) == 4  # 200 chunks, 2K = 64 per node: one root over leaves
    root = BTreeV1Node.decode(node_bytes(data, root_address, 3), chunk_dims=3)
    assert len(root.keys) == len(root.children) + 1
    found = {}
    for key, child in chunk_leaves(data, root_address, 3):
        assert key.offsets[1:] == (0, 0)  # the last offset (the element's byte) is always 0
        found[(key.offsets[0], key.offsets[1] // 3)] = (child, key.size, key.filter_mask)
    assert found == expected
    first = root.keys[0]
    assert isinstance(first, ChunkKey) and first.offsets == (0, 0, 0)


def test_filtered_chunk_keys_hold_stored_sizes(default_file: Path) -> None:
    data = default_file.read_bytes()
    expected = chunk_addresses(default_file, "gzip")
    nodes = [BTreeV1Node.decode(node_bytes(data, a, 2), chunk_dims=2) for a in chunk_trees(data)[2]]
    assert len(nodes) == 1
    found = {
        (k.offsets[0] // 10,): (c, k.size, k.filter_mask)
        for k, c in zip(nodes[0].keys, nodes[0].children, strict=False)
        if isinstance(k, ChunkKey)
    }
    assert found == expected
    assert all(size < 80 for _, size, _ in found.values())  # compressed


def test_group_nodes(default_file: Path) -> None:
    data = default_file.read_bytes()
    nodes = _nodes(data, GROUP_NODE, 0)
    assert len(nodes) == 2  # the root group's and "many"'s
    for _, node in nodes:
        assert node.level == 0
        assert all(isinstance(k, int) for k in node.keys)
        assert all(data[c : c + 4] == b"SNOD" for c in node.children)
    assert max(len(n.children) for _, n in nodes) > 1


def test_size() -> None:
    assert BTreeV1Node.size(GROUP_NODE, 16) == 24 + 32 * 8 + 33 * 8
    assert BTreeV1Node.size(CHUNK_NODE, 32, 3) == 24 + 64 * 8 + 65 * (8 + 24)


def test_corruption(default_file: Path) -> None:
    data = default_file.read_bytes()
    trees = chunk_trees(data)
    for dims, addresses in ((0, [a for a, _ in _nodes(data, GROUP_NODE, 0)]), *trees.items()):
        for address in addresses[:2]:

            def decode(buf: bytes, dims: int = dims) -> BTreeV1Node:
                return BTreeV1Node.decode(buf, chunk_dims=dims)

            check_corruption(decode, node_bytes(data, address, dims), checksummed=False)


def test_bad_nodes() -> None:
    head = struct.Struct("<4sBBHQQ")
    with pytest.raises(FormatError):
        BTreeV1Node.decode(head.pack(b"TREF", 0, 0, 0, 0, 0) + bytes(8))
    with pytest.raises(FormatError):
        BTreeV1Node.decode(head.pack(b"TREE", 2, 0, 0, 0, 0) + bytes(8))
    with pytest.raises(FormatError):  # a chunk node needs its dimensionality
        BTreeV1Node.decode(head.pack(b"TREE", 1, 0, 0, 0, 0) + bytes(8))
    with pytest.raises(FormatError):
        BTreeV1Node.decode(head.pack(b"TREE", 1, 0, 0, 0, 0) + bytes(8), chunk_dims=34)
    with pytest.raises(FormatError):  # 65535 entries claimed, none stored
        BTreeV1Node.decode(head.pack(b"TREE", 0, 0, 0xFFFF, 0, 0) + bytes(8))
    empty = BTreeV1Node.decode(head.pack(b"TREE", 0, 0, 0, 0, 0) + bytes(8))
    assert (empty.children, empty.keys) == ((), (0,))
