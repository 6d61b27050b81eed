"""Version 2 B-trees (BTHD, BTIN, BTLF): chunk indexes and link name indexes written by h5py."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from h5swmr.errors import ChecksumError, FormatError
from h5swmr.format.btree_v2 import BTreeV2Header, BTreeV2Node
from h5swmr.format.checksum import seal
from tests.format.real_files import check_corruption, chunk_addresses, find_all, latest_file

__all__ = ["latest_file"]

DATASETS = {"bt2_leaf": 4, "bt2_deep": 900, "bt2_gzip": 10000}
"""Dataset -> records (chunks) of its v2 B-tree."""


def node_size(header: BTreeV2Header, level: int, n_records: int) -> int:
    """Exact bytes of a node (libhdf5 allocates node_size; the rest is unused)."""
    size = 6 + n_records * header.record_size + 4
    if level:
        count_width, total_width = header.count_widths(level)
        size += (n_records + 1) * (8 + count_width + total_width)
    return size


def walk(data: bytes, header: BTreeV2Header) -> list[tuple[int, int, int, BTreeV2Node]]:
    """(address, level, records, node) of every node, depth first."""
    found = []
    stack = [(header.root_address, header.depth, header.root_records)]
    while stack:
        address, level, count = stack.pop()
        raw = data[address : address + header.node_size]
        node = BTreeV2Node.decode(raw, header, level, count, address=address)
        found.append((address, level, count, node))
        stack += [(child, level - 1, n) for child, n in reversed(node.children)]
    return found


def _headers(data: bytes) -> list[tuple[int, BTreeV2Header]]:
    return [
        (a, BTreeV2Header.decode(data[a : a + BTreeV2Header.SIZE], address=a))
        for a in find_all(data, b"BTHD")
    ]


def _chunk_header(data: bytes, total: int) -> BTreeV2Header:
    return next(
        h for _, h in _headers(data) if h.tree_type in (10, 11) and h.total_records == total
    )


@pytest.mark.parametrize("name", DATASETS)
def test_chunk_records_match_h5py(latest_file: Path, name: str) -> None:
    data = latest_file.read_bytes()
    header = _chunk_header(data, DATASETS[name])
    filtered = header.tree_type == 11
    assert filtered == name.endswith("gzip")
    found = {}
    nodes = walk(data, header)
    for _, level, count, node in nodes:
        assert len(node.records) == count
        assert len(node.children) == (count + 1 if level else 0)
        for raw in node.records:
            address = int.from_bytes(raw[:8], "little")
            size = mask = 0
            rest = raw[8:]
            if filtered:
                width = header.record_size - 8 - 4 - 16
                size = int.from_bytes(rest[:width], "little")
                mask = int.from_bytes(rest[width : width + 4], "little")
                rest = rest[width + 4 :]
            found[struct.unpack("<QQ", rest)] = (address, size, mask)
    assert sum(len(n.records) for *_, n in nodes) == header.total_records
    expected = chunk_addresses(latest_file, name)
    if not filtered:
        expected = {k: (a, 0, 0) for k, (a, _, _) in expected.items()}
    assert found == expected


def test_depths(latest_file: Path) -> None:
    data = latest_file.read_bytes()
    depths = {name: _chunk_header(data, n).depth for name, n in DATASETS.items()}
    assert depths == {"bt2_leaf": 0, "bt2_deep": 1, "bt2_gzip": 2}
    names = [h for _, h in _headers(data) if h.tree_type == 5]
    assert sorted(h.total_records for h in names) == [9, 2000]  # the dense groups' name indexes


def test_corruption(latest_file: Path) -> None:
    data = latest_file.read_bytes()
    for address, _ in _headers(data):
        check_corruption(
            BTreeV2Header.decode, data[address : address + BTreeV2Header.SIZE], checksummed=True
        )
    header = _chunk_header(data, 10000)
    by_level: dict[int, tuple[int, int]] = {}
    for address, level, count, _ in walk(data, header):
        by_level.setdefault(level, (address, count))
    assert sorted(by_level) == [0, 1, 2]
    for level, (address, count) in by_level.items():

        def decode(buf: bytes, level: int = level, count: int = count) -> BTreeV2Node:
            return BTreeV2Node.decode(buf, header, level, count)

        good = data[address : address + node_size(header, level, count)]
        check_corruption(decode, good, checksummed=True, garbage_rounds=20)


_HEAD = struct.Struct("<4sBBIHHBBQHQ")


@pytest.mark.parametrize(
    "fields",
    [
        (b"BTHE", 0, 10, 2048, 24, 0, 100, 40, 0, 0, 0),
        (b"BTHD", 1, 10, 2048, 24, 0, 100, 40, 0, 0, 0),
        (b"BTHD", 0, 10, 2048, 0, 0, 100, 40, 0, 0, 0),  # records of 0 bytes
        (b"BTHD", 0, 10, 16, 24, 0, 100, 40, 0, 0, 0),  # records bigger than a node
        (b"BTHD", 0, 10, 2048, 24, 33, 100, 40, 0, 0, 0),  # deeper than any real tree
        (b"BTHD", 0, 10, 1 << 25, 24, 0, 100, 40, 0, 0, 0),  # 32 MiB nodes
    ],
)
def test_bad_header_fields(fields: tuple[object, ...]) -> None:
    with pytest.raises(FormatError) as info:
        BTreeV2Header.decode(seal(_HEAD.pack(*fields)))
    assert not isinstance(info.value, ChecksumError)


def test_bad_nodes() -> None:
    header = BTreeV2Header.decode(seal(_HEAD.pack(b"BTHD", 0, 10, 512, 24, 1, 100, 40, 0, 0, 0)))
    assert header.max_records(0) == (512 - 10) // 24
    leaf = seal(struct.pack("<4sBB", b"BTLF", 0, 10) + bytes(24))
    assert BTreeV2Node.decode(leaf, header, 0, 1).records == (bytes(24),)
    with pytest.raises(FormatError):  # more records than a leaf holds
        BTreeV2Node.decode(leaf, header, 0, header.max_records(0) + 1)
    for start in ((b"BTIN", 0, 10), (b"BTLF", 1, 10), (b"BTLF", 0, 11)):
        with pytest.raises(FormatError) as info:
            BTreeV2Node.decode(seal(struct.pack("<4sBB", *start) + bytes(24)), header, 0, 1)
        assert not isinstance(info.value, ChecksumError)
    with pytest.raises(FormatError):  # a node that holds no record
        BTreeV2Header.decode(
            seal(_HEAD.pack(b"BTHD", 0, 10, 40, 24, 3, 100, 40, 0, 0, 0))
        ).max_records(3)
