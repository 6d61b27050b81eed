"""Flush policies: flush_every=N and flush_interval=T publish without explicit flush() calls."""

from __future__ import annotations

import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import FilterPipeline, SwmrFileWriter
from h5swmr.errors import InvalidArgumentError


def _frame(i: int) -> np.ndarray:
    return np.full((4, 5), i, np.uint16)


@pytest.mark.parametrize("pipeline", [None, FilterPipeline.deflate(1)])
def test_flush_every_publishes_each_nth_frame(
    tmp_path: Path, pipeline: FilterPipeline | None
) -> None:
    path = tmp_path / "n.h5"
    with SwmrFileWriter.create(path, flush_every=3) as writer:
        if pipeline is None:
            ds = writer.create_streaming_dataset("d", "u2", (4, 5))
        else:
            ds = writer.create_streaming_dataset_compressed("d", "u2", (4, 5), pipeline)
        writer.append_frame(ds, _frame(0))  # before start_swmr: no policy, no readers yet
        writer.start_swmr()
        with h5py.File(path, "r", swmr=True) as f:
            dset = f["d"]
            seen = []
            for i in range(1, 11):
                writer.append_frame(ds, _frame(i))
                dset.refresh()
                seen.append(dset.shape[0])
            assert seen == [1, 1, 4, 4, 4, 7, 7, 7, 10, 10]
            np.testing.assert_array_equal(dset[...], [_frame(i) for i in range(10)])
    with h5py.File(path, "r") as f:
        assert f["d"].shape == (11, 4, 5)


def test_flush_every_counts_each_dataset_and_append_chunk(tmp_path: Path) -> None:
    path = tmp_path / "m.h5"
    with SwmrFileWriter.create(path, flush_every=4) as writer:
        a = writer.create_streaming_dataset("a", "u2", (4, 5))
        b = writer.create_streaming_dataset_chunked("b", "u2", (4, 5), (2, 4, 5))
        writer.start_swmr()
        with h5py.File(path, "r", swmr=True) as f:
            writer.append_chunk(b, np.stack([_frame(0), _frame(1)]).tobytes())
            for i in range(3):
                writer.append_frame(a, _frame(i))
            f["a"].refresh()
            f["b"].refresh()
            assert (f["a"].shape[0], f["b"].shape[0]) == (0, 0)
            writer.append_chunk(b, np.stack([_frame(2), _frame(3)]).tobytes())  # b reaches 4
            f["a"].refresh()
            f["b"].refresh()
            assert (f["a"].shape[0], f["b"].shape[0]) == (3, 4)  # one commit publishes both


def test_flush_interval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("h5swmr.writer.swmr_file_writer.time.monotonic", lambda: clock[0])
    path = tmp_path / "t.h5"
    with SwmrFileWriter.create(path, flush_interval=0.5) as writer:
        ds = writer.create_streaming_dataset("d", "u2", (4, 5))
        writer.start_swmr()
        with h5py.File(path, "r", swmr=True) as f:
            dset = f["d"]
            shapes = []
            for i, step in enumerate([0.1, 0.1, 0.1, 0.3, 0.1, 0.6, 0.0]):
                clock[0] += step
                writer.append_frame(ds, _frame(i))
                dset.refresh()
                shapes.append(dset.shape[0])
            assert shapes == [0, 0, 0, 4, 4, 6, 6]
            writer.flush()  # an explicit flush restarts the interval too
            clock[0] += 0.4
            writer.append_frame(ds, _frame(7))
            dset.refresh()
            assert dset.shape[0] == 7


def test_real_clock_interval(tmp_path: Path) -> None:
    path = tmp_path / "r.h5"
    with SwmrFileWriter.create(path, flush_interval=0.05, flush_every=1000) as writer:
        ds = writer.create_streaming_dataset("d", "u2", (4, 5))
        writer.start_swmr()
        writer.append_frame(ds, _frame(0))
        time.sleep(0.06)
        writer.append_frame(ds, _frame(1))
        with h5py.File(path, "r", swmr=True) as f:
            assert f["d"].shape[0] == 2


@pytest.mark.parametrize(
    "options",
    [
        {"flush_every": 0},
        {"flush_every": -2},
        {"flush_every": 1.5},
        {"flush_every": True},
        {"flush_interval": 0},
        {"flush_interval": -1.0},
        {"flush_interval": float("nan")},
        {"flush_interval": float("inf")},
        {"flush_interval": "1"},
    ],
)
def test_bad_policies_are_refused(tmp_path: Path, options: dict[str, object]) -> None:
    path = tmp_path / "bad.h5"
    with pytest.raises(InvalidArgumentError, match="flush_"):
        SwmrFileWriter.create(path, **options)  # type: ignore[arg-type]
    assert not path.exists()


def test_open_append_takes_the_policies(tmp_path: Path) -> None:
    path = tmp_path / "a.h5"
    with SwmrFileWriter.create(path) as writer:
        ds = writer.create_streaming_dataset("d", "u2", (4, 5))
        writer.append_frame(ds, _frame(0))
    with SwmrFileWriter.open_append(path, flush_every=2) as writer:
        writer.start_swmr()
        with h5py.File(path, "r", swmr=True) as f:
            writer.append_frame("d", _frame(1))
            f["d"].refresh()
            assert f["d"].shape[0] == 1
            writer.append_frame("d", _frame(2))
            f["d"].refresh()
            assert f["d"].shape[0] == 3
