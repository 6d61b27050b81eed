"""Part files for VDS tests: frames whose values say which frame they are, written by h5swmr."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from h5swmr import SwmrFileWriter

FRAME = (3, 4)


def numbered_frames(first: int, n: int, dims: tuple[int, ...] = FRAME) -> np.ndarray:
    """Frames ``first .. first + n - 1``; frame k holds ``arange + 100 * k``."""
    base = np.arange(int(np.prod(dims)), dtype="<u2").reshape(dims)
    return np.stack([base + 100 * (first + i) for i in range(n)])


def write_part(path: Path, frames: np.ndarray, name: str = "/entry/data") -> None:
    with SwmrFileWriter.create(path) as writer:
        writer.create_streaming_dataset(name, frames.dtype, frames.shape[1:])
        writer.start_swmr()
        for frame in frames:
            writer.append_frame(0, frame)
