"""The reader locks as libhdf5's readers do: shared, for as long as the file is open. A file a
non-SWMR libhdf5 writer holds is refused; SWMR writers' files (libhdf5's and h5swmr's) are read
live; HDF5_USE_FILE_LOCKING=FALSE turns the lock off. Real writer processes, real flock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import FileLockedError, SwmrFileReader, SwmrFileWriter
from tests.writer.h5py_held_writer import FRAMES, HeldWriter


@pytest.fixture
def held() -> Iterator[list[HeldWriter]]:
    writers: list[HeldWriter] = []
    yield writers
    for writer in writers:
        writer.stop()


@pytest.fixture
def locking_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HDF5_USE_FILE_LOCKING", raising=False)


@pytest.mark.usefixtures("locking_on")
def test_a_file_a_plain_libhdf5_writer_holds_is_refused(
    tmp_path: Path, held: list[HeldWriter], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plain.h5"
    writer = HeldWriter(path, "plain")
    held.append(writer)
    with pytest.raises(FileLockedError, match="locked by another process"):
        SwmrFileReader.open(path)
    monkeypatch.setenv("HDF5_USE_FILE_LOCKING", "FALSE")
    SwmrFileReader.open(path).close()  # as libhdf5: no lock asked, none refused
    monkeypatch.delenv("HDF5_USE_FILE_LOCKING")
    code, output = writer.finish()
    assert code == 0, output
    with SwmrFileReader.open(path) as reader:
        assert reader.shape("frames")[0] == 2 * FRAMES


@pytest.mark.usefixtures("locking_on")
def test_a_libhdf5_swmr_writers_file_is_read_live(tmp_path: Path, held: list[HeldWriter]) -> None:
    path = tmp_path / "swmr.h5"
    writer = HeldWriter(path, "swmr")
    held.append(writer)
    with SwmrFileReader.open(path) as reader:
        assert reader.writer_active
        assert reader.read_frame("frames", -1)[0, 0] == FRAMES - 1
        code, output = writer.finish()  # the writer is not blocked by the reader's lock
        assert code == 0, output
        reader.refresh()
        assert reader.shape("frames")[0] == 2 * FRAMES
        assert not reader.writer_active


@pytest.mark.usefixtures("locking_on")
def test_an_h5swmr_writer_is_read_once_swmr_starts(tmp_path: Path) -> None:
    path = tmp_path / "h5swmr.h5"
    with SwmrFileWriter.create(path) as writer:
        ds = writer.create_streaming_dataset("frames", "u2", (4,))
        with pytest.raises(FileLockedError):  # building the file: libhdf5 readers wait too
            SwmrFileReader.open(path)
        writer.start_swmr()
        writer.append_frame(ds, np.arange(4, dtype="u2"))
        writer.flush()
        with SwmrFileReader.open(path) as reader:
            assert reader.read_frame("frames", 0).tolist() == [0, 1, 2, 3]
            writer.append_frame(ds, np.arange(4, dtype="u2"))
        # the reader's shared lock never stopped the writer; closing needs no exclusive lock
    with SwmrFileReader.open(path) as reader:
        assert reader.shape("frames") == (2, 4)


@pytest.mark.usefixtures("locking_on")
def test_an_open_reader_keeps_plain_writers_out_as_libhdf5s_do(tmp_path: Path) -> None:
    path = tmp_path / "kept.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f["x"] = np.arange(3)
    with SwmrFileReader.open(path):
        with pytest.raises(OSError, match="lock"):
            h5py.File(path, "a")
        with pytest.raises(FileLockedError):
            SwmrFileWriter.create(path)
    with h5py.File(path, "a") as f:
        assert f["x"][2] == 2
