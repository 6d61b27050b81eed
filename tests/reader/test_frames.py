"""Frames one at a time (reader/frames.py), the fast path for unfiltered chunks of whole frames:
every frame as h5py reads it, across index kinds, paged index blocks, unwritten chunks and
refreshes; which datasets take the path; the read limit."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.errors import FormatError
from h5swmr.reader import SwmrFileReader
from h5swmr.reader.frames import FrameReader, frames_are_chunk_rows
from h5swmr.writer.swmr_file_writer import SwmrFileWriter
from tests.reader.make_h5py_files import write_h5py_file
from tests.reader.objects import dataset_state


def _write_frames_file(path: Path, libver: str | None) -> None:
    kw = {"libver": libver} if libver else {}
    rng = np.random.default_rng(1)
    with h5py.File(path, "w", **kw) as f:
        # 3000 chunks: the extensible array pages its data blocks and uses super blocks
        ea = f.create_dataset(
            "ea", shape=(0, 4, 3), maxshape=(None, 4, 3), chunks=(1, 4, 3), dtype="<u2"
        )
        ea.resize((3000, 4, 3))
        ea[::2] = rng.integers(0, 60000, (1500, 4, 3))  # odd frames never written: fill value
        ea[2999] = 9
        f.create_dataset(
            "ea_fill",
            shape=(50, 2, 2),
            maxshape=(None, 2, 2),
            chunks=(1, 2, 2),
            dtype="f4",
            fillvalue=-1.5,
        )[10] = 3
        multi = f.create_dataset(
            "three_per_chunk", shape=(0, 5, 5), maxshape=(None, 5, 5), chunks=(3, 5, 5), dtype=">i4"
        )
        multi.resize((301, 5, 5))
        multi[...] = rng.integers(-(2**31), 2**31 - 1, (301, 5, 5))
        wide = f.create_dataset(
            "wide_max", shape=(0, 4, 4), maxshape=(None, 8, 4), chunks=(1, 4, 4), dtype="u1"
        )
        wide.resize((40, 4, 4))
        wide[...] = rng.integers(0, 255, (40, 4, 4))
        f.create_dataset("fixed", data=rng.random((1500, 2, 2)), chunks=(1, 2, 2))
        two_d = f.create_dataset(
            "bt2", shape=(0, 3), maxshape=(None, None), chunks=(2, 3), dtype="i8"
        )
        two_d.resize((99, 3))
        two_d[...] = np.arange(297).reshape(99, 3)


@pytest.fixture(scope="module", params=["latest", "default"])
def frames_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("frames") / f"{request.param}.h5"
    _write_frames_file(path, "latest" if request.param == "latest" else None)
    return path


def test_every_frame_matches_h5py(frames_file: Path) -> None:
    with h5py.File(frames_file, "r") as f, SwmrFileReader.open(frames_file) as r:
        for name in ("ea", "ea_fill", "three_per_chunk", "wide_max", "fixed", "bt2"):
            want = f[name][()]
            order = [*range(len(want))[::-1], *range(len(want))]  # cold from the end, then warm
            for i in order:
                got = r.read_frame(name, i)
                assert got.dtype == want.dtype and got.shape == want.shape[1:], (name, i)
                assert got.tobytes() == want[i].tobytes(), (name, i)
            assert r.read_frame(name, -1).tobytes() == want[-1].tobytes()
            assert isinstance(r._frame_readers[name], FrameReader), name


def test_frames_are_fresh_arrays(frames_file: Path) -> None:
    with SwmrFileReader.open(frames_file) as r:
        a, b = r.read_frame("ea_fill", 0), r.read_frame("ea_fill", 0)
        a[...] = 0
        assert (b == -1.5).all() and a.flags.writeable


def test_general_path_where_the_fast_one_does_not_apply(tmp_path: Path) -> None:
    path = tmp_path / "h5py.h5"
    write_h5py_file(path, "latest")
    with h5py.File(path, "r") as f, SwmrFileReader.open(path) as r:
        for name in ("contiguous", "fixed", "fixed_filtered", "bt2_gzip", "sparse", "fixed_paged"):
            for i in (0, -1, len(f[name]) // 2):
                got = r.read_frame(name, i)
                assert np.asarray(got).tobytes() == np.asarray(f[name][i]).tobytes(), name
            assert r._frame_readers.get(name) is None, name


def test_index_errors(frames_file: Path) -> None:
    with SwmrFileReader.open(frames_file) as r:
        for bad in (50, -51):
            with pytest.raises(IndexError):
                r.read_frame("ea_fill", bad)


def test_refresh_sees_new_frames(tmp_h5: Path) -> None:
    frame = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    with SwmrFileWriter.create(tmp_h5) as w:
        ds = w.create_streaming_dataset("frames", np.uint16, (64, 64))
        w.start_swmr()
        w.append_frame(ds, frame)
        w.flush()
        with SwmrFileReader.open(tmp_h5) as r:
            assert r.read_frame("frames", 0).tobytes() == frame.tobytes()
            for i in range(1, 300):
                w.append_frame(ds, frame + i)
                w.flush()
                with pytest.raises(IndexError):
                    r.read_frame("frames", i)  # not in this snapshot
                r.refresh()
                assert r.read_frame("frames", -1).tobytes() == (frame + i).tobytes()
            assert r.read_frame("frames", 7).tobytes() == (frame + 7).tobytes()


def test_read_frames_fast_path(frames_file: Path) -> None:
    with h5py.File(frames_file, "r") as f, SwmrFileReader.open(frames_file) as r:
        for name in ("ea", "ea_fill", "three_per_chunk", "wide_max", "fixed", "bt2"):
            want = f[name][()]
            n = len(want)
            for start, stop in ((0, n), (1, n - 1), (n - 7, None), (5, 6), (4, 4), (-3, None)):
                got = r.read_frames(name, start, stop)
                expected = want[start:stop]
                assert got.shape == expected.shape and got.dtype == expected.dtype, name
                assert got.tobytes() == expected.tobytes(), (name, start, stop)
            assert isinstance(r._frame_readers[name], FrameReader), name


def test_which_datasets_take_the_fast_path(tmp_path: Path) -> None:
    path = tmp_path / "kinds.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("whole", data=np.zeros((4, 3, 2), "u2"), chunks=(2, 3, 2))
        f.create_dataset("tiled", data=np.zeros((4, 3, 2), "u2"), chunks=(1, 3, 1))
        f.create_dataset(
            "gzip", data=np.zeros((4, 3, 2), "u2"), chunks=(1, 3, 2), compression="gzip"
        )
        f.create_dataset("contiguous", data=np.zeros((4, 3, 2), "u2"))
        f.create_dataset("rank1", data=np.zeros(4, "u2"), chunks=(2,))
    expected = {"whole": True, "tiled": False, "gzip": False, "contiguous": False,
                "rank1": False}  # fmt: skip
    for name, fast in expected.items():
        with dataset_state(path, name) as (_, state):
            assert frames_are_chunk_rows(state) is fast, name


def test_frames_read_directly_and_the_read_limit(frames_file: Path) -> None:
    with h5py.File(frames_file, "r") as f:
        want = f["three_per_chunk"][()]
    frame_bytes = 5 * 5 * 4
    with dataset_state(frames_file, "three_per_chunk") as (src, state):
        reader = FrameReader(src, state, limit=4 * frame_bytes)
        assert (reader.n_frames, reader.frame_shape, reader.dtype) == (301, (5, 5), want.dtype)
        np.testing.assert_array_equal(reader.read(300), want[300])
        np.testing.assert_array_equal(reader.read_rows(2, 6), want[2:6])
        with pytest.raises(
            FormatError, match="rows 0:5: 500 bytes requested, more than the limit of 400"
        ):
            reader.read_rows(0, 5)
        with pytest.raises(FormatError, match="one frame: 100 bytes requested"):
            FrameReader(src, state, limit=frame_bytes - 1)
