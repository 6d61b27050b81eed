"""write_fanout_master: the master libhdf5 (h5py) reads over the parts of K writers."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.scaleout import write_fanout_master
from h5swmr.scaleout.fanout import ROUND_ROBIN, STRIPES
from tests.scaleout.parts import numbered_frames, write_part

DIMS = (4, 3)


@pytest.mark.parametrize("mode", [ROUND_ROBIN, STRIPES])
@pytest.mark.parametrize("beside", [True, False])
def test_percent_signs_in_names(tmp_path: Path, mode: str, beside: bool) -> None:
    """libhdf5 reads a VDS source name as a pattern (``%%`` a percent sign, ``%b`` a block
    number) but an external link's file name literally: a ``%`` in the parts' directory or
    names reaches each in its own form (bare names beside the master, absolute elsewhere)."""
    parts_dir = tmp_path / "run%b 100%"
    parts_dir.mkdir()
    all_frames = numbered_frames(0, 6, DIMS)
    shares = [
        all_frames[w::2] if mode == ROUND_ROBIN else all_frames[:, 2 * w : 2 * w + 2]
        for w in range(2)
    ]
    parts = []
    for w in range(2):
        part = parts_dir / f"w%1_{w}%%.h5"
        write_part(part, shares[w], name="/entry/50%")
        parts.append(part)
    master = (parts_dir if beside else tmp_path) / "master%s.h5"
    write_fanout_master(master, parts, "/entry/50%", "<u2", DIMS, mode=mode)
    with h5py.File(master, "r") as f:
        np.testing.assert_array_equal(f["entry/50%"][...], all_frames)
        for w, part in enumerate(parts):  # the external links name the parts literally
            np.testing.assert_array_equal(f[f"parts/{part.stem}/entry/50%"][...], shares[w])
