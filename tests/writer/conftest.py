"""Streams used by the writer tests: every variant, dtype, frame rank and frame count."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from h5swmr import FilterPipeline, SwmrFileWriter

DTYPES = [
    "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8",
    "f2", "f4", "f8", "c8", "c16", "?", "S5",
]  # fmt: skip
FRAME_DIMS = {1: (10,), 2: (6, 7), 3: (3, 4, 5)}
TILES = {1: (4,), 2: (4, 3), 3: (2, 3, 2)}
FRAME_COUNTS = (0, 1, 11)


@dataclass(frozen=True)
class Variant:
    """One of the six create_streaming_dataset* calls with its chunking and pipeline."""

    name: str
    frames_per_chunk: int = 1
    tiled: bool = False
    pipeline: FilterPipeline | None = None

    def chunks(self, rank: int) -> tuple[int, ...]:
        tile = TILES[rank] if self.tiled else FRAME_DIMS[rank]
        return (self.frames_per_chunk, *tile)

    def create(self, writer: SwmrFileWriter, name: str, dtype: str, rank: int) -> int:
        dims = FRAME_DIMS[rank]
        chunk = self.chunks(rank)
        if self.frames_per_chunk > 1:
            if self.pipeline is None:
                return writer.create_streaming_dataset_chunked(name, dtype, dims, chunk)
            return writer.create_streaming_dataset_chunked_compressed(
                name, dtype, dims, chunk, self.pipeline
            )
        if self.tiled:
            if self.pipeline is None:
                return writer.create_streaming_dataset_tiled(name, dtype, dims, chunk[1:])
            return writer.create_streaming_dataset_tiled_compressed(
                name, dtype, dims, chunk[1:], self.pipeline
            )
        if self.pipeline is None:
            return writer.create_streaming_dataset(name, dtype, dims)
        return writer.create_streaming_dataset_compressed(name, dtype, dims, self.pipeline)


VARIANTS = [
    Variant("plain"),
    Variant("compressed", pipeline=FilterPipeline.shuffle_deflate(4)),
    Variant("tiled", tiled=True),
    Variant("tiled_compressed", tiled=True, pipeline=FilterPipeline.deflate(1)),
    Variant("chunked", frames_per_chunk=3, tiled=True),
    Variant(
        "chunked_compressed",
        frames_per_chunk=4,
        pipeline=FilterPipeline.shuffle_only().with_deflate(5).with_fletcher32(),
    ),
]


def random_frames(dtype: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Frames that use every bit pattern the dtype allows (NaNs and infinities included)."""
    rng = np.random.default_rng(seed)
    numpy_dtype = np.dtype(dtype)
    if numpy_dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    raw = rng.integers(0, 256, (*shape, numpy_dtype.itemsize), dtype=np.uint8)
    return raw.view(numpy_dtype).reshape(shape)


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal shape and bytes, so NaNs with payloads compare as they should."""
    a = np.ascontiguousarray(a, a.dtype.newbyteorder("<"))
    b = np.ascontiguousarray(b, b.dtype.newbyteorder("<"))
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


@dataclass
class WrittenFile:
    path: Path
    variant: Variant
    rank: int
    expected: dict[str, np.ndarray]


def write_variant_file(path: Path, variant: Variant, rank: int) -> WrittenFile:
    """One file holding every dtype at every frame count, frames given in every accepted form."""
    expected: dict[str, np.ndarray] = {}
    dims = FRAME_DIMS[rank]
    with SwmrFileWriter.create(path) as writer:
        handles = {}
        for dtype in DTYPES:
            for count in FRAME_COUNTS:
                name = f"/{variant.name}/{np.dtype(dtype).name}/n{count}"
                handles[name] = variant.create(writer, name, dtype, rank)
                expected[name] = random_frames(dtype, (count, *dims), seed=len(expected))
        writer.start_swmr()
        for name, ds in handles.items():
            for i, frame in enumerate(expected[name]):
                writer.append_frame(ds, _frame_form(frame, i))
                if i == 5:
                    writer.flush()
    return WrittenFile(path, variant, rank, expected)


def _frame_form(frame: np.ndarray, i: int) -> object:
    """Alternate between an array, a big-endian array, a non-contiguous view and raw bytes."""
    if i % 4 == 1:
        return frame.tobytes()
    if i % 4 == 2 and frame.dtype.itemsize > 1 and frame.dtype.kind != "b":
        return frame.astype(frame.dtype.newbyteorder(">"))
    if i % 4 == 3:
        doubled = np.repeat(frame, 2, axis=-1)
        return doubled[..., ::2]
    return frame


@pytest.fixture(scope="session")
def variant_files(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., WrittenFile]:
    """Files written once per session, per (variant, rank)."""
    cache: dict[tuple[str, int], WrittenFile] = {}

    def get(variant: Variant, rank: int) -> WrittenFile:
        key = (variant.name, rank)
        if key not in cache:
            path = tmp_path_factory.mktemp("variants") / f"{variant.name}-rank{rank}.h5"
            cache[key] = write_variant_file(path, variant, rank)
        return cache[key]

    return get
