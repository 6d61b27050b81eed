"""Fan-out: K writer processes, each writing its share of the frames to its own SWMR file, and
one master that presents them as one dataset.

``round_robin``: worker k writes frames k, k + K, k + 2K, ... (odin-data's rank/count model);
the master interleaves them with strided hyperslabs. ``stripes``: worker k writes rows
``k * H/K .. (k + 1) * H/K`` of every frame (one detector module each); the master tiles them.
Every mapping is unlimited, so the master is written once, before the workers start, and
libhdf5 sizes the dataset from the parts each time a reader opens or refreshes it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from numpy.typing import DTypeLike

from h5swmr.errors import InvalidArgumentError
from h5swmr.scaleout.mappings import interleaved_mapping, stripe_mapping
from h5swmr.scaleout.master import (
    ExternalLink,
    VirtualDataset,
    part_file_name,
    vds_literal,
    vds_source_name,
    write_master,
)

ROUND_ROBIN = "round_robin"
STRIPES = "stripes"


def worker_frames(worker: int, n_workers: int, n_frames: int) -> range:
    """The frame numbers worker ``worker`` of ``n_workers`` writes in round-robin fan-out."""
    return range(worker, n_frames, n_workers)


def stripe_rows(worker: int, n_workers: int, height: int) -> slice:
    """The rows of every frame worker ``worker`` writes in stripe fan-out."""
    if height % n_workers:
        raise InvalidArgumentError(f"{height} rows do not split into {n_workers} stripes")
    rows = height // n_workers
    return slice(worker * rows, (worker + 1) * rows)


def write_fanout_master(
    master: str | os.PathLike[str],
    parts: Sequence[str | os.PathLike[str]],
    dataset: str,
    dtype: DTypeLike,
    frame_dims: tuple[int, ...],
    *,
    mode: str = ROUND_ROBIN,
    links_group: str | None = "parts",
) -> None:
    """A master presenting ``dataset`` of every part (worker k wrote ``parts[k]``) as one
    dataset ``(frames, *frame_dims)`` at the same path."""
    k = len(parts)
    names = [vds_source_name(master, p) for p in parts]
    source = vds_literal(dataset)
    if mode == ROUND_ROBIN:
        mappings = [
            interleaved_mapping(name, source, frame_dims, worker=w, n_workers=k)
            for w, name in enumerate(names)
        ]
    elif mode == STRIPES:
        height = frame_dims[0]
        mappings = []
        for w, name in enumerate(names):
            rows = stripe_rows(w, k, height)
            stripe = (rows.stop - rows.start, *frame_dims[1:])
            offset = (rows.start, *(0,) * (len(frame_dims) - 1))
            mappings.append(stripe_mapping(name, source, stripe, offset=offset))
    else:
        raise InvalidArgumentError(f"fan-out mode {mode!r}: use {ROUND_ROBIN!r} or {STRIPES!r}")
    virtual = VirtualDataset.create(dataset, dtype, (0, *frame_dims), mappings)
    links = []
    if links_group is not None:
        links = [
            ExternalLink(f"{links_group}/{Path(p).stem}", part_file_name(master, p)) for p in parts
        ]
    write_master(master, [virtual], links)
