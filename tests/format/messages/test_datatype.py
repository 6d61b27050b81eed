from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import InvalidDtypeError, UnsupportedError
from h5swmr.format.messages.datatype import (
    DatatypeMessage,
    FixedPointType,
    StringCharset,
    StringPadding,
    StringType,
    VariableLengthStringType,
)
from tests.format.conftest import check_structure
from tests.format.messages.oracle import BIG_ENDIAN, DTYPES, Oracle


@pytest.mark.parametrize("dt", DTYPES)
def test_numpy_round_trip(dt: str) -> None:
    m = DatatypeMessage.from_numpy(dt)
    check_structure(m, garbage_rounds=50)
    assert m.to_numpy() == np.dtype(dt)
    assert m.element_size == np.dtype(dt).itemsize


@pytest.mark.parametrize("dt", [*BIG_ENDIAN, ">c8", ">c16"])
def test_big_endian_input_keeps_its_byte_order(dt: str) -> None:
    """As h5py: a big-endian dtype makes a big-endian HDF5 type (bit 0 of the class bits)."""
    m = DatatypeMessage.from_numpy(dt)
    assert m != DatatypeMessage.from_numpy(np.dtype(dt).newbyteorder("<"))
    assert m.to_numpy() == np.dtype(dt)
    assert m.to_numpy().str == np.dtype(dt).str
    assert DatatypeMessage.decode(m.encode()) == m


@pytest.mark.parametrize(
    "dt", [object, "U4", "M8[s]", "m8", "V8", [("a", "i4")], "f16", "(2,)f4", "S0", np.float128]
)
def test_rejects(dt: object) -> None:
    with pytest.raises(InvalidDtypeError, match=r"dtype|not"):
        DatatypeMessage.from_numpy(dt)


@given(
    st.integers(1, 64),
    st.sampled_from(list(StringPadding)),
    st.sampled_from(list(StringCharset)),
)
def test_string_round_trip(size: int, padding: StringPadding, charset: StringCharset) -> None:
    check_structure(DatatypeMessage(StringType(size, padding, charset)), garbage_rounds=5)


@given(st.sampled_from([1, 2, 4, 8]), st.booleans(), st.booleans())
def test_integer_round_trip(size: int, signed: bool, big: bool) -> None:
    check_structure(DatatypeMessage(FixedPointType(size, signed, big)), garbage_rounds=5)


def test_oracle_v110_bytes_identical(oracle_v114: Oracle) -> None:
    for dt in DTYPES:
        (raw,) = oracle_v114.find(f"d_{dt}", 0x03)
        assert DatatypeMessage.from_numpy(dt).encode() == raw.body, dt
        assert raw.flags == DatatypeMessage.FLAGS


def test_oracle_latest(oracle: Oracle) -> None:
    """HDF5 2.0 'latest' writes compound/enum as version 5, otherwise the same bytes."""
    for dt in DTYPES:
        body = oracle.one(f"d_{dt}", 0x03)
        ours = DatatypeMessage.from_numpy(dt).encode()
        if np.dtype(dt).kind in "cb":
            assert body[0] >> 4 == 5 and ours[0] >> 4 == 3
            assert body[1:] == ours[1:]
        else:
            assert body == ours, dt
        assert DatatypeMessage.decode(body).to_numpy() == np.dtype(dt)


def test_oracle_big_endian_decodes(oracle: Oracle) -> None:
    for dt in BIG_ENDIAN:
        assert DatatypeMessage.decode(oracle.one(f"d_{dt}", 0x03)).to_numpy() == np.dtype(dt)


LIBHDF5_VLEN_UTF8 = bytes.fromhex("1901010010000000100000000100000000000800")
"""h5py 3.16 / HDF5 2.0: the datatype of ``f.attrs["s"] = "héllo"`` (class 9, string kind,
NUL-terminated, UTF-8, 16-byte elements, then a base type of unsigned bytes)."""


def test_variable_length_string_bytes_as_libhdf5_writes_them() -> None:
    message = DatatypeMessage(VariableLengthStringType())
    assert message.encode() == LIBHDF5_VLEN_UTF8
    assert DatatypeMessage.decode(LIBHDF5_VLEN_UTF8) == message
    ascii_type = VariableLengthStringType(charset=StringCharset.ASCII)
    assert DatatypeMessage(ascii_type).encode()[1:3] == b"\x01\x00"  # charset bits 8-11 clear
    with pytest.raises(UnsupportedError):
        message.to_numpy()


@given(st.sampled_from(list(StringPadding)), st.sampled_from(list(StringCharset)))
def test_variable_length_string_round_trip(padding: StringPadding, charset: StringCharset) -> None:
    check_structure(
        DatatypeMessage(VariableLengthStringType(16, padding, charset)), garbage_rounds=5
    )
