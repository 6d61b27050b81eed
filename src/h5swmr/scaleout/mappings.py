"""VDS mappings for frame streams: consecutive runs of frames (file rollover), interleaved frames
(round-robin fan-out), stripes of every frame (fan-out by detector module), printf-named parts,
and the strided form they share (the segments of a distributed writer).

A frame stream is a dataset ``(frames, *frame_dims)``. ``n_frames=None`` makes a mapping grow
with its source (H5S_UNLIMITED count): libhdf5 then sizes the virtual dataset from the sources'
current extents each time it opens or refreshes it.
"""

from __future__ import annotations

from h5swmr.errors import InvalidArgumentError
from h5swmr.format.constants import UNLIMITED
from h5swmr.format.messages.virtual_layout import VirtualMapping
from h5swmr.format.selection import HyperslabSelection


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
        return strided_mapping(source_file, source_dataset, frame_dims, first_frame=first_frame)
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
    return strided_mapping(
        source_file,
        source_dataset,
        frame_dims,
        first_frame=worker,
        stride=n_workers,
        n_frames=n_frames,
    )


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
    return strided_mapping(
        source_file, source_dataset, stripe_dims, offset=offset, n_frames=n_frames
    )


def strided_mapping(
    source_file: str,
    source_dataset: str,
    part_dims: tuple[int, ...],
    *,
    first_frame: int = 0,
    stride: int = 1,
    n_frames: int | None = None,
    offset: tuple[int, ...] | None = None,
) -> VirtualMapping:
    """Source frame i (``part_dims``, the whole frame or a stripe of it) at virtual frame
    ``first_frame + i * stride``, at ``offset`` inside that frame: the general form of the
    round-robin, stripe and segment mappings of every fan-out (``None`` frames: unlimited)."""
    rank = len(part_dims)
    offset = (0,) * rank if offset is None else tuple(offset)
    if len(offset) != rank:
        raise InvalidArgumentError(f"stripe offset {offset} for stripe dims {part_dims}")
    if first_frame < 0 or stride < 1:
        raise InvalidArgumentError(f"mapping: first frame {first_frame}, stride {stride}")
    if n_frames is not None:
        _check_count(n_frames)
    count = UNLIMITED if n_frames is None else n_frames
    ones = (1,) * rank
    source = HyperslabSelection((0, *(0,) * rank), (1, *ones), (count, *ones), (1, *part_dims))
    virtual = HyperslabSelection(
        (first_frame, *offset), (stride, *ones), (count, *ones), (1, *part_dims)
    )
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
