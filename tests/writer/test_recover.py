"""recover (writer/recover.py) called as a function: the file a crashed writer leaves opens in
libhdf5 with every flushed frame; a clean file is left byte for byte; a running writer and a file
that is not HDF5 are refused. A crash image is the bytes on disk while a writer still has the file
open (what SIGKILL leaves: tests/crash and tests/cli kill real processes); h5py judges the result.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import NotHdf5FileError, SwmrFileWriter, WriterRunningError, recover
from h5swmr.writer.recover import WriterState, probe_writer

FRAME = (4, 6)


def _frame(i: int) -> np.ndarray:
    return np.full(FRAME, i, "<u2")


def _crash_image(writer_path: Path, image: Path, flushed: int, unflushed: int) -> None:
    """``image``: the bytes of a writer's file after ``flushed`` frames and a flush, then
    ``unflushed`` more frames whose chunks reached the file past the stored end of file."""
    with SwmrFileWriter.create(writer_path) as w:
        ds = w.create_streaming_dataset("entry/data", "u2", FRAME)
        w.start_swmr()
        for i in range(flushed):
            w.append_frame(ds, _frame(i))
        w.flush()
        for i in range(flushed, flushed + unflushed):
            w.append_frame(ds, _frame(i))
        shutil.copyfile(writer_path, image)


def test_a_crashed_writers_file_opens_in_libhdf5_with_every_flushed_frame(tmp_path: Path) -> None:
    image = tmp_path / "crashed.h5"
    _crash_image(tmp_path / "live.h5", image, flushed=5, unflushed=3)
    with pytest.raises(OSError):  # the SWMR flags are set: plain libhdf5 refuses
        h5py.File(image, "r")
    size = image.stat().st_size
    report = recover(image, probe_seconds=0.0)
    assert not report.was_clean
    assert report.flags_cleared == 0x05  # write access and SWMR write access
    # the stored end of file runs ahead of the writer's allocated end (EOF_RESERVE), so it
    # may already cover the unflushed chunks; recover raises it to the file's end if not
    assert report.eof_before <= size == report.eof_after
    assert report.datasets == {"/entry/data": (5, *FRAME)}
    assert report.unread == []
    assert report.summary().splitlines() == [
        f"{image}: cleared consistency flags 0x05; end of file {report.eof_before} -> {size} bytes",
        f"  /entry/data: 5 frames kept, shape (5, {FRAME[0]}, {FRAME[1]})",
    ]
    with h5py.File(image, "r") as f:
        np.testing.assert_array_equal(f["entry/data"][()], np.stack([_frame(i) for i in range(5)]))
    again = recover(image, probe_seconds=0.0)
    assert again.was_clean and again.summary() == f"{image}: closed cleanly, nothing to recover"


def test_a_cleanly_closed_file_is_left_byte_for_byte(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as w:
        ds = w.create_streaming_dataset("data", "u2", FRAME)
        w.start_swmr()
        w.append_frame(ds, _frame(1))
    before = tmp_h5.read_bytes()
    report = recover(tmp_h5)
    assert report.was_clean and report.eof_before == report.eof_after == len(before)
    assert report.datasets == {"/data": (1, *FRAME)}
    assert tmp_h5.read_bytes() == before


def test_a_running_writer_is_refused_and_its_file_untouched(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as w:
        ds = w.create_streaming_dataset("data", "u2", FRAME)
        w.start_swmr()
        w.append_frame(ds, _frame(0))
        w.flush()
        probe = probe_writer(tmp_h5, seconds=0.0)
        assert probe.state is WriterState.RUNNING and probe.is_running
        assert "a writer is running" in probe.describe()
        before = tmp_h5.read_bytes()
        with pytest.raises(WriterRunningError, match=r"a writer is running .* recover again"):
            recover(tmp_h5, probe_seconds=0.0)
        assert tmp_h5.read_bytes() == before
        w.append_frame(ds, _frame(1))  # the writer goes on
    with h5py.File(tmp_h5, "r") as f:
        assert f["data"].shape == (2, *FRAME)


def test_a_file_whose_writer_is_gone_probes_as_gone(tmp_path: Path) -> None:
    image = tmp_path / "crashed.h5"
    _crash_image(tmp_path / "live.h5", image, flushed=1, unflushed=0)
    probe = probe_writer(image, seconds=0.0)
    assert probe.state is WriterState.GONE and not probe.is_running
    assert "its writer is gone" in probe.describe()


def test_a_file_that_is_not_hdf5_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "notes.h5"
    path.write_bytes(b"not an HDF5 file\n" * 100)
    with pytest.raises(NotHdf5FileError):
        recover(path, probe_seconds=0.0)
    assert path.read_bytes() == b"not an HDF5 file\n" * 100
