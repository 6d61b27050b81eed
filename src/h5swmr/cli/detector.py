"""Synthetic detector frames that look like a detector's: what ``simulate`` streams.

A first-time user who runs ``simulate`` then ``watch --png`` should see something worth looking
at, and every part of the picture tests a part of the viewer: Debye-Scherrer rings (textured, so
their intensity varies around the ring) and a few Bragg spots over a Poisson background that falls
off from the beam, a beam stop and its arm (zero counts), module gaps (zero counts), a spot that
moves from frame to frame (the frames differ visibly) and some hot pixels at the dtype's maximum
(which a colour scale must not let flatten the rest).

Speed: the expected counts are computed once, and ``POOL_SIZE`` Poisson draws of them made before
any frame is asked for; a frame is then a copy of one draw plus the moving spot, a small patch,
so ``simulate`` writes about as fast as it did with plain noise. The first element of frame ``i``
holds :func:`frame_marker` ``(i, dtype)`` so that readers can check frames arrive whole and in
order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

POOL_SIZE = 16
"""Distinct Poisson draws made once; frames reuse them in turn."""
ORBIT_FRAMES = 50
"""Frames the moving spot takes to go once round the beam."""
_RINGS = ((0.12, 60.0), (0.19, 35.0), (0.26, 45.0), (0.34, 20.0), (0.41, 12.0))
"""Debye-Scherrer rings: radius (fraction of the frame's larger side) and peak counts."""
_SPOTS = 6
"""Bragg spots scattered over the frame."""


def frame_marker(index: int, dtype: np.dtype[Any]) -> int | float:
    """The value the first element of frame ``index`` holds (wrapping for narrow integers)."""
    if dtype.kind in "iu":
        return index % (int(np.iinfo(dtype).max) + 1)
    return float(index)


def _top(dtype: np.dtype[Any]) -> int | float:
    """The largest count a pixel of ``dtype`` holds (int64's top for uint64, as counts are int64;
    65535 for floats, a 16-bit detector's saturation)."""
    if dtype.kind in "iu":
        return min(int(np.iinfo(dtype).max), 2**63 - 1)
    return 65535.0


class SyntheticDetector:
    """Frames of ``frame_dims`` (1 to 3 dimensions; the pattern lies in the last two, a 1-D
    frame is one row of it) and ``dtype``, the same for the same ``seed``."""

    def __init__(
        self,
        frame_dims: tuple[int, ...],
        dtype: np.dtype[Any] | str,
        seed: int = 0,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self.frame_dims = tuple(frame_dims)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        rows, cols = (1, *self.frame_dims)[-2:]
        self._plane = (rows, cols)
        expected, self._live = _expected_counts(rows, cols, rng)
        self.expected = expected
        """Mean counts of each pixel of the pattern's plane (0 behind the beam stop and in gaps),
        before the moving spot and the hot pixels."""
        high = _top(self.dtype)
        hot = rng.choice(rows * cols, size=min(rows * cols, max(3, rows * cols // 10_000)))
        self.pool: list[np.ndarray[Any, Any]] = []
        for _ in range(pool_size):
            mean = np.broadcast_to(expected.reshape(self.frame_dims[-2:]), self.frame_dims)
            counts = np.minimum(rng.poisson(mean), high)
            frame = counts.astype(self.dtype)
            frame.reshape(-1, rows * cols)[:, hot] = high  # the same hot pixels in every frame
            self.pool.append(frame)
        self._high = high
        sigma = max(1.0, max(rows, cols) / 160)
        half = math.ceil(3 * sigma)
        offsets = np.arange(-half, half + 1)
        blob = 400.0 * np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * sigma**2))
        self._spot = rng.poisson(blob)  # int64 counts
        self._half = half

    @property
    def nbytes(self) -> int:
        """Bytes of one frame."""
        return self.pool[0].nbytes

    def frame(self, index: int) -> np.ndarray[Any, Any]:
        """Frame ``index``: a new array, one of the pool's draws with the moving spot added."""
        frame = self.pool[index % len(self.pool)].copy()
        self._add_spot(frame, index)
        frame.flat[0] = frame_marker(index, self.dtype)
        return frame

    def _add_spot(self, frame: np.ndarray[Any, Any], index: int) -> None:
        """The spot of frame ``index``: once round the beam every ``ORBIT_FRAMES`` frames."""
        rows, cols = self._plane
        angle = 2 * math.pi * index / ORBIT_FRAMES
        radius = 0.3 * (min(rows, cols) if rows > 1 else cols)  # a 1-D frame: to and fro
        centre_row = round(0.45 * rows + radius * math.sin(angle)) if rows > 1 else 0
        centre_col = round(0.52 * cols + radius * math.cos(angle))
        half = self._half
        r0, r1 = max(0, centre_row - half), min(rows, centre_row + half + 1)
        c0, c1 = max(0, centre_col - half), min(cols, centre_col + half + 1)
        if r0 >= r1 or c0 >= c1:
            return
        patch = self._spot[r0 - centre_row + half : r1 - centre_row + half]
        patch = patch[:, c0 - centre_col + half : c1 - centre_col + half]
        patch = patch * self._live[r0:r1, c0:c1]
        plane = frame.reshape(-1, rows, cols)
        window = plane[:, r0:r1, c0:c1]
        if self.dtype.kind == "f":
            window += patch
        else:  # saturate at the top, never wrap (nor overflow int64 on the way)
            below = np.minimum(window.astype(np.int64), self._high - patch)
            plane[:, r0:r1, c0:c1] = (below + patch).astype(self.dtype)


def _expected_counts(
    rows: int, cols: int, rng: np.random.Generator
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.bool_]]]:
    """Mean counts of every pixel of a ``rows`` x ``cols`` plane, and where pixels are live (not
    behind the beam stop or in a module gap)."""
    size = max(rows, cols)
    centre_row, centre_col = 0.45 * rows, 0.52 * cols
    row = np.arange(rows, dtype=np.float64)[:, None] - centre_row
    col = np.arange(cols, dtype=np.float64)[None, :] - centre_col
    radius = np.hypot(row, col) / size
    azimuth = np.arctan2(row, col)
    expected = 2.0 + 20.0 * np.exp(-radius / 0.15)  # air scatter, falling off from the beam
    width = max(1.2 / size, 0.006)
    for k, (ring, peak) in enumerate(_RINGS):
        texture = 1.0 + 0.35 * np.cos(2 * azimuth + k)  # preferred orientation
        expected += peak * texture * np.exp(-(((radius - ring) / width) ** 2) / 2)
    sigma = max(0.8, size / 250)
    reach = math.ceil(4 * sigma)
    for _ in range(_SPOTS):  # each computed over its own small window only
        spot_row, spot_col = rng.uniform(0, rows), rng.uniform(0, cols)
        peak = rng.uniform(150, 600)
        r0, c0 = max(0, int(spot_row) - reach), max(0, int(spot_col) - reach)
        r1, c1 = min(rows, int(spot_row) + reach + 1), min(cols, int(spot_col) + reach + 1)
        distance2 = (np.arange(r0, r1)[:, None] - spot_row) ** 2 + (
            np.arange(c0, c1)[None, :] - spot_col
        ) ** 2
        expected[r0:r1, c0:c1] += peak * np.exp(-distance2 / (2 * sigma**2))
    live = np.ones((rows, cols), dtype=bool)
    stop = max(1.0, 0.035 * size)
    live &= np.hypot(row, col) > stop  # the beam stop
    live &= ~((row < 0) & (np.abs(col) < stop / 3))  # and its arm, up to the top edge
    if rows >= 64 and cols >= 64:  # module gaps, as between a hybrid detector's modules
        gap_rows, gap_cols = max(1, rows // 64), max(1, cols // 128)
        for k in range(1, 4):
            start = k * rows // 4
            live[start : start + gap_rows] = False
        live[:, cols // 2 : cols // 2 + gap_cols] = False
    return np.where(live, expected, 0.0), live
