"""Attributes (reader/attributes.py): compact or dense, numbers, arrays, fixed and variable-length
strings, decoded as h5py decodes them. Files from libhdf5 (h5py) and from h5swmr; h5py is the
oracle for every value."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import SwmrFileWriter
from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import MessageType
from h5swmr.format.messages.attribute import AttributeMessage
from h5swmr.format.object_header import find_messages
from h5swmr.reader.attributes import attribute_value, read_attributes
from tests.reader.objects import object_messages
from tests.reader.oracle import assert_attrs_equal


def _ours(path: Path, name: str) -> dict[str, object]:
    with object_messages(path, name) as (src, messages):
        return read_attributes(src, messages)


def _theirs(path: Path, name: str) -> dict[str, object]:
    with h5py.File(path, "r") as f:
        return dict(f[name].attrs)


@pytest.mark.parametrize("libver", ["earliest", "latest"])
def test_variable_length_string_attributes(tmp_path: Path, libver: str) -> None:
    """h5py's default for str attributes: strings in the global heap, read as h5py reads them."""
    path = tmp_path / f"vlen-{libver}.h5"
    with h5py.File(path, "w", libver=libver) as f:
        f.attrs["title"] = "scan 7"
        f.attrs["units"] = "µm"
        f.attrs["axes"] = ["x", "yy", ""]
        f.create_group("g").attrs["NX_class"] = "NXentry"
    ours = _ours(path, "/")
    assert ours["title"] == "scan 7"
    assert ours["units"] == "µm"
    axes = ours["axes"]
    assert isinstance(axes, np.ndarray)  # h5py's object array of str
    assert list(axes) == list(_theirs(path, "/")["axes"])  # type: ignore[call-overload]
    assert _ours(path, "g") == {"NX_class": "NXentry"}


@pytest.mark.parametrize("libver", ["earliest", "latest"])
@pytest.mark.parametrize("n_attrs", [8, 9, 60, 400])
def test_dense_attributes(tmp_path: Path, libver: str, n_attrs: int) -> None:
    """Past 8 attributes libhdf5 (latest format) keeps them in a fractal heap: NeXus metadata
    often gets there. Numbers, arrays, fixed and variable-length strings."""
    path = tmp_path / f"attrs-{libver}-{n_attrs}.h5"
    with h5py.File(path, "w", libver=libver) as f:
        entry = f.create_group("entry")
        data = entry.create_dataset("data", data=np.arange(6).reshape(2, 3))
        for target in (entry, data):
            for i in range(n_attrs):
                kind = i % 4
                value: object = (
                    np.float64(i) / 3,
                    np.arange(i % 50, dtype="u2"),
                    f"text {i} µm",
                    np.bytes_(b"fixed-%d" % i),
                )[kind]
                target.attrs[f"attr_{i:04d}_{'x' * (i % 5)}"] = value
    for name in ("entry", "entry/data"):
        assert_attrs_equal(_ours(path, name), _theirs(path, name))


def test_attributes_tracked_in_creation_order(tmp_path: Path) -> None:
    """Creation order tracked (h5py's ``track_order``): still handed out in name order."""
    path = tmp_path / "ordered.h5"
    with h5py.File(path, "w", libver="latest") as f:
        for count, name in ((3, "few"), (30, "many")):
            g = f.create_group(name, track_order=True)
            for i in range(count):
                g.attrs[f"z{count - i:03d}"] = i
    for name in ("few", "many"):
        assert_attrs_equal(_ours(path, name), _theirs(path, name))


def test_attributes_h5swmr_wrote(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as w:
        w.create_group("entry")
        w.set_attribute("entry", "NX_class", "NXentry")
        w.set_attribute("entry", "count", np.int32(7))
        w.set_attribute("entry", "axes", ["x", "y"])
        w.set_attribute("entry", "raw", "fixed", fixed_length=True)
        w.set_attribute("entry", "grid", np.arange(6.0).reshape(2, 3))
    assert_attrs_equal(_ours(tmp_h5, "entry"), _theirs(tmp_h5, "entry"))


@pytest.fixture(scope="module")
def strings_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("attrs") / "strings.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f.attrs["axes"] = ["x", "yy", "zzz"]
    return path


def _axes(path: Path) -> AttributeMessage:
    with object_messages(path, "/") as (_, messages):
        (raw,) = find_messages(messages, MessageType.ATTRIBUTE)
    return AttributeMessage.decode(raw.body)


def test_variable_length_strings_need_the_file(strings_file: Path) -> None:
    with pytest.raises(UnsupportedError, match="variable-length strings need the file"):
        attribute_value(_axes(strings_file))


def test_more_strings_than_the_data_holds_is_refused(strings_file: Path) -> None:
    message = _axes(strings_file)
    cut = replace(message, data=message.data[:20])  # room for one 16-byte reference, not three
    with object_messages(strings_file, "/") as (src, _):
        assert list(attribute_value(message, src)) == ["x", "yy", "zzz"]  # type: ignore[call-overload]
        with pytest.raises(FormatError, match=r"attribute 'axes': 3 strings in 20 bytes"):
            attribute_value(cut, src)
