"""Runs filter pipelines on a thread pool and hands results back in submission order.

zlib and the other codecs release the GIL, so chunks compress in parallel while the writer thread
goes on; results are written in the order frames arrived, so chunk addresses follow frame order.
A large chunk is also cut into parts that the same pool compresses at once (ChunkSplitter), so
every core works even when each flush leaves one chunk in flight.

When chunks go one per flush (the last flush drained a single chunk) and nothing is in flight,
a chunk the caller lends (``borrowed``: its frame, which it may change once the call returns) is
filtered by the calling thread itself, its parts shared with the pool, and written before
``submit`` returns: the caller would only wait in the next flush, and a queued chunk costs a copy
of the frame and two thread hand-offs. Chunks that come several per flush keep the queue, where
the caller's copies and writes overlap the pool's compression.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

import numpy as np

from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.filters.split import MIN_WORKERS, ChunkSplitter
from h5swmr.writer.chunking import as_bytes

Encoded = tuple[bytes, int]
"""Filtered chunk bytes and the filter mask of skipped filters."""

Slot = TypeVar("Slot")
"""What names a chunk's destination; the encoder hands it back with the chunk's bytes."""


class ChunkEncoder(Generic[Slot]):
    """A bounded queue of chunks being filtered; ``workers=0`` filters in the caller's thread.

    Each filtered chunk goes, in submission order, to ``deliver(slot, data, filter_mask)``
    with the ``slot`` it was submitted with: one function the owner gives, no closure per chunk.
    """

    def __init__(
        self,
        workers: int,
        deliver: Callable[[Slot, bytes, int], None],
        max_in_flight: int | None = None,
    ) -> None:
        self._deliver = deliver
        self._pool = ThreadPoolExecutor(workers, "h5swmr-filter") if workers > 0 else None
        self._splitter = (
            ChunkSplitter(self._pool, workers)
            if self._pool is not None and workers >= MIN_WORKERS
            else None
        )
        self._max_in_flight = max_in_flight or 2 * max(workers, 1)
        self._queue: deque[tuple[Future[Encoded], Slot]] = deque()
        self._since_drain = 0
        """Chunks submitted since the last drain."""
        self._one_per_drain = True
        """The last drain followed at most one chunk: the caller flushes chunk by chunk."""

    def submit(
        self,
        pipeline: FilterPipeline,
        chunk: np.ndarray,
        element_size: int,
        slot: Slot,
        *,
        borrowed: bool = False,
    ) -> None:
        """Filter ``chunk``; the result goes to ``deliver`` with ``slot``, in submission order,
        from this ``submit``, a later one or ``drain``.

        The caller must not change ``chunk`` afterwards, unless it is ``borrowed``: then it is
        never read once this call returns (filtered at once, or copied to be queued).
        """
        if self._pool is None:
            self._deliver(slot, *pipeline.encode(as_bytes(chunk), element_size))
            return
        self._since_drain += 1
        if borrowed:
            if self._one_per_drain and self._since_drain == 1 and not self._queue:
                encoded = pipeline.encode(as_bytes(chunk), element_size, self._splitter)
                self._deliver(slot, *encoded)
                return
            chunk = chunk.copy()
        future = self._pool.submit(_encode, pipeline, chunk, element_size, self._splitter)
        self._queue.append((future, slot))
        while len(self._queue) > self._max_in_flight:
            self._complete_oldest()

    def _complete_oldest(self) -> None:
        future, slot = self._queue.popleft()
        self._deliver(slot, *future.result())

    def drain(self) -> None:
        """Deliver every queued chunk; the first failure is raised after the rest are dropped."""
        self._one_per_drain = self._since_drain <= 1
        self._since_drain = 0
        if not self._queue:  # every flush of unfiltered frames, and of chunks filtered at once
            return
        try:
            while self._queue:
                self._complete_oldest()
        finally:
            self.cancel()

    def cancel(self) -> None:
        while self._queue:
            self._queue.popleft()[0].cancel()

    def shutdown(self) -> None:
        self.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
            self._splitter = None


def _encode(
    pipeline: FilterPipeline,
    chunk: np.ndarray,
    element_size: int,
    splitter: ChunkSplitter | None,
) -> Encoded:
    return pipeline.encode(as_bytes(chunk), element_size, splitter)
