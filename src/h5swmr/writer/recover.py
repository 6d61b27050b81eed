"""Make a file that a crashed writer left behind open in every HDF5 tool, keeping every flush.

A crashed h5swmr (or libhdf5 SWMR) writer leaves the superblock's consistency flags set, so plain
readers refuse the file until the flags are cleared (libhdf5's ``h5clear -s``). SWMR readers read
such a file as it is; ``recover`` is what makes it ordinary again:

- the flags are cleared and the superblock re-sealed, as the last, single write;
- the stored end of file is raised to cover every byte on disk (``h5clear --increment``): a commit
  cut short may already have pointed a chunk index entry at bytes past the stored EOF, and a plain
  reader refuses any address past it. Nothing is truncated, so no flushed frame can be lost;
- the datasets are walked and their frame counts (the dims of the last completed flush) reported.

A file whose writer is still running is refused (``WriterRunningError``) unless ``force=True``:
its flags are set too, but clearing them under a live writer makes a file plain readers open
while it still grows, and the writer's next flush sets them again. A running writer shows by a
lock it holds, or, holding none (libhdf5 in SWMR mode, ``HDF5_USE_FILE_LOCKING=FALSE``), by the
file changing during a short probe (:func:`probe_writer`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import Enum

from h5swmr.access.extensible_array import read_extensible_array_header
from h5swmr.access.object_headers import walk_object_header
from h5swmr.access.source import FileSource
from h5swmr.access.superblocks import read_superblock_at_start
from h5swmr.errors import FileLockedError, H5SwmrError, WriterRunningError
from h5swmr.format.constants import UNDEFINED_ADDRESS, ChunkIndexType, MessageType
from h5swmr.format.messages.dataspace import DataspaceMessage
from h5swmr.format.messages.layout import ChunkedLayoutMessage, decode_layout
from h5swmr.format.messages.link import LinkMessage, LinkType
from h5swmr.format.object_header import RawMessage, find_message
from h5swmr.format.superblock import ConsistencyFlags, Superblock
from h5swmr.storage.activity import changes_within, is_locked, writing_processes
from h5swmr.storage.commit import OrderedWriter
from h5swmr.storage.file import FileHandle
from h5swmr.storage.locking import FileLocking, lock, unlock

_MAX_OBJECTS = 100_000
PROBE_SECONDS = 0.5
"""How long ``recover`` watches a file for a writer that holds no lock."""


class WriterState(Enum):
    """What became of the writer of a file whose consistency flags are set."""

    RUNNING = "running"
    """Another process holds a lock on the file: an h5swmr writer does while it has it open."""
    WRITING = "writing"
    """No lock, but the file changed while we watched: a writer that takes no lock."""
    GONE = "gone"
    """No lock and no change: the writer crashed or was killed (or idles without locks)."""


@dataclass(frozen=True, slots=True)
class WriterProbe:
    """The verdict of :func:`probe_writer` and what it rests on."""

    state: WriterState
    lock_holders: tuple[int, ...]
    """Ids of the processes writing the file (or, where ``/proc`` cannot say which of them
    write, holding its lock)."""
    seconds: float

    @property
    def is_running(self) -> bool:
        return self.state is not WriterState.GONE

    def describe(self) -> str:
        if self.state is WriterState.RUNNING:
            pids = [str(pid) for pid in self.lock_holders if pid > 0]
            who = f"process {', '.join(pids)} has" if pids else "another process has"
            return f"a writer is running ({who} the file open for writing)"
        if self.state is WriterState.WRITING:
            return (
                f"a writer is writing (the file changed within {self.seconds:g} s, though no "
                "process on this host has it open for writing)"
            )
        return (
            "its writer is gone without closing it (no process has the file open for writing "
            f"and the file did not change in {self.seconds:g} s)"
        )


def probe_writer(path: str | os.PathLike[str], seconds: float = PROBE_SECONDS) -> WriterProbe:
    """Is the writer of a file whose flags are set still running? A process with the file open
    for writing says yes at once (a reader's lock does not: libhdf5's readers hold one too);
    where ``/proc`` cannot tell, any lock does. Else the file is watched for ``seconds`` for a
    change (a writer on another host, or of another user, shows only that way)."""
    writers = writing_processes(path)
    if writers:
        return WriterProbe(WriterState.RUNNING, tuple(writers), seconds)
    if writers is None:
        locked, holders = is_locked(path)
        if locked:
            return WriterProbe(WriterState.RUNNING, tuple(holders), seconds)
    if changes_within(path, seconds):
        return WriterProbe(WriterState.WRITING, (), seconds)
    return WriterProbe(WriterState.GONE, (), seconds)


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """What ``recover`` found and did."""

    path: str
    was_clean: bool
    """The file was closed cleanly: nothing was changed."""
    flags_cleared: int
    """The consistency flags found (0x05 for a crashed SWMR writer)."""
    eof_before: int
    eof_after: int
    datasets: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Every dataset found, with the shape readers now see."""
    unread: list[str] = field(default_factory=list)
    """Objects whose headers h5swmr could not walk (structures it does not write)."""

    def summary(self) -> str:
        if self.was_clean:
            return f"{self.path}: closed cleanly, nothing to recover"
        lines = [
            f"{self.path}: cleared consistency flags {self.flags_cleared:#04x}; "
            f"end of file {self.eof_before} -> {self.eof_after} bytes"
        ]
        for name, shape in sorted(self.datasets.items()):
            frames = shape[0] if shape else 1
            lines.append(f"  {name}: {frames} frames kept, shape {shape}")
        lines += [f"  {name}: not checked" for name in self.unread]
        return "\n".join(lines)


