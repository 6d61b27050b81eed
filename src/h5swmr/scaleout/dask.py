"""A growing h5swmr file as a Dask array: one task per run of whole chunks along the frames.

``as_dask_array`` takes an ``h5swmr.File`` dataset (``as_dask_array(f["entry/data"])``) or a
path and a dataset name. Each task opens the file with ``h5swmr.File`` (pure Python, no libhdf5,
nothing shared between tasks), reads its frames (``dset[start:stop]``) and closes it, so the
graph pickles to any Dask cluster whose workers see the file (a parallel file system). The
array covers the frames flushed when it is made; call ``as_dask_array`` again later to take in
new frames. Dask is imported lazily: install it with ``pip install "h5swmr[dask]"``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from h5swmr.errors import InvalidArgumentError
from h5swmr.reader import Dataset, File


def read_frames(path: str, dataset: str, start: int, stop: int) -> np.ndarray:
    """Frames ``start:stop`` of ``dataset``: one Dask task."""
    with File(path) as f:
        node = f[dataset]
        if not isinstance(node, Dataset):
            raise InvalidArgumentError(f"{path!r} {dataset!r} is a group, not a dataset")
        frames: np.ndarray = node[start:stop]
    if frames.shape[0] != stop - start:
        raise InvalidArgumentError(
            f"{path!r} {dataset!r}: frames {start}:{stop} asked, {frames.shape[0]} read"
        )
    return frames


def _import_dask_array() -> Any:
    try:
        import dask.array
    except ImportError as exc:
        raise ImportError(
            'as_dask_array needs Dask: pip install "h5swmr[dask]" (or "dask[array]")'
        ) from exc
    return dask.array


def as_dask_array(
    source: str | os.PathLike[str] | Dataset,
    dataset: str | None = None,
    *,
    frames_per_task: int | None = None,
) -> Any:
    """A dataset (an ``h5swmr.File`` dataset, or ``dataset`` of the file at ``source``) as a
    ``dask.array.Array`` of the frames flushed so far (a ``Dataset``: its current snapshot).

    Tasks are chunk-aligned along the frames: ``frames_per_task`` (default: enough whole chunks
    for about 64 MiB) is rounded up to a multiple of the dataset's frames per chunk.
    """
    da = _import_dask_array()
    from dask.delayed import delayed

    if isinstance(source, Dataset):
        path, dataset = source.file.filename, source.name
        if not Path(path).is_file():
            raise InvalidArgumentError(
                f"as_dask_array: {path!r} is not a file path every task can open"
            )
        shape, dtype, chunks = source.shape, source.dtype, source.chunks
    else:
        if dataset is None:
            raise InvalidArgumentError("as_dask_array(path, dataset): name the dataset")
        path = os.fspath(source)
        with File(path) as f:
            node = f[dataset]
            if not isinstance(node, Dataset):
                raise InvalidArgumentError(f"{path!r} {dataset!r} is a group, not a dataset")
            shape, dtype, chunks = node.shape, node.dtype, node.chunks
    if not shape:
        raise InvalidArgumentError(f"as_dask_array({dataset!r}): a scalar dataset has no frames")
    chunk_frames = chunks[0] if chunks else 1
    frame_bytes = math.prod(shape[1:]) * dtype.itemsize
    if frames_per_task is None:
        frames_per_task = max(1, (64 << 20) // max(1, frame_bytes))
    if not isinstance(frames_per_task, int) or frames_per_task < 1:
        raise InvalidArgumentError(f"frames_per_task must be >= 1, not {frames_per_task!r}")
    step = -(-frames_per_task // chunk_frames) * chunk_frames
    n = shape[0]
    blocks = [
        da.from_delayed(
            delayed(read_frames, pure=True)(path, dataset, start, min(n, start + step)),
            shape=(min(n, start + step) - start, *shape[1:]),
            dtype=dtype,
        )
        for start in range(0, n, step)
    ]
    if not blocks:
        return da.empty((0, *shape[1:]), dtype=dtype)
    return da.concatenate(blocks, axis=0)
