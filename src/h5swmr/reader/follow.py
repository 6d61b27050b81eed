"""Following a growing dataset: poll, refresh, yield new frames; never wait past the timeout."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Literal, Protocol

import numpy as np

from h5swmr.errors import InvalidArgumentError, UnsupportedError
from h5swmr.reader.virtual_plan import SourceName

BATCH = 64
"""Most frames read at once when the follower is behind."""


class FollowedFile(Protocol):
    """What following needs of a file (SwmrFileReader has it; this module never imports it)."""

    @property
    def writer_active(self) -> bool: ...

    def refresh(self) -> None: ...

    def shape(self, name: str) -> tuple[int, ...]: ...

    def is_virtual(self, name: str) -> bool: ...

    def backed_frames(self, name: str) -> int | None: ...

    def virtual_sources(self, name: str) -> list[tuple[str, str]]: ...

    def read_frames(self, name: str, start: int, stop: int | None = None) -> np.ndarray: ...


def follow_frames(
    reader: FollowedFile,
    name: str,
    *,
    timeout: float,
    poll_interval: float,
    start: int | Literal["end"],
) -> Generator[tuple[int, np.ndarray], None, None]:
    """(index, frame) for each frame from ``start`` on (``"end"``: the current frame count).

    Ends ``timeout`` seconds after the last new frame, or when the writer has closed the file
    (its consistency flags cleared) and every frame has been yielded. A virtual dataset grows
    with its sources, whose writers the master's flags know nothing of: only the timeout ends it.
    Of a printf master, only the frames its parts hold are followed, never the fill after them.
    Arguments are checked, and ``"end"`` taken, at the call, not at the first ``next()``.
    """
    if timeout < 0 or poll_interval <= 0:
        raise InvalidArgumentError(f"follow: timeout {timeout}, poll_interval {poll_interval}")
    reader.refresh()
    virtual = reader.is_virtual(name)
    printf = virtual and any(
        SourceName.parse(f).is_printf or SourceName.parse(d).is_printf
        for f, d in reader.virtual_sources(name)
    )
    if start == "end":
        position = _count(reader, name, printf)
    elif isinstance(start, int) and not isinstance(start, bool) and start >= 0:
        position = start
    else:
        raise InvalidArgumentError(
            f"follow({name!r}): start={start!r}; give a frame number >= 0 or 'end'"
        )
    return _frames(
        reader,
        name,
        virtual=virtual,
        printf=printf,
        position=position,
        timeout=timeout,
        poll_interval=poll_interval,
    )


def _frames(
    reader: FollowedFile,
    name: str,
    *,
    virtual: bool,
    printf: bool,
    position: int,
    timeout: float,
    poll_interval: float,
) -> Generator[tuple[int, np.ndarray], None, None]:
    last_growth = time.monotonic()
    while True:
        active = virtual or reader.writer_active  # before the refresh: a closed writer is done
        reader.refresh()
        count = _count(reader, name, printf)
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


def _count(reader: FollowedFile, name: str, printf: bool) -> int:
    """Frames to follow: a printf master's shape counts its newest part whole, the frames not
    written yet reading as fill, so only the frames its parts hold count."""
    if not printf:
        return reader.shape(name)[0]
    backed = reader.backed_frames(name)
    if backed is None:
        raise UnsupportedError(
            f"follow({name!r}): a printf-mapped virtual dataset whose parts are not blocks of "
            "whole frames; which frames hold data cannot be told from the fill of the newest part"
        )
    return backed
