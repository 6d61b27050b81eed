"""RolloverWriter: parts of N frames, one master; h5py reads (and follows) it bit for bit."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.errors import DatasetNotFoundError, InvalidArgumentError, InvalidStateError
from h5swmr.filters.deflate import DeflateFilter
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.reader import SwmrFileReader
from h5swmr.scaleout import RolloverWriter
from tests.oracle import OLD_H5PY_VERSIONS, describe_with, h5dump_data

FRAME = (4, 5)


def _frame(i: int) -> np.ndarray:
    return (np.arange(20, dtype="<u2").reshape(FRAME) + 7 * i).astype("<u2")


def _frames(n: int) -> np.ndarray:
    return np.stack([_frame(i) for i in range(n)]) if n else np.empty((0, *FRAME), "<u2")


def test_rollover_live_and_final(tmp_path: Path) -> None:
    writer = RolloverWriter(tmp_path / "run_{:06d}.h5", frames_per_file=4)
    writer.create_streaming_dataset("entry/data/data", "<u2", FRAME)
    writer.create_streaming_dataset_chunked("entry/sum", "<f8", (1,), (4, 1))
    writer.start_swmr()
    assert writer.master_path == str(tmp_path / "run_master.h5")

    def append(i: int) -> None:
        writer.append_frame(0, _frame(i))
        writer.append_frame("entry/sum", np.array([_frame(i).sum()], "<f8"))

    for i in range(6):
        append(i)
    writer.flush()
    assert [Path(p).name for p in writer.part_paths] == ["run_000000.h5", "run_000001.h5"]
    with h5py.File(writer.master_path, "r", swmr=True) as f:
        data = f["entry/data/data"]
        assert data.shape == (6, *FRAME)
        np.testing.assert_array_equal(data[...], _frames(6))
        np.testing.assert_array_equal(f["entry/sum"][:, 0], _frames(6).sum(axis=(1, 2)))
        assert f["parts/run_000000/entry/data/data"].shape == (4, *FRAME)
        append(6)
        writer.flush()
        data.refresh()  # the newest part is mapped unlimited: refresh follows it
        assert data.shape == (7, *FRAME)
        np.testing.assert_array_equal(data[6], _frame(6))
        for i in range(7, 10):
            append(i)
        writer.flush()
        data.refresh()  # the next part is in a new master: this handle stops at part 1's end
        assert data.shape == (8, *FRAME)
    with h5py.File(writer.master_path, "r", swmr=True) as f:
        np.testing.assert_array_equal(f["entry/data/data"][...], _frames(10))
    writer.close()
    writer.close()
    with h5py.File(writer.master_path, "r") as f:  # final master: exact counts, plain open
        assert f["entry/data/data"].shape == (10, *FRAME)
        np.testing.assert_array_equal(f["entry/data/data"][...], _frames(10))
        assert f["entry/sum"].shape == (10, 1)
        assert sorted(f["parts"]) == ["run_000000", "run_000001", "run_000002"]
    with pytest.raises(InvalidStateError):
        writer.append_frame(0, _frame(0))


def test_printf_master_follows_new_parts(tmp_path: Path) -> None:
    with RolloverWriter(
        tmp_path / "p_{}.h5", 3, master=tmp_path / "m.h5", printf=True, links_group=None
    ) as writer:
        writer.create_streaming_dataset_compressed(
            "data", "<u2", FRAME, FilterPipeline([DeflateFilter(4)])
        )
        writer.start_swmr()
        for i in range(2):
            writer.append_frame(0, _frame(i))
        writer.flush()
        with h5py.File(tmp_path / "m.h5", "r", swmr=True) as f:
            data = f["data"]
            assert data.shape == (3, *FRAME)  # whole parts; frame 2 is fill until written
            np.testing.assert_array_equal(data[:2], _frames(2))
            for i in range(2, 7):
                writer.append_frame(0, _frame(i))
            writer.flush()
            data.refresh()  # one master for every part: refresh finds the new parts
            assert data.shape == (9, *FRAME)
            np.testing.assert_array_equal(data[:7], _frames(7))
    with h5py.File(tmp_path / "m.h5", "r") as f:
        np.testing.assert_array_equal(f["data"][...], _frames(7))


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        RolloverWriter(tmp_path / "x.h5", 4)
    with pytest.raises(InvalidArgumentError):
        RolloverWriter(tmp_path / "x_{}.h5", 0)
    with pytest.raises(InvalidArgumentError):
        RolloverWriter(tmp_path / "x_{:03d}.h5", 4, printf=True)
    writer = RolloverWriter(tmp_path / "x_{}.h5", 2)
    with pytest.raises(InvalidStateError):
        writer.start_swmr()
    writer.create_streaming_dataset("d", "<u2", FRAME)
    with pytest.raises(InvalidArgumentError):
        writer.create_streaming_dataset("/d", "<u2", FRAME)
    with pytest.raises(DatasetNotFoundError):
        writer.append_frame("nope", _frame(0))
    writer.append_frame("d", _frame(0))  # before start_swmr: the part is created, not live
    with pytest.raises(InvalidStateError):
        writer.create_streaming_dataset("e", "<u2", FRAME)
    writer.start_swmr()
    writer.close()
    with h5py.File(writer.master_path, "r") as f:
        np.testing.assert_array_equal(f["d"][...], _frames(1))


@pytest.mark.parametrize("version", sorted(OLD_H5PY_VERSIONS))
def test_old_libhdf5_reads_the_final_master(tmp_path: Path, version: str) -> None:
    """HDF5 1.12 and 1.14 read a closed rollover set through its master, bit for bit."""
    with RolloverWriter(tmp_path / "run_{:06d}.h5", frames_per_file=3) as writer:
        writer.create_streaming_dataset("entry/data/data", "<u2", FRAME)
        writer.start_swmr()
        for i in range(8):
            writer.append_frame(0, _frame(i))
    described = describe_with(version, writer.master_path, export=["/entry/data/data"])
    assert described["datasets"]["/entry/data/data"]["shape"] == (8, *FRAME)
    np.testing.assert_array_equal(described["arrays"]["/entry/data/data"], _frames(8))


def test_h5dump_1_10_reads_the_final_master(tmp_path: Path) -> None:
    with RolloverWriter(tmp_path / "run_{:06d}.h5", frames_per_file=3) as writer:
        writer.create_streaming_dataset("entry/data/data", "<u2", FRAME)
        writer.start_swmr()
        for i in range(8):
            writer.append_frame(0, _frame(i))
    got = h5dump_data(writer.master_path, "/entry/data/data", "<u2", (8, *FRAME))
    np.testing.assert_array_equal(got, _frames(8))


@pytest.mark.parametrize("beside", [True, False])
@pytest.mark.parametrize("printf", [False, True])
def test_percent_signs_in_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, printf: bool, beside: bool
) -> None:
    """libhdf5 reads VDS source names as patterns (%b, %%): a literal % must reach it escaped,
    in the part's name and, for parts apart from the master (named absolute), in the directory
    a relative template starts from; external links (``parts/``) take names as they are."""
    if beside:
        writer = RolloverWriter(tmp_path / "100%_{}.h5", frames_per_file=2, printf=printf)
    else:
        work = tmp_path / "run%b 1%"
        (work / "sub%").mkdir(parents=True)
        monkeypatch.chdir(work)
        master = tmp_path / "master%.h5"
        writer = RolloverWriter("sub%/100%_{}.h5", 2, master=master, printf=printf)
    writer.create_streaming_dataset("entry/50%", "<u2", FRAME)
    writer.start_swmr()
    for i in range(3):
        writer.append_frame(0, _frame(i))
    writer.flush()
    with h5py.File(writer.master_path, "r", swmr=True) as f:
        np.testing.assert_array_equal(f["entry/50%"][:3], _frames(3))
    writer.close()
    with h5py.File(writer.master_path, "r") as f:
        np.testing.assert_array_equal(f["entry/50%"][...], _frames(3))
        np.testing.assert_array_equal(f["parts/100%_1/entry/50%"][...], _frames(3)[2:])
    with SwmrFileReader.open(writer.master_path) as reader:
        np.testing.assert_array_equal(reader.read("entry/50%"), _frames(3))


@pytest.mark.parametrize("printf", [False, True])
def test_a_file_name_per_frame_spans_the_parts(tmp_path: Path, printf: bool) -> None:
    """S8 metadata beside the frames: the master's virtual dataset of strings reads whole in
    h5py and in our reader, across three parts."""
    writer = RolloverWriter(tmp_path / "run_{}.h5", 3, printf=printf)
    image = writer.create_streaming_dataset("/image", "u1", (2,))
    name = writer.create_streaming_dataset("/name", "S8", ())
    writer.start_swmr()
    for i in range(7):
        writer.append_frame(image, np.full(2, i, "u1"))
        writer.append_frame(name, f"f{i}.tif")
    writer.close()
    expected = [f"f{i}.tif".encode() for i in range(7)]
    with h5py.File(writer.master_path, "r") as f:
        assert f["/name"].dtype == np.dtype("S8")
        assert f["/name"][()].tolist() == expected
    with SwmrFileReader.open(writer.master_path) as r:
        assert r.read("/name").tolist() == expected
