"""EAHD, EAIB, EASB, EADB and pages: round trip, corruption, and libhdf5's bytes as the oracle."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import ChecksumError, FormatError, TruncatedError
from h5swmr.format.checksum import seal
from h5swmr.format.chunk_records import ChunkRecord, ElementCodec
from h5swmr.format.constants import UNDEFINED_ADDRESS, MessageType
from h5swmr.format.extensible_array.blocks import (
    DataBlock,
    ExtensibleArrayHeader,
    IndexBlock,
    SuperBlock,
    data_block_prefix_size,
    data_block_size,
    decode_page,
    encode_page,
    index_block_size,
    is_page_initialised,
    page_address,
    page_bitmap_size,
    page_size,
    patch_header_statistics,
    set_page_initialised,
    super_block_size,
    unpaged_data_block_size,
)
from h5swmr.format.extensible_array.params import ExtensibleArrayParams, SuperBlockInfo
from h5swmr.format.messages.layout import ChunkedLayoutMessage, decode_layout
from h5swmr.format.object_header import ObjectHeader, find_message
from tests.format.conftest import check_structure

P = ExtensibleArrayParams()
u64 = st.integers(0, 2**64 - 1)
client_and_size = st.sampled_from([(0, 8), (1, 14), (1, 15), (1, 20)])


def battery(encoded: bytes, decode: Callable[[bytes], Any], expected: Any) -> None:
    """Round trip, every truncation TruncatedError, every byte flip ChecksumError."""
    assert decode(encoded) == expected
    assert decode(encoded + b"\xaa" * 7) == expected  # trailing bytes belong to someone else
    for cut in range(len(encoded)):
        with pytest.raises(TruncatedError):
            decode(encoded[:cut])
    rng = random.Random(len(encoded))
    for i in range(len(encoded)):
        bad = bytearray(encoded)
        bad[i] ^= rng.randrange(1, 256)
        with pytest.raises(ChecksumError):
            decode(bytes(bad))


# --- round trips and corruption --------------------------------------------------------------


@given(client_and_size, st.lists(u64, min_size=6, max_size=6), u64)
def test_header_round_trip(cs: tuple[int, int], stats: list[int], ib: int) -> None:
    client, es = cs
    nsb, sbb, ndb, dbb, mis, ner = stats
    header = ExtensibleArrayHeader(client, es, P, nsb, sbb, ndb, dbb, mis, ner, ib)
    encoded = check_structure(header, garbage_rounds=5)
    assert len(encoded) == ExtensibleArrayHeader.SIZE == 72


@given(
    client_and_size, st.lists(u64, min_size=7, max_size=7), st.lists(u64, min_size=7, max_size=7)
)
def test_patched_header_statistics_equal_a_new_encoding(
    cs: tuple[int, int], before: list[int], after: list[int]
) -> None:
    client, es = cs
    image = bytearray(ExtensibleArrayHeader(client, es, P, *before).encode())
    patch_header_statistics(image, after)
    assert bytes(image) == ExtensibleArrayHeader(client, es, P, *after).encode()


def test_unpaged_data_block_size_is_a_data_blocks_size() -> None:
    info = P.super_block(0)
    assert not P.is_paged(info)
    assert unpaged_data_block_size(P, info.data_block_elements, 8) == data_block_size(P, info, 8)


def test_header_layout_and_corruption() -> None:
    header = ExtensibleArrayHeader(0, 8, P, 10, 2268, 195, 1134698, 140000, 141300, 787)
    encoded = header.encode()
    assert encoded[:12] == b"EAHD" + bytes([0, 0, 8, 32, 4, 16, 4, 10])  # dblk min before sblk
    battery(encoded, ExtensibleArrayHeader.decode, header)


@given(client_and_size, u64, st.data())
def test_index_block_round_trip(cs: tuple[int, int], header_address: int, data: Any) -> None:
    client, es = cs
    block = IndexBlock(
        client,
        header_address,
        data.draw(st.binary(min_size=4 * es, max_size=4 * es)),
        tuple(data.draw(st.lists(u64, min_size=6, max_size=6))),
        tuple(data.draw(st.lists(u64, min_size=25, max_size=25))),
    )
    encoded = block.encode()
    assert len(encoded) == index_block_size(P, es)
    assert IndexBlock.decode(encoded, P, es) == block


def test_index_block_layout_and_corruption() -> None:
    codec = ElementCodec(filtered=False)
    elements = b"".join(codec.encode(ChunkRecord(a)) for a in (100, 200, 300, UNDEFINED_ADDRESS))
    block = IndexBlock(0, 715, elements, tuple(range(6)), (UNDEFINED_ADDRESS,) * 25)
    encoded = block.encode()
    assert len(encoded) == 298  # the design doc's size with 8-byte elements
    assert encoded[:6] == b"EAIB\x00\x00"
    battery(encoded, lambda b: IndexBlock.decode(b, P, 8), block)


def _super_block(s: int, client: int = 0) -> tuple[SuperBlockInfo, SuperBlock]:
    info = P.super_block(s)
    bitmap = bytearray(page_bitmap_size(P, info))
    for bit in range(0, 8 * len(bitmap), 3):
        set_page_initialised(bitmap, bit)
    addresses = tuple(1000 + 64 * d for d in range(info.n_data_blocks))
    return info, SuperBlock(client, 715, info.start_index, bytes(bitmap), addresses)


@pytest.mark.parametrize("s", [4, 5, 12, 13, 14])
def test_super_block_round_trip_and_corruption(s: int) -> None:
    info, block = _super_block(s)
    encoded = block.encode(P)
    assert len(encoded) == super_block_size(P, info)
    assert len(encoded) == 6 + 8 + 4 + page_bitmap_size(P, info) + 8 * info.n_data_blocks + 4
    battery(encoded, lambda b: SuperBlock.decode(b, P, info), block)


def test_page_bitmap() -> None:
    assert page_bitmap_size(P, P.super_block(12)) == 0
    assert page_bitmap_size(P, P.super_block(13)) == 64  # 64 blocks x 2 pages, 1 byte each
    assert page_bitmap_size(P, P.super_block(16)) == 256 * 1  # 256 blocks x 4 pages
    bitmap = bytearray(2)
    set_page_initialised(bitmap, 0)
    set_page_initialised(bitmap, 9)
    assert bytes(bitmap) == b"\x80\x40"  # most significant bit first
    assert [is_page_initialised(bitmap, b) for b in range(16)] == [b in (0, 9) for b in range(16)]


@pytest.mark.parametrize(("s", "client", "es"), [(0, 0, 8), (3, 1, 15), (12, 0, 8), (13, 1, 20)])
def test_data_block_round_trip_and_corruption(s: int, client: int, es: int) -> None:
    info = P.super_block(s)
    paged = P.is_paged(info)
    rng = random.Random(s)
    elements = b"" if paged else rng.randbytes(info.data_block_elements * es)
    block = DataBlock(client, 715, P.data_block_offset(info, 0), elements)
    encoded = block.encode(P)
    assert len(encoded) == data_block_prefix_size(P) + len(elements) + 4
    if paged:
        assert len(encoded) == 22
        pages = P.pages_per_data_block(info)
        assert data_block_size(P, info, es) == 22 + pages * (1024 * es + 4)
        assert page_address(P, 5000, 1, es) == 5000 + 22 + 1024 * es + 4
    else:
        assert data_block_size(P, info, es) == len(encoded)
    battery(encoded, lambda b: DataBlock.decode(b, P, info, es), block)


def test_page_round_trip_and_corruption() -> None:
    elements = random.Random(1).randbytes(1024 * 8)
    encoded = encode_page(elements)
    assert len(encoded) == page_size(P, 8) == 8196
    assert decode_page(encoded, P, 8) == elements
    with pytest.raises(TruncatedError):
        decode_page(encoded[:-1], P, 8)
    for i in range(0, len(encoded), 97):
        bad = bytearray(encoded)
        bad[i] ^= 0x10
        with pytest.raises(ChecksumError):
            decode_page(bytes(bad), P, 8)


@pytest.mark.parametrize("sig_offset", [0, 4, 5])
def test_bad_signature_version_client_with_valid_checksum(sig_offset: int) -> None:
    cases: list[tuple[bytes, Callable[[bytes], object]]] = [
        (IndexBlock(0, 1, bytes(32), (0,) * 6, (0,) * 25).encode(),
         lambda b: IndexBlock.decode(b, P, 8)),
        (_super_block(4)[1].encode(P), lambda b: SuperBlock.decode(b, P, P.super_block(4))),
        (DataBlock(0, 1, 0, bytes(128)).encode(P),
         lambda b: DataBlock.decode(b, P, P.super_block(0), 8)),
        (ExtensibleArrayHeader(0, 8, P).encode(), ExtensibleArrayHeader.decode),
    ]  # fmt: skip
    for block, decode in cases:
        body = bytearray(block[:-4])
        body[sig_offset] = 7
        with pytest.raises(FormatError):
            decode(seal(body))


# --- the big oracle: walk libhdf5's own extensible arrays ------------------------------------

N_CHUNKS = 140_000  # past the paging threshold (131 060): super blocks 4..13, paged blocks


@dataclass
class Walk:
    """Everything found below one EA header: blocks as (name, raw bytes, re-encoded bytes)."""

    header: ExtensibleArrayHeader
    codec: ElementCodec
    blocks: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    elements: dict[int, bytes] = field(default_factory=dict)
    pages: int = 0


def walk(buf: bytes, header_address: int, layout: ChunkedLayoutMessage) -> Walk:
    """Decode every block with h5swmr's decoders and re-encode it; collect every element."""
    header = ExtensibleArrayHeader.decode(buf[header_address:], address=header_address)
    assert header.params == layout.ea_params  # the header stores them in another order
    p, es = header.params, header.element_size
    filtered = header.client_id == 1
    width = es - 12 if filtered else 0
    w = Walk(header, ElementCodec(filtered, width))
    w.blocks.append(("EAHD", buf[header_address : header_address + 72], header.encode()))
    ib_addr = header.index_block_address
    ib = IndexBlock.decode(buf[ib_addr:], p, es, address=ib_addr)
    assert ib.header_address == header_address
    w.blocks.append(("EAIB", buf[ib_addr : ib_addr + index_block_size(p, es)], ib.encode()))
    for i in range(p.idx_blk_elmts):
        w.elements[i] = ib.elements[i * es : (i + 1) * es]

    def data_block(info: SuperBlockInfo, local: int, addr: int, bitmap: bytes) -> None:
        db = DataBlock.decode(buf[addr:], p, info, es, address=addr)
        assert db.header_address == header_address
        assert db.block_offset == p.data_block_offset(info, local)
        n = len(db.encode(p))
        w.blocks.append((f"EADB s{info.index}/{local}", buf[addr : addr + n], db.encode(p)))
        first = p.idx_blk_elmts + info.start_index + local * info.data_block_elements
        if not p.is_paged(info):
            for e in range(info.data_block_elements):
                w.elements[first + e] = db.elements[e * es : (e + 1) * es]
            return
        npages = p.pages_per_data_block(info)
        for page in range(npages):
            if not is_page_initialised(bitmap, local * npages + page):
                continue
            at = page_address(p, addr, page, es)
            elements = decode_page(buf[at:], p, es, address=at)
            raw = buf[at : at + page_size(p, es)]
            w.blocks.append((f"page s{info.index}/{local}/{page}", raw, encode_page(elements)))
            w.pages += 1
            for e in range(p.page_elements):
                w.elements[first + page * p.page_elements + e] = elements[e * es : (e + 1) * es]

    infos = p.super_blocks()
    n_iblock = p.index_block_super_blocks
    iblock_dblocks = [(info, d) for info in infos[:n_iblock] for d in range(info.n_data_blocks)]
    for (info, local), addr in zip(iblock_dblocks, ib.data_block_addresses, strict=True):
        if addr != UNDEFINED_ADDRESS:
            data_block(info, local, addr, b"")
    for info, addr in zip(infos[n_iblock:], ib.super_block_addresses, strict=True):
        if addr == UNDEFINED_ADDRESS:
            continue
        sb = SuperBlock.decode(buf[addr:], p, info, address=addr)
        assert (sb.header_address, sb.block_offset) == (header_address, info.start_index)
        w.blocks.append((f"EASB s{info.index}", buf[addr : addr + super_block_size(p, info)],
                         sb.encode(p)))  # fmt: skip
        for local, dblk in enumerate(sb.data_block_addresses):
            if dblk != UNDEFINED_ADDRESS:
                data_block(info, local, dblk, sb.page_bitmap)
    return w


