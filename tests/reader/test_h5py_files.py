"""Files written by h5py (HDF5 2.0): libver="latest" and libhdf5's default format."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.format.constants import ChunkIndexType
from h5swmr.format.messages.layout import ChunkedLayoutMessage
from h5swmr.reader import SwmrFileReader
from tests.reader.oracle import assert_attrs_equal, assert_same_as_h5py

LATEST_INDEXES = {
    "single": ChunkIndexType.SINGLE_CHUNK,
    "single_gzip": ChunkIndexType.SINGLE_CHUNK,
    "implicit": ChunkIndexType.IMPLICIT,
    "fixed": ChunkIndexType.FIXED_ARRAY,
    "fixed_paged": ChunkIndexType.FIXED_ARRAY,
    "fixed_paged_raw": ChunkIndexType.FIXED_ARRAY,
    "fixed_filtered": ChunkIndexType.FIXED_ARRAY,
    "maxshape_n": ChunkIndexType.FIXED_ARRAY,
    "ea": ChunkIndexType.EXTENSIBLE_ARRAY,
    "bt2": ChunkIndexType.BTREE_V2,
    "bt2_gzip": ChunkIndexType.BTREE_V2,
}


def test_every_dataset_matches_h5py(h5py_file: Path) -> None:
    names = assert_same_as_h5py(h5py_file)
    assert len(names) == 19  # each object once: link_to_fixed is "fixed"


def test_chunk_index_kinds(h5py_file: Path) -> None:
    with SwmrFileReader.open(h5py_file) as r:
        for name, kind in LATEST_INDEXES.items():
            layout = r._dataset(name).layout
            assert isinstance(layout, ChunkedLayoutMessage)
            expected = kind if "latest" in h5py_file.name else ChunkIndexType.BTREE_V1
            assert layout.index_type == expected, name


def test_attributes_match_h5py(h5py_file: Path) -> None:
    with h5py.File(h5py_file, "r") as f, SwmrFileReader.open(h5py_file) as r:
        for path in ("/", "entry/data"):
            ours, theirs = r.attrs(path), dict(f[path].attrs)
            assert ours.keys() == theirs.keys()
            for key, value in theirs.items():
                got = ours[key]
                assert isinstance(got, np.ndarray | np.generic), key
                assert type(got) is type(value), key
                assert np.array_equal(got, value), key


def test_soft_link_and_hard_link(h5py_file: Path) -> None:
    with SwmrFileReader.open(h5py_file) as r:
        fixed = r.read("fixed")
        assert r.read("entry/soft").tobytes() == fixed.tobytes()
        assert r.read("entry/data/link_to_fixed").tobytes() == fixed.tobytes()
        assert r.links("entry")["soft"].target == "/fixed"


@pytest.mark.parametrize("libver", ["earliest", "latest"])
@pytest.mark.parametrize("userblock", [512, 4096])
def test_files_with_a_user_block(tmp_path: Path, libver: str, userblock: int) -> None:
    """Bytes of the user's own before the superblock; every address counts from the superblock."""
    path = tmp_path / f"ub-{libver}-{userblock}.h5"
    with h5py.File(path, "w", libver=libver, userblock_size=userblock) as f:
        f.create_dataset("d", data=np.arange(40, dtype="i4").reshape(4, 10), chunks=(1, 10))
        f.create_dataset("c", data=np.arange(5.0))
        f["g/h"] = np.int8(3)
        f["g"].attrs["note"] = "after the user block"
        for i in range(12):
            f.attrs[f"a{i}"] = i
    with path.open("r+b") as raw:
        raw.write(b"user bytes, not HDF5")
    with h5py.File(path, "r") as f, SwmrFileReader.open(path) as reader:
        assert f.userblock_size == userblock
        np.testing.assert_array_equal(reader.read("d"), f["d"][...])
        np.testing.assert_array_equal(reader.read_frame("d", -1), f["d"][-1])
        np.testing.assert_array_equal(reader.read("c"), f["c"][...])
        assert reader.read("g/h") == 3
        assert reader.attrs("g") == {"note": "after the user block"}
        assert_attrs_equal(reader.attrs("/"), f["/"].attrs)
        assert reader.tree() == {"/": "group", "/c": "dataset", "/d": "dataset",
                                 "/g": "group", "/g/h": "dataset"}  # fmt: skip


def test_a_user_block_with_a_grown_writer_is_followed(tmp_path: Path) -> None:
    """h5py's SWMR writer on a file with a user block: refresh sees the new frames."""
    path = tmp_path / "ub-swmr.h5"
    f = h5py.File(path, "w", libver="latest", userblock_size=1024)
    ds = f.create_dataset("x", shape=(0, 8), maxshape=(None, 8), chunks=(1, 8), dtype="u2")
    f.swmr_mode = True
    try:
        with SwmrFileReader.open(path) as reader:
            for n in range(1, 6):
                ds.resize((n, 8))
                ds[n - 1] = n
                ds.flush()
                reader.refresh()
                assert reader.shape("x") == (n, 8)
                assert reader.read_frame("x", -1).tolist() == [n] * 8
    finally:
        f.close()


@pytest.mark.parametrize("libver", ["earliest", "v110", "latest"])
def test_records_h5py_writes_read_as_the_same_structured_arrays(
    tmp_path: Path, libver: str
) -> None:
    """Compounds of every version h5py writes (1 and 2 by default, 3 for v110, 5 for latest):
    the same structured dtype (names, member types, offsets, itemsize) and the same values;
    padding bytes are not compared (numpy copies records field by field)."""
    from tests.format.messages.oracle import RECORDS

    path = tmp_path / "records.h5"
    with h5py.File(path, "w", libver=libver) as f:
        for key, dtype in RECORDS.items():
            data = np.zeros(10, dtype)
            data.view(np.uint8).reshape(10, -1)[:] = np.arange(dtype.itemsize, dtype=np.uint8)
            data = np.array(data.tolist(), dtype)  # every member a value, padding zeros
            f.create_dataset(f"c_{key}", data=data, chunks=(4,), maxshape=(None,))
            f.create_dataset(f"z_{key}", data=data, chunks=(3,), compression="gzip")
            f.create_dataset(f"p_{key}", data=data)  # contiguous
    with h5py.File(path, "r") as f, SwmrFileReader.open(path) as r:
        for name, dataset in f.items():
            assert r.dtype(name) == dataset.dtype, name
            np.testing.assert_array_equal(r.read(name), dataset[()], err_msg=name)
            np.testing.assert_array_equal(r.read_frames(name, 2, 7), dataset[2:7], err_msg=name)
