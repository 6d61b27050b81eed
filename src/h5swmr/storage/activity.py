"""Is another process using a file? Who holds a lock on it, and does it change while we look.

``ls``, ``recover`` and the view must tell a running writer from one that is gone. The
consistency flags cannot (a killed writer leaves them set), so signs from the OS are used:

- a process with the file open for writing (Linux ``/proc``): lock holders first, then every
  process's descriptors (:func:`writing_processes`); a reader's lock does not count;
- a lock: an h5swmr writer holds one for as long as it has the file open (exclusive while it
  builds the file, shared from ``start_swmr``). The holders are read from ``/proc/locks``
  without touching the file; where that is not available, a non-blocking exclusive ``flock`` on
  a descriptor of our own is tried and at once released.
- change: a writer that holds no lock (libhdf5 in SWMR mode drops its lock;
  ``HDF5_USE_FILE_LOCKING=FALSE`` takes none) shows itself by writing: the size, the modification
  time or the first bytes change while we watch for a short while.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

PROC_LOCKS = Path("/proc/locks")
_ACCESS_MODE = 0o3
_READ_ONLY = 0
HEAD_SIZE = 512
"""Bytes compared at the start of the file (an HDF5 superblock, after a user block or not)."""


def lock_holders(path: str | os.PathLike[str], proc_locks: str | None = None) -> list[int] | None:
    """Process ids holding a ``flock`` or POSIX lock on ``path`` (0 where the kernel hides the
    id), from ``/proc/locks``; None where that file cannot be read."""
    if proc_locks is None:
        try:
            proc_locks = PROC_LOCKS.read_text()
        except OSError:
            return None
    st = Path(path).stat()
    wanted = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    holders = []
    for line in proc_locks.splitlines():
        fields = line.split()
        if "->" in fields or len(fields) < 6:  # a process waiting for a lock holds none
            continue
        try:
            major, minor, inode = fields[5].split(":")
            key = (int(major, 16), int(minor, 16), int(inode))
            pid = int(fields[4])
        except ValueError:
            continue
        if key == wanted:
            holders.append(pid)
    return holders


def is_locked(path: str | os.PathLike[str]) -> tuple[bool, list[int]]:
    """Whether any process holds a lock on ``path``, and which (empty when unknown)."""
    holders = lock_holders(path)
    if holders is not None:
        return bool(holders), holders
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES), []
    else:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        return False, []
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class FileState:
    """What a writer's next write would change."""

    size: int
    mtime_ns: int
    head: bytes

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileState:
        with Path(path).open("rb") as f:
            st = os.fstat(f.fileno())
            return cls(st.st_size, st.st_mtime_ns, f.read(HEAD_SIZE))


def changes_within(path: str | os.PathLike[str], seconds: float, poll: float = 0.02) -> bool:
    """True as soon as the file's size, modification time or first bytes change; False when
    they stayed the same for ``seconds``."""
    before = FileState.of(path)
    deadline = time.monotonic() + seconds
    while True:
        time.sleep(max(0.0, min(poll, deadline - time.monotonic())))
        if FileState.of(path) != before:
            return True
        if time.monotonic() >= deadline:
            return False


def writing_processes(path: str | os.PathLike[str]) -> list[int] | None:
    """Other processes holding ``path`` open for writing; None when /proc cannot tell.

    A lock alone does not make a writer: libhdf5's readers hold a shared lock too, and an h5swmr
    writer's lock is shared from ``start_swmr`` on. So a lock holder counts only if it has a
    descriptor of the file open for writing. The holders are looked at first (one read of
    ``/proc/locks``); writers without a lock (libhdf5 in SWMR mode, locking off) are found by a
    walk of every process's ``fd`` directory (~10 ms for ~100 processes). A holder whose id the
    kernel hides (0: another pid namespace) counts as a writer, to be safe.
    """
    proc = Path("/proc")
    try:
        target = Path(path).stat()
        holders = lock_holders(path) or []
        writing = [pid for pid in holders if pid <= 0 or _writes(proc / str(pid), target)]
        if writing:
            return writing
        entries = list(proc.iterdir())
    except OSError:
        return None
    if not (proc / "self" / "fd").is_dir():
        return None
    me = os.getpid()
    found = []
    for entry in entries:
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        if _writes(entry, target):
            found.append(int(entry.name))
    return found


def _writes(process: Path, target: os.stat_result) -> bool:
    try:
        descriptors = list((process / "fd").iterdir())
    except OSError:  # another user's process, or one that just ended
        return False
    for fd in descriptors:
        try:
            st = fd.stat()
            if (st.st_dev, st.st_ino) != (target.st_dev, target.st_ino):
                continue
            info = (process / "fdinfo" / fd.name).read_text()
        except OSError:
            continue
        for line in info.splitlines():
            if line.startswith("flags:"):
                flags = int(line.split()[1], 8)
                if flags & _ACCESS_MODE != _READ_ONLY:
                    return True
    return False