@dataclass
class Oracle:
    path: Path
    walks: dict[str, Walk]
    layouts: dict[str, ChunkedLayoutMessage]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Oracle:
    path = tmp_path_factory.mktemp("ea") / "ea.h5"
    step = N_CHUNKS // 4
    with h5py.File(path, "w", libver="latest") as f:
        plain = f.create_dataset("plain", shape=(N_CHUNKS,), maxshape=(None,), chunks=(1,),
                                 dtype="u1")  # fmt: skip
        gz = f.create_dataset("gzip", shape=(N_CHUNKS, 2), maxshape=(None, 2), chunks=(1, 2),
                              dtype="u1", compression="gzip")  # fmt: skip
        values = np.arange(2 * step, dtype=np.uint32)
        for start in range(0, N_CHUNKS, step):
            plain[start : start + step] = (values[:step] * 7 + start).astype("u1")
            gz[start : start + step] = (values * 13 + start).astype("u1").reshape(step, 2)
        addresses = {name: h5py.h5o.get_info(f[name].id).addr for name in ("plain", "gzip")}
    buf = path.read_bytes()
    walks, layouts = {}, {}
    for name, address in addresses.items():
        header = ObjectHeader.decode(buf[address:], address=address)
        message = find_message(header.messages, MessageType.LAYOUT)
        assert message is not None
        layout = decode_layout(message.body)
        assert isinstance(layout, ChunkedLayoutMessage)
        layouts[name] = layout
        walks[name] = walk(buf, layout.index_address, layout)
    return Oracle(path, walks, layouts)


