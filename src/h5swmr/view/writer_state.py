"""Is a writer still streaming into a file, has it closed it, or did it die with the file open?

The superblock's consistency flags say a writer *opened* the file and has not closed it; they
stay set after a crash. To tell a live writer from a dead one we look for a process that has the
file open for writing (Linux ``/proc/PID/fd`` and ``fdinfo``): h5swmr's writer and libhdf5's SWMR
writer both keep a read-write descriptor for as long as they run. A writer of another user, or a
system without ``/proc``, cannot be seen: the state is then "open" (flags set, liveness unknown).

A lock is looked for first, with the same reading of ``/proc/locks`` that ``ls`` and
``recover`` use (``storage/activity.py``). Their fallback, watching the file change for half a
second, does not suit a live view (an idle libhdf5 writer would look gone, and the poll thread
would block), so writers without a lock are found by their read-write descriptors instead.
``probe`` is the only entry point the server calls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from h5swmr.storage.activity import lock_holders

RUNNING = "running"
CLOSED = "closed"
GONE = "gone"
OPEN = "open"
_ACCESS_MODE = 0o3
_READ_ONLY = 0


@dataclass(frozen=True, slots=True)
class WriterState:
    """What the page shows: ``state`` is running, closed, gone or open (unknown liveness)."""

    state: str
    detail: str
    pid: int | None = None

    def to_json(self) -> dict[str, object]:
        return {"state": self.state, "detail": self.detail, "pid": self.pid}


def probe(path: str, flags_set: bool) -> WriterState:
    """The writer's state, given whether the superblock's SWMR/write flags are set now."""
    if not flags_set:
        return WriterState(CLOSED, "closed: no writer has the file open")
    found = writer_pids(path)
    if found is None:
        return WriterState(OPEN, "a writer opened the file and has not closed it")
    if found:
        return WriterState(RUNNING, f"a writer (process {found[0]}) is writing", found[0])
    return WriterState(
        GONE,
        "the writer is gone without closing the file: every flushed frame is kept; "
        f"run `h5swmr recover {path}` to clear its flags",
    )


def writer_pids(path: str) -> list[int] | None:
    """Other processes holding ``path`` open for writing; None when /proc cannot tell.

    An h5swmr writer holds a lock for as long as it runs: ``/proc/locks`` finds it in one read.
    Writers without a lock (libhdf5 in SWMR mode) are found by their descriptors, a walk of every
    process's ``fd`` directory (~10 ms for ~100 processes, so only when no lock is held).
    """
    proc = Path("/proc")
    try:
        target = Path(path).stat()
        # lock holders first, as ls and recover find them (storage/activity.py); a libhdf5
        # reader holds a lock too, so only a holder with a read-write descriptor counts
        holders = lock_holders(path) or []
        writing = [pid for pid in holders if pid > 0 and _writes(proc / str(pid), target)]
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
