"""Is a writer still streaming into a file, has it closed it, or did it die with the file open?

The superblock's consistency flags say a writer *opened* the file and has not closed it; they
stay set after a crash. To tell a live writer from a dead one we look for a process that has the
file open for writing (Linux ``/proc/PID/fd`` and ``fdinfo``): h5swmr's writer and libhdf5's SWMR
writer both keep a read-write descriptor for as long as they run. A writer of another user, or a
system without ``/proc``, cannot be seen: the state is then "open" (flags set, liveness unknown).

The writing processes are found as ``ls`` and ``recover`` find them
(``storage/activity.writing_processes``). Their fallback when none is seen, watching the file
change for half a second, does not suit a live view (an idle libhdf5 writer would look gone, and
the poll thread would block), so the view goes without it.
``probe`` is the only entry point the server calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from h5swmr.storage.activity import writing_processes

RUNNING = "running"
CLOSED = "closed"
GONE = "gone"
OPEN = "open"


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
    found = writing_processes(path)
    if found is None:
        return WriterState(OPEN, "a writer opened the file and has not closed it")
    if found:
        return WriterState(RUNNING, f"a writer (process {found[0]}) is writing", found[0])
    return WriterState(
        GONE,
        "the writer is gone without closing the file: every flushed frame is kept; "
        f"run `h5swmr recover {path}` to clear its flags",
    )
