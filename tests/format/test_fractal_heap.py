"""Fractal heaps (FRHP, FHIB, FHDB, heap IDs): the link messages of h5py's dense groups."""

from __future__ import annotations

import struct
from pathlib import Path

import h5py
import pytest

from h5swmr.errors import ChecksumError, FormatError, UnsupportedError
from h5swmr.format.btree_v2 import BTreeV2Header
from h5swmr.format.checksum import seal
from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.fractal_heap import (
    FractalHeapHeader,
    HeapId,
    IndirectBlock,
    check_direct_block,
)
from h5swmr.format.messages.link import LinkMessage
from tests.format.real_files import check_corruption, find_all, latest_file
from tests.format.test_btree_v2 import walk

__all__ = ["latest_file"]

GROUPS = {"dense_small": 9, "dense_big": 2000}


def _heaps(data: bytes) -> list[tuple[int, FractalHeapHeader]]:
    """(address, header) of both heaps, the one with a root direct block first."""
    heaps = [
        (a, FractalHeapHeader.decode(data[a : a + FractalHeapHeader.SIZE], address=a))
        for a in find_all(data, b"FRHP")
    ]
    return sorted(heaps, key=lambda item: item[1].root_rows)


def _name_indexes(data: bytes) -> list[BTreeV2Header]:
    """The name index of both dense groups, the smaller first."""
    headers = [
        BTreeV2Header.decode(data[a : a + BTreeV2Header.SIZE]) for a in find_all(data, b"BTHD")
    ]
    return sorted((h for h in headers if h.tree_type == 5), key=lambda h: h.total_records)


