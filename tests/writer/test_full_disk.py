"""A full disk or a file-size limit: a clear OSError, every flushed frame kept, nothing garbled."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import InvalidStateError, StorageError, SwmrFileWriter, recover

FRAME = (64, 64)


def frame(i: int) -> np.ndarray:
    return np.full(FRAME, i + 1, "<u2")


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
        timeout=30,
    )
    if mounted.returncode:
        pytest.skip(
            f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); "
            "test_file_size_limit covers the same path"
        )
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, timeout=30)


def _fill(path: Path, pipeline_frames: int) -> int:
    """Append until the file system refuses; returns the frames of the last completed flush."""
    writer = SwmrFileWriter.create(path)
    plain = writer.create_streaming_dataset("/plain", "u2", FRAME)
    chunked = writer.create_streaming_dataset_chunked("/chunked", "u2", FRAME, (3, 32, 32))
    writer.start_swmr()
    flushed = 0
    with pytest.raises(StorageError) as raised:
        for i in range(pipeline_frames):
            writer.append_frame(plain, frame(i))
            writer.append_frame(chunked, frame(i))
            if i % 2:
                writer.flush()
                flushed = i + 1
    assert raised.value.errno in (errno.ENOSPC, errno.EFBIG)
    assert str(path) in str(raised.value)
    with pytest.raises(InvalidStateError, match="last completed flush"):
        writer.append_frame(plain, frame(0))
    writer.close()
    return flushed


def _check(path: Path, flushed: int) -> None:
    with h5py.File(path, "r", swmr=True) as f:  # as the failed writer left it
        for name in ("/plain", "/chunked"):
            data = f[name][()]
            assert flushed <= len(data)
            assert all((data[i] == frame(i)).all() for i in range(len(data)))
    report = recover(path)
    with h5py.File(path, "r") as f:
        for name in ("/plain", "/chunked"):
            data = f[name][()]
            assert len(data) == report.datasets[name][0] >= flushed
            assert all((data[i] == frame(i)).all() for i in range(len(data)))


def test_full_tmpfs(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "512k") as mount:
        path = mount / "full.h5"
        flushed = _fill(path, 1000)
        assert flushed > 10
        _check(path, flushed)


LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
resource.setrlimit(resource.RLIMIT_FSIZE, (600_000, 600_000))
sys.path.insert(0, sys.argv[2])
from tests.writer.test_full_disk import _fill
print(_fill(__import__("pathlib").Path(sys.argv[1]), 1000))
"""


def test_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "limited.h5"
    root = str(Path(__file__).parents[2])
    done = subprocess.run(
        [sys.executable, "-c", LIMITED, str(path), root],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(Path(root) / "src")},
    )
    assert done.returncode == 0, done.stderr
    flushed = int(done.stdout.split()[-1])
    assert flushed > 10
    _check(path, flushed)