def recover(
    path: str | os.PathLike[str],
    *,
    locking: FileLocking | None = None,
    force: bool = False,
    probe_seconds: float = PROBE_SECONDS,
) -> RecoveryReport:
    """Clear the SWMR flags of a crashed file so any HDF5 tool opens it; keep every flushed frame.

    Refuses (``WriterRunningError``) a file still being written: one another process holds a
    lock on, or one that changes within ``probe_seconds``; ``force=True`` skips both checks and
    recovers without taking the lock. On a file that was closed cleanly it changes nothing and
    says so. A file that is not HDF5 raises ``NotHdf5FileError``.
    """
    path_str = os.fspath(path)
    policy = FileLocking.from_environment() if locking is None else locking
    handle = FileHandle.open(path_str)
    try:
        if (
            read_superblock_at_start(FileSource(handle)).flags != ConsistencyFlags.NONE
            and not force
        ):
            probe = probe_writer(path_str, probe_seconds)
            if probe.is_running:
                raise WriterRunningError(
                    f"{path_str!r}: {probe.describe()}; recover is for a file whose writer is "
                    "gone: let the writer finish (closing clears the flags) or stop it, then run "
                    "recover again (--force skips this check)"
                )
        locked = False
        if not force:
            try:
                locked = lock(handle.fd, path_str, policy, exclusive=True)
            except FileLockedError as exc:  # a writer or reader opened it since the probe
                raise WriterRunningError(
                    f"{path_str!r}: another process has just locked it (a writer or a reader "
                    "opened it); close it, then run recover again (--force skips this check)"
                ) from exc
        try:
            return _recover(handle, path_str)
        finally:
            if locked:
                unlock(handle.fd)
    finally:
        handle.close()


def _recover(handle: FileHandle, path: str) -> RecoveryReport:
    src = FileSource(handle)  # read again: the file is locked now
    superblock = read_superblock_at_start(src)
    datasets, unread = _walk(src, superblock.root_address)
    if superblock.flags == ConsistencyFlags.NONE:
        eof = superblock.eof_address
        return RecoveryReport(path, True, 0, eof, eof, datasets, unread)
    eof = max(superblock.eof_address, handle.physical_size)
    if handle.physical_size < eof:
        handle.truncate(eof)
    out = OrderedWriter(handle)
    out.write(0, Superblock(ConsistencyFlags.NONE, eof, superblock.root_address).encode())
    out.sync()
    return RecoveryReport(
        path, False, int(superblock.flags), superblock.eof_address, eof, datasets, unread
    )


def _walk(src: FileSource, root: int) -> tuple[dict[str, tuple[int, ...]], list[str]]:
    """Datasets reachable from the root through compact groups, with their current shapes."""
    datasets: dict[str, tuple[int, ...]] = {}
    unread: list[str] = []
    seen: set[int] = set()
    pending = [("/", root)]
    while pending and len(seen) < _MAX_OBJECTS:
        path, address = pending.pop()
        if address in seen:
            continue
        seen.add(address)
        try:
            messages = walk_object_header(src, address).messages
        except H5SwmrError:
            unread.append(path)
            continue
        links = [m for m in messages if m.type == MessageType.LINK]
        if links or find_message(messages, MessageType.LINK_INFO):
            for raw in links:
                link = LinkMessage.decode(raw.body)
                if link.link_type == LinkType.HARD:
                    pending.append((path.rstrip("/") + "/" + link.name, link.address))
            continue
        try:
            shape = _dataset_shape(src, messages)
        except H5SwmrError as exc:
            unread.append(f"{path} ({exc})")
            continue
        if shape is None:
            unread.append(path)
        else:
            datasets[path] = shape
    return datasets, unread


def _dataset_shape(src: FileSource, messages: tuple[RawMessage, ...]) -> tuple[int, ...] | None:
    dataspace = find_message(messages, MessageType.DATASPACE)
    layout_raw = find_message(messages, MessageType.LAYOUT)
    if dataspace is None or layout_raw is None:
        return None
    layout = decode_layout(layout_raw.body)
    if (
        isinstance(layout, ChunkedLayoutMessage)
        and layout.index_type == ChunkIndexType.EXTENSIBLE_ARRAY
        and layout.index_address != UNDEFINED_ADDRESS
    ):  # the index the dims rely on must verify, or SWMR readers would hang on it
        read_extensible_array_header(src, layout.index_address)
    return DataspaceMessage.decode(dataspace.body).dims
