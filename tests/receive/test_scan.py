"""scan.read, the receiver's zero-copy CBOR reader, held against cbor2 on generated data."""

from __future__ import annotations

import contextlib
import datetime
import math

import cbor2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import MessageError
from h5swmr.receive import cbor, scan


def plain(value: object) -> object:
    """memoryview slices as bytes, so results compare with cbor2's."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def no_tags(number: int, value: object) -> object:
    raise scan.UnhandledItemError(f"tag {number}")


leaves = (
    st.integers(-(2**64), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.binary(max_size=40)
    | st.booleans()
    | st.none()
    | st.datetimes(timezones=st.just(datetime.UTC))
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(max_size=8) | st.integers(0, 100), inner, max_size=5)
    ),
    max_leaves=30,
)


@given(values, st.booleans())
def test_scan_reads_what_cbor2_reads(value: object, canonical: bool) -> None:
    raw = cbor2.dumps(value, canonical=canonical, timezone=datetime.UTC)
    expected = cbor2.loads(raw)
    try:
        got = scan.read(memoryview(raw), no_tags)
    except scan.UnhandledItemError:  # outside the subset (bignums): cbor.loads asks cbor2
        got = cbor.loads(raw)
    assert plain(got) == expected


@given(st.binary(max_size=64))
def test_any_bytes_give_a_value_a_message_error_or_a_fallback(raw: bytes) -> None:
    with contextlib.suppress(MessageError):
        cbor.loads(raw)


def test_byte_strings_are_slices_of_the_message() -> None:
    payload = np.arange(1000, dtype="<u4").tobytes()
    raw = cbor2.dumps({"data": cbor2.CBORTag(40, [[1000], cbor2.CBORTag(70, payload)])})
    view = memoryview(raw)
    message = cbor.loads(view)
    assert isinstance(message, dict)
    data = message["data"].array.payload
    assert isinstance(data, memoryview) and data.obj is raw and bytes(data) == payload


@pytest.mark.parametrize(
    "raw",
    [
        b"\x5a\xff\xff\xff\xff",  # a byte string longer than the message
        b"\x9b" + b"\xff" * 8,  # an array of 2**64-1 items
        b"\x81" * 100,  # deeper than MAX_DEPTH
        b"\x62\xff\xfe",  # text that is not UTF-8
        b"\xc0\x61x",  # tag 0 around a text that is no date
        b"\x01\x02",  # bytes after the item
    ],
)
def test_malformed_input_is_a_message_error(raw: bytes) -> None:
    with pytest.raises(MessageError):
        scan.read(memoryview(raw), no_tags)


def test_what_scan_leaves_to_cbor2() -> None:
    indefinite = b"\x9f\x01\x02\xff"  # [_ 1, 2]
    assert cbor.loads(indefinite) == [1, 2]
    assert isinstance(cbor.loads(cbor2.dumps(cbor2.CBORTag(1234, 5))), cbor2.CBORTag)
    assert math.isnan(float(cbor.loads(cbor2.dumps(float("nan")))))  # type: ignore[arg-type]
