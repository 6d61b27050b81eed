from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import FormatError, InvalidDtypeError, UnsupportedError
from h5swmr.format.messages.datatype import (
    ArrayType,
    CompoundMember,
    CompoundType,
    DatatypeMessage,
    FixedPointType,
    StringCharset,
    StringPadding,
    StringType,
    VariableLengthStringType,
)
from tests.format.conftest import check_structure
from tests.format.messages.oracle import BIG_ENDIAN, DTYPES, RECORDS, Oracle, read


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
    "dt",
    [object, "U4", "M8[s]", "m8", "V8", "f16", "(2,)f4", "S0", np.float128, [("u", "U3")], []],
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


@pytest.mark.parametrize("key", RECORDS)
def test_record_round_trip(key: str) -> None:
    m = DatatypeMessage.from_numpy(RECORDS[key])
    check_structure(m, garbage_rounds=20)
    assert m.to_numpy() == RECORDS[key]
    assert m.element_size == RECORDS[key].itemsize


def test_oracle_v110_records_bytes_identical(oracle_v114: Oracle) -> None:
    """A structured dtype is the compound libhdf5 writes for h5py: members in numpy's order at
    numpy's offsets, padding kept, subarrays as arrays (class 10), version 3 throughout."""
    for key, record in RECORDS.items():
        body = oracle_v114.one(f"rec_{key}", 0x03)
        assert DatatypeMessage.from_numpy(record).encode() == body, key
        assert DatatypeMessage.decode(body).to_numpy() == record, key


def test_oracle_latest_records_decode(oracle: Oracle) -> None:
    for key, record in RECORDS.items():
        body = oracle.one(f"rec_{key}", 0x03)
        assert body[0] >> 4 == 5
        assert DatatypeMessage.decode(body).to_numpy() == record, key


_U1 = FixedPointType(1, signed=False)
_U4 = FixedPointType(4, signed=False)


def _compound(size: int, count: int, *members: tuple[bytes, int, FixedPointType]) -> bytes:
    """A version 3 compound message as written by hand (no checks), ``count`` in its bits."""
    out = bytes([0x36]) + count.to_bytes(3, "little") + size.to_bytes(4, "little")
    for name, offset, member in members:
        out += name + b"\x00" + offset.to_bytes(max(1, (size.bit_length() + 7) // 8), "little")
        out += DatatypeMessage(member).encode()
    return out


@pytest.mark.parametrize(
    "body",
    [
        _compound(8, 2, (b"a", 0, _U4), (b"b", 2, _U4)),  # overlapping
        _compound(8, 2, (b"a", 0, _U4), (b"b", 5, _U4)),  # past the end
        _compound(8, 2, (b"a", 0, _U4), (b"a", 4, _U4)),  # one name twice
        _compound(8, 0),  # no members
        _compound(8, 0xFFFF, (b"a", 0, _U4)),  # 65535 members said, one there
        _compound(0xFFFFFFFF, 0xFFFF, *[(b"m%d" % i, i, _U1) for i in range(3000)]),
        bytes.fromhex("3a000000 08000000 00") + DatatypeMessage(_U4).encode(),  # rank 0
        bytes.fromhex("3a000000 08000000 21") + b"\x01\x00\x00\x00" * 33,  # rank 33
        bytes.fromhex("3a000000 08000000 01 03000000") + DatatypeMessage(_U4).encode(),  # 12 != 8
        bytes.fromhex("1a000000 04000000 01 01000000") + DatatypeMessage(_U4).encode(),  # v1 array
    ],
)
def test_hostile_compounds_and_arrays_are_format_errors(body: bytes) -> None:
    with pytest.raises(FormatError):
        DatatypeMessage.decode(body)


def test_compound_checks_members_when_built() -> None:
    with pytest.raises(FormatError, match="overlaps"):
        CompoundType(8, (CompoundMember("a", 0, _U4), CompoundMember("b", 3, _U4)))
    with pytest.raises(FormatError, match="array"):
        ArrayType((), _U4)
    with pytest.raises(InvalidDtypeError):  # numpy lets fields overlap; HDF5 does not
        DatatypeMessage.from_numpy(
            np.dtype({"names": ["a", "b"], "formats": ["<u4", "<u4"], "offsets": [0, 2]})
        )


def _random_record(rng: random.Random, depth: int = 0) -> np.dtype:
    """A structured dtype of 1-5 fields: numbers in either byte order, subarrays, a nested
    record now and then; numpy's packed or aligned layout, or an itemsize with room to spare."""
    leaves = ["?", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16"]
    fields: list[tuple[str, object] | tuple[str, object, tuple[int, ...]]] = []
    for k in range(rng.randint(1, 5)):
        member: object = rng.choice("<>") + rng.choice(leaves)
        if depth < 2 and rng.random() < 0.2:
            member = _random_record(rng, depth + 1)
        if rng.random() < 0.25:
            shape = tuple(rng.randint(1, 3) for _ in range(rng.randint(1, 2)))
            fields.append((f"f{k}", member, shape))
        else:
            fields.append((f"f{k}", member))
    dtype = np.dtype(fields, align=rng.random() < 0.5)
    if rng.random() < 0.3:
        names = list(dtype.names or ())
        fields_of: dict[str, Any] = dict(dtype.fields or {})
        layout: dict[str, Any] = {
            "names": names,
            "formats": [fields_of[n][0] for n in names],
            "offsets": [fields_of[n][1] for n in names],
            "itemsize": dtype.itemsize + rng.randint(1, 9),
        }
        dtype = np.dtype(layout)  # type: ignore[call-overload]
    return dtype


def test_random_records_bytes_identical_to_h5py(tmp_path: Path) -> None:
    rng = random.Random(7)
    dtypes = [_random_record(rng) for _ in range(40)]
    path = tmp_path / "random.h5"
    with h5py.File(path, "w", libver=("v110", "v110")) as f:
        for i, dtype in enumerate(dtypes):
            f.create_dataset(f"r{i}", shape=(0,), maxshape=(None,), chunks=(2,), dtype=dtype)
    found = read(path)
    for i, dtype in enumerate(dtypes):
        body = found.one(f"r{i}", 0x03)
        assert DatatypeMessage.from_numpy(dtype).encode() == body, dtype
        assert DatatypeMessage.decode(body).to_numpy() == dtype, dtype
