"""Progress of a run of known length, and pacing to a frame rate.

On a terminal, ``Progress`` redraws one bar line (frames, MB/s, ETA) up to ten times a second;
otherwise (a log file, a pipe) it prints a plain line about once a second, so logs stay readable.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TextIO

TERMINAL_PERIOD = 0.1
PLAIN_PERIOD = 1.0


def duration_text(seconds: float) -> str:
    """``75.2`` -> ``"1:15"``, ``3725`` -> ``"1:02:05"``."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Reports ``done`` of ``total`` frames of ``frame_nbytes`` each to ``stream``."""

    def __init__(
        self,
        label: str,
        total: int,
        frame_nbytes: int,
        stream: TextIO,
        *,
        is_terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.frame_nbytes = frame_nbytes
        self.stream = stream
        self.is_terminal = stream.isatty() if is_terminal is None else is_terminal
        self._clock = clock
        self._started = clock()
        self._period = TERMINAL_PERIOD if self.is_terminal else PLAIN_PERIOD
        self._next = self._started + self._period
        self._drawn = False

    def update(self, done: int) -> None:
        """Call after each frame; draws only when the period has passed."""
        now = self._clock()
        if now < self._next:
            return
        self._next = now + self._period
        self._draw(done, now)

    def finish(self, done: int) -> None:
        """End the bar's line (terminal); plain output needs nothing more."""
        if self.is_terminal and self._drawn:
            self._draw(done, self._clock())
            self.stream.write("\n")
            self.stream.flush()

    def line(self, done: int, now: float) -> str:
        """``"120/1000 frames, 45.1 MB/s, ETA 0:03"`` (without the bar)."""
        elapsed = max(now - self._started, 1e-9)
        rate = done / elapsed
        megabytes = done * self.frame_nbytes / 1e6 / elapsed
        eta = duration_text((self.total - done) / rate) if rate > 0 else "?"
        return f"{done}/{self.total} frames, {megabytes:.1f} MB/s, ETA {eta}"

    def _draw(self, done: int, now: float) -> None:
        text = self.line(done, now)
        if not self.is_terminal:
            self.stream.write(f"{self.label}: {text}\n")
        else:
            columns = shutil.get_terminal_size().columns
            width = max(10, min(40, columns - len(text) - len(self.label) - 6))
            filled = width * done // self.total if self.total else width
            bar = "#" * filled + "." * (width - filled)
            body = f"{self.label} [{bar}] {text}"
            self.stream.write("\r" + body[: columns - 1] + "\x1b[K")
            self._drawn = True
        self.stream.flush()


class Pacer:
    """Waits so that event ``i`` happens ``i / rate`` seconds after the start (0: no waiting).

    The schedule is absolute, so a slow step is made up by the following ones, never drifts.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._started = clock()

    def wait(self, index: int) -> None:
        if self.rate <= 0:
            return
        delay = self._started + index / self.rate - self._clock()
        if delay > 0:
            self._sleep(delay)
