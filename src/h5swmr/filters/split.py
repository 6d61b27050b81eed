"""ChunkSplitter: the parts of one chunk compressed on several threads, joined in order.

With one chunk per flush the writer's filter pool has one job at a time, so every core but one
would idle. Codecs whose format is a sequence of independent pieces (deflate slices ended by a
full flush, LZ4 and bitshuffle blocks) cut a large chunk into parts and hand them to a splitter,
which runs them on the writer's filter pool and returns the results in order: the bytes are the
same whichever thread ran which part.

The pool may be the one that runs the chunk's own job, so a part must never wait for a job that
has not started: the caller runs the first part itself, then takes back (cancels and runs
inline) every part no thread has picked up yet, and waits only for parts already running, which
never wait for anything. No deadlock, whatever the pool size or the number of chunks in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from typing import Final, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_WORKERS: Final = 2
"""Below this a split gains nothing: the writer then passes no splitter."""


class ChunkSplitter:
    """Runs the parts of one chunk on ``executor`` (``workers`` threads) and the calling thread.

    Made and owned by the writer's ChunkEncoder, beside the pool it wraps: no module-level pool.
    """

    __slots__ = ("_executor", "_workers")

    def __init__(self, executor: Executor, workers: int) -> None:
        if workers < MIN_WORKERS:
            raise ValueError(
                f"a chunk splitter needs at least {MIN_WORKERS} workers, not {workers}"
            )
        self._executor = executor
        self._workers = workers

    @property
    def workers(self) -> int:
        return self._workers

    def parts(self, nbytes: int, min_part_bytes: int) -> int:
        """How many parts an ``nbytes`` chunk is cut into: one per worker, none smaller than
        ``min_part_bytes`` (below that the threads cost more than they save; 1 = do not split)."""
        return max(1, min(self._workers, nbytes // max(min_part_bytes, 1)))

    def map(self, function: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
        """``[function(item) for item in items]``, the items spread over the threads."""
        if len(items) < MIN_WORKERS:
            return [function(item) for item in items]
        futures: list[Future[Result]] = [self._executor.submit(function, i) for i in items[1:]]
        try:
            results = [function(items[0])]
            for item, future in zip(items[1:], futures, strict=True):
                results.append(function(item) if future.cancel() else future.result())
        finally:
            for future in futures:
                future.cancel()
        return results
