"""Files written by h5py (HDF5 2.0): libver="latest" and libhdf5's default format."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.format.constants import ChunkIndexType
from h5swmr.format.messages.layout import ChunkedLayoutMessage
from h5swmr.reader import SwmrFileReader
from tests.reader.make_h5py_files import write_h5py_file
from tests.reader.oracle import assert_same_as_h5py

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


@pytest.fixture(scope="module", params=["latest", "default"])
def h5py_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("h5py") / f"{request.param}.h5"
    write_h5py_file(path, "latest" if request.param == "latest" else None)
    return path


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


@pytest.mark.parametrize("n_links", [9, 40, 2000])
def test_dense_group(tmp_h5: Path, n_links: int) -> None:
    with h5py.File(tmp_h5, "w", libver="latest") as f:
        g = f.create_group("many")
        for i in range(n_links):
            g.create_dataset(f"d{i:05d}_{'x' * (i % 7)}", data=np.array([i]))
    with h5py.File(tmp_h5, "r") as f, SwmrFileReader.open(tmp_h5) as r:
        assert r.keys("many") == sorted(f["many"].keys())
        assert r.read(f"many/{r.keys('many')[-1]}")[0] == n_links - 1


@pytest.mark.parametrize("libver", ["earliest", "latest"])
def test_variable_length_string_attributes(tmp_path: Path, libver: str) -> None:
    """h5py's default for str attributes: strings in the global heap, read as h5py reads them."""
    path = tmp_path / f"vlen-{libver}.h5"
    with h5py.File(path, "w", libver=libver) as f:
        f.attrs["title"] = "scan 7"
        f.attrs["units"] = "µm"
        f.attrs["axes"] = ["x", "yy", ""]
        f.create_group("g").attrs["NX_class"] = "NXentry"
    with h5py.File(path, "r") as f, SwmrFileReader.open(path) as reader:
        ours = reader.attrs("/")
        assert ours["title"] == f.attrs["title"] == "scan 7"
        assert ours["units"] == f.attrs["units"]
        axes = ours["axes"]
        assert isinstance(axes, np.ndarray)  # h5py's object array of str
        assert list(axes) == list(f.attrs["axes"])
        assert reader.attrs("/g") == {"NX_class": "NXentry"}
