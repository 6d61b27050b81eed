"""direct_io=True: chunks of 256 KiB and more bypass the page cache (O_DIRECT, page-aligned,
padded); a libhdf5 SWMR reader sees every flush as with buffered writes, and the closed file
is the same to h5py and h5dump 1.10."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401 (registers the LZ4 filter with h5py)
import numpy as np
import pytest

from h5swmr import FilterPipeline, SwmrFileWriter
from h5swmr.storage.allocator import PAGE_SIZE
from h5swmr.writer.chunk_sink import DIRECT_MIN
from tests.writer.conftest import random_frames, same_bits

DIMS = (256, 300)  # 300 KiB of u4: over DIRECT_MIN raw, and compressed (random bytes)


def _chunk_offsets(dset: h5py.Dataset) -> list[int]:
    return [dset.id.get_chunk_info(i).byte_offset for i in range(dset.id.get_num_chunks())]


@pytest.mark.parametrize("durability", ["none", "flush"])
def test_reader_sees_each_flush_of_direct_chunks(tmp_h5: Path, durability: str) -> None:
    frames = random_frames("u4", (12, *DIMS), seed=3)
    assert frames[0].nbytes >= DIRECT_MIN
    payloads = [bytes(FilterPipeline.lz4().encode(frame.tobytes(), 4)[0]) for frame in frames]
    flush_after = {0, 1, 4, 5, 9, 11}
    with SwmrFileWriter.create(tmp_h5, direct_io=True, durability=durability, nexus=True) as writer:
        plain = writer.create_streaming_dataset("plain", "<u4", DIMS)
        filtered = writer.create_streaming_dataset_compressed(
            "filtered", "<u4", DIMS, FilterPipeline.lz4()
        )
        verbatim = writer.create_streaming_dataset_compressed(
            "verbatim", "<u4", DIMS, FilterPipeline.lz4()
        )
        small = writer.create_streaming_dataset_chunked("ids", "<i8", (), (1024,))
        writer.start_swmr()
        with h5py.File(tmp_h5, "r", swmr=True) as f:
            names = ("plain", "filtered", "verbatim")
            dsets = [f[f"/entry/data/{name}"] for name in names]
            for i, frame in enumerate(frames):
                writer.append_frame(plain, frame, {small: np.asarray(i, "<i8")})
                writer.append_frame(filtered, frame)
                writer.append_chunk(verbatim, payloads[i])
                if i in flush_after:
                    writer.flush()
                    for dset in dsets:
                        dset.refresh()
                        assert dset.shape == (i + 1, *DIMS)
                        assert same_bits(dset[()], frames[: i + 1])
    with h5py.File(tmp_h5, "r") as f:
        for name in ("plain", "filtered", "verbatim"):
            dset = f[f"/entry/data/{name}"]
            assert same_bits(dset[()], frames)
            assert all(offset % PAGE_SIZE == 0 for offset in _chunk_offsets(dset))
        np.testing.assert_array_equal(f["/entry/instrument/detector/ids"][()], np.arange(12))
    h5dump = shutil.which("h5dump")
    if h5dump is not None:  # the 1.10 tools read the direct chunks too (raw dataset, no plugin)
        out = subprocess.run(
            [h5dump, "-d", "/entry/data/plain", "-s", "11,255,290", "-c", "1,1,10", str(tmp_h5)],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout  # fmt: skip
        values = re.sub(r"\([0-9,]+\):", " ", out.partition("DATA {")[2]).replace(",", " ")
        assert values.split()[:10] == [str(v) for v in frames[11, 255, 290:]]


def test_small_chunks_are_laid_out_as_without_direct_io(tmp_path: Path) -> None:
    frames = random_frames("u1", (6, 64, 64), seed=4)
    offsets = []
    for direct_io in (True, False):
        path = tmp_path / f"{direct_io}.h5"
        with SwmrFileWriter.create(path, direct_io=direct_io) as writer:
            ds = writer.create_streaming_dataset("d", "u1", (64, 64))
            writer.start_swmr()
            for frame in frames:
                writer.append_frame(ds, frame)
        with h5py.File(path, "r") as f:
            offsets.append(_chunk_offsets(f["d"]))
            assert same_bits(f["d"][()], frames)
    assert offsets[0] == offsets[1]
    assert any(offset % PAGE_SIZE for offset in offsets[0])


def test_open_append_goes_on_with_direct_chunks(tmp_h5: Path) -> None:
    frames = random_frames("u4", (6, *DIMS), seed=5)
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("d", "<u4", DIMS)
        writer.start_swmr()
        for frame in frames[:3]:
            writer.append_frame(ds, frame)
    with SwmrFileWriter.open_append(tmp_h5, direct_io=True, durability="close") as writer:
        writer.start_swmr()
        for frame in frames[3:]:
            writer.append_frame("d", frame)
    with h5py.File(tmp_h5, "r") as f:
        assert same_bits(f["d"][()], frames)
        assert all(offset % PAGE_SIZE == 0 for offset in _chunk_offsets(f["d"])[3:])
