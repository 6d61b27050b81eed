"""Where the worker threads a codec library starts for itself run (Linux; elsewhere nothing).

zstd's multi-threaded mode starts its own workers, which Python cannot see. The kernel places a
woken worker on the CPU of the thread that woke it, or where it last ran, even when another CPU
idles: with as many workers as CPUs, two jobs of one chunk then often shared a CPU while the other
idled. Spreading the workers one per CPU took the mean of a 2 MiB level-3 chunk from 4.04-4.15 ms
to 3.81-3.84 ms, and the chunks over 5 ms from 71-85 to 25-46 of 600 (three processes each, 2
cores, ``benchmarks/zstd_jobs.py``).

The workers are found by name: Linux copies a thread's name to the threads it creates, so the
library is started under a name of our own, and the threads of that name that appear are its.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

Started = TypeVar("Started")

_TASKS: Final = Path("/proc/self/task")
_OWN_NAME: Final = Path("/proc/thread-self/comm")
_starting = threading.Lock()
"""One start at a time: two threads starting under the same name would take each other's."""


def start_named(name: str, start: Callable[[], Started]) -> tuple[Started, tuple[int, ...]]:
    """``start()`` run under the thread name ``name`` (15 bytes at most), and the ids of the
    threads of that name it left running. The caller's own name is put back."""
    if not sys.platform.startswith("linux"):
        return start(), ()
    with _starting:
        before = _named(name)
        try:
            own = _OWN_NAME.read_text().rstrip("\n")
            _OWN_NAME.write_text(name)
        except OSError:
            return start(), ()
        try:
            started = start()
        finally:
            with contextlib.suppress(OSError):  # a name is only a label: never fail for it
                _OWN_NAME.write_text(own)
        return started, tuple(sorted(_named(name) - before - {threading.get_native_id()}))


def spread(thread_ids: tuple[int, ...]) -> bool:
    """Pin each thread to one CPU of its own, when the threads are as many as the CPUs this
    process may use (the case measured; with spare CPUs the kernel keeps its say). True if
    pinned. A thread that has ended, or a refusal, leaves the rest as they are."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(thread_ids) < 2 or len(thread_ids) != len(allowed):
        return False
    for thread_id, cpu in zip(thread_ids, allowed, strict=True):
        try:
            os.sched_setaffinity(thread_id, {cpu})
        except OSError:
            return False
    return True


def _named(name: str) -> set[int]:
    found: set[int] = set()
    for task in _TASKS.iterdir():
        try:
            if (task / "comm").read_text().rstrip("\n") == name:
                found.add(int(task.name))
        except OSError:
            continue  # the thread ended while we looked
    return found
