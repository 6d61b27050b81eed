"""Superblock discovery: wherever libhdf5 put it (the reader), and at byte 0 for recover."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import SwmrFileWriter
from h5swmr.access.source import FileSource
from h5swmr.access.superblocks import read_file_info, read_superblock_at_start, writer_is_active
from h5swmr.errors import NotHdf5FileError
from h5swmr.format.superblock import ConsistencyFlags


@pytest.mark.parametrize(
    ("libver", "userblock", "version"),
    [("earliest", 0, 0), ("latest", 0, 3), ("latest", 512, 3), ("earliest", 1024, 0)],
)
def test_the_reader_finds_the_superblock_libhdf5_wrote(
    tmp_path: Path, libver: str, userblock: int, version: int
) -> None:
    path = tmp_path / "f.h5"
    with h5py.File(path, "w", libver=libver, userblock_size=userblock) as f:
        f["x"] = np.arange(3)
    src = FileSource.open(path)
    try:
        info = read_file_info(src)
        assert info.superblock_version == version
        assert src.size == path.stat().st_size - userblock  # addresses count from the superblock
        assert not writer_is_active(src, info)
    finally:
        src.close()


def test_flags_of_a_file_being_written_then_closed(tmp_path: Path) -> None:
    path = tmp_path / "w.h5"
    with SwmrFileWriter.create(path) as w:
        w.create_streaming_dataset("data", "u1", (2,))
        w.start_swmr()
        src = FileSource.open(path)
        try:
            assert read_superblock_at_start(src).flags == ConsistencyFlags.SWMR_WRITING
            assert writer_is_active(src, read_file_info(src))
        finally:
            src.close()
    src = FileSource.open(path)
    try:
        superblock = read_superblock_at_start(src)
        assert superblock.flags == ConsistencyFlags.NONE
        assert superblock.eof_address == path.stat().st_size
    finally:
        src.close()


@pytest.mark.parametrize(
    ("content", "why"),
    [(b"", "it is empty"), (b"not an HDF5 file" * 8, "no HDF5 signature at its start")],
)
def test_recover_reads_only_an_hdf5_file(tmp_path: Path, content: bytes, why: str) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(content)
    src = FileSource.open(path)
    try:
        with pytest.raises(NotHdf5FileError, match=why):
            read_superblock_at_start(src)
        with pytest.raises(NotHdf5FileError, match="not an HDF5 file"):
            read_file_info(src)
    finally:
        src.close()


def test_recover_does_not_look_past_a_user_block(tmp_path: Path) -> None:
    """Recover rewrites byte 0: a superblock elsewhere is not one it may rewrite."""
    path = tmp_path / "u.h5"
    with h5py.File(path, "w", libver="latest", userblock_size=512) as f:
        f["x"] = 1
    src = FileSource.open(path)
    try:
        with pytest.raises(NotHdf5FileError, match="at its start"):
            read_superblock_at_start(src)
        assert read_file_info(src).superblock_version == 3
    finally:
        src.close()
