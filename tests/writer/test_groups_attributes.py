"""Groups and attributes: visible to SWMR readers when made before start_swmr, else at close."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import numpy.typing as npt
import pytest

from h5swmr import (
    DatasetNotFoundError,
    InvalidArgumentError,
    SwmrFileReader,
    SwmrFileWriter,
)
from tests.oracle import OLD_H5PY_VERSIONS, describe_with
from tests.oracle.values import read_values

# int and float are accepted where complex is (PEP 484's numeric tower)
AttributeValue = complex | np.generic | npt.NDArray[Any] | str | list[str]

VALUES: dict[str, AttributeValue] = {
    "int": 7,
    "float": 2.5,
    "complex": 1 + 2j,
    "bool": np.bool_(True),
    "u2": np.uint16(65535),
    "matrix": np.arange(6.0).reshape(2, 3),
    "big_endian": np.arange(3, dtype=">i4"),
    "ascii": "NXdetector",
    "utf8": "µm²",
    "strings": ["x", "yy", "zzz"],
}


def _check_values(attrs: h5py.AttributeManager) -> None:
    """Strings come back as h5py gives its own ``str`` attributes: ``str``, object arrays."""
    for name, value in VALUES.items():
        got = attrs[name]
        if isinstance(value, str):
            assert type(got) is str and got == value, name
        elif isinstance(value, list):
            assert got.dtype == object and list(got) == value, name
        else:
            np.testing.assert_array_equal(got, np.asarray(value), err_msg=name)
            assert np.shape(got) == np.shape(value), name


def test_before_start_swmr_readers_see_them(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.create_group("/entry/sample")
        ds = writer.create_streaming_dataset("/entry/data/data", "u2", (4, 4))
        for path in ("/", "/entry", "/entry/data/data"):
            for name, value in VALUES.items():
                writer.set_attribute(path, name, value)
        writer.set_attribute("/entry", "int", 8)  # set again: replaced
        writer.start_swmr()
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            assert list(f["/entry"]) == ["data", "sample"]
            _check_values(f["/entry/data/data"].attrs)
            _check_values(f.attrs)
            assert f["/entry"].attrs["int"] == 8
            writer.append_frame(ds, np.ones((4, 4), "u2"))
            writer.flush()
            f["/entry/data/data"].refresh()
            _check_values(f["/entry/data/data"].attrs)
    result = subprocess.run(
        ["h5dump", "-A", str(tmp_h5)], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.count('ATTRIBUTE "matrix"') == 3
    for version in OLD_H5PY_VERSIONS:
        described = describe_with(version, tmp_h5)
        assert sorted(described["datasets"]["/entry/data/data"]["attrs"]) == sorted(VALUES)
    with SwmrFileReader.open(tmp_h5) as reader:
        assert reader.attrs("/entry")["ascii"] == "NXdetector"
        assert reader.attrs("/entry")["utf8"] == "µm²"


def test_fixed_length_strings_on_request(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.set_attribute("/", "fixed", "µm²", fixed_length=True)
        writer.set_attribute("/", "fixed_list", ["a", "bb"], fixed_length=True)
        writer.set_attribute("/", "bytes_", np.bytes_(b"NXentry"))
        writer.set_attribute("/", "bytes", b"raw")
    with h5py.File(tmp_h5, "r") as f:
        assert f.attrs["fixed"] == "µm²".encode()
        assert f.attrs.get_id("fixed").dtype.kind == "S"
        assert list(f.attrs["fixed_list"]) == [b"a", b"bb"]
        assert f.attrs["bytes_"] == b"NXentry"
        assert f.attrs.get_id("bytes_").dtype.kind == "S"
        assert f.attrs["bytes"] == "raw"  # bytes: variable-length ASCII, as h5py stores them
        assert h5py.check_string_dtype(f.attrs.get_id("bytes").dtype).encoding == "ascii"
    for version in OLD_H5PY_VERSIONS:
        attrs = read_values(tmp_h5, version)["objects"]["/"]["attrs"]
        assert attrs["fixed"]["value"] == {"bytes": "µm²"}, version
        assert attrs["fixed"]["string"] == {"encoding": "utf-8", "length": 6}, version
        assert attrs["bytes"]["value"] == "raw" and attrs["bytes"]["type"] == "str", version


def test_after_start_swmr_close_publishes_them(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("/d", "f4", (3,))
        writer.set_attribute("/d", "early", 1)
        writer.start_swmr()
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            writer.append_frame(ds, np.zeros(3, "f4"))
            writer.set_attribute("/d", "late", "set while streaming")
            writer.set_attribute("/", "late_root", [1, 2])
            writer.create_group("/analysis/results")
            writer.flush()
            f["/d"].refresh()
            assert dict(f["/d"].attrs) == {"early": 1}
            assert "analysis" not in f
    with h5py.File(tmp_h5, "r") as f:
        assert f["/d"].attrs["late"] == "set while streaming"
        assert f["/d"].attrs["early"] == 1
        assert list(f.attrs["late_root"]) == [1, 2]
        assert "results" in f["/analysis"]
        assert f["/d"].shape == (1, 3)


def test_reopened_files_keep_and_replace_attributes(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.create_streaming_dataset("/d", "u1", (2,))
        writer.set_attribute("/d", "a", 1)
        writer.set_attribute("/", "r", "root")
    with SwmrFileWriter.open_append(tmp_h5) as writer:
        writer.set_attribute("/d", "a", 2)
        writer.set_attribute("/d", "b", 3)
        writer.set_attribute("/", "s", "second")
        writer.start_swmr()
        writer.append_frame("/d", b"\x01\x02")
    with h5py.File(tmp_h5, "r") as f:
        assert dict(f["/d"].attrs) == {"a": 2, "b": 3}
        assert dict(f.attrs) == {"r": "root", "s": "second"}


def test_scalar_frames(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        one = writer.create_streaming_dataset("/timestamp", "f8", ())
        many = writer.create_streaming_dataset_chunked("/frame_id", "i8", (), (256,))
        writer.start_swmr()
        for i in range(300):
            writer.append_frame(one, np.float64(i / 10))
            writer.append_frame(many, np.int64(i).tobytes())
    with h5py.File(tmp_h5, "r") as f:
        assert f["/timestamp"].shape == (300,) and f["/timestamp"].chunks == (1,)
        assert f["/frame_id"].maxshape == (None,) and f["/frame_id"].chunks == (256,)
        np.testing.assert_array_equal(f["/frame_id"][()], np.arange(300))
        np.testing.assert_array_equal(f["/timestamp"][()], np.arange(300) / 10)


@pytest.mark.parametrize(
    ("path", "name", "value", "error"),
    [
        ("/", "", 1, InvalidArgumentError),
        ("/", "x", {"a": 1}, InvalidArgumentError),
        ("/", "x", object(), InvalidArgumentError),
        ("/", "x", "nul\x00inside", InvalidArgumentError),
        ("/", "x", np.zeros(20_000), InvalidArgumentError),
        ("/missing", "x", 1, DatasetNotFoundError),
    ],
)
def test_bad_attributes_change_nothing(
    tmp_h5: Path, path: str, name: str, value: object, error: type[Exception]
) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.set_attribute("/", "kept", 1)
        with pytest.raises(error):
            writer.set_attribute(path, name, value)
    with h5py.File(tmp_h5, "r") as f:
        assert dict(f.attrs) == {"kept": 1}


def test_groups_cannot_replace_datasets(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.create_streaming_dataset("/d", "u1", (1,))
        writer.create_group("/g")
        writer.create_group("/g")  # an existing group is fine
        with pytest.raises(InvalidArgumentError, match="is a dataset"):
            writer.create_group("/d/sub")
    with h5py.File(tmp_h5, "r") as f:
        assert sorted(f) == ["d", "g"]