def direct_blocks(data: bytes, header: FractalHeapHeader) -> list[tuple[int, int, int]]:
    """(heap offset, size, address) of every direct block the root reaches."""
    if header.root_rows == 0:
        return [(0, header.start_block_size, header.root_address)]
    at = header.root_address
    root = IndirectBlock.decode(
        data[at : at + IndirectBlock.size(header, header.root_rows)], header, header.root_rows
    )
    assert root.block_offset == 0
    blocks, offset = [], 0
    for position, child in enumerate(root.children):
        size = header.row_block_size(position // header.table_width)
        blocks.append((offset, size, child))
        offset += size
    return blocks


def heap_object(data: bytes, header: FractalHeapHeader, heap_id: HeapId) -> bytes:
    if heap_id.tiny is not None:
        return heap_id.tiny
    for offset, size, address in direct_blocks(data, header):
        if offset <= heap_id.offset < offset + size:
            block = data[address : address + size]
            check_direct_block(block, header, address=address)
            within = heap_id.offset - offset
            return block[within : within + heap_id.length]
    raise AssertionError(f"heap offset {heap_id.offset} in no block")


@pytest.mark.parametrize(("position", "name"), list(enumerate(GROUPS)))
def test_links_match_h5py(latest_file: Path, position: int, name: str) -> None:
    data = latest_file.read_bytes()
    _, header = _heaps(data)[position]
    tree = _name_indexes(data)[position]
    assert tree.total_records == GROUPS[name]
    assert tree.record_size == 4 + header.id_length
    names = []
    for *_, node in walk(data, tree):
        for raw in node.records:
            heap_id = HeapId.decode(raw[4:], header)
            assert heap_id.tiny is None and heap_id.length > 0
            names.append(LinkMessage.decode(heap_object(data, header, heap_id)).name)
    with h5py.File(latest_file, "r") as f:
        assert sorted(names) == sorted(f[name].keys())


def test_header_geometry(latest_file: Path) -> None:
    (_, small), (_, big) = _heaps(latest_file.read_bytes())
    for header in (small, big):
        assert (header.table_width, header.start_block_size, header.max_direct_size) == (
            4,
            512,
            65536,
        )
        assert header.offset_size == 4 and header.length_size == 2
        assert header.direct_prefix_size == 4 + 1 + 8 + 4 + 4  # checksummed direct blocks
        assert header.direct_rows == 9
        # a child indirect block in row 9 spans 128 KiB: 7 rows of 4 blocks of 512 B to 16 KiB
        assert header.indirect_rows(header.row_block_size(9)) == 7
    assert small.root_rows == 0 and big.root_rows > 0


def test_corruption(latest_file: Path) -> None:
    data = latest_file.read_bytes()
    for address, header in _heaps(data):
        check_corruption(
            FractalHeapHeader.decode,
            data[address : address + FractalHeapHeader.SIZE],
            checksummed=True,
        )
        for offset, size, block in direct_blocks(data, header)[:2]:

            def check(buf: bytes, header: FractalHeapHeader = header, at: int = block) -> None:
                check_direct_block(buf, header, address=at)

            check_corruption(check, data[block : block + size], checksummed=True, garbage_rounds=5)
            assert offset % header.start_block_size == 0
    address, header = _heaps(data)[1]
    rows = header.root_rows
    good = data[header.root_address : header.root_address + IndirectBlock.size(header, rows)]
    check_corruption(
        lambda b: IndirectBlock.decode(b, header, rows), good, checksummed=True, garbage_rounds=20
    )
    children = IndirectBlock.decode(good, header, rows).children
    assert children[0] != UNDEFINED_ADDRESS


def _header_bytes(**changes: int) -> bytes:
    """An FRHP block with the doubling table of h5py's link heaps, ``changes`` applied."""
    fields = {
        "id_len": 7, "filter_len": 0, "flags": 2, "max_managed": 4096, "width": 4, "start": 512,
        "max_direct": 65536, "max_bits": 32, "root": UNDEFINED_ADDRESS, "rows": 0,
    }  # fmt: skip
    fields.update(changes)
    f = fields
    raw = struct.pack(
        "<4sBHHBIQQQQQQQQQQQQHQQHHQH",
        b"FRHP", 0, f["id_len"], f["filter_len"], f["flags"], f["max_managed"],
        0, UNDEFINED_ADDRESS, 0, UNDEFINED_ADDRESS, 0, 0, 0, 0, 0, 0, 0, 0,
        f["width"], f["start"], f["max_direct"], f["max_bits"], 1, f["root"], f["rows"],
    )  # fmt: skip
    return seal(raw)


def test_synthetic_header() -> None:
    header = FractalHeapHeader.decode(_header_bytes())
    assert header.max_managed_size == 4096
    for changes in ({"start": 500}, {"max_direct": 256}, {"width": 0}, {"max_bits": 0},
                    {"max_bits": 65}, {"id_len": 0}, {"width": 3}):  # fmt: skip
        with pytest.raises(FormatError) as info:
            FractalHeapHeader.decode(_header_bytes(**changes))
        assert not isinstance(info.value, ChecksumError)
    with pytest.raises(UnsupportedError):
        FractalHeapHeader.decode(_header_bytes(filter_len=20))


def test_heap_ids() -> None:
    header = FractalHeapHeader.decode(_header_bytes())
    assert HeapId.decode(bytes([0x00, 1, 2, 0, 0, 5, 0]), header) == HeapId(0x201, 5)
    assert HeapId.decode(bytes([0x22]) + b"abc", header) == HeapId(tiny=b"abc")
    # huge: a 6-byte key into the huge-object B-tree, or (17-byte IDs) address and length
    assert HeapId.decode(bytes([0x10, 9, 0, 0, 0, 0, 1]), header) == HeapId(
        huge=True, key=9 + (1 << 40)
    )
    assert header.huge_btree_address == UNDEFINED_ADDRESS and not header.huge_ids_direct
    wide = FractalHeapHeader.decode(_header_bytes(id_len=17))
    assert wide.huge_ids_direct
    direct = bytes([0x10]) + struct.pack("<QQ", 4096, 70000)
    assert HeapId.decode(direct, wide) == HeapId(4096, 70000, huge=True)
    with pytest.raises(FormatError):
        HeapId.decode(bytes([0x30]) + bytes(6), header)  # type 3
    with pytest.raises(FormatError):
        HeapId.decode(bytes([0x40]) + bytes(6), header)  # version 1
    with pytest.raises(FormatError):
        HeapId.decode(bytes([0x00, 1, 2]), header)  # truncated
    with pytest.raises(FormatError):
        HeapId.decode(bytes([0x2F]) + b"abc", header)  # tiny, 16 bytes claimed


def test_bad_blocks() -> None:
    header = FractalHeapHeader.decode(_header_bytes())
    with pytest.raises(FormatError):
        check_direct_block(b"FHDC" + bytes(600), header, address=0)
    with pytest.raises(FormatError):
        check_direct_block(b"FHDB", header, address=0)
    size = IndirectBlock.size(header, 1)
    body = b"FHIA" + bytes(size - 8)
    with pytest.raises(FormatError) as info:
        IndirectBlock.decode(seal(body), header, 1)
    assert not isinstance(info.value, ChecksumError)
