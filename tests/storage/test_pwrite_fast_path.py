"""FileHandle.pwrite: one os.pwrite in the common case, the rest continued after a short write."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from h5swmr.storage.file import FileHandle


def test_one_syscall_per_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = os.pwrite

    def counting(fd: int, data: object, offset: int) -> int:
        calls.append(offset)
        return real(fd, data, offset)  # type: ignore[arg-type]

    h = FileHandle.open(str(tmp_path / "f.bin"), create=True)
    monkeypatch.setattr(os, "pwrite", counting)
    try:
        h.pwrite(0, b"abc")
        h.pwrite(3, np.arange(4, dtype=np.uint16).data.cast("B"))
        h.pwrite(11, bytearray(b"z"))
    finally:
        monkeypatch.undo()
        h.close()
    assert calls == [0, 3, 11]
    assert (tmp_path / "f.bin").read_bytes() == b"abc" + np.arange(4, dtype="<u2").tobytes() + b"z"


def test_short_writes_are_continued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.pwrite

    def short(fd: int, data: object, offset: int) -> int:
        view = memoryview(data).cast("B")  # type: ignore[arg-type]
        return real(fd, view[:3], offset)

    data = bytes(range(256)) * 4
    h = FileHandle.open(str(tmp_path / "s.bin"), create=True)
    monkeypatch.setattr(os, "pwrite", short)
    try:
        h.pwrite(10, data)
        h.pwrite(5000, memoryview(data)[:7])
    finally:
        monkeypatch.undo()
    try:
        assert h.physical_size == 5007
        assert h.pread(10, len(data)) == data
        assert h.pread(5000, 7) == data[:7]
    finally:
        h.close()
