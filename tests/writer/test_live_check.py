"""create() never truncates a file a live writer is writing: a real h5py SWMR writer process
(which holds no lock once ``swmr_mode`` is on) keeps its file and finishes it; a crashed
writer's file is refused until ``overwrite=True`` (CLI ``--overwrite``) or ``recover``."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import FileLockedError, StorageError, SwmrFileWriter, recover
from h5swmr.storage.file import FileHandle
from h5swmr.writer.live_check import superblock_flags
from tests.cli.conftest import run_h5swmr
from tests.writer import h5py_held_writer
from tests.writer.h5py_held_writer import HeldWriter


@pytest.fixture
def held(tmp_path: Path) -> Iterator[list[HeldWriter]]:
    writers: list[HeldWriter] = []
    yield writers
    for writer in writers:
        writer.stop()


def _flags(path: Path) -> int:
    handle = FileHandle.open(str(path), writable=False)
    try:
        return superblock_flags(handle)
    finally:
        handle.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_create_refuses_a_live_h5py_swmr_writers_file(
    tmp_path: Path, held: list[HeldWriter]
) -> None:
    path = tmp_path / "live.h5"
    writer = HeldWriter(path, "swmr")
    held.append(writer)
    before = _digest(path)
    assert _flags(path) == 0x05
    with pytest.raises(FileLockedError, match="SWMR writer has it open") as caught:
        SwmrFileWriter.create(path)
    message = str(caught.value)
    assert "recover" in message
    assert "overwrite=True" in message
    assert _digest(path) == before
    cli = run_h5swmr("simulate", str(path), "--frames", "1", "-q")
    assert cli.returncode == 1
    assert cli.stderr.count("\n") == 1
    assert "--overwrite" in cli.stderr
    assert _digest(path) == before
    # the writer never noticed: it finishes its file, which holds every frame
    code, output = writer.finish()
    assert code == 0, output
    with h5py.File(path, "r") as f:
        frames = f["frames"][...]
    expected = np.arange(2 * h5py_held_writer.FRAMES, dtype="u2")
    assert np.array_equal(frames[:, 0, 0], expected)


def test_a_crashed_writers_file_is_refused_until_overwrite(
    tmp_path: Path, held: list[HeldWriter]
) -> None:
    path = tmp_path / "crashed.h5"
    writer = HeldWriter(path, "swmr")
    held.append(writer)
    writer.kill()
    before = _digest(path)
    with pytest.raises(FileLockedError, match="recover"):
        SwmrFileWriter.create(path)
    assert _digest(path) == before
    with SwmrFileWriter.create(path, overwrite=True) as w:
        w.create_streaming_dataset("new", "u1", (2,))
    with h5py.File(path, "r") as f:
        assert list(f) == ["new"]


def test_cli_overwrite_replaces_a_crashed_writers_file(
    tmp_path: Path, held: list[HeldWriter]
) -> None:
    path = tmp_path / "crashed.h5"
    writer = HeldWriter(path, "swmr")
    held.append(writer)
    writer.kill()
    result = run_h5swmr("simulate", str(path), "--frames", "2", "-q", "--overwrite")
    assert result.returncode == 0, result.stderr
    with h5py.File(path, "r") as f:
        assert f["/entry/data/data"].shape[0] == 2


def test_a_recovered_file_may_be_replaced(tmp_path: Path, held: list[HeldWriter]) -> None:
    path = tmp_path / "recovered.h5"
    writer = HeldWriter(path, "swmr")
    held.append(writer)
    writer.kill()
    recover(path)
    SwmrFileWriter.create(path).close()


def test_create_still_refuses_a_file_a_plain_writer_locks(
    tmp_path: Path, held: list[HeldWriter]
) -> None:
    path = tmp_path / "plain.h5"
    held.append(HeldWriter(path, "plain"))
    before = _digest(path)
    for overwrite in (False, True):
        with pytest.raises(FileLockedError, match="locked by another process"):
            SwmrFileWriter.create(path, overwrite=overwrite)
    assert _digest(path) == before


def test_files_without_flags_are_replaced(tmp_path: Path) -> None:
    path = tmp_path / "old.h5"
    with h5py.File(path, "w", libver="earliest") as f:
        f["x"] = np.arange(3)
    SwmrFileWriter.create(path).close()
    with h5py.File(path, "w", libver="latest", userblock_size=512) as f:
        f["x"] = np.arange(3)
    assert _flags(path) == 0
    SwmrFileWriter.create(path).close()


def _h5py_create_over(path: Path) -> subprocess.CompletedProcess[str]:
    """libhdf5's mode "w" on ``path`` in another process: it truncates, then fails on the lock."""
    code = f"import h5py; h5py.File({str(path)!r}, 'w')"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("then", ["flush", "close"])
def test_the_writer_notices_its_file_was_truncated_under_it(tmp_path: Path, then: str) -> None:
    path = tmp_path / "cut.h5"
    writer = SwmrFileWriter.create(path)
    try:
        ds = writer.create_streaming_dataset("frames", "u2", (64,))
        writer.start_swmr()
        for i in range(3):
            writer.append_frame(ds, np.full(64, i, "u2"))
        writer.flush()
        result = _h5py_create_over(path)
        assert result.returncode != 0  # libhdf5 failed on the lock...
        assert path.stat().st_size == 0  # ...after it had emptied the file
        writer.append_frame(ds, np.full(64, 3, "u2"))
        with pytest.raises(StorageError, match="truncated by another program"):
            writer.flush() if then == "flush" else writer.close()
    finally:
        writer.close()


def test_a_writer_whose_file_was_not_touched_commits_as_before(tmp_path: Path) -> None:
    path = tmp_path / "fine.h5"
    with SwmrFileWriter.create(path) as writer:
        ds = writer.create_streaming_dataset("frames", "u2", (4,))
        writer.start_swmr()
        for i in range(3):
            writer.append_frame(ds, np.full(4, i, "u2"))
            writer.flush()
    with SwmrFileWriter.open_append(path) as writer:
        writer.start_swmr()
        writer.append_frame("frames", np.full(4, 3, "u2"))
        writer.flush()
    with h5py.File(path, "r") as f:
        assert f["frames"][:, 0].tolist() == [0, 1, 2, 3]
