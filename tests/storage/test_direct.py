"""DirectWriter: blocks written with O_DIRECT from aligned buffers, read back through the page
cache by the same file's buffered descriptor (as a reader in another process reads them)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from h5swmr.errors import StorageError
from h5swmr.storage.allocator import PAGE_SIZE, padded_size
from h5swmr.storage.commit import OrderedWriter
from h5swmr.storage.direct import DEPTH, DirectWriter
from h5swmr.storage.file import Buffer, FileHandle

pytestmark = pytest.mark.skipif(not hasattr(os, "O_DIRECT"), reason="no O_DIRECT on this OS")


def test_blocks_land_padded_and_a_cached_reader_sees_them(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    handle = FileHandle.open(str(path), create=True)
    handle.truncate(1 << 20)  # sparse: a read now caches zero pages over the blocks' space
    assert handle.pread(0, 1 << 20) == bytes(1 << 20)
    reasons: list[str] = []
    fallback: list[tuple[int, Buffer]] = []
    writer = DirectWriter.open(str(path), lambda a, d: fallback.append((a, d)), reasons.append)
    assert writer is not None
    blocks = [os.urandom(n) for n in (PAGE_SIZE * 3, 70_001, 5, 300_000, 1 << 23)]
    address = PAGE_SIZE
    placed = []
    for block in blocks:  # more blocks than buffers: each buffer is reused
        end = writer.write(address, memoryview(block))
        assert end == address + padded_size(len(block))
        placed.append(address)
        address = end
    writer.drain()
    assert (reasons, fallback) == ([], [])
    for at, block in zip(placed, blocks, strict=True):
        assert handle.pread(at, len(block)) == block
        pad = padded_size(len(block)) - len(block)
        assert handle.pread(at + len(block), pad) == bytes(pad)
    assert handle.pread(0, PAGE_SIZE) == bytes(PAGE_SIZE)  # nothing before the first block
    assert len(blocks) > DEPTH
    writer.close()
    writer.close()  # twice: nothing
    handle.close()


@pytest.fixture
def bare_writer(tmp_path: Path) -> Iterator[DirectWriter]:
    """A DirectWriter on an empty file, with no fallback and no reason expected."""
    path = tmp_path / "f.bin"
    path.touch()
    writer = DirectWriter.open(str(path), lambda a, d: None, lambda r: None)
    assert writer is not None
    yield writer
    writer.close()


def test_a_block_must_start_on_a_page(bare_writer: DirectWriter) -> None:
    writer = bare_writer
    with pytest.raises(ValueError, match="page boundary, not at 100"):
        writer.write(100, b"x")


def test_a_failed_write_is_raised_at_the_next_drain(bare_writer: DirectWriter) -> None:
    writer = bare_writer
    writer.write(0, b"first")  # the first block: written at once
    limit = 1 << 62  # past any file system's largest file: EFBIG or EINVAL from the OS
    writer.write(limit - (limit % PAGE_SIZE), b"x" * 10)
    with pytest.raises(StorageError, match="O_DIRECT"):
        writer.drain()


def test_a_file_that_refuses_o_direct_falls_back_to_buffered_writes() -> None:
    """/dev/null refuses O_DIRECT at open (EINVAL), as tmpfs before Linux 6.6 and some FUSE
    file systems do: the reason is handed over and blocks are written buffered."""
    handle = FileHandle.open("/dev/null")
    out = OrderedWriter(handle)
    reasons: list[str] = []
    out.use_direct_io(reasons.append)
    assert not out.direct
    assert len(reasons) == 1
    assert "refuses O_DIRECT" in reasons[0]
    out.write_block(0, b"abc")  # buffered, as without direct I/O
    out.close()
    handle.close()


def test_ordered_writer_writes_blocks_before_a_commit(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    handle = FileHandle.open(str(path), create=True)
    out = OrderedWriter(handle)
    out.use_direct_io(pytest.fail)
    assert out.direct
    blocks = [os.urandom(300_000) for _ in range(5)]
    for i, block in enumerate(blocks):
        out.write_block(i * padded_size(300_000), block)
    assert handle.physical_size == 5 * padded_size(300_000)
    out.commit([[(handle.physical_size, b"index")]])  # drains first
    for i, block in enumerate(blocks):
        assert handle.pread(i * padded_size(300_000), 300_000) == block
    out.close()
    handle.close()
