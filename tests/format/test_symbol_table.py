"""Symbol table messages, entries and nodes (SNOD), decoded from h5py-written files."""

from __future__ import annotations

import struct
from pathlib import Path

import h5py
import pytest

from h5swmr.errors import FormatError
from h5swmr.format.btree_v1 import BTreeV1Node
from h5swmr.format.local_heap import LocalHeap, heap_string
from h5swmr.format.superblock_v0 import SuperblockV0
from h5swmr.format.symbol_table import (
    SymbolTableEntry,
    SymbolTableMessage,
    SymbolTableNode,
)
from tests.format.real_files import check_corruption, default_file, find_all

__all__ = ["default_file"]

NODE_HEAD = 8


def _node_bytes(data: bytes, address: int) -> bytes:
    count = int.from_bytes(data[address + 6 : address + 8], "little")
    return data[address : address + NODE_HEAD + count * SymbolTableEntry.SIZE]


def _names(data: bytes, heap_address: int, node: SymbolTableNode) -> list[str]:
    heap = LocalHeap.decode(data[heap_address : heap_address + LocalHeap.SIZE])
    segment = data[heap.data_address : heap.data_address + heap.data_size]
    return [heap_string(segment, e.name_offset) for e in node.entries]


def _tree_node(data: bytes, address: int) -> BTreeV1Node:
    used = int.from_bytes(data[address + 6 : address + 8], "little")
    return BTreeV1Node.decode(data[address : address + 24 + used * 8 + (used + 1) * 8])


def group_entries(data: bytes, btree: int, heap: int) -> list[tuple[str, SymbolTableEntry]]:
    """(name, entry) of a group's links: its v1 B-tree's leaves are symbol table nodes."""
    node = _tree_node(data, btree)
    found = []
    for child in node.children:
        if node.level:
            found += group_entries(data, child, heap)
            continue
        snod = SymbolTableNode.decode(_node_bytes(data, child), address=child)
        names = _names(data, heap, snod)
        assert names == sorted(names)  # each node sorted by name
        found += zip(names, snod.entries, strict=True)
    return found


def test_groups_match_h5py(default_file: Path) -> None:
    data = default_file.read_bytes()
    root = SuperblockV0.decode(data[:96]).root
    links = dict(group_entries(data, *struct.unpack("<QQ", root.scratch)))
    with h5py.File(default_file, "r") as f:
        assert list(links) == sorted(f.keys())
        many_entry = links["many"]
        assert many_entry.cache_type == 1  # a group's entry caches its B-tree and heap
        many = dict(group_entries(data, *struct.unpack("<QQ", many_entry.scratch)))
        assert list(many) == sorted(f["many"].keys())
        assert len(find_all(data, b"SNOD")) > 2  # 41 links over several nodes
        for name, entry in many.items():
            if name == "soft":
                assert entry.cache_type == 2  # scratch pad: offset of the target in the heap
                _, heap_address = struct.unpack("<QQ", many_entry.scratch)
                heap = LocalHeap.decode(data[heap_address : heap_address + LocalHeap.SIZE])
                segment = data[heap.data_address : heap.data_address + heap.data_size]
                target = heap_string(segment, int.from_bytes(entry.scratch[:4], "little"))
                assert target == "/many/d00"
                continue
            assert entry.object_address == h5py.h5o.get_info(f["many"][name].id).addr


def test_message_decode() -> None:
    assert SymbolTableMessage.decode(struct.pack("<QQ", 136, 680)) == SymbolTableMessage(136, 680)
    with pytest.raises(FormatError):
        SymbolTableMessage.decode(b"\x00" * 15)


def test_entry_decode() -> None:
    raw = struct.pack("<QQI4x16s", 8, 800, 1, bytes(range(16)))
    assert SymbolTableEntry.decode(raw) == SymbolTableEntry(8, 800, 1, bytes(range(16)))
    assert SymbolTableEntry.SIZE == 40


def test_node_size() -> None:
    assert SymbolTableNode.size(4) == 8 + 8 * 40


def test_corruption(default_file: Path) -> None:
    data = default_file.read_bytes()
    for address in find_all(data, b"SNOD")[:3]:
        check_corruption(SymbolTableNode.decode, _node_bytes(data, address), checksummed=False)
    check_corruption(SymbolTableEntry.decode, data[56:96], checksummed=False)  # root entry
    check_corruption(SymbolTableMessage.decode, struct.pack("<QQ", 1, 2), checksummed=False)


@pytest.mark.parametrize(("sig", "version"), [(b"SNOE", 1), (b"SNOD", 2)])
def test_bad_node_head(sig: bytes, version: int) -> None:
    with pytest.raises(FormatError):
        SymbolTableNode.decode(struct.pack("<4sBBH", sig, version, 0, 0))


def test_empty_node() -> None:
    assert SymbolTableNode.decode(struct.pack("<4sBBH", b"SNOD", 1, 0, 0)).entries == ()
