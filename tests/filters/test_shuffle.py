"""ShuffleFilter: the battery, and the byte transpose against a literal H5Zshuffle.c loop."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h5swmr.errors import FilterError
from h5swmr.filters.shuffle import ShuffleFilter
from h5swmr.format.constants import FilterId

from .conformance import FilterTests


class TestShuffleFilter(FilterTests):
    instances = (ShuffleFilter(),)


def reference_shuffle(chunk: bytes, element_size: int) -> bytes:
    """H5Z__filter_shuffle on write, loop for loop."""
    count = len(chunk) // element_size
    if element_size <= 1 or count <= 1:
        return chunk
    out = bytearray(len(chunk))
    for i in range(count):
        for j in range(element_size):
            out[j * count + i] = chunk[i * element_size + j]
    leftover = len(chunk) % element_size
    out[count * element_size :] = chunk[count * element_size :]
    assert len(out) == count * element_size + leftover
    return bytes(out)


@settings(max_examples=100, deadline=None)
@given(chunk=st.binary(max_size=600), element_size=st.integers(1, 17))
def test_matches_reference_loop(chunk: bytes, element_size: int) -> None:
    encoded = ShuffleFilter().encode(chunk, element_size)
    assert encoded == reference_shuffle(chunk, element_size)
    assert ShuffleFilter().decode(encoded, element_size) == chunk


def test_known_vector_with_leftover() -> None:
    # three 2-byte elements a0 a1 | b0 b1 | c0 c1, then one leftover byte z
    assert ShuffleFilter().encode(b"AaBbCcz", 2) == b"ABCabcz"
    assert ShuffleFilter().decode(b"ABCabcz", 2) == b"AaBbCcz"


def test_single_element_and_one_byte_elements_pass_unchanged() -> None:
    assert ShuffleFilter().encode(b"abcdefg", 4) == b"abcdefg"
    assert ShuffleFilter().encode(b"abcdefg", 1) == b"abcdefg"


def test_cd_values_are_the_element_size() -> None:
    assert ShuffleFilter.filter_id == int(FilterId.SHUFFLE) == 2
    assert ShuffleFilter.optional
    assert ShuffleFilter().cd_values(8) == (8,)
    assert ShuffleFilter.from_cd_values((2,)) == ShuffleFilter()


@pytest.mark.parametrize("cd_values", [(), (0,), (2, 2)])
def test_invalid_cd_values(cd_values: tuple[int, ...]) -> None:
    with pytest.raises(FilterError, match="shuffle"):
        ShuffleFilter.from_cd_values(cd_values)


@pytest.mark.parametrize("element_size", [0, -2, True])
def test_invalid_element_size(element_size: int) -> None:
    with pytest.raises(FilterError, match="element size"):
        ShuffleFilter().encode(b"abcd", element_size)