@pytest.mark.parametrize("name", ["plain", "gzip"])
def test_oracle_every_block_reencodes_to_libhdf5_bytes(oracle: Oracle, name: str) -> None:
    w = oracle.walks[name]
    kinds = {block_name.split()[0] for block_name, _, _ in w.blocks}
    assert kinds == {"EAHD", "EAIB", "EASB", "EADB", "page"}
    assert w.pages > 0
    mismatched = [block_name for block_name, raw, ours in w.blocks if raw != ours]
    assert mismatched == []


@pytest.mark.parametrize("name", ["plain", "gzip"])
def test_oracle_header_statistics(oracle: Oracle, name: str) -> None:
    w = oracle.walks[name]
    h = w.header
    assert h.params == P
    assert (h.client_id, h.element_size) == ((0, 8) if name == "plain" else (1, 20))
    assert h.max_index_set == N_CHUNKS
    assert (h.n_super_blocks, h.super_block_bytes, h.n_data_blocks) == (10, 2268, 195)
    assert h.n_elements_realized == 141_300
    easb = [raw for block_name, raw, _ in w.blocks if block_name.startswith("EASB")]
    assert (len(easb), sum(map(len, easb))) == (h.n_super_blocks, h.super_block_bytes)
    infos = P.super_blocks()
    n_dblocks = sum(1 for block_name, _, _ in w.blocks if block_name.startswith("EADB"))
    assert n_dblocks == h.n_data_blocks
    dblock_bytes = sum(
        data_block_size(P, infos[int(block_name.split()[1][1:].split("/")[0])], h.element_size)
        for block_name, _, _ in w.blocks
        if block_name.startswith("EADB")
    )
    assert dblock_bytes == h.data_block_bytes
    assert len(w.elements) >= N_CHUNKS


