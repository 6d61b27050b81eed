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


def _assert_attrs_match(reader: SwmrFileReader, f: h5py.File, path: str) -> None:
    ours, theirs = reader.attrs(path), dict(f[path].attrs)
    assert list(ours) == sorted(theirs)
    for key, value in theirs.items():
        if isinstance(value, str):
            assert ours[key] == value, key
        else:
            got = ours[key]
            assert isinstance(got, np.ndarray | np.generic), key
            assert type(got) is type(value), key
            assert np.array_equal(got, value), key


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
    with h5py.File(path, "r") as f, SwmrFileReader.open(path) as reader:
        for name in ("entry", "entry/data"):
            _assert_attrs_match(reader, f, name)
        assert reader.read("entry/data").tolist() == [[0, 1, 2], [3, 4, 5]]


def test_attributes_tracked_in_creation_order(tmp_path: Path) -> None:
    path = tmp_path / "ordered.h5"
    with h5py.File(path, "w", libver="latest") as f:
        for count, name in ((3, "few"), (30, "many")):
            g = f.create_group(name, track_order=True)
            for i in range(count):
                g.attrs[f"z{count - i:03d}"] = i
    with h5py.File(path, "r") as f, SwmrFileReader.open(path) as reader:
        for name in ("few", "many"):
            _assert_attrs_match(reader, f, name)


@pytest.mark.parametrize("libver", ["v110", "latest"])  # the earliest format has no room for them
def test_huge_attributes_and_links(tmp_path: Path, libver: str) -> None:
    """Heap objects over 4 KiB are "huge": stored on their own, found through a B-tree (IDs of
    attribute heaps are too short to hold their address)."""
    path = tmp_path / f"huge-{libver}.h5"
    with h5py.File(path, "w", libver=libver) as f:
        for i in range(10):
            f.attrs[f"small{i}"] = i
        f.attrs["big"] = np.arange(250_000, dtype="f4")
        f.attrs["five_kib"] = np.full(1280, 7, "i4")
        g = f.create_group("g")
        for i in range(10):
            g[f"link{i}"] = h5py.SoftLink("/g")
        g["n" * 5000] = h5py.SoftLink("/g")
    with h5py.File(path, "r") as f, SwmrFileReader.open(path) as reader:
        _assert_attrs_match(reader, f, "/")
        assert reader.keys("g") == sorted(f["g"].keys())


def test_heaps_that_outgrow_their_root_indirect_block(tmp_path: Path) -> None:
    """Past ~512 KiB of managed objects the root indirect block gets rows of child indirect
    blocks: a group of 3,000 long soft links and 300 attributes of 3 KB."""
    path = tmp_path / "nested.h5"
    with h5py.File(path, "w", libver="latest") as f:
        g = f.create_group("g")
        for i in range(3000):
            g[f"{i:05d}_" + "n" * 240] = h5py.SoftLink("/target/" + "t" * 200 + str(i))
        for i in range(300):
            g.attrs[f"a{i:03d}"] = np.full(750, i, "i4")
    with h5py.File(path, "r") as f, SwmrFileReader.open(path) as reader:
        assert reader.keys("g") == sorted(f["g"].keys())
        links = reader.links("g")
        assert links[f"02999_{'n' * 240}"].target == "/target/" + "t" * 200 + "2999"
        _assert_attrs_match(reader, f, "g")


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
        _assert_attrs_match(reader, f, "/")
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
