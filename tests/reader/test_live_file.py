"""h5swmr.File beside a real writer process and h5py's SWMR reader: refresh(), selections and
follow() on a file that grows while they read it."""

from __future__ import annotations

import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import h5swmr
from tests.reader.test_live import _start_writer


@pytest.mark.parametrize("variant", ["plain", "deflate"])
def test_refresh_and_slices_beside_h5py_while_a_writer_streams(tmp_h5: Path, variant: str) -> None:
    proc = _start_writer(tmp_h5, 120, 0.003, variant)
    try:
        with h5swmr.File(tmp_h5) as ours, h5py.File(tmp_h5, "r", swmr=True) as theirs:
            mine, real = ours["frames"], theirs["frames"]
            seen = 0
            deadline = time.monotonic() + 60  # a bound, not a speed check: it ends at 120
            while time.monotonic() < deadline:
                mine.refresh()
                real.refresh()
                n = min(mine.shape[0], real.shape[0])
                assert mine.shape[0] >= seen  # a snapshot never goes back
                seen = mine.shape[0]
                if n:
                    key = np.s_[: n : max(1, n // 7), 5:60:9, -3]
                    assert mine[key].tobytes() == real[key].tobytes()
                    assert (mine[n - 1] == float(n - 1)).all()
                if n == 120:
                    break
            assert seen == 120
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_follow_from_the_first_frame_while_a_writer_streams(tmp_h5: Path) -> None:
    proc = _start_writer(tmp_h5, 60, 0.003, "plain")
    try:
        with h5swmr.File(tmp_h5) as ours:
            got = [
                (i, float(frame[0, 0]))
                for i, frame in ours["frames"].follow(timeout=10.0, poll_interval=0.001)
            ]
    finally:
        proc.wait(timeout=30)
    assert got == [(i, float(i)) for i in range(60)]
