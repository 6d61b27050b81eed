"""Following a growing dataset: poll, refresh, yield new frames; never wait past the timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from h5swmr.errors import InvalidArgumentError, UnsupportedError

if TYPE_CHECKING:
    from h5swmr.reader.file import SwmrFileReader

BATCH = 64
"""Most frames read at once when the follower is behind."""


def follow_frames(
    reader: SwmrFileReader, name: str, *, timeout: float, poll_interval: float, start: int | None
) -> Iterator[tuple[int, np.ndarray]]:
    """(index, frame) for each frame from ``start`` (default: the current frame count) on.

    Ends ``timeout`` seconds after the last new frame, or when the writer has closed the file
    (its consistency flags cleared) and every frame has been yielded. A virtual dataset grows
    with its sources, whose writers the master's flags know nothing of: only the timeout ends it.
    """
    if timeout < 0 or poll_interval <= 0:
        raise InvalidArgumentError(f"follow: timeout {timeout}, poll_interval {poll_interval}")
    reader.refresh()
    position = reader.shape(name)[0] if start is None else start
    virtual = reader.is_virtual(name)
    if virtual and any("%b" in f + d for f, d in reader.virtual_sources(name)):
        raise UnsupportedError(
            f"follow({name!r}): a printf-mapped virtual dataset grows by whole parts, its newest "
            "part reading as fill until written (libhdf5's sizing); follow the part files, or "
            "a master of runs (RolloverWriter without printf)"
        )
    last_growth = time.monotonic()
    while True:
        active = virtual or reader.writer_active  # before the refresh: a closed writer is done
        reader.refresh()
        count = reader.shape(name)[0]
        while position < count:
            stop = min(count, position + BATCH)
            frames = reader.read_frames(name, position, stop)
            for offset in range(stop - position):
                yield position + offset, frames[offset]
            position = stop
            last_growth = time.monotonic()
        if not active or time.monotonic() - last_growth >= timeout:
            return
        time.sleep(poll_interval)
