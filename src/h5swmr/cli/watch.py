"""``h5swmr watch FILE [DATASET]``: follow a growing dataset live, as a detector writes it.

Every ``--interval`` seconds one line on stdout: frames so far, frames per second, and the latest
frame's number, minimum, maximum and mean; ``--png`` keeps an image of the latest frame up to date.
Only the latest frame is read at each report, so watching a fast writer costs little: the watcher
never falls behind. It stops by itself, with exit code 0, when the writer closes the file or after
``--timeout`` seconds without a new frame, and its last line says which.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from h5swmr.cli.command import Command, CommandError, parse_amount, parse_positive_seconds
from h5swmr.cli.ls import walk

if TYPE_CHECKING:
    from h5swmr import Dataset, File

POLL_INTERVAL = 0.02
"""Seconds between looks at the file: how soon growth, and the writer's close, are seen."""


@dataclass(frozen=True, slots=True)
class FrameStats:
    index: int
    minimum: float
    maximum: float
    mean: float

    def text(self) -> str:
        return (
            f"latest #{self.index}: min {self.minimum:g} max {self.maximum:g} mean {self.mean:.4g}"
        )


def frame_stats(index: int, frame: np.ndarray[Any, Any]) -> FrameStats | None:
    """Minimum, maximum and mean (NaNs ignored); None for non-numeric or empty frames."""
    if frame.dtype.kind not in "biuf" or frame.size == 0:
        return None
    values = frame.astype(np.float64, copy=False)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN frame gives NaN, not noise
        return FrameStats(
            index,
            float(np.nanmin(values)),
            float(np.nanmax(values)),
            float(np.nanmean(values)),
        )


def choose_dataset(f: File) -> tuple[str, str]:
    """The dataset to follow when none is named, and why: the single streaming dataset (first
    axis unlimited), else the largest streaming one, else the largest of all."""
    from h5swmr import DatasetNotFoundError, H5SwmrError

    sizes: dict[str, int] = {}
    streaming: list[str] = []
    for entry in walk(f):
        if entry.kind != "dataset":
            continue
        try:
            dataset = f[entry.path]
            shape = dataset.shape
            nbytes = math.prod(shape) * dataset.dtype.itemsize
            unlimited = bool(shape) and dataset.maxshape[0] is None
        except H5SwmrError:  # a dataset this reader cannot describe cannot be followed either
            continue
        sizes[entry.path] = nbytes
        if unlimited:
            streaming.append(entry.path)
    if not sizes:
        raise DatasetNotFoundError(f"{f.filename}: no dataset to watch yet")
    pool = streaming or list(sizes)
    best = max(pool, key=lambda path: sizes[path])
    if len(streaming) == 1:
        why = "the only streaming dataset"
    elif streaming:
        why = f"the largest of {len(streaming)} streaming datasets"
    elif len(sizes) == 1:
        why = "the only dataset"
    else:
        why = f"the largest of {len(sizes)} datasets; none is streaming"
    return best, why


def open_when_ready(path: str, dataset: str | None, timeout: float) -> tuple[File, str, str]:
    """Open ``path`` and pick the dataset, retrying for up to ``timeout`` seconds while the file
    or the dataset does not exist yet, or is still being created.

    While it waits it says once what it waits for, in words that do not read like an error; the
    error itself is raised (and printed, once, by ``main``) only when the time is up. A file that
    is not HDF5 at all fails at once: waiting would not change it.
    """
    from h5swmr import Dataset, DatasetNotFoundError, File, H5SwmrError, NotHdf5FileError

    deadline = time.monotonic() + timeout
    said = ""
    while True:
        f = None
        try:
            f = File(path)
            if dataset is None:
                name, why = choose_dataset(f)
            elif not isinstance(f[dataset], Dataset):
                raise DatasetNotFoundError(f"{dataset!r} is not a dataset", dataset=dataset)
            else:
                name, why = dataset, "as asked"
        except (H5SwmrError, OSError) as exc:
            if f is not None:
                f.close()
            if isinstance(exc, NotHdf5FileError) and not _may_become_hdf5(path):
                raise
            if time.monotonic() >= deadline:
                if _waiting_for(path, dataset, exc) == f"{path} to appear":
                    raise CommandError(
                        f"{path}: No such file; it did not appear within {timeout:g} s"
                    ) from exc
                raise
            waiting = _waiting_for(path, dataset, exc)
            if waiting != said:
                print(f"watch: waiting up to {timeout:g} s for {waiting}", flush=True)
                said = waiting
            time.sleep(min(0.1, timeout))
            continue
        return f, name, why


