"""Variable-length strings through global heap collections (reader/global_heap.py): the strings
libhdf5 stored (h5py says which), read once per collection; references to objects that are not
there are refused."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.errors import FormatError
from h5swmr.format.constants import MessageType
from h5swmr.format.global_heap import VariableLengthReference
from h5swmr.format.messages.attribute import AttributeMessage
from h5swmr.format.messages.datatype import StringCharset, VariableLengthStringType
from h5swmr.format.object_header import find_messages
from h5swmr.reader.global_heap import read_collection, resolve_strings
from tests.reader.objects import object_messages

TEXTS = ["x", "", "µm²", "a longer string " * 20]


@pytest.fixture(scope="module")
def strings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("global_heap") / "strings.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f.attrs["texts"] = TEXTS
    return path


def _references(path: Path) -> np.ndarray:
    with object_messages(path, "/") as (_, messages):
        (raw,) = find_messages(messages, MessageType.ATTRIBUTE)
    message = AttributeMessage.decode(raw.body)
    assert isinstance(message.datatype.datatype, VariableLengthStringType)
    return np.frombuffer(message.data, f"V{VariableLengthReference.SIZE}").reshape(2, 2)


def test_strings_libhdf5_stored(strings: Path) -> None:
    raw = _references(strings)
    with object_messages(strings, "/") as (src, _):
        texts = resolve_strings(src, raw, StringCharset.UTF8)
        scalar = resolve_strings(src, raw[0, 0].reshape(()), StringCharset.UTF8)
    assert texts.shape == (2, 2) and texts.dtype == object
    assert texts.ravel().tolist() == TEXTS
    assert scalar.shape == () and scalar[()] == "x"


def test_a_collection_read_whole(strings: Path) -> None:
    _, addresses, indices = VariableLengthReference.decode_many(_references(strings).tobytes())
    with object_messages(strings, "/") as (src, _):
        collection = read_collection(src, int(addresses[0]))
    stored = {o.index: o.data for o in collection.objects}
    assert stored[int(indices[0])] == b"x"
    assert stored[int(indices[2])] == "µm²".encode()


def test_references_to_nothing_are_refused(strings: Path) -> None:
    raw = _references(strings)
    _, addresses, indices = VariableLengthReference.decode_many(raw.tobytes())
    missing = VariableLengthReference.encode_many([3], [int(addresses[0])], [999])
    too_long = VariableLengthReference.encode_many([50], [int(addresses[0])], [int(indices[0])])
    past_end = VariableLengthReference.encode_many([3], [strings.stat().st_size + 64], [1])
    with object_messages(strings, "/") as (src, _):
        for bad in (missing, too_long):
            with pytest.raises(FormatError, match=r"global heap collection at \d+: no object"):
                resolve_strings(src, np.frombuffer(bad, raw.dtype), StringCharset.UTF8)
        with pytest.raises(FormatError):
            resolve_strings(src, np.frombuffer(past_end, raw.dtype), StringCharset.UTF8)
