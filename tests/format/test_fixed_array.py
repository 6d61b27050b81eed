"""Fixed array chunk indexes (FAHD, FADB, pages), decoded from h5py-written files."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import h5py
import pytest

from h5swmr.errors import ChecksumError, FormatError
from h5swmr.format.checksum import seal
from h5swmr.format.chunk_records import ElementCodec
from h5swmr.format.constants import UNDEFINED_ADDRESS
from h5swmr.format.extensible_array.blocks import is_page_initialised
from h5swmr.format.fixed_array import (
    FixedArrayDataBlock,
    FixedArrayHeader,
    decode_page,
)
from tests.format.real_files import check_corruption, chunk_addresses, find_all, latest_file

__all__ = ["latest_file"]

DATASETS = {"fa": 20, "fa_paged_gzip": 1500, "fa_sparse": 4100}
"""Dataset -> elements of its fixed array (one per chunk of the grid)."""


def _headers(data: bytes) -> dict[int, tuple[int, FixedArrayHeader]]:
    """Number of elements -> (address, header) of every fixed array in the file."""
    found = {}
    for address in find_all(data, b"FAHD"):
        header = FixedArrayHeader.decode(data[address : address + FixedArrayHeader.SIZE])
        found[header.n_elements] = (address, header)
    return found


def _elements(data: bytes, header: FixedArrayHeader) -> list[bytes | None]:
    """Every element, None where its page was never initialised."""
    at = header.data_block_address
    block = FixedArrayDataBlock.decode(data[at : at + header.data_block_prefix_size], header)
    es = header.element_size
    if not header.n_pages:
        return [block.elements[i * es : (i + 1) * es] for i in range(header.n_elements)]
    out: list[bytes | None] = []
    for page in range(header.n_pages):
        count = min(header.page_elements, header.n_elements - page * header.page_elements)
        if not is_page_initialised(block.page_bitmap, page):
            out += [None] * count
            continue
        at, size = header.page_address(page), header.page_size(page)
        elements = decode_page(data[at : at + size], size)
        out += [elements[i * es : (i + 1) * es] for i in range(count)]
    return out


@pytest.mark.parametrize("name", DATASETS)
def test_elements_match_h5py(latest_file: Path, name: str) -> None:
    data = latest_file.read_bytes()
    address, header = _headers(data)[DATASETS[name]]
    filtered = name.endswith("gzip")
    assert header.client_id == filtered
    codec = ElementCodec(filtered, header.element_size - 12 if filtered else 0)
    assert header.element_size == codec.element_size
    with h5py.File(latest_file, "r") as f:
        ds = f[name]
        grid = [-(-d // c) for d, c in zip(ds.shape, ds.chunks, strict=True)]
    assert math.prod(grid) == header.n_elements
    found = {}
    for index, raw in enumerate(_elements(data, header)):
        if raw is None:
            continue
        record = codec.decode(raw)
        if record.address == UNDEFINED_ADDRESS:
            continue
        scaled, rest = [], index
        for n in reversed(grid):
            rest, coordinate = divmod(rest, n)
            scaled.append(coordinate)
        found[tuple(reversed(scaled))] = (record.address, record.size, record.filter_mask)
    expected = chunk_addresses(latest_file, name)
    if not filtered:  # unfiltered elements hold only the address
        expected = {k: (a, 0, 0) for k, (a, _, _) in expected.items()}
    assert found == expected
    assert data[header.data_block_address : header.data_block_address + 4] == b"FADB"
    assert (
        FixedArrayDataBlock.decode(data[header.data_block_address :], header).header_address
        == address
    )


def test_paging(latest_file: Path) -> None:
    headers = _headers(latest_file.read_bytes())
    assert headers[20][1].n_pages == 0
    assert headers[1500][1].n_pages == 2  # 1024 elements a page
    sparse = headers[4100][1]
    assert (sparse.n_pages, sparse.page_elements) == (5, 1024)
    data = latest_file.read_bytes()
    at = sparse.data_block_address
    block = FixedArrayDataBlock.decode(data[at : at + sparse.data_block_prefix_size], sparse)
    assert [is_page_initialised(block.page_bitmap, p) for p in range(5)] == [
        True,
        False,
        True,
        False,
        False,
    ]
    assert sparse.page_size(4) == 4 * 8 + 4  # the last page is short
    assert sparse.page_address(1) - sparse.page_address(0) == 1024 * 8 + 4


def test_corruption(latest_file: Path) -> None:
    data = latest_file.read_bytes()
    for _, (address, header) in sorted(_headers(data).items()):
        check_corruption(
            FixedArrayHeader.decode,
            data[address : address + FixedArrayHeader.SIZE],
            checksummed=True,
        )
        at, size = header.data_block_address, header.data_block_prefix_size

        def block(buf: bytes, header: FixedArrayHeader = header) -> FixedArrayDataBlock:
            return FixedArrayDataBlock.decode(buf, header)

        check_corruption(block, data[at : at + size], checksummed=True, garbage_rounds=20)
        if header.n_pages:
            at, size = header.page_address(0), header.page_size(0)

            def page(buf: bytes, size: int = size) -> bytes:
                return decode_page(buf, size)

            check_corruption(
                page,
                data[at : at + size],
                checksummed=True,
                garbage_rounds=10,
            )


_HEAD = struct.Struct("<4sBBBBQQ")


@pytest.mark.parametrize(
    "fields",
    [
        (b"FAHE", 0, 0, 8, 10, 4, 100),
        (b"FAHD", 1, 0, 8, 10, 4, 100),
        (b"FAHD", 0, 2, 8, 10, 4, 100),
        (b"FAHD", 0, 0, 0, 10, 4, 100),
        (b"FAHD", 0, 0, 8, 33, 4, 100),
    ],
)
def test_bad_header_fields(fields: tuple[object, ...]) -> None:
    with pytest.raises(FormatError) as info:
        FixedArrayHeader.decode(seal(_HEAD.pack(*fields)))
    assert not isinstance(info.value, ChecksumError)


def test_bad_data_block_fields() -> None:
    header = FixedArrayHeader.decode(seal(_HEAD.pack(b"FAHD", 0, 0, 8, 10, 2, 4096)))
    start = struct.Struct("<4sBBQ")
    good = seal(start.pack(b"FADB", 0, 0, 100) + bytes(16))
    assert FixedArrayDataBlock.decode(good, header).elements == bytes(16)
    for fields in ((b"FADC", 0, 0, 100), (b"FADB", 1, 0, 100), (b"FADB", 0, 1, 100)):
        with pytest.raises(FormatError):
            FixedArrayDataBlock.decode(seal(start.pack(*fields) + bytes(16)), header)
