"""placement: the worker threads a codec library starts, found by name and spread over the CPUs;
zstd's own workers as the writer's lone-frame path leaves them."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest
import zstandard

from h5swmr.filters import placement
from h5swmr.filters.split import ChunkSplitter
from h5swmr.filters.zstd import WORKER_NAME, ZstdFilter

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux threads")

Result = TypeVar("Result")


def in_thread_on(cpus: set[int], work: Callable[[], Result]) -> Result:
    """``work()`` on a new thread allowed only ``cpus`` (threads it starts inherit that)."""
    results: list[Result] = []

    def run() -> None:
        os.sched_setaffinity(0, cpus)
        results.append(work())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert results, "the thread failed; see its traceback above"
    return results[0]


def two_cpus() -> set[int]:
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        pytest.skip("needs two CPUs")
    return set(allowed[:2])


def name_of(thread_id: int) -> str:
    return Path(f"/proc/self/task/{thread_id}/comm").read_text().rstrip("\n")


@contextmanager
def idle_threads(count: int) -> Iterator[list[int]]:
    """``count`` threads that wait until the block ends; yields their ids."""
    stop = threading.Event()
    threads = [threading.Thread(target=stop.wait) for _ in range(count)]
    for thread in threads:
        thread.start()
    try:
        yield [t.native_id for t in threads if t.native_id is not None]
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def test_start_named_finds_the_threads_started_and_gives_the_name_back() -> None:
    own = name_of(threading.get_native_id())
    with ExitStack() as stack:
        ids, found = placement.start_named(
            "h5swmr-test", lambda: stack.enter_context(idle_threads(2))
        )
        assert sorted(found) == sorted(ids)
        assert {name_of(i) for i in found} == {"h5swmr-test"}
        assert name_of(threading.get_native_id()) == own


def test_start_named_ignores_threads_of_that_name_started_before() -> None:
    with ExitStack() as stack:
        _, earlier = placement.start_named(
            "h5swmr-test", lambda: stack.enter_context(idle_threads(1))
        )
        _, later = placement.start_named(
            "h5swmr-test", lambda: stack.enter_context(idle_threads(1))
        )
        assert len(earlier) == len(later) == 1
        assert set(earlier).isdisjoint(later)


def test_spread_pins_one_thread_per_allowed_cpu() -> None:
    cpus = two_cpus()
    with idle_threads(2) as ids:
        assert in_thread_on(cpus, lambda: placement.spread(tuple(ids)))
        assert sorted(os.sched_getaffinity(i) for i in ids) == [{c} for c in sorted(cpus)]


def test_spread_leaves_threads_alone_unless_as_many_as_cpus() -> None:
    cpus = two_cpus()
    with idle_threads(3) as ids:
        before = [os.sched_getaffinity(i) for i in ids]
        assert not in_thread_on(cpus, lambda: placement.spread(tuple(ids)))
        assert not in_thread_on(cpus, lambda: placement.spread(tuple(ids[:1])))
        assert [os.sched_getaffinity(i) for i in ids] == before


def test_spread_survives_a_thread_that_ended() -> None:
    cpus = two_cpus()
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    gone = thread.native_id
    assert gone is not None
    with idle_threads(1) as ids:
        assert not in_thread_on(cpus, lambda: placement.spread((gone, ids[0])))


def test_zstd_workers_are_named_and_spread_when_they_fill_the_cpus() -> None:
    """The writer's case on two cores: a pool of two, a 2 MiB chunk cut in two jobs."""
    cpus = two_cpus()
    chunk = np.random.default_rng(3).poisson(2.0, (1024, 1024)).astype("<u2")
    before = placement._named(WORKER_NAME)

    def encode() -> tuple[bytes, dict[int, set[int]]]:
        with ThreadPoolExecutor(2) as pool:
            encoded = ZstdFilter(3).encode_split(chunk.tobytes(), 2, ChunkSplitter(pool, 2))
            workers = placement._named(WORKER_NAME) - before
            return encoded, {i: os.sched_getaffinity(i) for i in workers}

    encoded, workers = in_thread_on(cpus, encode)
    assert zstandard.ZstdDecompressor().decompress(encoded) == chunk.tobytes()
    assert sorted(workers.values(), key=sorted) == [{c} for c in sorted(cpus)]
