"""What a writer has done and how long its commits take: the numbers a beamline status page shows
(NDFileHDF5's RunTime and IOSpeed), and a watchdog that speaks up when storage is slow."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass


class SlowStorageWarning(UserWarning):
    """An append or a flush took longer than the writer's ``watchdog`` allows."""


@dataclass(frozen=True, slots=True)
class WriterStats:
    """A snapshot of ``SwmrFileWriter.stats()``."""

    frames_appended: dict[str, int]
    """Dataset path -> frames appended (metadata, key and flag datasets included)."""
    frames_published: dict[str, int]
    """Dataset path -> frames SWMR readers can see (committed by a flush)."""
    commits: int
    """Ordered commits written: flushes, policy flushes, and the writer's own at create,
    start_swmr and close."""
    file_size: int
    """Bytes of the file as the last commit left it, or more (appended chunks)."""
    elapsed_seconds: float
    """Since the writer opened the file."""
    commit_seconds: float
    """Spent in commits, waiting for compression to finish included."""
    last_commit_seconds: float
    max_commit_seconds: float
    slow_calls: int
    """Appends and flushes that took longer than the watchdog allows."""

    @property
    def megabytes_per_second(self) -> float:
        """File bytes per second since the writer opened the file (10**6 bytes)."""
        return self.file_size / self.elapsed_seconds / 1e6 if self.elapsed_seconds > 0 else 0.0


class Monitor:
    """Commit timings and the watchdog of one writer."""

    def __init__(self, watchdog: float | None) -> None:
        self.watchdog = watchdog
        self._opened = time.monotonic()
        self._commits = 0
        self._commit_seconds = 0.0
        self._last_commit = 0.0
        self._max_commit = 0.0
        self._slow_calls = 0

    def record_commit(self, seconds: float) -> None:
        self._commits += 1
        self._commit_seconds += seconds
        self._last_commit = seconds
        if seconds > self._max_commit:  # noqa: PLR1730 - not max(): once a commit
            self._max_commit = seconds

    def check(self, call: str, seconds: float, path: str, *, stacklevel: int) -> None:
        """A SlowStorageWarning if ``call`` took longer than the watchdog allows."""
        if self.watchdog is None or seconds <= self.watchdog:
            return
        self._slow_calls += 1
        warnings.warn(
            SlowStorageWarning(
                f"{path!r}: {call} took {seconds * 1e3:.3g} ms, over the watchdog's "
                f"{self.watchdog * 1e3:.3g} ms (slow or busy storage, or compression that "
                "cannot keep up)"
            ),
            stacklevel=stacklevel + 1,
        )

    def snapshot(
        self, frames_appended: dict[str, int], frames_published: dict[str, int], file_size: int
    ) -> WriterStats:
        return WriterStats(
            frames_appended,
            frames_published,
            self._commits,
            file_size,
            time.monotonic() - self._opened,
            self._commit_seconds,
            self._last_commit,
            self._max_commit,
            self._slow_calls,
        )