def _may_become_hdf5(path: str) -> bool:
    """An empty file, or one holding the start of the HDF5 signature: a writer creating it."""
    from h5swmr.format.superblock import SIGNATURE

    try:
        with Path(path).open("rb") as f:
            head = f.read(len(SIGNATURE))
    except OSError:
        return True
    return SIGNATURE.startswith(head)


def _waiting_for(path: str, dataset: str | None, exc: Exception) -> str:
    """What ``watch`` is waiting for, given why the file could not be followed yet."""
    from h5swmr import DatasetNotFoundError, NotHdf5FileError

    if isinstance(exc, FileNotFoundError) or getattr(exc, "errno", None) == errno.ENOENT:
        return f"{path} to appear"
    if isinstance(exc, NotHdf5FileError):
        return f"a writer to create {path}"
    if isinstance(exc, DatasetNotFoundError):
        what = dataset if dataset is not None else "a dataset"
        return f"{what} to appear in {path}"
    return f"{path} to become readable"


def frames_text(count: int) -> str:
    """``1 frame``, ``0 frames``, ``2 frames``."""
    return f"{count} frame" if count == 1 else f"{count} frames"


class Watcher:
    """Reports on one dataset of an open file until the writer closes or growth stops."""

    def __init__(self, f: File, name: str, args: argparse.Namespace) -> None:
        self.file = f
        self.name = name
        self.dataset: Dataset = f[name]
        self.interval: float = args.interval
        self.timeout: float = args.timeout
        self.png: Path | None = args.png
        self.log: bool = args.log
        self._stats: FrameStats | None = None
        self._shown = -1
        """The frame the statistics (and the PNG) describe."""

    def run(self) -> int:
        from h5swmr import InvalidArgumentError

        f, dataset, name = self.file, self.dataset, self.name
        if not dataset.shape:
            raise InvalidArgumentError(f"{name!r} is a scalar dataset: there is nothing to follow")
        last_growth = last_report = next_report = time.monotonic()  # a first line at once
        count = reported = first = dataset.shape[0]
        was_active = reported_once = False
        while True:
            active = f.writer_active  # before the refresh: a closed writer flushed all
            dataset.refresh()
            now = time.monotonic()
            new_count = dataset.shape[0]
            if new_count != count:
                count, last_growth = new_count, now
            if now >= next_report or not active:
                # no rate before one interval has passed: "0.0 frames/s" would be a guess
                rate = (count - reported) / (now - last_report) if reported_once else None
                self.report(count, rate)
                reported, last_report, reported_once = count, now, True
                next_report = now + self.interval
            ending = f"{frames_text(count)} in {name}, {count - first} new while watching"
            if not active:
                closed = "the writer closed the file" if was_active else "no writer has the file"
                print(f"watch: {closed}; {ending}", flush=True)
                return 0
            if now - last_growth >= self.timeout:
                print(
                    f"watch: no new frame for {self.timeout:g} s (the writer still has the file "
                    f"open); stopping; {ending}",
                    flush=True,
                )
                return 0
            was_active = True
            time.sleep(POLL_INTERVAL)

    def report(self, count: int, rate: float | None) -> None:
        parts = [frames_text(count)]
        if rate is not None:
            parts.append(f"{rate:.1f} frames/s")
        if count and self._shown != count - 1:
            frame = self.dataset[count - 1]
            self._shown = count - 1
            self._stats = frame_stats(count - 1, frame)
            if self.png is not None and frame.dtype.kind in "biufc":
                self._write_png(self.png, count - 1, frame)
        if count and self._stats is not None:
            parts.append(self._stats.text())
        print("watch: " + ", ".join(parts), flush=True)

    def _write_png(self, path: Path, index: int, frame: np.ndarray[Any, Any]) -> None:
        from h5swmr.cli.png import write_frame_png

        scale = " (log)" if self.log else ""
        write_frame_png(
            path,
            frame,
            f"{self.file.filename}:{self.name} frame {index}",
            log=self.log,
            label=f"{Path(self.file.filename).name}:{self.name}  frame {index}{scale}",
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the HDF5 file a writer is streaming into")
    parser.add_argument(
        "dataset",
        metavar="DATASET",
        nargs="?",
        help="dataset path (default: the file's only streaming dataset, else the largest)",
    )
    parser.add_argument(
        "--interval",
        type=parse_positive_seconds,
        default=1.0,
        metavar="S",
        help="seconds between reports (default 1)",
    )
    parser.add_argument(
        "--timeout",
        type=parse_seconds,
        default=10.0,
        metavar="S",
        help=(
            "stop after S seconds without a new frame; also how long to wait for FILE and "
            "DATASET to appear (default 10)"
        ),
    )
    parser.add_argument(
        "--png",
        type=Path,
        metavar="FILE.png",
        help="keep an image of the latest frame here (viridis colours from the 0.5th to the "
        "99.5th percentile, a colour bar with its values below)",
    )
    parser.add_argument(
        "--log",
        action="store_true",
        help="--png on a logarithmic colour scale (faint rings beside bright spots)",
    )


def parse_seconds(text: str) -> float:
    """A finite number of seconds >= 0."""
    return parse_amount(text, "seconds", "0 seconds")


def check_png_path(path: Path) -> None:
    """Fail before following begins, naming the user's path, if ``--png`` cannot be written."""
    directory = path.parent
    if path.is_dir():
        raise CommandError(f"--png {path}: is a directory; give a file name such as latest.png")
    if not directory.is_dir():
        raise CommandError(f"--png {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise CommandError(f"--png {path}: directory {directory} is not writable")


def run(args: argparse.Namespace) -> int:
    if args.png is not None:
        check_png_path(args.png)
    f, name, why = open_when_ready(args.file, args.dataset, args.timeout)
    with f:
        dataset = f[name]
        state = "live" if f.writer_active else "closed (no writer)"
        print(
            f"watch: following {name} ({why}): {dataset.shape} {dataset.dtype}, file {state}",
            flush=True,
        )
        return Watcher(f, name, args).run()


EPILOG = """\
examples:
  h5swmr watch scan.h5
      the file's streaming dataset: a line a second, until the writer closes the file
  h5swmr watch scan.h5 /entry/data/data --png latest.png
      and keep latest.png showing the latest frame (open it in any image viewer)
  h5swmr watch scan.h5 --timeout 30 && echo "scan over"
      in a script: returns 0 when the writer closes, or after 30 s without a new frame

Each report: "watch: N frames, R frames/s, latest #I: min A max B mean C" (the first one,
before any rate is known, without "R frames/s").
The last line starts "watch: the writer closed the file", "watch: no new frame for S s", or
"watch: no writer has the file" (closed before watch began).
2-D frames are shown as they are; of 3-D frames the first plane; 1-D frames as a single row.
Frames over 1024 pixels across are shown every n-th pixel, frames under 256 enlarged. The
colour scale runs from the frame's 0.5th percentile (left of the colour bar) to its 99.5th
(right), so hot pixels do not flatten the rest; --log spreads it logarithmically. The title band
names the file, dataset and frame; the PNG is replaced atomically.
"""

COMMAND = Command(
    name="watch",
    help="follow a dataset while a writer streams into FILE: frames/s, latest frame, statistics",
    add_arguments=add_arguments,
    run=run,
    epilog=EPILOG,
)
