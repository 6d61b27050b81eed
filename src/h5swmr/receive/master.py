"""The VDS master of a series written as several part files (rollover, several receivers): one
virtual dataset per dataset, frame ``image_id`` at row ``image_id``, built from the ``image_id``
and ``received`` datasets each part stores beside its frames.

Each part's rows are cut into runs whose ids step by a constant stride (one receiver of k on a
round-robin stream sees ids ``r, r+k, r+2k, ...``; a rollover part sees ``pN, pN+1, ...``), and
each run is one strided hyperslab mapping, so a master stays small for the usual patterns and is
right for any other. Ids no part holds read as the fill value: ``received`` (fill 0) is the mask
of the frames that arrived, ``image_id`` reads -1 there.

Around them the master carries what a single receiver's file carries (``master_tree``): the
NeXus groups with their attributes (``NX_class``, the series' ids, NXdata's ``signal``), the
``units`` of the per-frame datasets, ``/entry/data/<channel>`` as a second name of each channel,
and every field of the ``start`` message (NXdetector and NXbeam fields, ``detectorSpecific``
with its tables, the sample, ``/entry/start_time``) as an external link to the part that got
``start`` (one part does): fields are not copied, a flatfield is 17 MB. ``/entry/live`` (the
keys and finished flag of one part's own frames) stays in the parts.
"""

from __future__ import annotations

import fcntl
import glob
import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from h5swmr.errors import H5SwmrError
from h5swmr.format.messages.virtual_layout import VirtualMapping
from h5swmr.format.selection import HyperslabSelection
from h5swmr.reader import SwmrFileReader
from h5swmr.scaleout import (
    ExternalLink,
    GroupAttributes,
    HardLink,
    VirtualDataset,
    write_master,
)
from h5swmr.scaleout.master import part_file_name, vds_literal, vds_source_name

log = logging.getLogger(__name__)
_FIELD = re.compile(r"\{(receiver|part)(:[^{}]*)?\}")
NEXUS_GROUPS = ("/entry", "/entry/instrument", "/entry/instrument/detector", "/entry/data")
"""Groups the master makes itself (they hold virtual datasets), with a part's attributes."""
PART_ONLY = frozenset(
    {
        "part", "receiver", "frames_received", "frames_written", "frames_gaps", "frames_late",
        "frames_duplicates", "frames_missing", "messages_malformed", "end_received",
    }
)  # fmt: skip
"""``/entry`` attributes that count one part's frames, not the series'."""
PART_ONLY_OBJECTS = frozenset({"/entry/live"})


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


@dataclass(frozen=True, slots=True)
class MasterTree:
    """What a master holds besides its virtual datasets (``master_tree``)."""

    groups: tuple[GroupAttributes, ...] = ()
    links: tuple[ExternalLink, ...] = ()
    hard_links: tuple[HardLink, ...] = ()
    dataset_attrs: dict[str, tuple[tuple[str, object], ...]] = field(default_factory=dict)


def master_tree(master_path: str, part_path: str, per_frame: Sequence[str]) -> MasterTree:
    """The NeXus tree of ``part_path`` (the part that got ``start``, or any) around the
    ``per_frame`` datasets the master presents as virtual datasets."""
    virtual = set(per_frame)
    made = set(NEXUS_GROUPS) | virtual
    file_name = part_file_name(master_path, part_path)
    groups, links, hard_links = [], [], []
    with SwmrFileReader.open(part_path) as reader:
        for group in NEXUS_GROUPS:
            parent, _, name = group.rpartition("/")
            if name not in reader.keys(parent or "/") or reader.kind(group) != "group":
                continue
            attrs = reader.attrs(group)
            kept = [(k, v) for k, v in attrs.items() if group != "/entry" or k not in PART_ONLY]
            groups.append(GroupAttributes(group, tuple(kept)))
            for name, link in reader.links(group).items():
                path = f"{group}/{name}"
                if path in made or path in PART_ONLY_OBJECTS:
                    continue
                if group == "/entry/data":  # NXdata: second names of the channels
                    target = f"/entry/instrument/detector/{name}"
                    if link.kind == "hard" and target in virtual:
                        hard_links.append(HardLink(path, target))
                    continue
                links.append(ExternalLink(path, file_name, path))
        dataset_attrs = {path: tuple(reader.attrs(path).items()) for path in virtual}
    return MasterTree(tuple(groups), tuple(links), tuple(hard_links), dataset_attrs)


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
    tree_part = None  # the part that got ``start`` (it knows number_of_images), else any
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
            tree_part = path
        elif tree_part is None:
            tree_part = path
        rows = np.flatnonzero(mask[: len(ids)])
        kept = ids[rows]
        seen.update(int(i) for i in kept)
        if len(kept):
            top = max(top, int(kept.max()) + 1)
        order = np.argsort(rows, kind="stable")
        per_part.append((vds_source_name(master_path, path), runs(kept[order], rows[order])))
    per_frame = [
        *datasets,
        (image_id, np.dtype("<i8"), ()),
        (received, np.dtype("u1"), ()),
    ]
    tree = MasterTree()
    if tree_part is not None:
        tree = master_tree(master_path, tree_part, [name for name, _, _ in per_frame])
    virtual = []
    for name, dtype, frame_dims in per_frame:
        mappings = [
            _mapping(source, vds_literal(name), frame_dims, run)
            for source, part_runs in per_part
            for run in part_runs
        ]
        fill = -1 if name == image_id else None
        virtual.append(
            VirtualDataset.create(
                name,
                dtype,
                (top, *frame_dims),
                mappings,
                fillvalue=fill,
                attrs=tree.dataset_attrs.get(name, ()),
            )
        )
    counts = (("frames_written", len(seen)), ("frames_missing", top - len(seen)))
    groups = [
        GroupAttributes(g.path, g.attrs + counts) if g.path == "/entry" else g for g in tree.groups
    ]
    write_master(master_path, virtual, tree.links, hard_links=tree.hard_links, groups=groups)
    return MasterReport(master_path, len(per_part), top, len(seen))
