"""Locks as libhdf5 takes them: exclusive until start_swmr, then shared for SWMR readers."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import FileLockedError, FileLocking, SwmrFileWriter


def _file_bytes(path: Path) -> bytes:
    return path.read_bytes()


@pytest.mark.parametrize("started", [False, True], ids=["defining", "swmr"])
def test_second_writer_is_refused_and_file_untouched(tmp_h5: Path, started: bool) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("/d", "u1", (4,))
        if started:
            writer.start_swmr()
        writer.append_frame(ds, b"abcd")
        writer.flush()
        before = _file_bytes(tmp_h5)
        with pytest.raises(FileLockedError, match="locked by another process"):
            SwmrFileWriter.create(tmp_h5)
        with pytest.raises(OSError, match="lock"):
            h5py.File(tmp_h5, "a")
        assert _file_bytes(tmp_h5) == before
        writer.append_frame(ds, b"efgh")
    with h5py.File(tmp_h5, "r") as f:
        assert f["/d"][()].tobytes() == b"abcdefgh"


def test_swmr_readers_attach_only_after_start(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.create_streaming_dataset("/d", "u1", (4,))
        with pytest.raises(OSError, match="lock"):
            h5py.File(tmp_h5, "r", swmr=True)
        writer.start_swmr()
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            assert f["/d"].shape == (0, 4)


def test_locked_file_is_not_truncated(tmp_h5: Path) -> None:
    tmp_h5.write_bytes(b"precious data")
    with tmp_h5.open("rb") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_SH)
        with pytest.raises(FileLockedError):
            SwmrFileWriter.create_with_locking(tmp_h5, FileLocking.ENABLED)
        with pytest.raises(FileLockedError):
            SwmrFileWriter.create_with_locking(tmp_h5, FileLocking.BEST_EFFORT)
    assert tmp_h5.read_bytes() == b"precious data"


@pytest.mark.parametrize("value", ["FALSE", "0"])
def test_environment_turns_locking_off(
    tmp_h5: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    tmp_h5.write_bytes(b"old")
    monkeypatch.setenv("HDF5_USE_FILE_LOCKING", value)
    with tmp_h5.open("rb") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        with SwmrFileWriter.create(tmp_h5) as writer:
            ds = writer.create_streaming_dataset("/d", "i2", (2,))
            writer.start_swmr()
            writer.append_frame(ds, np.array([1, -1], "i2"))
    with h5py.File(tmp_h5, "r", locking=False) as f:
        assert f["/d"][()].tolist() == [[1, -1]]


def test_environment_keeps_locking_on(tmp_h5: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("TRUE", "1", "BEST_EFFORT", "yes"):
        monkeypatch.setenv("HDF5_USE_FILE_LOCKING", value)
        with SwmrFileWriter.create(tmp_h5), pytest.raises(FileLockedError):
            SwmrFileWriter.create(tmp_h5)
    monkeypatch.delenv("HDF5_USE_FILE_LOCKING")
    assert FileLocking.from_environment() is FileLocking.BEST_EFFORT  # libhdf5's default


def test_close_releases_the_lock(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.create_streaming_dataset("/d", "u1", (1,))
    fd = os.open(tmp_h5, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)
