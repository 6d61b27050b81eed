"""Python values as attribute messages (writer/attributes.py), compared with the messages
libhdf5 writes for the same values through h5py: the same dims, element type and values. The
user-facing path (set_attribute, read back by every libhdf5) is in test_groups_attributes.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from h5swmr.errors import InvalidArgumentError
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.attribute import AttributeMessage
from h5swmr.format.messages.datatype import StringType, VariableLengthStringType
from h5swmr.format.object_header import find_messages
from h5swmr.storage.allocator import EofAllocator
from h5swmr.writer.attributes import MAX_ATTRIBUTE_BYTES, attribute_message
from h5swmr.writer.heap import GlobalHeapWriter
from tests.reader.objects import object_messages

NUMBERS: dict[str, Any] = {
    "int": np.int64(7),
    "float": 2.5,
    "complex": np.complex128(1 + 2j),
    "bool": np.bool_(True),
    "u2": np.uint16(65535),
    "matrix": np.arange(6.0).reshape(2, 3),
    "big_endian": np.arange(3, dtype=">i4"),
    "fixed": np.bytes_(b"NXdetector"),
}


@pytest.fixture(scope="module")
def libhdf5_messages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, AttributeMessage]:
    """The attribute messages libhdf5 writes for NUMBERS."""
    path = tmp_path_factory.mktemp("attributes") / "h5py.h5"
    with h5py.File(path, "w", libver="latest") as f:
        for name, value in NUMBERS.items():
            f.attrs[name] = value
    with object_messages(path, "/") as (_, messages):
        decoded = [
            AttributeMessage.decode(m.body) for m in find_messages(messages, MessageType.ATTRIBUTE)
        ]
    return {m.name: m for m in decoded}


@pytest.mark.parametrize("name", NUMBERS)
def test_values_encode_as_libhdf5_encodes_them(
    name: str, libhdf5_messages: dict[str, AttributeMessage]
) -> None:
    raw = attribute_message(name, NUMBERS[name], "test")
    ours, theirs = AttributeMessage.decode(raw.body), libhdf5_messages[name]
    assert (ours.name, ours.dataspace.dims) == (theirs.name, theirs.dataspace.dims)
    our_dtype, their_dtype = ours.datatype.to_numpy(), theirs.datatype.to_numpy()
    np.testing.assert_array_equal(
        np.frombuffer(ours.data, our_dtype), np.frombuffer(theirs.data, their_dtype)
    )
    if name == "big_endian":
        assert our_dtype == np.dtype("<i4")  # stored little-endian, the same values
    elif name == "fixed":  # NUL-terminated, as NDFileHDF5 writes NeXus attributes; h5py pads
        assert (our_dtype, their_dtype) == (np.dtype("S11"), np.dtype("S10"))
    else:
        assert our_dtype == their_dtype
        assert ours.data == theirs.data


def test_strings_go_to_the_heap_unless_fixed_length() -> None:
    heap = GlobalHeapWriter(EofAllocator(4096))
    variable = AttributeMessage.decode(attribute_message("a", ["x", "µm"], "t", heap).body)
    assert isinstance(variable.datatype.datatype, VariableLengthStringType)
    assert variable.dataspace.dims == (2,)
    fixed = AttributeMessage.decode(
        attribute_message("b", "NXentry", "t", heap, fixed_length=True).body
    )
    assert isinstance(fixed.datatype.datatype, StringType)
    assert fixed.dataspace.dims == () and fixed.data == b"NXentry\x00"
    no_heap = AttributeMessage.decode(attribute_message("c", ["ab", "c"], "t").body)
    assert no_heap.data == b"ab\x00c\x00\x00"  # as long as the longest, plus its NUL


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("", 1, "attribute name '' must be a non-empty str"),
        ("a\x00b", 1, "must be a non-empty str"),
        ("x", {"a": 1}, "use a number, a numpy array of numbers, a str or a list of str"),
        ("x", np.array([("a", 1)], dtype=[("s", "S1"), ("n", "i4")]), "use a number"),
        ("x", "nul\x00inside", "strings must not contain NUL characters"),
        ("x", "\udc80", "is not valid UTF-8"),
        (
            "x",
            np.zeros(MAX_ATTRIBUTE_BYTES // 8 + 1),
            f"bytes; attributes up to {MAX_ATTRIBUTE_BYTES}",
        ),
        ("x", ["s"] * (MAX_ATTRIBUTE_BYTES // 16 + 1), "fit an object header"),
    ],
)
def test_what_an_attribute_cannot_hold_is_refused_before_the_heap(
    name: str, value: object, message: str
) -> None:
    allocator = EofAllocator(4096)
    heap = GlobalHeapWriter(allocator)
    with pytest.raises(InvalidArgumentError, match=message):
        attribute_message(name, value, "set_attribute('/')", heap)
    assert allocator.eoa == 4096  # nothing stored


def test_the_message_names_where(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^set_attribute\('/entry'\): attribute 'x'"):
        attribute_message("x", object(), "set_attribute('/entry')")
