"""VDS mappings for frame streams: consecutive runs of frames (file rollover), interleaved frames
(round-robin fan-out), stripes of every frame (fan-out by detector module), printf-named parts.

A frame stream is a dataset ``(frames, *frame_dims)``. ``n_frames=None`` makes a mapping grow
with its source (H5S_UNLIMITED count): libhdf5 then sizes the virtual dataset from the sources'
current extents each time it opens or refreshes it.
"""

from __future__ import annotations

from h5swmr.errors import InvalidArgumentError
from h5swmr.format.constants import UNLIMITED
from h5swmr.format.messages.virtual_layout import VirtualMapping
from h5swmr.format.selection import HyperslabSelection


def _frames(
    first: int, stride: int, n_frames: int | None, frame_dims: tuple[int, ...]
) -> HyperslabSelection:
    count = UNLIMITED if n_frames is None else n_frames
    rank = len(frame_dims)
    return HyperslabSelection(
        (first, *(0,) * rank), (stride, *(1,) * rank), (count, *(1,) * rank), (1, *frame_dims)
    )


def _run(first: int, n_frames: int, frame_dims: tuple[int, ...]) -> HyperslabSelection:
    """Frames ``first .. first + n_frames - 1`` as one block (what libhdf5 stores compactly)."""
    return HyperslabSelection.from_slices(
        ((first, first + n_frames), *((0, d) for d in frame_dims))
    )


def run_mapping(
    source_file: str,
    source_dataset: str,
    frame_dims: tuple[int, ...],
    *,
    first_frame: int = 0,
    n_frames: int | None = None,
) -> VirtualMapping:
    """Frames 0.. of the source at frames ``first_frame``.. of the virtual dataset."""
    if n_frames is None:
        source = _frames(0, 1, None, frame_dims)
        virtual = _frames(first_frame, 1, None, frame_dims)
    else:
        _check_count(n_frames)
        source, virtual = _run(0, n_frames, frame_dims), _run(first_frame, n_frames, frame_dims)
    return VirtualMapping(source_file, source_dataset, source, virtual)


def interleaved_mapping(
    source_file: str,
    source_dataset: str,
    frame_dims: tuple[int, ...],
    *,
    worker: int,
    n_workers: int,
    n_frames: int | None = None,
) -> VirtualMapping:
    """Source frame i at virtual frame ``worker + i * n_workers`` (round-robin fan-out)."""
    if not 0 <= worker < n_workers:
        raise InvalidArgumentError(f"worker {worker} of {n_workers}")
    if n_frames is not None:
        _check_count(n_frames)
    source = _frames(0, 1, n_frames, frame_dims)
    virtual = _frames(worker, n_workers, n_frames, frame_dims)
    return VirtualMapping(source_file, source_dataset, source, virtual)


def stripe_mapping(
    source_file: str,
    source_dataset: str,
    stripe_dims: tuple[int, ...],
    *,
    offset: tuple[int, ...],
    n_frames: int | None = None,
) -> VirtualMapping:
    """Every source frame (``stripe_dims``) at ``offset`` inside the virtual frame: a detector
    module, or a band of rows, written by its own process."""
    if len(offset) != len(stripe_dims):
        raise InvalidArgumentError(f"stripe offset {offset} for stripe dims {stripe_dims}")
    count = UNLIMITED if n_frames is None else n_frames
    ones = (1,) * len(stripe_dims)
    source = HyperslabSelection(
        (0, *(0,) * len(stripe_dims)), (1, *ones), (count, *ones), (1, *stripe_dims)
    )
    virtual = HyperslabSelection((0, *offset), (1, *ones), (count, *ones), (1, *stripe_dims))
    return VirtualMapping(source_file, source_dataset, source, virtual)


def printf_mapping(
    source_pattern: str, source_dataset: str, frame_dims: tuple[int, ...], frames_per_file: int
) -> VirtualMapping:
    """Part files named by ``source_pattern`` with ``%b`` for the part number (0, 1, ...), each
    holding ``frames_per_file`` frames: one mapping for every part there is and ever will be.
    libhdf5 counts whole parts, so the newest part's frames not yet written read as fill."""
    if "%b" not in source_pattern:
        raise InvalidArgumentError(f"printf mapping: {source_pattern!r} has no %b")
    _check_count(frames_per_file)
    rank = len(frame_dims)
    source = _run(0, frames_per_file, frame_dims)
    virtual = HyperslabSelection(
        (0, *(0,) * rank),
        (frames_per_file, *(1,) * rank),
        (UNLIMITED, *(1,) * rank),
        (frames_per_file, *frame_dims),
    )
    return VirtualMapping(source_pattern, source_dataset, source, virtual)


def _check_count(n_frames: int) -> None:
    if not isinstance(n_frames, int) or n_frames < 1:
        raise InvalidArgumentError(f"a mapping needs at least one frame, not {n_frames!r}")
