"""Tiling the next strip of a frame on a helper thread while the writer thread writes the last one.

Tiling an unfiltered frame is a numpy copy and writing it is the kernel's copy into the page
cache; both release the GIL. Done one after the other they add up; with the strips of a frame
handed between two threads, the writer thread spends the tiling time of one strip instead of the
whole frame. A plain queue and one long-lived thread keep the handoff to a few microseconds,
far below what a thread pool's futures cost per frame.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from queue import SimpleQueue

Job = tuple[Callable[[int], None], int]


class CutAhead:
    """Runs ``cut(0)``, then ``cut(1..n-1)`` on the helper thread while this thread runs
    ``write(0..n-1)`` in order, each after its own cut. ``enabled=False`` (no spare core, or
    ``workers=0``) runs both in the caller's thread."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._jobs: SimpleQueue[Job | None] = SimpleQueue()
        self._done: SimpleQueue[BaseException | None] = SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def run(self, pieces: int, cut: Callable[[int], None], write: Callable[[int], None]) -> None:
        """Cut and write ``pieces`` pieces; returns once the helper no longer touches them, so
        the caller may reuse its buffers and hand the frame back to the user."""
        if pieces < 2 or not self.enabled:
            for piece in range(pieces):
                cut(piece)
                write(piece)
            return
        self._ensure_thread()
        self._jobs.put((cut, pieces))
        pending = pieces - 1
        try:
            cut(0)
            write(0)
            for piece in range(1, pieces):
                failure = self._done.get()
                pending -= 1
                if failure is not None:
                    raise failure
                write(piece)
        finally:
            while pending:  # an error here: wait until the helper is done with the buffers
                self._done.get()
                pending -= 1

    def close(self) -> None:
        if self._thread is not None and self._pid == os.getpid():
            self._jobs.put(None)
            self._thread.join()
        self._thread = None

    def _ensure_thread(self) -> None:
        """Start the helper on first use, and again in a forked child (which has no threads)."""
        if self._thread is not None and self._pid == os.getpid():
            return
        self._jobs, self._done = SimpleQueue(), SimpleQueue()
        self._pid = os.getpid()
        self._thread = threading.Thread(
            target=_helper, args=(self._jobs, self._done), name="h5swmr-cut", daemon=True
        )
        self._thread.start()


def _helper(jobs: SimpleQueue[Job | None], done: SimpleQueue[BaseException | None]) -> None:
    while (job := jobs.get()) is not None:
        cut, pieces = job
        failure: BaseException | None = None
        for piece in range(1, pieces):
            if failure is None:
                try:
                    cut(piece)
                except BaseException as exc:  # handed to the writer thread, which raises it
                    failure = exc
            done.put(failure)
