"""Fixed array encoders: round trips, and the very bytes libhdf5 (through h5py) writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import ChecksumError, FormatError
from h5swmr.format.chunk_records import ChunkRecord, ElementCodec
from h5swmr.format.extensible_array.blocks import is_page_initialised
from h5swmr.format.fixed_array import (
    FixedArrayDataBlock,
    FixedArrayHeader,
    decode_page,
    encode_page,
)
from tests.format.real_files import find_all, latest_file

__all__ = ["latest_file"]

u64 = st.integers(0, 2**64 - 1)
client_and_size = st.sampled_from([(0, 8), (1, 10), (1, 14), (1, 15), (1, 20)])


@given(client_and_size, st.integers(0, 12), st.integers(0, 2**40), u64)
def test_header_round_trip(cs: tuple[int, int], bits: int, n: int, address: int) -> None:
    header = FixedArrayHeader(cs[0], cs[1], bits, n, address)
    encoded = header.encode()
    assert len(encoded) == FixedArrayHeader.SIZE == 28
    assert FixedArrayHeader.decode(encoded) == header
    flipped = bytearray(encoded)
    flipped[10] ^= 1
    with pytest.raises(ChecksumError):
        FixedArrayHeader.decode(bytes(flipped))


@given(client_and_size, st.integers(2, 6), st.integers(1, 300), u64, st.data())
def test_data_block_round_trip(
    cs: tuple[int, int], bits: int, n: int, header_address: int, data: st.DataObject
) -> None:
    client, es = cs
    header = FixedArrayHeader(client, es, bits, n, 1 << 20)
    if header.n_pages:
        bitmap = data.draw(
            st.binary(min_size=header.page_bitmap_size, max_size=header.page_bitmap_size)
        )
        block = FixedArrayDataBlock(client, header_address, bitmap, b"")
    else:
        elements = data.draw(st.binary(min_size=n * es, max_size=n * es))
        block = FixedArrayDataBlock(client, header_address, b"", elements)
    encoded = block.encode(header)
    assert len(encoded) == header.data_block_prefix_size
    assert FixedArrayDataBlock.decode(encoded, header) == block
    sizes = [header.page_size(p) for p in range(header.n_pages)]
    assert header.data_block_size == header.data_block_prefix_size + sum(sizes)
    for page in range(header.n_pages):
        count = header.page_elements_in(page)
        elements = data.draw(st.binary(min_size=count * es, max_size=count * es))
        sealed = encode_page(elements)
        assert len(sealed) == header.page_size(page)
        assert decode_page(sealed, header.page_size(page)) == elements
    if header.n_pages:
        assert header.page_address(header.n_pages - 1) + sizes[-1] == (
            header.data_block_address + header.data_block_size
        )


def test_data_block_refuses_a_body_of_the_wrong_size() -> None:
    unpaged = FixedArrayHeader(0, 8, 10, 4, 100)
    with pytest.raises(FormatError):
        FixedArrayDataBlock(0, 50, b"", bytes(24)).encode(unpaged)
    with pytest.raises(FormatError):
        FixedArrayDataBlock(1, 50, b"", bytes(32)).encode(unpaged)
    paged = FixedArrayHeader(0, 8, 2, 40, 100)  # 10 pages: a 2-byte bitmap
    with pytest.raises(FormatError):
        FixedArrayDataBlock(0, 50, b"\xff", b"").encode(paged)


def _fixed_arrays(data: bytes) -> dict[int, tuple[int, FixedArrayHeader]]:
    found = {}
    for address in find_all(data, b"FAHD"):
        header = FixedArrayHeader.decode(data[address : address + FixedArrayHeader.SIZE])
        found[header.n_elements] = (address, header)
    return found


@pytest.mark.parametrize("n_elements", [20, 1500, 4100])
def test_encoders_write_libhdf5_bytes(latest_file: Path, n_elements: int) -> None:
    """Re-encode each fixed array h5py wrote (unpaged; paged and filtered; paged with pages never
    initialised) from its decoded fields and elements: every block and every initialised page
    is byte-for-byte libhdf5's."""
    data = latest_file.read_bytes()
    address, header = _fixed_arrays(data)[n_elements]
    assert (
        data[address : address + header.SIZE]
        == FixedArrayHeader(
            header.client_id,
            header.element_size,
            header.page_bits,
            header.n_elements,
            header.data_block_address,
        ).encode()
    )
    at = header.data_block_address
    original = data[at : at + header.data_block_prefix_size]
    block = FixedArrayDataBlock.decode(original, header)
    filtered = bool(header.client_id)
    codec = ElementCodec(filtered, header.element_size - 12 if filtered else 0)
    if not header.n_pages:
        records = [
            codec.decode(block.elements[i * codec.element_size :]) for i in range(header.n_elements)
        ]
        elements = b"".join(codec.encode(r) for r in records)
        rebuilt = FixedArrayDataBlock(header.client_id, address, b"", elements)
        assert rebuilt.encode(header) == original
        return
    rebuilt = FixedArrayDataBlock(header.client_id, address, block.page_bitmap, b"")
    assert rebuilt.encode(header) == original
    pages = 0
    for page in range(header.n_pages):
        if not is_page_initialised(block.page_bitmap, page):
            continue
        pages += 1
        at, size = header.page_address(page), header.page_size(page)
        raw = decode_page(data[at : at + size], size)
        es = codec.element_size
        records = [codec.decode(raw[i * es :]) for i in range(header.page_elements_in(page))]
        assert any(r != ChunkRecord() for r in records)
        assert encode_page(b"".join(codec.encode(r) for r in records)) == data[at : at + size]
    assert pages == 2  # 1500: both pages; 4100: pages 0 and 2
