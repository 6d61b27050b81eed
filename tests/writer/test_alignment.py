"""alignment_threshold / alignment_interval (h5py's options, libhdf5's H5Pset_alignment): chunks
start on stripe boundaries, and libhdf5 reads the file as any other."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import FilterPipeline, InvalidArgumentError, SwmrFileWriter

STRIPE = 65536


def _chunk_offsets(ds: h5py.Dataset) -> list[tuple[int, int]]:
    return [
        (info.byte_offset, info.size)
        for info in (ds.id.get_chunk_info(i) for i in range(ds.id.get_num_chunks()))
    ]


def test_chunks_start_on_stripe_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "aligned.h5"
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 4000, (12, 64, 64), dtype=np.uint16)
    options = {"alignment_threshold": 4096, "alignment_interval": STRIPE}
    with SwmrFileWriter.create(path, **options) as w:  # type: ignore[arg-type]
        plain = w.create_streaming_dataset("plain", "u2", (64, 64))
        tiled = w.create_streaming_dataset_tiled("tiled", "u2", (64, 64), (64, 32))
        small = w.create_streaming_dataset("small", "u1", (100,))  # 100-byte chunks: below
        packed = w.create_streaming_dataset_chunked_compressed(
            "packed", "u2", (64, 64), (3, 64, 64), FilterPipeline.deflate(1)
        )
        w.start_swmr()
        for frame in frames:
            w.append_frame(plain, frame)
            w.append_frame(tiled, frame)
            w.append_frame(small, frame.ravel()[:100].astype("u1"))
            w.append_frame(packed, frame)
            w.flush()
    with h5py.File(path, "r") as f:
        for name in ("plain", "tiled", "packed"):
            np.testing.assert_array_equal(f[name][...], frames)
        offsets = _chunk_offsets(f["plain"]) + _chunk_offsets(f["tiled"])
        assert len(offsets) == 12 * 3
        assert all(offset % STRIPE == 0 for offset, _ in offsets)
        packed_offsets = _chunk_offsets(f["packed"])
        assert packed_offsets and all(
            offset % STRIPE == 0 for offset, size in packed_offsets if size >= 4096
        )
        assert any(offset % STRIPE for offset, _ in _chunk_offsets(f["small"]))
    with SwmrFileWriter.open_append(path, **options) as w:  # type: ignore[arg-type]
        w.start_swmr()
        w.append_frame("plain", frames[0])
    with h5py.File(path, "r") as f:
        assert _chunk_offsets(f["plain"])[-1][0] % STRIPE == 0
        np.testing.assert_array_equal(f["plain"][-1], frames[0])


@pytest.mark.parametrize(
    ("option", "bad"),
    [
        ("alignment_interval", 0),
        ("alignment_threshold", -4),
        ("alignment_interval", 4.0),
        ("alignment_threshold", True),
    ],
)
def test_alignment_options_are_positive_integers(tmp_path: Path, option: str, bad: object) -> None:
    with pytest.raises(InvalidArgumentError, match=f"{option} must be an integer >= 1"):
        SwmrFileWriter.create(tmp_path / "x.h5", **{option: bad})  # type: ignore[arg-type]
