"""as_dask_array: chunk-aligned tasks over h5swmr.File, re-called to see a file grow."""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import h5swmr
from h5swmr import SwmrFileWriter
from h5swmr.scaleout.dask import as_dask_array

pytest.importorskip("dask.array")


def _frame(i: int) -> np.ndarray:
    return np.full((6, 5), i, "<i4") + np.arange(30, dtype="<i4").reshape(6, 5)


def test_growing_file(tmp_path: Path) -> None:
    path = tmp_path / "d.h5"
    with SwmrFileWriter.create(path) as writer:
        writer.create_streaming_dataset_chunked("entry/data", "<i4", (6, 5), (4, 3, 5))
        writer.start_swmr()
        for i in range(10):
            writer.append_frame(0, _frame(i))
        writer.flush()
        array = as_dask_array(path, "entry/data", frames_per_task=6)
        assert array.shape == (10, 6, 5) and array.dtype == "<i4"
        assert array.chunks[0] == (8, 2)  # rounded up to whole 4-frame chunks
        np.testing.assert_array_equal(array.compute(), np.stack([_frame(i) for i in range(10)]))
        assert int(array.sum(axis=(1, 2))[3].compute()) == int(_frame(3).sum())
        for i in range(10, 17):
            writer.append_frame(0, _frame(i))
        writer.flush()
        grown = as_dask_array(path, "entry/data")
        assert grown.shape == (17, 6, 5) and grown.chunks[0] == (17,)
        with h5swmr.File(path) as f:
            from_dataset = as_dask_array(f["entry/data"], frames_per_task=8)
            assert from_dataset.chunks[0] == (8, 8, 1)
            np.testing.assert_array_equal(from_dataset[9:11].compute(), f["entry/data"][9:11])
        with h5py.File(path, "r", swmr=True) as f:
            np.testing.assert_array_equal(
                grown.compute(scheduler="processes"), f["entry/data"][...]
            )


def test_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "d.h5"
    with SwmrFileWriter.create(path) as writer:
        writer.create_streaming_dataset("data", "<u1", (2,))
    assert as_dask_array(path, "data").shape == (0, 2)
    with pytest.raises(ValueError, match="frames_per_task"):
        as_dask_array(path, "data", frames_per_task=0)
    monkeypatch.setitem(sys.modules, "dask.array", None)
    with pytest.raises(ImportError, match=r"h5swmr\[dask\]"):
        as_dask_array(path, "data")
