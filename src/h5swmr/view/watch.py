"""One file the server shows: polled in a worker thread, shared by every page that looks at it.

A ``FileWatch`` owns the file's ``ViewedFile`` and the single thread that reads it (the reader is
not thread-safe, and one thread per file keeps a busy file from starving the others). At each
look it refreshes the reader and counts the frames of the datasets pages look at: a
``poll_interval`` after a look that found frames, then each quiet look ``QUIET_BACKOFF`` times
later than the last, up to once a ``period``. About once a second it also rebuilds the tree and
probes the writer's state. While frames keep arriving it looks once per ``period``, the pace of
the pages' updates, which follow its looks: the pages could not show what more frequent looks
would find (each look at a growing file re-reads its headers), and every page following a
dataset gets the same newest frame, read and packed once for all of them.
Pages are woken by ``asyncio.Event``s, so updates are pushed as soon as they are seen, never
polled by the page.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from h5swmr.errors import H5SwmrError
from h5swmr.view.files import DatasetInfo, ViewedFile
from h5swmr.view.writer_state import OPEN, WriterState, probe

log = logging.getLogger(__name__)
T = TypeVar("T")

TREE_INTERVAL = 1.0
"""Seconds between rebuilds of the tree (shapes, ratios) and probes of the writer's state..."""
TREE_SHARE = 10.0
"""... or this many times the time a rebuild took, if longer (files of many objects)."""
SAMPLE_INTERVAL = 0.5
"""Seconds between samples of the frame counts for the rates plot."""
RATE_SAMPLES = 240
"""Samples kept for the rates plot: two minutes."""
FRAME_CACHE = 8
"""Raw frames kept in memory, so many pages showing the latest frame read it once..."""
FRAME_CACHE_BYTES = 128 << 20
"""... within this many bytes (the newest frame is always kept)."""
MAX_ARRIVALS = 100_000
QUIET_BACKOFF = 1.5
"""Each look that finds no new frame waits this much longer before the next (from
``poll_interval`` up to the update period): a file at rest costs 10 looks a second, not 40,
and a writer that starts again is still seen within one update period."""


@dataclass(slots=True)
class Snapshot:
    """What the poll thread hands to the event loop."""

    error: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    infos: dict[str, DatasetInfo] = field(default_factory=dict)
    tree: list[dict[str, Any]] | None = None
    default: str | None = None
    state: WriterState | None = None


