"""The known frames the view tests write and then look for on the page."""

from __future__ import annotations

from typing import Any

import numpy as np

DATASET = "/entry/data/data"
SHAPE = (48, 64)
LIMIT = 1000


def frame(index: int, shape: tuple[int, ...] = SHAPE) -> np.ndarray[Any, np.dtype[np.uint16]]:
    """Diagonal bands that move by 50 per frame: every frame differs, every pixel is known."""
    rows, cols = shape[-2:]
    y, x = np.mgrid[0:rows, 0:cols]
    plane = ((x * 7 + y * 3 + index * 50) % LIMIT).astype(np.uint16)
    return np.broadcast_to(plane, shape).copy()
