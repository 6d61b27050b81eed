"""FileSource: reads never pass the file's end, and a torn checksummed block is read again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from h5swmr.access.source import FileSource
from h5swmr.errors import ChecksumError, TruncatedError
from h5swmr.storage.file import FileHandle


@pytest.fixture
def src(tmp_path: Path) -> Iterator[FileSource]:
    path = tmp_path / "bytes.bin"
    path.write_bytes(bytes(range(100)))
    source = FileSource.open(path)
    yield source
    source.close()


def test_reads_inside_the_file(src: FileSource) -> None:
    assert src.read(10, 5, "x") == bytes(range(10, 15))
    assert src.read_upto(95, 100, "x") == bytes(range(95, 100))
    assert src.read_padded(98, 4, "x") == bytes([98, 99, 0, 0])


@pytest.mark.parametrize(("address", "size"), [(96, 5), (100, 1), (-1, 1), (0, -1), (2**63, 8)])
def test_a_read_past_the_end_is_a_truncated_error_naming_the_structure(
    src: FileSource, address: int, size: int
) -> None:
    with pytest.raises(TruncatedError, match="widget"):
        src.read(address, size, "widget")


def test_a_size_from_a_corrupt_field_allocates_nothing(src: FileSource) -> None:
    with pytest.raises(TruncatedError):
        src.read(0, 2**60, "huge")


def test_the_file_may_grow_between_reads(tmp_path: Path) -> None:
    path = tmp_path / "growing.bin"
    path.write_bytes(b"a" * 10)
    src = FileSource.open(path)
    try:
        with path.open("ab") as f:
            f.write(b"b" * 10)
        assert src.read(10, 10, "grown") == b"b" * 10  # the size is checked again before failing
    finally:
        src.close()


def test_a_torn_block_is_decoded_again(src: FileSource) -> None:
    tries: list[bytes] = []

    def decode(buf: bytes) -> int:
        tries.append(buf)
        if len(tries) < 3:
            raise ChecksumError("torn", structure="test block")
        return buf[0]

    assert src.block(7, 2, decode, "test block") == 7
    assert len(tries) == 3


def test_a_block_that_stays_bad_raises_after_the_last_attempt(tmp_path: Path) -> None:
    path = tmp_path / "bad.bin"
    path.write_bytes(bytes(16))
    src = FileSource(FileHandle.open(str(path), writable=False), attempts=2)
    calls = 0

    def decode(buf: bytes) -> int:
        nonlocal calls
        calls += 1
        raise ChecksumError("bad", structure="test block")

    try:
        with pytest.raises(ChecksumError):
            src.block(0, 4, decode, "test block")
        assert calls == 2
    finally:
        src.close()
