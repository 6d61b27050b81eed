"""Fletcher32Filter: the battery, the checksum against a literal H5checksum.c loop, verification."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h5swmr.errors import FilterError
from h5swmr.filters.fletcher32 import Fletcher32Filter, fletcher32
from h5swmr.format.constants import FilterId

from .conformance import FilterTests


class TestFletcher32Filter(FilterTests):
    instances = (Fletcher32Filter(),)


def reference_fletcher32(data: bytes) -> int:
    """H5_checksum_fletcher32, statement for statement (32-bit sums, folds every 360 words)."""

    def fold(value: int) -> int:
        return (value & 0xFFFF) + (value >> 16)

    sum1 = sum2 = 0
    words = len(data) // 2
    position = 0
    while words:
        block = min(words, 360)
        words -= block
        for _ in range(block):
            sum1 += (data[position] << 8) | data[position + 1]
            position += 2
            sum2 += sum1
            assert sum1 < 2**32 and sum2 < 2**32  # the C code must not overflow
        sum1, sum2 = fold(sum1), fold(sum2)
    if len(data) % 2:
        sum1 += data[position] << 8
        sum2 += sum1
        sum1, sum2 = fold(sum1), fold(sum2)
    sum1, sum2 = fold(sum1), fold(sum2)
    return (sum2 << 16) | sum1


# Runs of 0x00 and 0xff bytes reach the corner where the folded sum is 0xffff, not 0.
_BYTES = st.one_of(
    st.binary(max_size=4000),
    st.builds(lambda n, b: bytes([b]) * n, st.integers(0, 9000), st.sampled_from([0, 0xFF])),
    st.lists(st.sampled_from([b"\xff" * 720, b"\x00\x01", b"\xff", b"\xfe\xff"]), max_size=40).map(
        b"".join
    ),
)


@settings(max_examples=150, deadline=None)
@given(data=_BYTES)
def test_matches_reference_loop(data: bytes) -> None:
    assert fletcher32(data) == reference_fletcher32(data)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x01", b"\xff", b"\xff\xff", b"\xff" * 719, b"\xff" * 720, b"\xff" * 721, b"abcde"],
)
def test_corner_cases(data: bytes) -> None:
    assert fletcher32(data) == reference_fletcher32(data)


def test_largest_sums_do_not_overflow() -> None:
    data = b"\xff" * (2 * 360 * 5 + 1)
    assert fletcher32(data) == reference_fletcher32(data)


def test_known_vectors() -> None:
    assert fletcher32(b"") == 0
    assert fletcher32(b"\xff\xff") == 0xFFFF_FFFF  # 0 mod 65535, but never folded to 0
    assert fletcher32(b"\x00\x01\x00\x02") == (4 << 16) | 3


def test_checksum_is_appended_little_endian() -> None:
    chunk = b"abcdefg"
    encoded = Fletcher32Filter().encode(chunk, 1)
    assert encoded[:-4] == chunk
    assert struct.unpack("<I", encoded[-4:])[0] == reference_fletcher32(chunk)


def test_mandatory_without_cd_values() -> None:
    assert Fletcher32Filter.filter_id == int(FilterId.FLETCHER32) == 3
    assert not Fletcher32Filter.optional
    assert Fletcher32Filter().describe(4).flags == 0
    assert Fletcher32Filter().cd_values(4) == ()


def test_legacy_byte_reversed_checksum_is_accepted() -> None:
    chunk = b"legacy data!"
    value = fletcher32(chunk)
    swapped = ((value & 0x00FF00FF) << 8) | ((value >> 8) & 0x00FF00FF)
    assert swapped != value
    legacy = chunk + struct.pack("<I", swapped)
    assert Fletcher32Filter().decode(legacy, 1) == chunk


def test_every_flipped_bit_is_detected() -> None:
    encoded = Fletcher32Filter().encode(bytes(range(64)), 1)
    for index in range(len(encoded)):
        for bit in range(8):
            corrupt = bytearray(encoded)
            corrupt[index] ^= 1 << bit
            with pytest.raises(FilterError, match="fletcher32"):
                Fletcher32Filter().decode(corrupt, 1)


@pytest.mark.parametrize("chunk", [b"", b"\x00", b"abc"])
def test_chunk_shorter_than_checksum(chunk: bytes) -> None:
    with pytest.raises(FilterError, match="shorter"):
        Fletcher32Filter().decode(chunk, 1)
