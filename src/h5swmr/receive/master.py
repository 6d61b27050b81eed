"""The VDS master of a series written as several part files (rollover, several receivers): one
virtual dataset per dataset, frame ``image_id`` at row ``image_id``, built from the ``image_id``
and ``received`` datasets each part stores beside its frames.

Each part's rows are cut into runs whose ids step by a constant stride (one receiver of k on a
round-robin stream sees ids ``r, r+k, r+2k, ...``; a rollover part sees ``pN, pN+1, ...``), and
each run is one strided hyperslab mapping, so a master stays small for the usual patterns and is
right for any other. Ids no part holds read as the fill value: ``received`` (fill 0) is the mask
of the frames that arrived, ``image_id`` reads -1 there.
"""

from __future__ import annotations

import fcntl
import glob
import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from h5swmr.errors import H5SwmrError
from h5swmr.format.messages.virtual_layout import VirtualMapping
from h5swmr.format.selection import HyperslabSelection
from h5swmr.reader import SwmrFileReader
from h5swmr.scaleout import VirtualDataset, write_master

log = logging.getLogger(__name__)
_FIELD = re.compile(r"\{(receiver|part)(:[^{}]*)?\}")


@dataclass(frozen=True, slots=True)
class Run:
    """Rows ``row .. row + count - 1`` of a part hold ids ``image_id + k * stride``."""

    row: int
    image_id: int
    stride: int
    count: int


def runs(ids: np.ndarray[Any, Any], rows: np.ndarray[Any, Any]) -> list[Run]:
    """``ids[i]`` at ``rows[i]`` (rows ascending) as few strided runs as a greedy scan finds."""
    found: list[Run] = []
    i, n = 0, len(ids)
    while i < n:
        j = i + 1
        stride = int(ids[j] - ids[i]) if j < n and rows[j] == rows[i] + 1 else 0
        if stride > 0:
            while j + 1 < n and rows[j + 1] == rows[j] + 1 and ids[j + 1] - ids[j] == stride:
                j += 1
            j += 1
        found.append(Run(int(rows[i]), int(ids[i]), max(stride, 1), j - i))
        i = j
    return found


def _mapping(source: str, dataset: str, frame_dims: tuple[int, ...], run: Run) -> VirtualMapping:
    rank = len(frame_dims)
    ones, zeros = (1,) * rank, (0,) * rank
    src = HyperslabSelection((run.row, *zeros), (1, *ones), (run.count, *ones), (1, *frame_dims))
    virtual = HyperslabSelection(
        (run.image_id, *zeros), (run.stride, *ones), (run.count, *ones), (1, *frame_dims)
    )
    return VirtualMapping(source, dataset, src, virtual)


def source_name(master_path: str, part_path: str) -> str:
    """A part's name as the master stores it: bare when both share a directory (libhdf5 looks
    there first), else absolute; ``%`` doubled, as libhdf5 reads every source name as a pattern."""
    part = Path(part_path).absolute()
    name = part.name if part.parent == Path(master_path).absolute().parent else str(part)
    return name.replace("%", "%%")


def part_pattern(template: str, **fields: object) -> tuple[str, re.Pattern[str]]:
    """The glob, and the exact pattern, of every part of one series: ``{receiver}``/``{part}``
    match numbers only, so the master (whose name replaces them by "master") is never a part."""
    pieces = _FIELD.split(template)
    # split() yields text, name, spec, text, name, spec, ...: format the text pieces only
    globbed, exact = [], []
    for index in range(0, len(pieces), 3):
        text = pieces[index].format(**fields)
        globbed.append(glob.escape(text))
        exact.append(re.escape(text))
        if index + 1 < len(pieces):
            globbed.append("*")
            exact.append("[0-9]+")
    return "".join(globbed), re.compile("".join(exact))


def find_parts(template: str, **fields: object) -> list[str]:
    """The part files of one series (``template`` formatted with ``fields``), sorted."""
    pattern, exact = part_pattern(template, **fields)
    found = glob.glob(pattern)  # noqa: PTH207 (a pattern that may be absolute)
    return sorted(path for path in found if exact.fullmatch(path))


@dataclass(frozen=True, slots=True)
class MasterReport:
    path: str
    parts: int
    frames: int
    found: int

    @property
    def missing(self) -> int:
        return self.frames - self.found


@contextmanager
def master_lock(master_path: str) -> Iterator[None]:
    """Serialise the receivers that rewrite one master: the last one to take the lock has seen
    every other part closed (each closes its part before it asks)."""
    fd = os.open(f"{master_path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_merged_master(
    master_path: str,
    part_paths: Sequence[str],
    datasets: Sequence[tuple[str, np.dtype[Any], tuple[int, ...]]],
    *,
    image_id: str,
    received: str,
    n_frames: int = 0,
) -> MasterReport:
    """Read ``image_id``/``received`` of every part and write the master atomically; ``datasets``
    are (path, dtype, frame dims) of the per-frame datasets to present, in every part."""
    per_part: list[tuple[str, list[Run]]] = []
    seen: set[int] = set()
    top = n_frames
    for path in sorted(part_paths):
        try:
            with SwmrFileReader.open(path) as reader:
                ids = reader.read(image_id).astype(np.int64)
                mask = reader.read(received).astype(bool)
                declared = reader.attrs("/entry").get("number_of_images")
        except (H5SwmrError, OSError) as exc:
            # a part another receiver is creating this instant (no superblock yet): its owner
            # rewrites the master once it closes it, under the same lock, so nothing is lost
            log.info("master %s: part %s left out for now: %s", master_path, path, exc)
            continue
        if isinstance(declared, int | np.integer):  # only the part that got ``start`` knows
            top = max(top, int(declared))
        rows = np.flatnonzero(mask[: len(ids)])
        kept = ids[rows]
        seen.update(int(i) for i in kept)
        if len(kept):
            top = max(top, int(kept.max()) + 1)
        order = np.argsort(rows, kind="stable")
        per_part.append((source_name(master_path, path), runs(kept[order], rows[order])))
    virtual = []
    for name, dtype, frame_dims in [
        *datasets,
        (image_id, np.dtype("<i8"), ()),
        (received, np.dtype("u1"), ()),
    ]:
        mappings = [
            _mapping(source, name.replace("%", "%%"), frame_dims, run)
            for source, part_runs in per_part
            for run in part_runs
        ]
        fill = -1 if name == image_id else None
        virtual.append(
            VirtualDataset.create(name, dtype, (top, *frame_dims), mappings, fillvalue=fill)
        )
    write_master(master_path, virtual)
    return MasterReport(master_path, len(per_part), top, len(seen))
