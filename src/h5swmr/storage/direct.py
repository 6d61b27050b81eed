"""Writes that bypass the page cache (``O_DIRECT``), for large blocks of fresh bytes.

A buffered ``pwrite`` of new data copies it into page-cache pages the kernel has just taken
from free memory. In a virtual machine that hands free memory back to its host (free page
reporting, ballooning), the first touch of such a page is a fault in the host, and that copy
cost a 2.8 MB frame 1-3 ms of CPU where a copy into memory already mapped costs 0.2 ms.
``DirectWriter`` copies each block once into a reused, page-aligned buffer (already faulted in
after the first blocks) and writes it from there with ``O_DIRECT``: the device reads it by DMA
and no page-cache page is touched. Once that write returns the device has the bytes, so a reader
in another process that reads them afterwards (through the page cache, which the kernel
invalidates over the written range) sees them, as after a buffered write; a commit waits for
it (``drain``) before it writes what points at them.

Blocks must start on a page boundary and their space must run to one (the caller pads its
allocation): the padding written after the block's bytes is zeros, and no other write shares a
page with it, so buffered writes of other blocks never meet a direct one in the same page.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Final

from h5swmr.errors import StorageError
from h5swmr.storage.allocator import PAGE_SIZE, padded_size
from h5swmr.storage.file import Buffer

O_DIRECT: Final = getattr(os, "O_DIRECT", 0)
"""0 where the OS has no such flag (macOS, Windows): direct I/O is then never available."""
INITIAL_BUFFER: Final = 1 << 22
DEPTH: Final = 2
"""Blocks in flight: the device writes one while the caller copies the next."""
_REFUSALS: Final = frozenset({errno.EINVAL, errno.EOPNOTSUPP})


class DirectWriter:
    """A second descriptor of a file, opened with ``O_DIRECT``, its aligned buffers and the
    thread that writes them.

    ``write`` copies a block into the next of ``DEPTH`` buffers and returns; one thread writes
    the buffers in turn, so the device writes one block while the caller receives and copies
    the next. ``drain`` waits until every block handed over is in the file (and raises the
    first failure): ``OrderedWriter`` drains before a commit writes anything that points at
    chunk data, and before a sync or close.

    ``open`` returns None (with the reason handed to ``refused``) where the OS or the file
    system does not take ``O_DIRECT``. The first block is written in the caller's thread: a
    file system that accepts the flag at open but refuses the write (EINVAL: some FUSE and
    network file systems) switches direct I/O off the same way, and that block goes through
    ``fallback``. The caller then writes buffered, as without direct I/O.
    """

    __slots__ = (
        "_buffers",
        "_fallback",
        "_fd",
        "_next",
        "_pending",
        "_pool",
        "_refused",
        "_written",
        "path",
    )

    def __init__(
        self,
        fd: int,
        path: str,
        fallback: Callable[[int, Buffer], None],
        refused: Callable[[str], None],
    ) -> None:
        self._fd = fd
        self.path = path
        self._fallback = fallback
        self._refused = refused
        self._written = False
        self._buffers = [_AlignedBuffer() for _ in range(DEPTH)]
        self._pending: list[Future[None] | None] = [None] * DEPTH
        self._next = 0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="h5swmr-direct")

    @classmethod
    def open(
        cls,
        path: str,
        fallback: Callable[[int, Buffer], None],
        refused: Callable[[str], None],
    ) -> DirectWriter | None:
        """A direct writer of ``path`` (which exists), or None after ``refused(reason)``."""
        if not O_DIRECT:
            refused("this OS has no O_DIRECT")
            return None
        try:
            fd = os.open(path, os.O_WRONLY | O_DIRECT | getattr(os, "O_CLOEXEC", 0))
        except OSError as exc:
            refused(f"the file system refuses O_DIRECT ({exc.strerror})")
            return None
        return cls(fd, path, fallback, refused)

    @property
    def active(self) -> bool:
        return self._fd >= 0

    def write(self, address: int, data: Buffer) -> int:
        """Hand over ``data`` for ``address`` (a page boundary), followed by zeros to the next
        page boundary; returns the end of that space, which must be the caller's (it is
        overwritten). ``data`` is copied before this returns: the caller may reuse it."""
        if address % PAGE_SIZE:
            raise ValueError(f"a direct write starts on a page boundary, not at {address}")
        size = data.nbytes if type(data) is memoryview else len(data)
        padded = padded_size(size)
        slot = self._next
        self._wait(slot)
        block = self._buffers[slot].fill(data, size, padded)
        if not self._written:  # the first block here: a refusal switches direct I/O off
            try:
                self._pwrite(block, address)
            except OSError as exc:
                if exc.errno not in _REFUSALS:
                    raise self._error(exc, size, address) from exc
                self._switch_off(f"the file system refuses O_DIRECT writes ({exc.strerror})")
                self._fallback(address, data)
                return address + size
            self._written = True
            return address + padded
        self._pending[slot] = self._pool.submit(self._write_or_raise, block, address)
        self._next = (slot + 1) % DEPTH
        return address + padded

    def drain(self) -> None:
        """Return once every block handed over is written; raise the first failure."""
        for slot in range(DEPTH):
            self._wait(slot)

    def _wait(self, slot: int) -> None:
        pending = self._pending[slot]
        if pending is not None:
            self._pending[slot] = None
            pending.result()

    def _pwrite(self, block: memoryview, address: int) -> None:
        """Write ``block`` whole, then release it (the buffer is then free to be resized)."""
        with block:
            done = 0
            while done < block.nbytes:
                with block[done:] as rest:
                    done += os.pwrite(self._fd, rest, address + done)

    def _write_or_raise(self, block: memoryview, address: int) -> None:
        size = block.nbytes
        try:
            self._pwrite(block, address)
        except OSError as exc:
            raise self._error(exc, size, address) from exc

    def _error(self, exc: OSError, size: int, address: int) -> StorageError:
        return StorageError(
            exc.errno,
            f"writing {size} bytes at address {address} (O_DIRECT): {exc.strerror}",
            self.path,
        )

    def _switch_off(self, reason: str) -> None:
        self.close()
        self._refused(reason)

    def close(self) -> None:
        """Wait for the blocks handed over (failures are dropped: the writer is closing after
        one, or has drained), then close the descriptor."""
        if self._fd < 0:
            return
        for slot in range(DEPTH):
            with contextlib.suppress(StorageError):
                self._wait(slot)
        self._pool.shutdown()
        fd, self._fd = self._fd, -1
        os.close(fd)
        for buffer in self._buffers:
            buffer.close()


class _AlignedBuffer:
    """Page-aligned memory (anonymous ``mmap``), reused from block to block: after the first
    block its pages are mapped, so a copy into it costs no faults."""

    __slots__ = ("_map", "_view")

    def __init__(self) -> None:
        self._map = mmap.mmap(-1, INITIAL_BUFFER)
        self._view = memoryview(self._map)

    def fill(self, data: Buffer, size: int, padded: int) -> memoryview:
        """Copy ``data`` (``size`` bytes) in, zeros after it to ``padded``; the block."""
        if padded > len(self._map):
            self.close()
            self._map = mmap.mmap(-1, max(padded, 2 * INITIAL_BUFFER))
            self._view = memoryview(self._map)
        view = self._view
        view[:size] = data
        if padded > size:
            view[size:padded] = bytes(padded - size)
        return view[:padded]

    def close(self) -> None:
        self._view.release()
        self._map.close()
