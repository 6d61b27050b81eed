"""OrderedWriter: the one place bytes reach the file; commits phase by phase, in order."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from h5swmr.errors import StorageError
from h5swmr.storage.commit import Durability, OrderedWriter
from h5swmr.storage.file import FileHandle


@pytest.mark.parametrize("durability", list(Durability))
def test_commit_writes_phases_in_order(tmp_path: Path, durability: Durability) -> None:
    path = tmp_path / "p.bin"
    h = FileHandle.open(str(path), create=True)
    try:
        OrderedWriter(h, durability).commit([[(0, b"aaaa"), (8, b"bb")], [], [(2, b"CC")]])
    finally:
        h.close()
    assert path.read_bytes() == b"aaCC\0\0\0\0bb"


def test_commit_stops_at_the_first_failure(tmp_path: Path) -> None:
    path = tmp_path / "p.bin"
    path.write_bytes(b"0123")
    h = FileHandle.open(str(path), writable=False)
    try:
        with pytest.raises(StorageError, match=r"p\.bin"):
            OrderedWriter(h).commit([[(0, b"x")], [(1, b"y")]])
    finally:
        h.close()
    assert path.read_bytes() == b"0123"


def test_chunk_data_and_commits_go_through_the_same_writer(tmp_path: Path) -> None:
    """Data written with ``write`` is in the file before a later commit's first phase, and
    both reach it through one descriptor: another opener sees them at once."""
    path = tmp_path / "p.bin"
    h = FileHandle.open(str(path), create=True)
    try:
        out = OrderedWriter(h, Durability.FLUSH)
        out.write(4, memoryview(b"data"))
        with path.open("rb") as other:
            assert other.read() == b"\0\0\0\0data"
        out.commit([[(0, b"idx!")]])
        out.sync()
        assert os.pread(h.fd, 8, 0) == b"idx!data"
    finally:
        h.close()
