"""Local heaps (the link names of symbol-table groups), decoded from h5py-written files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from h5swmr.errors import FormatError, H5SwmrError
from h5swmr.format.local_heap import LocalHeap, heap_string
from tests.format.real_files import check_corruption, default_file, find_all

__all__ = ["default_file"]


def _heaps(path: Path) -> list[tuple[int, LocalHeap]]:
    data = path.read_bytes()
    return [
        (a, LocalHeap.decode(data[a : a + LocalHeap.SIZE], address=a))
        for a in find_all(data, b"HEAP")
    ]


def test_decode_h5py_heaps(default_file: Path) -> None:
    data = default_file.read_bytes()
    heaps = _heaps(default_file)
    assert len(heaps) == 2  # the root group's and "many"'s
    for _, heap in heaps:
        assert heap.data_size > 0 and heap.data_address + heap.data_size <= len(data)
        assert heap.free_list_offset < heap.data_size or heap.free_list_offset == 2**64 - 1
        segment = data[heap.data_address : heap.data_address + heap.data_size]
        assert heap_string(segment, 0) == ""  # libhdf5 puts the empty name first
    names = set()
    for _, heap in heaps:
        segment = data[heap.data_address : heap.data_address + heap.data_size]
        offset = 8  # names are 8-byte aligned after the empty one
        while offset < heap.data_size and segment[offset]:
            name = heap_string(segment, offset)
            names.add(name)
            offset += (len(name) + 1 + 7) // 8 * 8
    assert {"many", "chunked", "gzip", "d00", "d39", "soft", "/many/d00"} <= names


def test_layout_size() -> None:
    assert LocalHeap.SIZE == 32
    raw = struct.pack("<4sB3xQQQ", b"HEAP", 0, 88, 40, 1000)
    assert LocalHeap.decode(raw) == LocalHeap(88, 40, 1000)


def test_corruption(default_file: Path) -> None:
    data = default_file.read_bytes()
    for address, _ in _heaps(default_file):
        check_corruption(
            LocalHeap.decode, data[address : address + LocalHeap.SIZE], checksummed=False
        )


def test_bad_signature_and_version() -> None:
    for sig, version in ((b"HEAQ", 0), (b"HEAP", 1)):
        with pytest.raises(FormatError):
            LocalHeap.decode(struct.pack("<4sB3xQQQ", sig, version, 8, 0, 0))


@pytest.mark.parametrize(
    ("segment", "offset"),
    [(b"abc\x00", 4), (b"abc\x00", -1), (b"abc", 0), (b"\xff\xfe\x00", 0), (b"", 0)],
)
def test_heap_string_errors(segment: bytes, offset: int) -> None:
    with pytest.raises(FormatError):
        heap_string(segment, offset)


def test_heap_string_accepts_views() -> None:
    assert heap_string(memoryview(b"\x00\x00ab\x00"), 2) == "ab"
    assert heap_string(bytearray(b"\xc3\xa9\x00"), 0) == "é"
    with pytest.raises(H5SwmrError):
        heap_string(b"", 10**30)
