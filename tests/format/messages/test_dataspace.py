from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import FormatError
from h5swmr.format.constants import UNLIMITED
from h5swmr.format.messages.dataspace import DataspaceMessage
from tests.format.conftest import check_structure
from tests.format.messages.oracle import DTYPES, Oracle

dims_st = st.lists(st.integers(0, 2**63), max_size=5).map(tuple)


@given(dims_st, st.booleans(), st.booleans())
def test_round_trip(dims: tuple[int, ...], with_max: bool, unlimited: bool) -> None:
    maxdims = tuple(UNLIMITED if unlimited else d + 1 for d in dims) if with_max else None
    check_structure(DataspaceMessage(dims, maxdims), garbage_rounds=5)


def test_battery_and_with_dims() -> None:
    m = DataspaceMessage((0, 3), (UNLIMITED, 3))
    check_structure(m)
    grown = m.with_dims((7, 3))
    assert grown.maxdims == m.maxdims and grown.size == m.size
    check_structure(DataspaceMessage(()))


@given(st.integers(0, 2**64 - 2), st.integers(0, 2**64 - 2))
def test_patch_first_dim_gives_the_bytes_of_with_dims(before: int, after: int) -> None:
    message = DataspaceMessage((before, 3, 4), (UNLIMITED, 3, 4))
    image = bytearray(b"pad" + message.encode())
    assert DataspaceMessage.first_dim_in(image, 3) == before
    DataspaceMessage.patch_first_dim(image, 3, after)
    assert bytes(image[3:]) == message.with_dims((after, 3, 4)).encode()


def test_rejects_bad_shapes() -> None:
    with pytest.raises(FormatError):
        DataspaceMessage((5,), (4,))
    with pytest.raises(FormatError):
        DataspaceMessage((5,), (5, 5))
    assert DataspaceMessage((), ()).maxdims is None


def test_version_1() -> None:
    body = bytes([1, 2, 1, 0, 0, 0, 0, 0]) + (3).to_bytes(8, "little") * 2 + b"\xff" * 16
    assert DataspaceMessage.decode(body) == DataspaceMessage((3, 3), (UNLIMITED, UNLIMITED))


def test_oracle(oracle: Oracle) -> None:
    for dt in DTYPES:
        got = oracle.one(f"d_{dt}", 0x01)
        assert DataspaceMessage((0, 3), (UNLIMITED, 3)).encode() == got
        assert oracle.find(f"d_{dt}", 0x01)[0].flags == DataspaceMessage.FLAGS
    assert DataspaceMessage(()).encode() == oracle.one("scalar", 0x01)
    assert DataspaceMessage((10, 3), (20, 3)).encode() == oracle.one("fixed", 0x01)
    assert DataspaceMessage((0, 3), (UNLIMITED,) * 2).encode() == oracle.one("btree2", 0x01)