class FileWatch:
    """A file shown by the server, its latest snapshot, and the pages to wake on change."""

    def __init__(self, index: int, path: str, poll_interval: float, period: float = 0.1) -> None:
        self.index = index
        self.path = path
        self.name = Path(path).name
        self.poll_interval = poll_interval
        self.period = max(period, poll_interval)
        self._quiet = poll_interval
        """Seconds until the next look at a quiet file (grows with each quiet look)."""
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"h5swmr-view-{index}")
        self._file: ViewedFile | None = None
        self.error = ""
        self.tree: list[dict[str, Any]] = []
        self.tree_version = 0
        self.default: str | None = None
        self.state = WriterState(OPEN, "not read yet")
        self.counts: dict[str, int] = {}
        self.infos: dict[str, DatasetInfo] = {}
        self.status_version = 0
        self.watched: Counter[str] = Counter()
        self.listeners: set[asyncio.Event] = set()
        self.looked = 0.0
        """When the last look at the file began (``time.monotonic``; 0 before the first): pages
        pace their updates by it."""
        self.samples: deque[tuple[float, dict[str, int]]] = deque(maxlen=RATE_SAMPLES)
        self._arrivals: dict[str, tuple[list[int], list[float]]] = {}
        self._frames: OrderedDict[tuple[str, int], np.ndarray[Any, Any]] = OrderedDict()
        self._next_tree = 0.0
        self._next_sample = 0.0
        self._texts: dict[tuple[Any, ...], str] = {}

    # -- the worker thread -----------------------------------------------------------------------

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function(*args)`` on this file's worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    def _poll(self, watched: list[str], full: bool) -> Snapshot:
        try:
            if self._file is None:
                self._file = ViewedFile(self.path)
                full = True
            file = self._file
            file.refresh()
            snap = Snapshot()
            if full:
                nodes = file.tree()
                snap.tree = [node.to_json() for node in nodes]
                snap.default = file.default_dataset(nodes)
                snap.state = probe(self.path, file.writer_active)
            for path in {*watched, *([snap.default] if snap.default else [])}:
                try:
                    info = file.dataset(path)
                except H5SwmrError:
                    continue
                snap.infos[path] = info
                snap.counts[path] = info.frame_count
            return snap
        except (H5SwmrError, OSError) as exc:
            if self._file is not None and not Path(self.path).exists():
                self._file.close()
                self._file = None
            return Snapshot(error=f"{self.path}: {exc}")

    def read_frame(self, info: DatasetInfo, index: int) -> np.ndarray[Any, Any]:
        """Frame ``index`` of a dataset (worker thread only), from the cache when it was read."""
        key = (info.path, index)
        frame = self._frames.get(key)
        if frame is None:
            if self._file is None:
                raise H5SwmrError(f"{self.path}: not open")
            frame = self._file.read_frame(info, index)
            self._frames[key] = frame
            while len(self._frames) > 1 and (
                len(self._frames) > FRAME_CACHE
                or sum(f.nbytes for f in self._frames.values()) > FRAME_CACHE_BYTES
            ):
                self._frames.popitem(last=False)
        else:
            self._frames.move_to_end(key)
        return frame

    # -- the event loop --------------------------------------------------------------------------

    async def run(self) -> None:
        """Poll until cancelled; wake the listeners whenever something changed."""
        while True:
            now = time.monotonic()
            full = now >= self._next_tree
            snap = await self.call(self._poll, list(self.watched), full)
            if full:  # a file whose tree takes long to read is read less often (10% at most)
                spent = time.monotonic() - now
                self._next_tree = now + max(TREE_INTERVAL, TREE_SHARE * spent)
            self.looked = now
            if self._apply(snap, time.time()):  # frames arriving: look again a period later
                self._quiet = self.poll_interval
                await asyncio.sleep(max(now + self.period - time.monotonic(), 0.0))
            else:  # quiet: soon at first, then less often, at least once a period
                await asyncio.sleep(self._quiet)
                self._quiet = min(self._quiet * QUIET_BACKOFF, self.period)

    def _apply(self, snap: Snapshot, wall: float) -> bool:
        """Take in a poll's snapshot; True when a dataset a page looks at has new frames."""
        changed = snap.error != self.error
        grew = any(
            path in self.watched and count > self.counts.get(path, count)
            for path, count in snap.counts.items()
        )
        self.error = snap.error
        if snap.tree is not None and snap.tree != self.tree:
            self.tree, self.tree_version = snap.tree, self.tree_version + 1
            changed = True
        if snap.tree is not None:
            self.default = snap.default
        if snap.state is not None and snap.state != self.state:
            self.state, changed = snap.state, True
        if snap.counts != self.counts:
            for path, count in snap.counts.items():
                self._arrived(path, count, wall)
            changed = True
        self.counts, self.infos = snap.counts, snap.infos
        now = time.monotonic()
        if now >= self._next_sample and not snap.error:
            self._next_sample = now + SAMPLE_INTERVAL
            self.samples.append((wall, dict(snap.counts)))
            changed = True
        if changed:
            self.status_version += 1
            for event in self.listeners:
                event.set()
        return grew

    def _arrived(self, path: str, count: int, wall: float) -> None:
        """Remember when the server first saw frame ``count - 1`` (the page shows that time)."""
        counts, times = self._arrivals.setdefault(path, ([], []))
        if counts and count <= counts[-1]:
            if count < counts[-1]:  # the dataset shrank or the file was replaced
                counts.clear()
                times.clear()
            else:
                return
        if not counts and path not in self.counts:
            wall = float("nan")  # present when the server started: its time is unknown
        counts.append(count)
        times.append(wall)
        if len(counts) > MAX_ARRIVALS:
            del counts[: MAX_ARRIVALS // 2], times[: MAX_ARRIVALS // 2]

    def arrival(self, path: str, index: int) -> float | None:
        """Wall-clock time at which frame ``index`` was first seen; None when not known."""
        counts, times = self._arrivals.get(path, ([], []))
        at = bisect.bisect_right(counts, index)
        if at >= len(counts) or times[at] != times[at]:
            return None
        return times[at]

    def rates(self, path: str) -> list[list[float]]:
        """[time, frames/s, MB/s] between consecutive samples, for the rates plot."""
        info = self.infos.get(path)
        nbytes = info.frame_nbytes if info is not None and info.stacked else 0
        out = []
        previous: tuple[float, dict[str, int]] | None = None
        for sample in self.samples:
            if previous is not None and path in sample[1] and path in previous[1]:
                span = max(sample[0] - previous[0], 1e-6)
                fps = max(sample[1][path] - previous[1][path], 0) / span
                out.append([round(sample[0], 3), round(fps, 2), round(fps * nbytes / 1e6, 3)])
            previous = sample
        return out

    def text(self, key: tuple[Any, ...], make: Callable[..., dict[str, Any]], *args: Any) -> str:
        """``make(*args)`` as JSON text, made once per ``key`` (a version) for every page."""
        found = self._texts.get(key)
        if found is None:
            if len(self._texts) > 64:
                self._texts.clear()
            found = json.dumps(make(*args), separators=(",", ":"), allow_nan=False, default=str)
            self._texts[key] = found
        return found

    def status(self, shown: str | None = None) -> dict[str, Any]:
        """The file's state, with the rates of dataset ``shown`` (the one a page looks at)."""
        status = {
            "type": "status",
            "file": self.index,
            "error": self.error,
            "writer": self.state.to_json(),
            "counts": self.counts,
            "shapes": {path: info.shape for path, info in self.infos.items()},
        }
        if shown is not None:
            status["rates"] = self.rates(shown)
        return status

    def tree_message(self) -> dict[str, Any]:
        return {"type": "tree", "file": self.index, "nodes": self.tree, "default": self.default}

    async def close(self) -> None:
        def _close() -> None:
            if self._file is not None:
                self._file.close()

        with contextlib.suppress(RuntimeError):  # the executor was already shut down
            await self.call(_close)
        self._executor.shutdown(wait=False, cancel_futures=True)
