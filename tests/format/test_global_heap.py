"""Global heap collection: round trips, sizes, corruption, and a collection libhdf5 wrote."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from h5swmr.errors import FormatError, TruncatedError
from h5swmr.format.global_heap import (
    MIN_COLLECTION_SIZE,
    GlobalHeapCollection,
    GlobalHeapObject,
    VariableLengthReference,
)
from tests.format.conftest import check_structure


def test_round_trip_and_corruption() -> None:
    heap = GlobalHeapCollection((GlobalHeapObject(1, b"abc"), GlobalHeapObject(2, bytes(100), 1)))
    encoded = check_structure(heap, garbage_rounds=20)
    assert len(encoded) == MIN_COLLECTION_SIZE
    assert encoded[:5] == b"GCOL\x01"
    # free space object: index 0, its size counts its own 16-byte header
    free_at = 16 + (16 + 8) + (16 + 104)
    assert encoded[free_at : free_at + 2] == b"\x00\x00"
    assert int.from_bytes(encoded[free_at + 8 : free_at + 16], "little") == 4096 - free_at


def test_large_object_grows_the_collection() -> None:
    heap = GlobalHeapCollection((GlobalHeapObject(1, bytes(5000)),))
    assert heap.size == 16 + 16 + 5000
    assert GlobalHeapCollection.decode(heap.encode()) == heap


def test_errors() -> None:
    with pytest.raises(FormatError):
        GlobalHeapObject(0, b"")
    with pytest.raises(FormatError):
        GlobalHeapCollection((GlobalHeapObject(1, b""), GlobalHeapObject(1, b"")))
    with pytest.raises(FormatError):
        GlobalHeapCollection((), collection_size=1024)
    encoded = GlobalHeapCollection((GlobalHeapObject(1, b"x"),)).encode()
    with pytest.raises(TruncatedError):
        GlobalHeapCollection.decode(encoded[:100])
    with pytest.raises(FormatError):
        GlobalHeapCollection.decode(b"GCOX" + encoded[4:])
    with pytest.raises(FormatError):
        GlobalHeapCollection((GlobalHeapObject(1, b"x"),)).object(2)


@given(st.lists(st.binary(max_size=300), max_size=8))
def test_round_trip_any_objects(blobs: list[bytes]) -> None:
    heap = GlobalHeapCollection(tuple(GlobalHeapObject(i + 1, b) for i, b in enumerate(blobs)))
    encoded = heap.encode()
    assert len(encoded) == heap.size == GlobalHeapCollection.encoded_size(encoded)
    assert GlobalHeapCollection.decode(encoded) == heap


def test_variable_length_reference() -> None:
    ref = VariableLengthReference(6, 0x800, 1)
    encoded = ref.encode()
    # the element h5py 3.16 wrote for f.attrs["s"] = "héllo": 6 bytes, collection 0x800, object 1
    assert encoded == bytes.fromhex("06000000000800000000000001000000")
    assert VariableLengthReference.decode(encoded) == ref
    for cut in range(len(encoded)):
        with pytest.raises(TruncatedError):
            VariableLengthReference.decode(encoded[:cut])
    with pytest.raises(FormatError):
        VariableLengthReference(-1, 0, 0)


def test_encode_numbered_and_many_references_equal_the_records() -> None:
    datas = [b"", b"a", bytes(range(40))]
    heap = GlobalHeapCollection(tuple(GlobalHeapObject(i, d) for i, d in enumerate(datas, 1)))
    assert GlobalHeapCollection.encode_numbered(datas, heap.size) == heap.encode()
    with pytest.raises(FormatError):
        GlobalHeapCollection.encode_numbered(datas, 64)
    refs = [VariableLengthReference(len(d), 4096, i) for i, d in enumerate(datas, 1)]
    many = VariableLengthReference.encode_many(
        [r.length for r in refs],
        [r.collection_address for r in refs],
        [r.object_index for r in refs],
    )
    assert many == b"".join(r.encode() for r in refs)
    assert VariableLengthReference.decode_many(many) == (
        [0, 1, 40],
        [4096] * 3,
        [1, 2, 3],
    )
    with pytest.raises(FormatError):
        VariableLengthReference.decode_many(many[:-1])
