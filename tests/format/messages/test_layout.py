from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import ChunkIndexType
from h5swmr.format.extensible_array.params import ExtensibleArrayParams
from h5swmr.format.messages.layout import (
    ChunkedLayoutMessage,
    CompactLayoutMessage,
    ContiguousLayoutMessage,
    decode_layout,
)
from tests.format.conftest import check_structure
from tests.format.messages.oracle import DTYPES, Oracle

EA = ChunkIndexType.EXTENSIBLE_ARRAY


@given(
    st.lists(st.integers(1, 300), min_size=1, max_size=3).map(tuple),
    st.sampled_from([1, 2, 4, 8, 16]),
    st.sampled_from([t for t in ChunkIndexType if t != ChunkIndexType.BTREE_V1]),
    st.integers(0, 2**64 - 1),
)
def test_round_trip(dims: tuple[int, ...], esize: int, kind: ChunkIndexType, addr: int) -> None:
    m = ChunkedLayoutMessage(dims, esize, kind, addr)
    encoded = check_structure(m, garbage_rounds=5)
    assert encoded[0] == 4


def test_others_round_trip() -> None:
    check_structure(ChunkedLayoutMessage((4, 4), 2, ChunkIndexType.BTREE_V1, 4096, version=3))
    check_structure(ContiguousLayoutMessage(2048, 80))
    check_structure(CompactLayoutMessage(b"abc"))
    single = ChunkedLayoutMessage((2, 3), 4, ChunkIndexType.SINGLE_CHUNK, 99, flags=2,
                                  single_chunk_size=17, single_chunk_filter_mask=1)  # fmt: skip
    check_structure(single)


def test_minimal_width() -> None:
    m = ChunkedLayoutMessage((1, 300, 7), 2, EA, 0)
    assert m.encode()[2:5] == bytes([0, 4, 2])
    assert ChunkedLayoutMessage((1, 4, 4), 2, EA, 0).encode()[2:5] == bytes([0, 4, 1])


def test_never_version_5_and_validation() -> None:
    with pytest.raises(UnsupportedError):
        ChunkedLayoutMessage((2,), 4, EA, 0, version=5).encode()
    with pytest.raises(FormatError):
        ChunkedLayoutMessage((2,), 4, ChunkIndexType.FIXED_ARRAY, 0, ExtensibleArrayParams())
    with pytest.raises(FormatError):
        ChunkedLayoutMessage((0,), 4, EA, 0)
    with pytest.raises(FormatError):
        ChunkedLayoutMessage((2**16, 2**16), 1, EA, 0)


def _same_but_address(ours: bytes, theirs: bytes) -> None:
    assert ours[:-8] == theirs[:-8]


def test_oracle_unfiltered(oracle: Oracle) -> None:
    for dt in DTYPES:
        size = 16 if dt == "c16" else (8 if dt in ("c8", "i8", "u8", "f8") else 0)
        size = size or {"i1": 1, "u1": 1, "?": 1, "S5": 5, "i2": 2, "u2": 2, "f2": 2}.get(dt, 4)
        raw = oracle.one(f"d_{dt}", 0x08)
        theirs = ChunkedLayoutMessage.decode(raw)
        ours = ChunkedLayoutMessage((2, 3), size, EA, theirs.index_address)
        assert ours.encode() == raw and ours == theirs
        assert oracle.find(f"d_{dt}", 0x08)[0].flags == ChunkedLayoutMessage.FLAGS
    for name, kind, dims, esize in [
        ("big", EA, (1, 300, 7), 2),
        ("fixed", ChunkIndexType.FIXED_ARRAY, (2, 3), 4),
        ("btree2", ChunkIndexType.BTREE_V2, (2, 3), 4),
        ("single", ChunkIndexType.SINGLE_CHUNK, (2, 3), 4),
    ]:
        raw = oracle.one(name, 0x08)
        address = ChunkedLayoutMessage.decode(raw).index_address
        assert ChunkedLayoutMessage(dims, esize, kind, address).encode() == raw, name


def test_oracle_filtered(oracle: Oracle, oracle_v114: Oracle) -> None:
    """HDF5 2.0 latest writes v5 for filtered datasets; libver v110 writes our v4 bytes."""
    raw5 = oracle.one("gz_f4", 0x08)
    assert raw5[0] == 5
    decoded = ChunkedLayoutMessage.decode(raw5)
    assert decoded.version == 5
    ours = ChunkedLayoutMessage((2, 3), 4, EA, decoded.index_address)
    assert ours.encode()[0] == 4 and ours.encode()[1:] == raw5[1:]
    raw4 = oracle_v114.one("gz_f4", 0x08)
    address = ChunkedLayoutMessage.decode(raw4).index_address
    assert ChunkedLayoutMessage((2, 3), 4, EA, address).encode() == raw4
    single = ChunkedLayoutMessage.decode(oracle.one("single_gz", 0x08))
    assert single.flags == 2 and single.index_type == ChunkIndexType.SINGLE_CHUNK


def test_oracle_contiguous_and_compact(oracle: Oracle) -> None:
    contiguous = decode_layout(oracle.one("contiguous", 0x08))
    assert isinstance(contiguous, ContiguousLayoutMessage) and contiguous.size == 80
    assert contiguous.encode() == oracle.one("contiguous", 0x08)
    compact = decode_layout(oracle.one("compact", 0x08))
    assert isinstance(compact, CompactLayoutMessage) and len(compact.data) == 12
    assert compact.encode() == oracle.one("compact", 0x08)
