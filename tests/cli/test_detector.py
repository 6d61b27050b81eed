"""``cli/detector.py``: simulate's frames look like a detector's, repeat by seed, carry markers."""

from __future__ import annotations

import numpy as np
import pytest

from h5swmr.cli.detector import SyntheticDetector, frame_marker
from h5swmr.cli.simulate import FRAME_DTYPES


@pytest.mark.parametrize("dtype", FRAME_DTYPES)
def test_detector_frames_fit_the_dtype_and_repeat(dtype: str) -> None:
    detector = SyntheticDetector((5, 7), np.dtype(dtype), seed=3, pool_size=4)
    again = SyntheticDetector((5, 7), np.dtype(dtype), seed=3, pool_size=4)
    frames = [detector.frame(i) for i in range(8)]
    for index, frame in enumerate(frames):
        assert frame.shape == (5, 7)
        assert frame.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(frame, again.frame(index))
        assert frame.flat[0] == frame_marker(index, np.dtype(dtype))
    assert not np.array_equal(frames[1], frames[2])


@pytest.mark.parametrize("frame_dims", [(256, 256), (3, 80, 96), (300,)])
def test_detector_frames_look_like_a_detector(frame_dims: tuple[int, ...]) -> None:
    """Rings over a Poisson background, dead pixels (beam stop, gaps), hot pixels, a spot that
    moves from frame to frame; every dimension of frame gets the pattern of its last two."""
    detector = SyntheticDetector(frame_dims, np.dtype("uint16"), seed=0)
    plane = detector.expected.reshape(frame_dims[-2:])
    ring, background = plane > 40, (plane > 0) & (plane < 6)
    assert ring.any() and background.any()
    assert (plane == 0).mean() > 0.005  # beam stop (and module gaps)
    for index in range(1, 4):
        frame = detector.frame(index).reshape(-1, *plane.shape).astype(np.int64)
        assert (frame == 65535).sum() >= 3  # hot pixels
        on_ring, off_ring = frame[:, ring], frame[:, background]
        assert on_ring[on_ring < 65535].mean() > 3 * off_ring[off_ring < 65535].mean()
        assert (frame[:, plane == 0] == 0).mean() > 0.95  # dead pixels stay dark
    # the spot moves: the difference to the same pool draw is somewhere else each frame
    spots = [
        np.argwhere(detector.frame(i).astype(np.int64) - detector.pool[i % 16] > 50)[:, -1].mean()
        for i in (1, 25)
    ]
    assert abs(spots[0] - spots[1]) > 2


def test_frame_marker_wraps_narrow_integers() -> None:
    assert frame_marker(300, np.dtype("uint8")) == 300 % 256
    assert frame_marker(300, np.dtype("int8")) == 300 % 128
    assert frame_marker(300, np.dtype("uint16")) == 300
    assert frame_marker(7, np.dtype("float32")) == 7.0
