"""Virtual datasets read by SwmrFileReader exactly as h5py (libhdf5) reads them: layouts h5py
writes, masters h5swmr's scale-out layer writes, and unlimited mappings whose sources grow."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h5swmr.errors import (
    ChecksumError,
    FormatError,
    InvalidArgumentError,
    TruncatedError,
    UnsupportedError,
)
from h5swmr.reader import SwmrFileReader
from h5swmr.scaleout import (
    RolloverWriter,
    VirtualDataset,
    interleaved_mapping,
    printf_mapping,
    run_mapping,
    stripe_mapping,
    write_master,
)
from tests.scaleout.parts import FRAME, numbered_frames, write_part

U = h5py.h5s.UNLIMITED


def assert_same_as_h5py(path: Path, name: str) -> None:
    with h5py.File(path, "r") as f, SwmrFileReader.open(path) as r:
        compare(f[name], r, name)


def compare(dataset: h5py.Dataset, r: SwmrFileReader, name: str) -> None:
    """Shape, maxshape, dtype, the whole dataset, every frame and frame ranges, as h5py."""
    assert r.shape(name) == dataset.shape, name
    assert r.maxshape(name) == dataset.maxshape, name
    assert r.dtype(name) == dataset.dtype, name
    assert r.chunks(name) is None and dataset.chunks is None, name
    want = dataset[()]
    got = r.read(name)
    assert (got.dtype, got.shape) == (want.dtype, want.shape), name
    assert got.tobytes() == want.tobytes(), name
    n = dataset.shape[0]
    for i in range(n):
        assert r.read_frame(name, i).tobytes() == dataset[i].tobytes(), (name, i)
    if n > 2:  # h5py cannot read an empty range of an empty virtual dataset
        assert r.read_frames(name, 1, n - 1).tobytes() == dataset[1 : n - 1].tobytes(), name
        assert r.read_frames(name, -2).tobytes() == dataset[-2:].tobytes(), name
    else:
        assert r.read_frames(name, 0).shape == want.shape


# -- layouts written by h5py ---------------------------------------------------------------------


def _sources(directory: Path) -> None:
    with h5py.File(directory / "a.h5", "w") as f:
        data = np.arange(72, dtype="<i4").reshape(6, *FRAME)
        f.create_dataset("data", data=data, chunks=(1, *FRAME), maxshape=(None, *FRAME))
        f["line"] = np.arange(12, dtype="<u2")
        f["short"] = (np.arange(72).reshape(6, *FRAME) - 30).astype("<i2")
        f["grid"] = np.arange(100, dtype="<f8").reshape(10, 10)
    with h5py.File(directory / "b.h5", "w") as f:
        data = 1000 + np.arange(72, dtype="<i4").reshape(6, *FRAME)
        f.create_dataset("data", data=data, chunks=(2, *FRAME), compression="gzip")


def _h5py_layouts(vds: Path, libver: str | None) -> list[str]:
    a, b = str(vds.parent / "a.h5"), str(vds.parent / "b.h5")
    layouts: dict[str, tuple[h5py.VirtualLayout, float]] = {}

    stacked = h5py.VirtualLayout((12, *FRAME), "<i4")
    stacked[0:6] = h5py.VirtualSource(a, "data", shape=(6, *FRAME))
    stacked[6:12] = h5py.VirtualSource(b, "data", shape=(6, *FRAME))
    layouts["stacked"] = (stacked, 0)

    interleaved = h5py.VirtualLayout((12, *FRAME), "<i4")
    interleaved[0::2] = h5py.VirtualSource(a, "data", shape=(6, *FRAME))
    interleaved[1::2] = h5py.VirtualSource(b, "data", shape=(6, *FRAME))
    layouts["interleaved"] = (interleaved, 0)

    strided = h5py.VirtualLayout((5, 5), "<f8")
    strided[:, :] = h5py.VirtualSource(a, "grid", shape=(10, 10))[::2, 1::2]
    layouts["strided_source"] = (strided, 0)

    reshaped = h5py.VirtualLayout((3, 5), "<u2")
    reshaped[0:2, 1:4] = h5py.VirtualSource(a, "line", shape=(12,))[3:9]
    layouts["rank_change"] = (reshaped, 7)

    offset = h5py.VirtualLayout((8, 5, 6), "<i4")
    offset[2:5, 1:4, 2:6] = h5py.VirtualSource(a, "data", shape=(6, *FRAME))[1:4]
    offset[6, 0:3, 0:4] = h5py.VirtualSource(b, "data", shape=(6, *FRAME))[5]
    layouts["offset_blocks"] = (offset, -1)

    converted = h5py.VirtualLayout((6, *FRAME), "<i4")
    converted[...] = h5py.VirtualSource(a, "short", shape=(6, *FRAME))
    layouts["converted"] = (converted, 0)

    missing = h5py.VirtualLayout((6, *FRAME), "<i4")
    missing[0:2] = h5py.VirtualSource(str(vds.parent / "nope.h5"), "data", shape=(6, *FRAME))[0:2]
    missing[2:4] = h5py.VirtualSource(a, "absent", shape=(6, *FRAME))[0:2]
    missing[4:6] = h5py.VirtualSource(a, "data", shape=(6, *FRAME))[0:2]
    layouts["missing_sources"] = (missing, -5)

    local = h5py.VirtualLayout((4,), "<i8")
    local[1:3] = h5py.VirtualSource(str(vds), "local", shape=(5,))[2:4]
    layouts["same_file"] = (local, 9)

    shared = h5py.VirtualLayout((6, *FRAME), "<i4")
    for i in range(3):  # one long name thrice: HDF5 2.0 stores it once (mapping list v1)
        source = h5py.VirtualSource(str(vds.parent / ("x" * 40 + ".h5")), "d" * 30, (6, *FRAME))
        shared[2 * i : 2 * i + 2] = source[2 * i : 2 * i + 2]
    layouts["shared_names"] = (shared, 3)

    with h5py.File(vds.parent / ("x" * 40 + ".h5"), "w") as f:
        f["d" * 30] = np.arange(72, dtype="<i4").reshape(6, *FRAME) * 3
    with h5py.File(vds, "w", libver=libver) as f:
        f["local"] = np.arange(5, dtype="<i8") * 11
        for name, (layout, fill) in layouts.items():
            f.create_virtual_dataset(name, layout, fillvalue=fill)
    return list(layouts)


@pytest.fixture(scope="module", params=["default", "latest"])
def h5py_vds(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("vds")
    _sources(directory)
    vds = directory / "vds.h5"
    _h5py_layouts(vds, None if request.param == "default" else "latest")
    return vds


@pytest.mark.parametrize(
    "name",
    [
        "stacked",
        "interleaved",
        "strided_source",
        "rank_change",
        "offset_blocks",
        "converted",
        "missing_sources",
        "same_file",
        "shared_names",
    ],
)
def test_h5py_layouts_match_h5py(h5py_vds: Path, name: str) -> None:
    assert_same_as_h5py(h5py_vds, name)


def test_h5py_layouts_from_another_directory(
    h5py_vds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative source names are looked for beside the virtual dataset's file first."""
    copy = tmp_path / "copy"
    shutil.copytree(h5py_vds.parent, copy)
    monkeypatch.chdir(tmp_path)
    for name in ("stacked", "interleaved", "same_file"):
        assert_same_as_h5py(Path("copy") / h5py_vds.name, name)


