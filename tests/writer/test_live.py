"""A libhdf5 SWMR reader, opened right after start_swmr(), sees every flush exactly."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import SwmrFileWriter
from tests.writer.conftest import (
    DTYPES,
    FRAME_DIMS,
    VARIANTS,
    Variant,
    random_frames,
    same_bits,
)


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_reader_sees_each_flush(tmp_h5: Path, variant: Variant) -> None:
    dims = FRAME_DIMS[2]
    frames = random_frames("u2", (40, *dims), seed=1)
    flush_after = {0, 1, 2, 5, 6, 13, 20, 21, 33, 39}
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = variant.create(writer, "/entry/data", "u2", 2)
        writer.start_swmr()
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            dset = f["/entry/data"]
            assert dset.shape == (0, *dims)
            for i, frame in enumerate(frames):
                writer.append_frame(ds, frame)
                dset.refresh()
                assert dset.shape[0] <= i + 1
                if i in flush_after:
                    writer.flush()
                    dset.refresh()
                    assert dset.shape == (i + 1, *dims)
                    assert same_bits(dset[()], frames[: i + 1])
    with h5py.File(tmp_h5, "r") as f:
        assert same_bits(f["/entry/data"][()], frames)


def test_several_datasets_flushed_together(tmp_h5: Path) -> None:
    data = {
        v.name: random_frames("f4", (25, *FRAME_DIMS[1]), seed=i) for i, v in enumerate(VARIANTS)
    }
    with SwmrFileWriter.create(tmp_h5) as writer:
        handles = {v.name: v.create(writer, f"/{v.name}", "f4", 1) for v in VARIANTS}
        writer.start_swmr()
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            for i in range(25):
                for name, ds in handles.items():
                    writer.append_frame(ds, data[name][i])
                if i % 7 == 3:
                    writer.flush()
                    for name in handles:
                        f[name].refresh()
                        assert same_bits(f[name][()], data[name][: i + 1]), (name, i)


def test_many_chunks_cross_paged_blocks(tmp_h5: Path) -> None:
    """Enough chunks for super blocks and paged data blocks of the chunk index."""
    tile_count = 4 * 4
    frames = np.arange(3000 * 8 * 8, dtype=np.uint8).reshape(3000, 8, 8)
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset_tiled("/data", np.uint8, (8, 8), (2, 2))
        writer.start_swmr()
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            for i, frame in enumerate(frames):
                writer.append_frame(ds, frame)
                if i % 500 == 499:
                    writer.flush()
                    f["/data"].refresh()
                    assert same_bits(f["/data"][()], frames[: i + 1])
    with h5py.File(tmp_h5, "r") as f:
        assert f["/data"].id.get_num_chunks() == 3000 * tile_count
        assert same_bits(f["/data"][()], frames)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", [VARIANTS[3], VARIANTS[5]], ids=lambda v: v.name)
def test_every_dtype_live_with_rank_3_frames(tmp_h5: Path, variant: Variant, dtype: str) -> None:
    """The h5py SWMR reader sees each flush exactly for every dtype, not only integers."""
    frames = random_frames(dtype, (9, *FRAME_DIMS[3]), seed=7)
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = variant.create(writer, "/data", dtype, 3)
        writer.start_swmr()
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            for i, frame in enumerate(frames):
                writer.append_frame(ds, frame)
                if i % 4 in (0, 3):
                    writer.flush()
                    f["/data"].refresh()
                    assert same_bits(f["/data"][()], frames[: i + 1]), i
