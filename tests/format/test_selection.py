"""Dataspace selections: round trips, libhdf5's version choice, corruption."""

from __future__ import annotations

import contextlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import FormatError, H5SwmrError, TruncatedError, UnsupportedError
from h5swmr.format.constants import UNLIMITED
from h5swmr.format.selection import (
    AllSelection,
    HyperslabBlockList,
    HyperslabSelection,
    NoneSelection,
    Selection,
    decode_selection_bytes,
)


def _round_trip(sel: Selection) -> bytes:
    encoded = sel.encode()
    assert decode_selection_bytes(encoded) == sel
    for cut in range(len(encoded)):
        with pytest.raises(FormatError):
            decode_selection_bytes(encoded[:cut])
    rng = random.Random(len(encoded))
    for _ in range(50):
        mutated = bytearray(encoded)
        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        with contextlib.suppress(H5SwmrError):
            decode_selection_bytes(bytes(mutated))
    return encoded


def test_all_and_none() -> None:
    assert _round_trip(AllSelection()) == bytes.fromhex("03000000 01000000 00000000 00000000")
    assert _round_trip(NoneSelection())[:8] == bytes.fromhex("00000000 01000000")


def test_versions_as_libhdf5_picks_them() -> None:
    one_block = HyperslabSelection((0, 0, 0), (1, 1, 1), (1, 1, 1), (10, 2, 2))
    assert one_block.version == 1
    assert _round_trip(one_block) == bytes.fromhex(
        "02000000 01000000 00000000 20000000 03000000 01000000"
        "00000000 00000000 00000000 09000000 01000000 01000000"
    )
    growing = HyperslabSelection((10, 0, 0), (2, 1, 1), (UNLIMITED, 1, 1), (1, 2, 2))
    assert growing.version == 2
    encoded = _round_trip(growing)
    assert encoded[:17] == bytes.fromhex("02000000 02000000 01 64000000 03000000")
    assert len(encoded) == 13 + 4 + 96
    compact = HyperslabSelection((10, 0, 0), (2, 1, 1), (UNLIMITED, 1, 1), (1, 2, 2), 3)
    assert _round_trip(compact) == bytes.fromhex(
        "02000000 03000000 01 02 03000000"
        "0a00 0200 ffff 0100  0000 0100 0100 0200  0000 0100 0100 0200"
    )
    wide = HyperslabSelection((1 << 40,), (1,), (1,), (5,), 3)
    assert _round_trip(wide)[9] == 8


def test_block_lists() -> None:
    blocks = (((0, 0), (1, 1)), ((4, 0), (5, 1)))
    for version in (1, 3):
        _round_trip(HyperslabBlockList(blocks, version))
    strided = HyperslabSelection((0, 0), (4, 1), (2, 1), (2, 2), version=1)
    assert strided.blocks() == list(blocks)
    assert decode_selection_bytes(strided.encode()) == HyperslabBlockList(blocks, 1)


def test_invalid() -> None:
    with pytest.raises(FormatError):
        HyperslabSelection((0,), (1,), (2,), (3,))  # overlapping blocks
    with pytest.raises(FormatError):
        HyperslabSelection((0, 0), (1, 1), (UNLIMITED, UNLIMITED), (1, 1))
    with pytest.raises(FormatError):
        HyperslabSelection((0,), (1,), (UNLIMITED,), (1,), version=1)
    with pytest.raises(UnsupportedError):
        decode_selection_bytes(bytes.fromhex("01000000 02000000"))
    with pytest.raises(TruncatedError):
        decode_selection_bytes(b"\x02\x00")


dims = st.integers(1, 3)


@given(
    st.data(),
    st.integers(1, 4),
    st.sampled_from([0, 2, 3]),
    st.booleans(),
)
def test_regular_round_trip(data: st.DataObject, rank: int, version: int, grow: bool) -> None:
    start = tuple(data.draw(st.integers(0, 1 << 40)) for _ in range(rank))
    block = tuple(data.draw(st.integers(1, 1000)) for _ in range(rank))
    stride = tuple(b + data.draw(st.integers(0, 70000)) for b in block)
    count = [data.draw(st.integers(0, 5)) for _ in range(rank)]
    if grow:
        count[0] = UNLIMITED
    sel = HyperslabSelection(start, stride, tuple(count), block, version)
    assert decode_selection_bytes(sel.encode()) == sel
