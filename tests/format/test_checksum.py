"""lookup3 (published vectors and an independent reference), seal and verified."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import ChecksumError, FormatError, TruncatedError
from h5swmr.format.checksum import lookup3, reseal, seal, verified

_M = 0xFFFF_FFFF
FOUR_SCORE = b"Four score and seven years ago"


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M


# lookup3.c's mix() and final() as (target, source, partner, rotation) steps.
_MIX = [(0, 2, 1, 4), (1, 0, 2, 6), (2, 1, 0, 8), (0, 2, 1, 16), (1, 0, 2, 19), (2, 1, 0, 4)]
_FINAL = [(2, 1, 14), (0, 2, 11), (1, 0, 25), (2, 1, 16), (0, 2, 4), (1, 0, 14), (2, 1, 24)]


def _mix(s: list[int]) -> None:
    for t, src, partner, k in _MIX:  # t -= src; t ^= rot(src, k); src += partner
        s[t] = ((s[t] - s[src]) & _M) ^ _rot(s[src], k)
        s[src] = (s[src] + s[partner]) & _M


def _final(s: list[int]) -> None:
    for t, src, k in _FINAL:  # t ^= src; t -= rot(src, k)
        s[t] = ((s[t] ^ s[src]) - _rot(s[src], k)) & _M


def reference_hashlittle(data: bytes, initval: int = 0) -> int:
    """Bob Jenkins' lookup3.c ``hashlittle``, byte by byte, straight from the C."""
    s = [(0xDEADBEEF + len(data) + initval) & _M] * 3
    rest = data
    while len(rest) > 12:
        s = [(s[i] + int.from_bytes(rest[4 * i : 4 * i + 4], "little")) & _M for i in range(3)]
        _mix(s)
        rest = rest[12:]
    if not rest:
        return s[2]
    tail = rest.ljust(12, b"\0")  # the C switch adds only the bytes that exist
    s = [(s[i] + int.from_bytes(tail[4 * i : 4 * i + 4], "little")) & _M for i in range(3)]
    _final(s)
    return s[2]


@pytest.mark.parametrize(
    ("data", "initval", "expected"),
    [(b"", 0, 0xDEADBEEF), (FOUR_SCORE, 0, 0x17770551), (FOUR_SCORE, 1, 0xCD628161)],
)
def test_published_vectors(data: bytes, initval: int, expected: int) -> None:
    assert lookup3(data, initval) == expected
    assert reference_hashlittle(data, initval) == expected


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_accepts_every_bytes_like(kind: type) -> None:
    assert lookup3(kind(FOUR_SCORE)) == 0x17770551


@given(st.binary(max_size=80), st.integers(0, 2**32 - 1))
def test_matches_reference(data: bytes, initval: int) -> None:
    assert lookup3(data, initval) == reference_hashlittle(data, initval)


@given(st.binary(max_size=200))
def test_seal_verified_round_trip(body: bytes) -> None:
    block = seal(body)
    assert len(block) == len(body) + 4
    assert block[-4:] == lookup3(body).to_bytes(4, "little")
    for kind in (bytes, bytearray, memoryview):
        assert bytes(verified(kind(block), what="thing")) == body


def test_every_byte_flip_is_a_checksum_error() -> None:
    block = seal(FOUR_SCORE)
    for i in range(len(block)):
        for mask in (0x01, 0x80, 0xFF):
            bad = bytearray(block)
            bad[i] ^= mask
            with pytest.raises(ChecksumError) as info:
                verified(bad, what="thing", address=96)
            assert info.value.structure == "thing"
            assert info.value.address == 96
            assert "thing at address 96" in str(info.value)


def test_too_short_for_a_checksum() -> None:
    for n in range(4):
        with pytest.raises(TruncatedError):
            verified(bytes(n), what="thing")
    assert bytes(verified(seal(b""), what="thing")) == b""


def test_errors_are_format_errors() -> None:
    assert issubclass(ChecksumError, FormatError)
    assert issubclass(ChecksumError, ValueError)


@given(st.binary(max_size=300), st.binary(min_size=1, max_size=300))
def test_reseal_after_a_patch_equals_seal_of_the_patched_body(body: bytes, patch: bytes) -> None:
    image = bytearray(seal(body + bytes(len(patch))))
    image[len(body) : len(body) + len(patch)] = patch
    reseal(image)
    assert bytes(image) == seal(body + patch)
    assert bytes(verified(image, what="patched")) == body + patch