def test_read_limit_and_refresh_keep_results(h5py_vds: Path) -> None:
    with SwmrFileReader.open(h5py_vds, max_read_bytes=200) as r:
        assert r.read_frame("stacked", 3).shape == FRAME
        with pytest.raises(FormatError, match="limit"):
            r.read("stacked")
        r.refresh()
        with h5py.File(h5py_vds) as f:
            assert r.read_frames("stacked", 0, 4).tobytes() == f["stacked"][0:4].tobytes()


@st.composite
def _hyperslab(draw: st.DrawFn, extent: int) -> tuple[int, int, int, int]:
    """(start, stride, count, block) inside ``extent``."""
    block = draw(st.integers(1, max(1, extent // 2)))
    stride = draw(st.integers(block, extent))
    start = draw(st.integers(0, extent - block))
    count = draw(st.integers(1, (extent - start - block) // stride + 1))
    return start, stride, count, block


@st.composite
def _mapping(draw: st.DrawFn) -> tuple[list[tuple[int, int, int, int]], tuple[int, ...]]:
    """A 2-D source selection of a (7, 9) source, and a virtual rank and shape of the same size:
    the virtual selection covers a block of that shape, strided in its first dimension."""
    source = [draw(_hyperslab(7)), draw(_hyperslab(9))]
    n = int(np.prod([c * b for _, _, c, b in source]))
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    rows = draw(st.sampled_from(divisors))
    rank = draw(st.sampled_from([1, 2, 3]) if n > 1 else st.just(1))
    shape = {1: (n,), 2: (rows, n // rows), 3: (rows, 1, n // rows)}[rank]
    return source, shape


@settings(max_examples=40, deadline=None)
@given(
    _mapping(),
    st.integers(1, 3),
    st.integers(0, 2),
    st.sampled_from([None, "latest"]),
    st.sampled_from(["contiguous", "chunked"]),
)
def test_random_hyperslab_pairs_match_h5py(
    mapping: tuple[list[tuple[int, int, int, int]], tuple[int, ...]],
    stride: int,
    offset: int,
    libver: str | None,
    storage: str,
) -> None:
    """Any regular source hyperslab onto a strided virtual block (stored as a regular hyperslab
    or, with the earliest format bound, as a block list), read bit for bit as h5py reads it."""
    source, shape = mapping
    with tempfile.TemporaryDirectory() as directory:
        src, vds = Path(directory) / "src.h5", Path(directory) / "vds.h5"
        with h5py.File(src, "w") as f:
            data = np.arange(63, dtype="<i4").reshape(7, 9)
            f.create_dataset("d", data=data, chunks=(2, 4) if storage == "chunked" else None)
        sspace = h5py.h5s.create_simple((7, 9))
        starts, strides, counts, blocks = zip(*source, strict=True)
        sspace.select_hyperslab(starts, counts, strides, blocks)
        dims = (offset + stride * shape[0], *shape[1:])
        vspace = h5py.h5s.create_simple(dims)
        rank = len(shape)
        vspace.select_hyperslab(
            (offset, *(0,) * (rank - 1)),
            (shape[0], *(1,) * (rank - 1)),
            (stride, *(1,) * (rank - 1)),
            (1, *shape[1:]),
        )
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_fill_value(np.array(-1, "<i4"))
        dcpl.set_virtual(vspace, b"src.h5", b"d", sspace)
        with h5py.File(vds, "w", libver=libver) as f:
            space = h5py.h5s.create_simple(dims)
            h5py.h5d.create(f.id, b"v", h5py.h5t.STD_I32LE, space, dcpl=dcpl).close()
        assert_same_as_h5py(vds, "v")


# -- unlimited mappings over growing sources -------------------------------------------------------


def _growing_source(path: Path, rows: int, offset: int) -> None:
    with h5py.File(path, "w", libver="latest") as f:
        data = offset + np.arange(rows * 4, dtype="<i4").reshape(rows, 4)
        f.create_dataset("d", data=data, chunks=(1, 4), maxshape=(None, 4), fillvalue=-9)


def _grow(path: Path, rows: int) -> None:
    """Append rows to a source the reader may hold open. The reader locks its files as libhdf5's
    readers do, so a writer that opens the file after it must skip locking (a real detector's
    SWMR writer opens first, and holds no lock)."""
    with h5py.File(path, "a", locking=False) as f:
        d = f["d"]
        old = d.shape[0]
        d.resize(old + rows, axis=0)
        d[old:] = 7000 + np.arange(rows * 4, dtype="<i4").reshape(rows, 4)


def _unlimited_vds(path: Path) -> None:
    """ "interleaved": w0.h5 and w1.h5 row by row (unlimited counts); "tail": w0.h5 whole at row 2
    (an unlimited block); "parts": p%b.h5 three rows each (printf); "named": datasets part%b of
    one file named "n%.h5" ("%%" in a source name is a literal "%")."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_fill_value(np.array(-1, "<i4"))
    for worker in range(2):
        vspace = h5py.h5s.create_simple((0, 4), (U, 4))
        vspace.select_hyperslab((worker, 0), (U, 1), (2, 1), (1, 4))
        sspace = h5py.h5s.create_simple((0, 4), (U, 4))
        sspace.select_hyperslab((0, 0), (U, 1), (1, 1), (1, 4))
        dcpl.set_virtual(vspace, f"w{worker}.h5".encode(), b"d", sspace)
    tail = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    vspace = h5py.h5s.create_simple((0, 4), (U, 4))
    vspace.select_hyperslab((2, 0), (1, 1), None, (U, 4))
    sspace = h5py.h5s.create_simple((0, 4), (U, 4))
    sspace.select_hyperslab((0, 0), (1, 1), None, (U, 4))
    tail.set_virtual(vspace, b"w0.h5", b"d", sspace)
    parts = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    vspace = h5py.h5s.create_simple((0, 4), (U, 4))
    vspace.select_hyperslab((0, 0), (U, 1), (3, 1), (3, 4))
    sspace = h5py.h5s.create_simple((3, 4), (3, 4))
    sspace.select_all()
    parts.set_virtual(vspace, b"p%b.h5", b"d", sspace)
    named = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    sspace = h5py.h5s.create_simple((3, 4), (3, 4))
    sspace.select_hyperslab((0, 0), (1, 1), None, (3, 4))
    named.set_virtual(vspace, b"n%%.h5", b"part%b", sspace)
    plists = (("interleaved", dcpl), ("tail", tail), ("parts", parts), ("named", named))
    with h5py.File(path, "w", libver="latest") as f:
        for name, plist in plists:
            space = h5py.h5s.create_simple((0, 4), (U, 4))
            h5py.h5d.create(f.id, name.encode(), h5py.h5t.STD_I32LE, space, dcpl=plist).close()


def test_unlimited_mappings_follow_growing_sources(tmp_path: Path) -> None:
    vds = tmp_path / "vds.h5"
    _unlimited_vds(vds)
    names = ("interleaved", "tail", "parts", "named")
    for name in names:  # no source yet: every extent is 0
        assert_same_as_h5py(vds, name)
    with h5py.File(tmp_path / "n%.h5", "w") as f:
        for part in range(2):
            f[f"part{part}"] = np.arange(12, dtype="<i4").reshape(3, 4) + 10 * part
    _growing_source(tmp_path / "w0.h5", 3, 0)
    _growing_source(tmp_path / "p0.h5", 3, 500)
    _growing_source(tmp_path / "p1.h5", 2, 600)  # part 1 has 2 of its 3 rows: the third is fill
    _growing_source(tmp_path / "p3.h5", 3, 800)  # after the missing part 2: not reached
    with SwmrFileReader.open(vds) as r:
        with h5py.File(vds) as f:
            for name in names:
                compare(f[name], r, name)
        assert r.shape("interleaved") == (5, 4)  # rows 0, 2, 4 from w0; w1 is missing
        assert r.shape("parts") == (6, 4)
        assert r.shape("named") == (6, 4)
        _growing_source(tmp_path / "w1.h5", 4, 100)
        _grow(tmp_path / "w0.h5", 2)
        _growing_source(tmp_path / "p2.h5", 3, 700)
        assert r.shape("interleaved") == (5, 4)  # this snapshot still
        r.refresh()
        with h5py.File(vds) as f:
            for name in names:
                compare(f[name], r, name)
        assert r.shape("interleaved") == (9, 4)  # w0 ends the rows at 8, w1 at 7
        assert r.shape("parts") == (12, 4)


@st.composite
def _unlimited(draw: st.DrawFn) -> tuple[int, int, int | None]:
    """(start, stride, block) of an unlimited count; block None: one unlimited block instead."""
    if draw(st.booleans()):
        return draw(st.integers(0, 3)), 1, None
    block = draw(st.integers(1, 3))
    return draw(st.integers(0, 3)), draw(st.integers(block, 5)), block


def _select_unlimited(space: h5py.h5s.SpaceID, start: int, stride: int, block: int | None) -> None:
    if block is None:
        space.select_hyperslab((start, 0), (1, 1), None, (U, 3))
    else:
        space.select_hyperslab((start, 0), (U, 1), (stride, 1), (block, 3))


@settings(max_examples=40, deadline=None)
@given(_unlimited(), _unlimited(), st.integers(0, 12), st.integers(0, 12))
def test_random_unlimited_mappings_match_h5py(
    virtual: tuple[int, int, int | None],
    source: tuple[int, int, int | None],
    rows: int,
    stored: int,
) -> None:
    """The extent libhdf5 gives an unlimited mapping over a source of ``rows`` rows (whatever
    the stored extent says), and the data, for any unlimited count or block on either side."""
    with tempfile.TemporaryDirectory() as directory:
        with h5py.File(Path(directory) / "src.h5", "w") as f:
            data = np.arange(rows * 3, dtype="<i2").reshape(rows, 3)
            f.create_dataset("d", data=data, chunks=(2, 3), maxshape=(None, 3))
        vspace = h5py.h5s.create_simple((stored, 3), (U, 3))
        _select_unlimited(vspace, *virtual)
        sspace = h5py.h5s.create_simple((0, 3), (U, 3))
        _select_unlimited(sspace, *source)
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_fill_value(np.array(-7, "<i2"))
        dcpl.set_virtual(vspace, b"src.h5", b"d", sspace)
        vds = Path(directory) / "vds.h5"
        with h5py.File(vds, "w", libver="latest") as f:
            space = h5py.h5s.create_simple((stored, 3), (U, 3))
            h5py.h5d.create(f.id, b"v", h5py.h5t.STD_I16LE, space, dcpl=dcpl).close()
        with h5py.File(vds) as f, SwmrFileReader.open(vds) as r:
            try:
                f["v"][()]
            except OSError:  # libhdf5 sized the mapping by a whole first block it cannot read
                assert r.shape("v") == f["v"].shape
                with pytest.raises(FormatError, match="source elements for"):
                    r.read("v")
            else:
                compare(f["v"], r, "v")


# -- masters written by h5swmr ----------------------------------------------------------------


def _frame(i: int) -> np.ndarray:
    return (np.arange(20, dtype="<u2").reshape(4, 5) + 7 * i).astype("<u2")


def test_rollover_master_live_and_final(tmp_path: Path) -> None:
    writer = RolloverWriter(tmp_path / "run_{:06d}.h5", frames_per_file=4)
    writer.create_streaming_dataset("entry/data/data", "<u2", (4, 5))
    writer.create_streaming_dataset_chunked("entry/sum", "<f8", (1,), (4, 1))
    writer.start_swmr()
    names = ("entry/data/data", "entry/sum")

    def append(i: int) -> None:
        writer.append_frame(0, _frame(i))
        writer.append_frame("entry/sum", np.array([_frame(i).sum()], "<f8"))

    for i in range(6):
        append(i)
    writer.flush()
    master = Path(writer.master_path)
    with h5py.File(master, "r", swmr=True) as f, SwmrFileReader.open(master) as r:
        for name in names:
            compare(f[name], r, name)
        linked = "parts/run_000000/entry/data/data"
        assert r.read(linked).tobytes() == f[linked][()].tobytes()
        append(6)
        writer.flush()
        f["entry/data/data"].refresh()
        r.refresh()  # the newest part is mapped unlimited: a refresh follows it
        compare(f["entry/data/data"], r, "entry/data/data")
        assert r.shape("entry/data/data") == (7, 4, 5)
        for i in range(7, 10):
            append(i)
        writer.flush()
        f["entry/data/data"].refresh()
        r.refresh()  # part 2 is in a new master, renamed over the old one
        assert f["entry/data/data"].shape == (8, 4, 5)  # h5py's handle keeps the old inode
        assert r.shape("entry/data/data") == (10, 4, 5)  # the reader reopens the path
        with h5py.File(master, "r", swmr=True) as fresh:
            compare(fresh["entry/data/data"], r, "entry/data/data")
    writer.close()
    for name in names:
        assert_same_as_h5py(master, name)


def test_printf_rollover_master(tmp_path: Path) -> None:
    with RolloverWriter(
        tmp_path / "p_{}.h5", 3, master=tmp_path / "m.h5", printf=True, links_group=None
    ) as writer:
        writer.create_streaming_dataset("data", "<u2", (4, 5))
        writer.start_swmr()
        for i in range(2):
            writer.append_frame(0, _frame(i))
        writer.flush()
        master = tmp_path / "m.h5"
        with h5py.File(master, "r", swmr=True) as f, SwmrFileReader.open(master) as r:
            compare(f["data"], r, "data")
            assert r.shape("data") == (3, 4, 5)  # frame 2 reads as fill until written
            for i in range(2, 7):
                writer.append_frame(0, _frame(i))
            writer.flush()
            f["data"].refresh()
            r.refresh()  # one master for every part: a refresh finds the new parts
            compare(f["data"], r, "data")
            assert r.shape("data") == (9, 4, 5)
    assert_same_as_h5py(tmp_path / "m.h5", "data")


def test_write_master_mappings(tmp_path: Path) -> None:
    write_part(tmp_path / "a.h5", numbered_frames(0, 5))
    write_part(tmp_path / "b.h5", numbered_frames(5, 3))
    for worker in range(3):
        write_part(tmp_path / f"w{worker}.h5", numbered_frames(0, 10)[worker::3])
    full = numbered_frames(0, 4, (6, 4))
    for stripe in range(3):
        write_part(tmp_path / f"s{stripe}.h5", full[:, 2 * stripe : 2 * stripe + 2, :])
    for part in (0, 1, 3):
        write_part(tmp_path / f"run_{part}.h5", numbered_frames(4 * part, 4 if part < 1 else 2))
    datasets = [
        VirtualDataset.create(
            "runs",
            "<u2",
            (9, *FRAME),
            [
                run_mapping("a.h5", "/entry/data", FRAME, first_frame=0, n_frames=5),
                run_mapping("b.h5", "/entry/data", FRAME, first_frame=5, n_frames=3),
            ],
            fillvalue=7,
        ),
        VirtualDataset.create(
            "interleaved",
            "<u2",
            (0, *FRAME),
            [
                interleaved_mapping(f"w{w}.h5", "/entry/data", FRAME, worker=w, n_workers=3)
                for w in range(3)
            ],
        ),
        VirtualDataset.create(
            "stripes",
            "<u2",
            (0, 6, 4),
            [
                stripe_mapping(f"s{s}.h5", "/entry/data", (2, 4), offset=(2 * s, 0))
                for s in range(3)
            ],
        ),
        VirtualDataset.create(
            "printf",
            "<u2",
            (0, *FRAME),
            [printf_mapping("run_%b.h5", "/entry/data", FRAME, 4)],
            fillvalue=3,
        ),
        VirtualDataset.create(
            "nothing_yet",
            "<u2",
            (0, *FRAME),
            [run_mapping("later.h5", "/entry/data", FRAME)],
        ),
    ]
    write_master(tmp_path / "m.h5", datasets)
    for dataset in datasets:
        assert_same_as_h5py(tmp_path / "m.h5", dataset.path)
    with SwmrFileReader.open(tmp_path / "m.h5") as r:
        assert r.shape("interleaved") == (10, *FRAME)
        assert r.shape("printf") == (8, *FRAME)  # parts 0 and 1; part 2 is missing
        assert r.shape("nothing_yet") == (0, *FRAME)


def test_sources_found_like_libhdf5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative name beside the master, else in the working directory; an absolute name that
    is gone, by its last component beside the master."""
    (tmp_path / "master").mkdir()
    (tmp_path / "cwd").mkdir()
    write_part(tmp_path / "master" / "beside.h5", numbered_frames(0, 2))
    write_part(tmp_path / "cwd" / "here.h5", numbered_frames(2, 2))
    write_part(tmp_path / "master" / "moved.h5", numbered_frames(4, 2))
    mappings = [
        run_mapping("beside.h5", "/entry/data", FRAME, first_frame=0, n_frames=2),
        run_mapping("here.h5", "/entry/data", FRAME, first_frame=2, n_frames=2),
        run_mapping(
            str(tmp_path / "old" / "moved.h5"), "/entry/data", FRAME, first_frame=4, n_frames=2
        ),
    ]
    master = tmp_path / "master" / "m.h5"
    write_master(master, [VirtualDataset.create("d", "<u2", (6, *FRAME), mappings)])
    monkeypatch.chdir(tmp_path / "cwd")
    assert_same_as_h5py(master, "d")
    with SwmrFileReader.open(master) as r:
        np.testing.assert_array_equal(r.read("d"), numbered_frames(0, 6))


def test_virtual_source_of_a_virtual_dataset(h5py_vds: Path, tmp_path: Path) -> None:
    layout = h5py.VirtualLayout((4, *FRAME), "<i4")
    layout[0:4] = h5py.VirtualSource(str(h5py_vds), "interleaved", shape=(12, *FRAME))[3:7]
    with h5py.File(tmp_path / "outer.h5", "w") as f:
        f.create_virtual_dataset("outer", layout, fillvalue=0)
    assert_same_as_h5py(tmp_path / "outer.h5", "outer")


# -- what h5swmr refuses ----------------------------------------------------------------------


def test_irregular_selection_is_refused(tmp_path: Path) -> None:
    with h5py.File(tmp_path / "src.h5", "w") as f:
        f["d"] = np.arange(16, dtype="<i4").reshape(4, 4)
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    vspace = h5py.h5s.create_simple((3, 4))
    vspace.select_hyperslab((0, 0), (1, 1), None, (1, 4))
    vspace.select_hyperslab((1, 0), (1, 1), None, (2, 2), op=h5py.h5s.SELECT_OR)  # an L shape
    sspace = h5py.h5s.create_simple((4, 4))
    sspace.select_hyperslab((0, 0), (1, 1), None, (2, 4))
    dcpl.set_virtual(vspace, b"src.h5", b"d", sspace)
    with h5py.File(tmp_path / "v.h5", "w") as f:
        space = h5py.h5s.create_simple((3, 4))
        h5py.h5d.create(f.id, b"l_shape", h5py.h5t.STD_I32LE, space, dcpl=dcpl).close()
    with h5py.File(tmp_path / "v.h5") as f:
        assert f["l_shape"][0, 3] == 3  # libhdf5 reads it
    with SwmrFileReader.open(tmp_path / "v.h5") as r, pytest.raises(UnsupportedError) as info:
        r.read("l_shape")
    assert "'l_shape'" in str(info.value) and "irregular hyperslab" in str(info.value)


def test_selections_that_do_not_fit_their_source(tmp_path: Path) -> None:
    """Too few source elements: libhdf5 refuses the read; reaching past a contiguous source's
    extent: libhdf5 reads whatever follows its storage, h5swmr refuses."""
    with h5py.File(tmp_path / "src.h5", "w") as f:
        f["d"] = np.arange(12, dtype="<i4").reshape(3, 4)
    source = h5py.VirtualSource(str(tmp_path / "src.h5"), "d", shape=(5, 4))
    for name, selected in (("all", source), ("past_end", source[0:5])):
        layout = h5py.VirtualLayout((6, 4), "<i4")
        layout[0:5] = selected
        with h5py.File(tmp_path / "v.h5", "a") as f:
            f.create_virtual_dataset(name, layout, fillvalue=0)
    with h5py.File(tmp_path / "v.h5") as f, pytest.raises(OSError, match="number of elements"):
        f["all"][()]
    with SwmrFileReader.open(tmp_path / "v.h5") as r:
        with pytest.raises(FormatError, match="12 source elements for 20"):
            r.read("all")
        with pytest.raises(UnsupportedError, match="past the extent"):
            r.read_frame("past_end", 4)
        assert r.read_frame("past_end", 2).tolist() == [8, 9, 10, 11]


def test_a_virtual_dataset_that_is_its_own_source(tmp_path: Path) -> None:
    layout = h5py.VirtualLayout((4,), "<i4")
    layout[0:2] = h5py.VirtualSource(".", "loop", shape=(4,))[1:3]
    with h5py.File(tmp_path / "v.h5", "w") as f:
        f.create_virtual_dataset("loop", layout, fillvalue=3)
    with SwmrFileReader.open(tmp_path / "v.h5") as r, pytest.raises(FormatError, match="own"):
        r.read("loop")


def test_corrupt_mapping_list_and_truncated_file(tmp_path: Path) -> None:
    write_part(tmp_path / "a.h5", numbered_frames(0, 2))
    mapping = run_mapping("a.h5", "/entry/data", FRAME, n_frames=2)
    write_master(tmp_path / "m.h5", [VirtualDataset.create("d", "<u2", (2, *FRAME), [mapping])])
    raw = bytearray((tmp_path / "m.h5").read_bytes())
    at = raw.index(b"a.h5\x00")
    raw[at] ^= 0x01  # a byte of the mapping list: its checksum no longer matches
    (tmp_path / "bad.h5").write_bytes(raw)
    with h5py.File(tmp_path / "bad.h5") as f, pytest.raises(KeyError, match="checksum"):
        f["d"]
    with SwmrFileReader.open(tmp_path / "bad.h5") as r, pytest.raises(ChecksumError):
        r.shape("d")
    (tmp_path / "cut.h5").write_bytes((tmp_path / "m.h5").read_bytes()[: at - 40])
    with SwmrFileReader.open(tmp_path / "cut.h5") as r, pytest.raises(TruncatedError):
        r.shape("d")


def test_is_virtual_and_sources_as_h5py_says(tmp_path: Path) -> None:
    for i in range(3):
        with h5py.File(tmp_path / f"src{i}.h5", "w") as f:
            f["data"] = np.full((2, 4), i, "i4")
    layout = h5py.VirtualLayout(shape=(6, 4), dtype="i4")
    for i in range(3):
        layout[2 * i : 2 * i + 2] = h5py.VirtualSource(f"src{i}.h5", "data", shape=(2, 4))
    master = tmp_path / "master.h5"
    with h5py.File(master, "w", libver="latest") as f:
        f.create_virtual_dataset("vds", layout)
        f["plain"] = np.zeros(3)
    with h5py.File(master, "r") as f, SwmrFileReader.open(master) as reader:
        assert reader.is_virtual("vds") and f["vds"].is_virtual
        assert not reader.is_virtual("plain") and not f["plain"].is_virtual
        theirs = [(m.file_name, m.dset_name) for m in f["vds"].virtual_sources()]
        assert reader.virtual_sources("vds") == theirs == [(f"src{i}.h5", "data") for i in range(3)]
        with pytest.raises(InvalidArgumentError, match="not a virtual dataset"):
            reader.virtual_sources("plain")


@pytest.mark.parametrize(
    ("printf", "template"),
    [(False, "run_{:03d}.h5"), (True, "p_{}.h5"), (False, "100%b_{:03d}.h5")],  # a literal %b
)
def test_follow_a_rollover_master_across_rollovers(
    tmp_path: Path, printf: bool, template: str
) -> None:
    """follow() on a master while parts roll over: every frame once, in order, with its own
    value (frame i holds i + 1, so fill, 0, would show). A run master is replaced at each
    rollover (refresh reopens it); a printf master counts its newest part whole, and only the
    frames written are followed."""
    writer = RolloverWriter(tmp_path / template, frames_per_file=5, printf=printf)
    writer.create_streaming_dataset("data", "<u2", (8, 8))
    writer.start_swmr()
    writer.append_frame(0, np.full((8, 8), 1, "<u2"))
    writer.flush()
    got: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def follow() -> None:
        try:
            with SwmrFileReader.open(writer.master_path) as reader:
                for i, frame in reader.follow("data", timeout=1.0, start=0):
                    assert (frame == frame[0, 0]).all()
                    got.append((i, int(frame[0, 0])))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=follow)
    thread.start()
    for i in range(1, 23):
        writer.append_frame(0, np.full((8, 8), i + 1, "<u2"))
        writer.flush()
        time.sleep(0.01)
    thread.join(30)
    writer.close()
    assert not errors, errors
    assert got == [(i, i + 1) for i in range(23)]


def test_refresh_reopens_a_file_replaced_at_its_path(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f["x"] = np.arange(3)
    with SwmrFileReader.open(path) as reader:
        assert reader.read("x").tolist() == [0, 1, 2]
        with h5py.File(tmp_path / "new.h5", "w") as f:
            f["x"] = np.arange(5) * 10
        (tmp_path / "new.h5").replace(path)
        assert reader.read("x").tolist() == [0, 1, 2]  # a snapshot until refresh
        reader.refresh()
        assert reader.read("x").tolist() == [0, 10, 20, 30, 40]
        path.unlink()
        reader.refresh()  # the path is gone: the open file stays
        assert reader.read("x").tolist() == [0, 10, 20, 30, 40]
