"""FileHandle: positional I/O on a real file, and OS failures as StorageError naming the path."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from h5swmr.errors import H5SwmrError, StorageError
from h5swmr.storage.file import FileHandle


def test_pwrite_pread_truncate(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    h = FileHandle.open(str(path), create=True)
    try:
        assert h.physical_size == 0
        h.pwrite(100, b"hello")
        assert h.physical_size == 105
        assert path.read_bytes() == bytes(100) + b"hello"  # a hole reads as zeros
        h.pwrite(0, memoryview(b"HDF"))
        h.pwrite(3, bytearray(b"!"))
        assert h.physical_size == 105
        assert h.pread(0, 4) == b"HDF!"
        assert h.pread(100, 50) == b"hello"  # short read at the end of the file
        assert h.pread(200, 10) == b""
        h.truncate(4096)
        assert h.physical_size == path.stat().st_size == 4096
        h.truncate(2)
        assert h.physical_size == 2
        assert path.read_bytes() == b"HD"
        h.sync()
    finally:
        h.close()
    assert h.closed
    h.close()  # closing twice is harmless


def test_large_write_is_complete(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    h = FileHandle.open(str(tmp_path / "big.bin"), create=True)
    try:
        h.pwrite(5, data)
        assert h.pread(5, len(data)) == data
    finally:
        h.close()


def test_physical_size_of_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(777))
    h = FileHandle.open(str(path), writable=False)
    try:
        assert h.physical_size == 777
    finally:
        h.close()


def test_write_to_read_only_handle(tmp_path: Path) -> None:
    path = tmp_path / "ro.bin"
    path.write_bytes(b"x" * 10)
    h = FileHandle.open(str(path), writable=False)
    try:
        with pytest.raises(StorageError) as info:
            h.pwrite(0, b"abc")
        assert isinstance(info.value, OSError)
        assert info.value.errno == errno.EBADF
        assert info.value.filename == str(path)
        assert str(path) in str(info.value)
        assert h.physical_size == 10  # nothing recorded as written
        with pytest.raises(StorageError) as info:
            h.truncate(0)
        assert info.value.filename == str(path)
    finally:
        h.close()
    assert path.read_bytes() == b"x" * 10


def test_open_failures(tmp_path: Path) -> None:
    missing = tmp_path / "missing.h5"
    with pytest.raises(StorageError) as info:
        FileHandle.open(str(missing))
    assert info.value.errno == errno.ENOENT
    assert str(missing) in str(info.value)
    assert isinstance(info.value, H5SwmrError)


def test_use_after_close_raises_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "c.bin"
    h = FileHandle.open(str(path), create=True)
    h.close()
    with pytest.raises(StorageError, match="closed"):
        _ = h.fd
    for call in (lambda: h.pwrite(0, b"x"), lambda: h.pread(0, 1), lambda: h.truncate(0), h.sync):
        with pytest.raises(StorageError, match=r"c\.bin"):
            call()


def test_use_after_close_says_closed(tmp_path: Path) -> None:
    h = FileHandle.open(str(tmp_path / "c.bin"), create=True)
    h.close()
    for call in (lambda: h.pwrite(0, b"x"), lambda: h.pread(0, 1), lambda: h.truncate(0), h.sync):
        with pytest.raises(StorageError, match="is closed") as info:
            call()
        assert "None" not in str(info.value)
