"""fill_element: a fill value is one number (or one string of bytes) that the dataset's dtype holds
exactly."""

from __future__ import annotations

import numpy as np
import pytest

from h5swmr.errors import InvalidArgumentError
from h5swmr.format.messages.fill_value import FillTime, FillValueMessage
from h5swmr.format.object_header import RawMessage
from h5swmr.writer.fill import fill_element, with_fill_value


@pytest.mark.parametrize(
    ("value", "dtype", "stored"),
    [
        (-7, "i2", b"\xf9\xff"),
        (255, "u1", b"\xff"),
        (3, "f4", np.float32(3).tobytes()),
        (np.nan, "f8", np.float64(np.nan).tobytes()),
        (True, "?", b"\x01"),
        (1 - 2j, "c8", np.complex64(1 - 2j).tobytes()),
        (np.uint64(2**64 - 1), "u8", b"\xff" * 8),
        (b"none", "S6", b"none\x00\x00"),
        ("\u00e9", "S2", b"\xc3\xa9"),
        (np.bytes_(b"ab\x00\x00"), "S2", b"ab"),
    ],
)
def test_exact_values(value: object, dtype: str, stored: bytes) -> None:
    assert fill_element(value, np.dtype(dtype), "w").tobytes() == stored


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        (256, "u1"),
        (-1, "u2"),
        (0.5, "i4"),
        (np.nan, "i4"),
        ("7", "i4"),
        ([1], "i4"),
        (1j, "f4"),
        (b"abc", "S2"),
        ("\u00e9", "S1"),
        (0, "S4"),
        ([b"a"], "S4"),
    ],
)
def test_values_that_do_not_fit(value: object, dtype: str) -> None:
    with pytest.raises(InvalidArgumentError):
        fill_element(value, np.dtype(dtype), "w")


def test_with_fill_value_keeps_other_messages_and_alloc_time() -> None:
    other = RawMessage(3, b"\x10\x00\x00\x00", 1)
    fill = RawMessage(5, FillValueMessage().encode(), 1)
    out = with_fill_value((other, fill), b"\x07\x00")
    assert out[0] == other
    decoded = FillValueMessage.decode(out[1].body)
    assert decoded.value == b"\x07\x00" and decoded.fill_time == FillTime.IFSET
    assert decoded.alloc_time == FillValueMessage().alloc_time and out[1].flags == 1