@pytest.mark.parametrize("name", ["plain", "gzip"])
def test_oracle_chunk_records_match_h5py(oracle: Oracle, name: str) -> None:
    """Every chunk h5swmr finds is where libhdf5 says it is (H5Dchunk_iter over all chunks)."""
    w = oracle.walks[name]
    with h5py.File(oracle.path, "r") as f:
        ds = f[name]
        stored: list[Any] = []
        ds.id.chunk_iter(stored.append)
        sample = [ds.id.get_chunk_info(i) for i in (0, 3, 4, 131_059, 131_060, N_CHUNKS - 1)]
    assert len(stored) == N_CHUNKS
    assert [s.chunk_offset[0] for s in stored] == list(range(N_CHUNKS))
    for info_h5 in [*sample, *stored]:
        i = info_h5.chunk_offset[0]
        record = w.codec.decode(w.elements[i])
        assert record.address == info_h5.byte_offset, i
        if name == "gzip":
            assert (record.size, record.filter_mask) == (info_h5.size, info_h5.filter_mask), i
    fill = w.codec.fill
    beyond = [e for i, e in w.elements.items() if i >= N_CHUNKS]
    assert beyond
    assert all(e == fill for e in beyond)  # realized but unset elements hold the fill element


@given(st.integers(4, N_CHUNKS - 1))
def test_locate_agrees_with_the_walk(element: int) -> None:
    """locate() names the block the walk took the element from (same formula as the walk)."""
    info, block, within = P.locate(element)
    assert P.idx_blk_elmts + info.start_index + block * info.data_block_elements + within == (
        element
    )
