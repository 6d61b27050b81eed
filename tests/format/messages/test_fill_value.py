from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from h5swmr.format.messages.fill_value import AllocTime, FillTime, FillValueMessage
from tests.format.conftest import check_structure
from tests.format.messages.oracle import DTYPES, Oracle


@given(
    st.sampled_from(list(AllocTime)),
    st.sampled_from(list(FillTime)),
    st.one_of(st.none(), st.binary(min_size=1, max_size=16)),
)
def test_round_trip(alloc: AllocTime, fill: FillTime, value: bytes | None) -> None:
    check_structure(FillValueMessage(alloc, fill, value), garbage_rounds=5)


def test_battery() -> None:
    assert check_structure(FillValueMessage()) == b"\x03\x0b"
    check_structure(FillValueMessage(undefined=True))


def test_versions_1_and_2() -> None:
    v1 = bytes([1, 3, 2, 1]) + struct.pack("<I", 4) + b"abcd"
    assert FillValueMessage.decode(v1) == FillValueMessage(3, 2, b"abcd")  # type: ignore[arg-type]
    v2 = bytes([2, 2, 0, 0])
    assert FillValueMessage.decode(v2).undefined


def test_oracle(oracle: Oracle) -> None:
    for dt in DTYPES:
        assert FillValueMessage().encode() == oracle.one(f"d_{dt}", 0x05)
    value = struct.pack("<f", 1.5)
    assert FillValueMessage(value=value).encode() == oracle.one("fill", 0x05)
    contiguous = FillValueMessage(AllocTime.LATE, FillTime.IFSET)
    assert contiguous.encode() == oracle.one("contiguous", 0x05)
    assert FillValueMessage.decode(oracle.one("compact", 0x05)).alloc_time == AllocTime.EARLY
