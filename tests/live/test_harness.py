"""The live-test harness judged on files libhdf5 wrote, with known bad frames.

If a reader did not notice a zero-filled or a stale frame, or the checks let an unflushed or
decreasing count through, the live tests would prove nothing.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from tests.live import harness
from tests.live.harness import READERS, DatasetSpec, ReaderResult
from tests.live.py_reader import expected_values
from tests.oracle.live import Report

FRAME_DIMS = (6, 7)
FRAMES = 10


def test_frame_values_are_never_zero_and_differ_between_frames() -> None:
    for bits in (8, 16):
        values = expected_values(0, 5000, 42, bits, salt=9)
        assert values.min() >= 1 and values.max() <= (1 << bits) - 1
        assert all(not np.array_equal(values[i], values[i + 1]) for i in range(len(values) - 1))
        assert not np.array_equal(values, expected_values(0, 5000, 42, bits, salt=10))
    assert np.array_equal(
        expected_values(123, 2, 42, 16, 9), expected_values(0, 125, 42, 16, 9)[123:]
    )


@pytest.fixture(scope="module")
def bad_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``/zero``: frame 5 never written (fill value 0); ``/stale``: frame 7 holds frame 6;
    ``/good``: every frame right. Written by this interpreter's h5py (HDF5 2.x)."""
    path = tmp_path_factory.mktemp("harness") / "bad.h5"
    size = int(np.prod(FRAME_DIMS))
    good = expected_values(0, FRAMES, size, 16, 1).astype("u2").reshape(FRAMES, *FRAME_DIMS)
    with h5py.File(path, "w", libver=("v110", "v114")) as f:
        for name in ("zero", "stale", "good"):
            shape, maxshape, chunks = (FRAMES, *FRAME_DIMS), (None, *FRAME_DIMS), (1, *FRAME_DIMS)
            ds = f.create_dataset(name, shape, "u2", maxshape=maxshape, chunks=chunks)
            data = good.copy()
            if name == "stale":
                data[7] = data[6]
            for i in range(FRAMES):
                if not (name == "zero" and i == 5):
                    ds[i] = data[i]
    return path


@pytest.mark.parametrize(
    ("dataset", "index", "zero_frame"),
    [("zero", 5, True), ("stale", 7, False), ("good", -1, False)],
)
@pytest.mark.parametrize("reader", list(READERS))
def test_reader_reports_bad_frames(
    bad_file: Path, reader: str, dataset: str, index: int, zero_frame: bool
) -> None:
    spec = DatasetSpec(f"/{dataset}", None, salt=1)
    targets, flushed = {spec.name: FRAMES}, {spec.name: {FRAMES}}
    for mode in ("follow", "sample"):
        process = harness.start_reader(reader, bad_file, {spec: FRAMES}, mode=mode, timeout=60)
        result = harness.collect(reader, process, 60)
        bad = [r for r in result.reports if r.get("event") == "bad"]
        if index < 0:
            assert result.returncode == 0 and not bad, result.summary()
            every = mode == "follow"
            harness.check_reader(result, targets, flushed, mode=mode, checked_every_frame=every)
            continue
        assert result.returncode == 1, result.summary()
        assert len(bad) == 1, result.summary()
        assert bad[0]["dataset"] == spec.name and bad[0]["index"] == index, result.summary()
        assert bad[0]["zero_frame"] is zero_frame, result.summary()
        with pytest.raises(AssertionError):
            harness.check_reader(result, targets, flushed, mode=mode, checked_every_frame=False)


def _result(sizes: list[int], target: int = 10) -> ReaderResult:
    reports: list[Report] = [
        {"event": "opened", "hdf5": "2.0.0", "sizes": {"/d": sizes[0]}},
        *({"event": "size", "dataset": "/d", "n": n, "checked": n} for n in sizes[1:]),
        {"event": "done", "sizes": {"/d": target}, "checked": {"/d": target}, "polls": 9},
    ]
    return ReaderResult("hdf5-2.x", reports, 0, "")


def test_check_reader_rejects_unflushed_decreasing_and_short_counts() -> None:
    flushed = {"/d": {2, 4, 10}}
    harness.check_reader(
        _result([0, 2, 4, 10]), {"/d": 10}, flushed, mode="follow", checked_every_frame=True
    )
    for sizes in ([0, 3, 10], [0, 4, 2, 10], [0, 2, 4]):
        with pytest.raises(AssertionError):
            harness.check_reader(
                _result(sizes), {"/d": 10}, flushed, mode="follow", checked_every_frame=True
            )
    assert harness.intermediate_sizes(_result([0, 2, 2, 4, 10]), "/d", 10) == [2, 4]
