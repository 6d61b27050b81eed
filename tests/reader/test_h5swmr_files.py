"""Files written by h5swmr's writer, read back bit for bit as h5py reads them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.reader import SwmrFileReader
from h5swmr.writer.swmr_file_writer import SwmrFileWriter
from tests.reader.oracle import assert_same_as_h5py

Make = Callable[[SwmrFileWriter], int]

VARIANTS: dict[str, Make] = {
    "plain": lambda w: w.create_streaming_dataset("frames", np.uint16, (4, 5)),
    "deflate": lambda w: w.create_streaming_dataset_compressed(
        "frames", np.float32, (6, 7), FilterPipeline.deflate()
    ),
    "shuffle-deflate-fletcher": lambda w: w.create_streaming_dataset_compressed(
        "frames", np.int64, (3, 5), FilterPipeline.shuffle_deflate().with_fletcher32()
    ),
    "fletcher": lambda w: w.create_streaming_dataset_compressed(
        "frames", np.int8, (2, 2), FilterPipeline.fletcher32_only()
    ),
    "tiled": lambda w: w.create_streaming_dataset_tiled("frames", np.int32, (9, 10), (4, 4)),
    "tiled-deflate": lambda w: w.create_streaming_dataset_tiled_compressed(
        "frames", np.float64, (5, 6), (2, 4), FilterPipeline.shuffle_deflate()
    ),
    "chunked": lambda w: w.create_streaming_dataset_chunked("frames", np.int16, (3, 3), (5, 2, 2)),
    "chunked-deflate": lambda w: w.create_streaming_dataset_chunked_compressed(
        "frames", np.uint32, (4,), (7, 4), FilterPipeline.deflate()
    ),
    "complex": lambda w: w.create_streaming_dataset("frames", np.complex64, (3,)),
    "strings": lambda w: w.create_streaming_dataset_chunked_compressed(
        "frames", "S6", (3,), (4, 3), FilterPipeline.shuffle_deflate()
    ),
}


def _write(path: Path, make: Make, n_frames: int, *, close: bool = True) -> SwmrFileWriter:
    w = SwmrFileWriter.create(path)
    ds = make(w)
    w.create_streaming_dataset("group/sub/other", np.float32, (2,))
    w.start_swmr()
    rng = np.random.default_rng(n_frames)
    with SwmrFileReader.open(path) as r:
        shape = r.shape("frames")[1:]
        dtype = r.dtype("frames")
    for _ in range(n_frames):
        frame = rng.integers(-1000, 1000, shape).astype(dtype)
        if dtype.kind == "c":
            frame = (rng.random(shape) + 1j * rng.random(shape)).astype(dtype)
        w.append_frame(ds, frame)
        w.append_frame("group/sub/other", rng.random(2).astype(np.float32))
    if close:
        w.close()
    else:
        w.flush()
    return w


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("n_frames", [0, 1, 5, 100])
def test_variant_matches_h5py(tmp_h5: Path, variant: str, n_frames: int) -> None:
    _write(tmp_h5, VARIANTS[variant], n_frames)
    assert set(assert_same_as_h5py(tmp_h5)) == {"frames", "group/sub/other"}


@pytest.mark.parametrize("variant", ["plain", "deflate"])
def test_paged_extensible_array(tmp_h5: Path, variant: str) -> None:
    """Past 131 060 chunks the EA data blocks are paged; 1-element frames keep the file small."""
    with SwmrFileWriter.create(tmp_h5) as w:
        make = (
            w.create_streaming_dataset
            if variant == "plain"
            else lambda n, d, s: w.create_streaming_dataset_compressed(
                n, d, s, FilterPipeline.deflate()
            )
        )
        ds = make("frames", np.uint8, (1,))
        w.start_swmr()
        for i in range(140_000):
            w.append_frame(ds, np.array([i % 251], np.uint8))
    with h5py.File(tmp_h5, "r") as f, SwmrFileReader.open(tmp_h5) as r:
        assert r.read("frames").tobytes() == f["frames"][()].tobytes()
        assert (
            r.read_frames("frames", 131_000, 131_200).tobytes()
            == f["frames"][131_000:131_200].tobytes()
        )


def test_live_file_reads_while_open(tmp_h5: Path) -> None:
    w = _write(tmp_h5, VARIANTS["deflate"], 10, close=False)
    try:
        with SwmrFileReader.open(tmp_h5) as r:
            assert r.writer_active
            assert r.shape("frames")[0] == 10
            w.append_frame(0, np.ones((6, 7), np.float32))
            w.flush()
            assert r.shape("frames")[0] == 10  # a snapshot until refresh()
            r.refresh()
            assert r.shape("frames")[0] == 11
            assert (r.read_frame("frames", -1) == 1).all()
    finally:
        w.close()
    with SwmrFileReader.open(tmp_h5) as r:
        assert not r.writer_active
    assert_same_as_h5py(tmp_h5)


def test_filters_and_storage_size_match_h5py(tmp_path: Path) -> None:
    path = tmp_path / "sizes.h5"
    frames = np.random.default_rng(3).poisson(2, (7, 33, 20)).astype("<u2")
    with SwmrFileWriter.create(path) as writer:
        deflated = writer.create_streaming_dataset_chunked_compressed(
            "d", "u2", (33, 20), (3, 16, 16), FilterPipeline.shuffle_deflate(4)
        )
        plain = writer.create_streaming_dataset_tiled("p", "u2", (33, 20), (16, 16))
        writer.start_swmr()
        for frame in frames:
            writer.append_frame(deflated, frame)
            writer.append_frame(plain, frame)
    with h5py.File(path, "r") as f, SwmrFileReader.open(path) as reader:
        for name in ("d", "p"):
            assert reader.storage_size(name) == f[name].id.get_storage_size()
        assert reader.filters("d") == FilterPipeline.shuffle_deflate(4)
        assert reader.filters("p") is None
