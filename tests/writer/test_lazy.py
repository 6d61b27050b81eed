"""Lazy datasets: dtype and frame shape from the first frame (NDFileHDF5's LazyOpen)."""

from __future__ import annotations

from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401 - registers the LZ4 filter with h5py
import numpy as np
import pytest

from h5swmr import FilterPipeline, FrameDtypeError, InvalidArgumentError, SwmrFileWriter


def test_swmr_starts_with_the_first_frame(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5, nexus=True) as writer:
        ds = writer.create_lazy_dataset(
            "/entry/instrument/detector/data", frames_per_chunk=2, pipeline=FilterPipeline.lz4()
        )
        assert ds == "/entry/instrument/detector/data"
        writer.start_swmr()
        assert not writer.is_swmr  # waits for the frame that defines the dataset
        with pytest.raises(FrameDtypeError, match="lazy"):
            writer.append_frame(ds, b"\x00" * 8)
        frames = np.arange(5 * 6 * 7, dtype=">i4").reshape(5, 6, 7)
        writer.append_frame(ds, frames[0])
        assert writer.is_swmr
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            for frame in frames[1:]:
                writer.append_frame(ds, frame)
            writer.flush()
            data = f[ds]
            data.refresh()
            assert data.dtype.str == ">i4" and data.chunks == (2, 6, 7)  # as asked, as h5py
            np.testing.assert_array_equal(data[()], frames)


def test_bad_lazy_datasets(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        writer.create_streaming_dataset("/d", "u1", (1,))
        with pytest.raises(InvalidArgumentError):
            writer.create_lazy_dataset("/d")
        with pytest.raises(InvalidArgumentError):
            writer.create_lazy_dataset("/x", frames_per_chunk=0)
        writer.create_lazy_dataset("/x")
        with pytest.raises(InvalidArgumentError):
            writer.create_lazy_dataset("x")
