"""Pre-compressed chunks (DECTRIS stream payloads, NDPluginCodec arrays) stored verbatim."""

from __future__ import annotations

from pathlib import Path

import h5py
import hdf5plugin
import numpy as np
import pytest

from h5swmr import (
    FilterError,
    FilterPipeline,
    FrameError,
    InvalidStateError,
    SwmrFileWriter,
    UnsupportedError,
)

FRAMES = np.random.default_rng(5).poisson(2, (12, 32, 48)).astype("<u2")


def _plugin_chunks(tmp_path: Path, frames_per_chunk: int) -> list[bytes]:
    """Chunks as hdf5plugin's bitshuffle-LZ4 filter compresses them, through libhdf5."""
    path = tmp_path / "plugin.h5"
    with h5py.File(path, "w", libver=("v110", "v114")) as f:
        ds = f.create_dataset(
            "d", data=FRAMES, chunks=(frames_per_chunk, 32, 48), **hdf5plugin.Bitshuffle()
        )
        count = len(FRAMES) // frames_per_chunk
        return [ds.id.read_direct_chunk((i * frames_per_chunk, 0, 0))[1] for i in range(count)]


@pytest.mark.parametrize("frames_per_chunk", [1, 3])
def test_plugin_chunks_are_stored_verbatim(tmp_path: Path, frames_per_chunk: int) -> None:
    chunks = _plugin_chunks(tmp_path, frames_per_chunk)
    path = tmp_path / "ours.h5"
    with SwmrFileWriter.create(path) as writer:
        ds = writer.create_streaming_dataset_chunked_compressed(
            "/entry/data",
            "u2",
            (32, 48),
            (frames_per_chunk, 32, 48),
            FilterPipeline.bitshuffle_lz4(),
        )
        writer.start_swmr()
        with h5py.File(path, "r", swmr=True) as f:
            for i, chunk in enumerate(chunks):
                writer.append_chunk(ds, chunk)
                writer.flush()
                f["/entry/data"].refresh()
                frames = (i + 1) * frames_per_chunk
                assert (f["/entry/data"][()] == FRAMES[:frames]).all()
    with h5py.File(path, "r") as f:
        ds = f["/entry/data"]
        for i, chunk in enumerate(chunks):
            assert ds.id.read_direct_chunk((i * frames_per_chunk, 0, 0)) == (0, chunk)


def test_frames_and_chunks_mix(tmp_h5: Path) -> None:
    pipeline = FilterPipeline.lz4()
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset_chunked_compressed(
            "d", "u2", (32, 48), (2, 32, 48), pipeline
        )
        writer.start_swmr()
        writer.append_frame(ds, FRAMES[0])
        with pytest.raises(InvalidStateError, match="1 frames of an incomplete chunk"):
            writer.append_chunk(ds, pipeline.encode(FRAMES[1:3].tobytes(), 2)[0])
        writer.append_frame(ds, FRAMES[1])
        writer.append_chunk(ds, pipeline.encode(FRAMES[2:4].tobytes(), 2)[0])
        writer.append_frame(ds, FRAMES[4])
    with h5py.File(tmp_h5, "r") as f:
        assert (f["d"][()] == FRAMES[:5]).all()


def test_raw_chunks_and_skipped_filters(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as writer:
        raw = writer.create_streaming_dataset("raw", "u2", (32, 48))
        masked = writer.create_streaming_dataset_compressed(
            "masked", "u2", (32, 48), FilterPipeline.shuffle_deflate(4)
        )
        writer.start_swmr()
        writer.append_chunk(raw, FRAMES[0].tobytes())
        writer.append_chunk(masked, FRAMES[1].tobytes(), filter_mask=0b11)  # stored as is
        deflated = FilterPipeline.deflate(4).encode(FRAMES[2].tobytes(), 2)[0]
        writer.append_chunk(masked, deflated, filter_mask=0b01)  # shuffle skipped
    with h5py.File(tmp_h5, "r") as f:
        assert (f["raw"][0] == FRAMES[0]).all()
        assert (f["masked"][()] == FRAMES[1:3]).all()
        assert f["masked"].id.read_direct_chunk((0, 0, 0))[0] == 0b11


def test_bad_chunks_are_refused_and_change_nothing(tmp_h5: Path) -> None:
    pipeline = FilterPipeline.bitshuffle_lz4()
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset_compressed("d", "u2", (32, 48), pipeline)
        tiled = writer.create_streaming_dataset_tiled("t", "u2", (32, 48), (16, 16))
        raw = writer.create_streaming_dataset("raw", "u2", (32, 48))
        writer.start_swmr()
        writer.append_chunk(ds, pipeline.encode(FRAMES[0].tobytes(), 2)[0])
        half = pipeline.encode(FRAMES[0, :16].tobytes(), 2)[0]
        with pytest.raises(FrameError, match="declares 1536 bytes uncompressed, expected 3072"):
            writer.append_chunk(ds, half)
        with pytest.raises(FilterError, match="filter_mask 2"):
            writer.append_chunk(ds, half, filter_mask=2)
        with pytest.raises(FrameError, match="empty"):
            writer.append_chunk(ds, b"")
        with pytest.raises(UnsupportedError, match="tiles"):
            writer.append_chunk(tiled, FRAMES[0].tobytes())
        with pytest.raises(FrameError, match="unfiltered"):
            writer.append_chunk(raw, FRAMES[0].tobytes()[:-2])
        with pytest.raises(TypeError):
            writer.append_chunk(raw, 42)
        writer.append_chunk(ds, pipeline.encode(FRAMES[1].tobytes(), 2)[0])
    with h5py.File(tmp_h5, "r") as f:
        assert (f["d"][()] == FRAMES[:2]).all()
        assert f["raw"].shape[0] == 0


@pytest.mark.parametrize("frames_per_chunk", [1, 3])
def test_chunks_carry_metadata_and_nexus_keys(tmp_path: Path, frames_per_chunk: int) -> None:
    """append_chunk(metadata=...) appends one value per metadata dataset with the chunk, and a
    NeXus key per frame of it, as append_frame does; a live reader sees them with the frames."""
    chunks = _plugin_chunks(tmp_path, frames_per_chunk)
    path = tmp_path / "ours.h5"
    with SwmrFileWriter.create(path, nexus=True) as writer:
        ds = writer.create_streaming_dataset_chunked_compressed(
            "data", "u2", (32, 48), (frames_per_chunk, 32, 48), FilterPipeline.bitshuffle_lz4()
        )
        ids = writer.create_streaming_dataset("/entry/ids", "<i8", ())
        writer.start_swmr()
        with h5py.File(path, "r", swmr=True) as f:
            for i, chunk in enumerate(chunks):
                writer.append_chunk(ds, chunk, metadata={ids: np.int64(100 + i)})
                writer.flush()
                for name in ("/entry/ids", "/entry/live/keys/data", "/entry/data/data"):
                    f[name].refresh()
                frames = (i + 1) * frames_per_chunk
                assert f["/entry/ids"][()].tolist() == list(range(100, 101 + i))
                assert f["/entry/live/keys/data"][()].tolist() == list(range(1, frames + 1))
                assert (f["/entry/data/data"][()] == FRAMES[:frames]).all()
