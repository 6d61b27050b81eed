"""PartWriter without Dask: batches land at the positions they were routed to, in any order."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.errors import InvalidArgumentError, InvalidStateError
from h5swmr.scaleout.part_writer import PartSpec, PartWriter

DIMS = (3, 4)


def frame(i: int) -> np.ndarray:
    return np.full(DIMS, i, "<u2")


def test_batches_out_of_order_land_in_place(tmp_path: Path) -> None:
    path = str(tmp_path / "p.h5")
    writer = PartWriter()
    writer.open(PartSpec(path, "/d", "<u2", DIMS, flush_every=2))
    held = writer.append(path, 3, [frame(3), frame(4)])  # behind a gap: held back
    assert (held.appended, held.flushed) == (0, 0)
    with h5py.File(path, "r", swmr=True) as f:
        assert f["d"].shape == (0, *DIMS)
    done = writer.append(path, 0, [frame(0), frame(1), frame(2)])
    assert (done.appended, done.flushed) == (5, 4)
    with pytest.raises(InvalidArgumentError, match="routed twice"):
        writer.append(path, 4, [frame(4)])
    assert writer.close(path).flushed == 5
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["d"][...], np.stack([frame(i) for i in range(5)]))


def test_a_gap_at_close_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "p.h5")
    writer = PartWriter()
    writer.open(PartSpec(path, "/d", "<u2", DIMS))
    writer.append(path, 0, [frame(0)])
    writer.append(path, 2, [frame(2)])
    with pytest.raises(InvalidStateError, match=r"frames 1\.\.1 never arrived"):
        writer.close(path)
    assert [p.appended for p in writer.close_all()] == [1]
    with h5py.File(path, "r") as f:
        assert f["d"].shape == (1, *DIMS)
    with pytest.raises(InvalidStateError, match="not open"):
        writer.flush(path)
