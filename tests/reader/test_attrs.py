"""``obj.attrs`` (reader/attrs.py): a read-only Mapping with h5py's behaviour, next to h5py's own
on the same file; a missing name is a KeyError naming it; a closed file's, InvalidStateError."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import File, InvalidStateError
from tests.reader.oracle import assert_attrs_equal


@pytest.fixture(scope="module")
def attributed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("attrs") / "attrs.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f.attrs["title"] = "scan"
        g = f.create_group("entry")
        g.attrs["NX_class"] = np.bytes_(b"NXentry")
        g.attrs["count"] = np.int32(3)
        g.attrs["axes"] = ["x", "y"]
        f.create_dataset("entry/data", data=np.arange(4)).attrs["units"] = "counts"
    return path


@pytest.mark.parametrize("name", ["/", "entry", "entry/data"])
def test_the_mapping_h5py_gives(attributed: Path, name: str) -> None:
    with File(attributed) as ours, h5py.File(attributed, "r") as theirs:
        attrs, expected = ours[name].attrs, theirs[name].attrs
        assert len(attrs) == len(expected)
        assert sorted(attrs) == sorted(expected)
        assert all(key in attrs for key in expected) and "missing" not in attrs
        assert_attrs_equal(dict(attrs.items()), dict(expected.items()))
        assert attrs.get("missing", 5) == 5
        assert repr(attrs).startswith("<Attributes of HDF5 object at")


def test_a_missing_attribute_is_a_key_error(attributed: Path) -> None:
    with File(attributed) as f, pytest.raises(KeyError, match="Can't open attribute 'nope'"):
        f["entry"].attrs["nope"]


def test_a_closed_file_has_no_attributes_to_give(attributed: Path) -> None:
    f = File(attributed)
    attrs = f["entry"].attrs
    assert attrs["count"] == 3
    f.close()
    with pytest.raises(InvalidStateError, match="the reader is closed"):
        attrs["count"]
