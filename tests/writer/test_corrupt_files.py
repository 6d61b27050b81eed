"""open_append and recover on corrupt or truncated files: only H5SwmrError, never a crash."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import numpy as np
import pytest

from h5swmr import FilterPipeline, H5SwmrError, SwmrFileWriter, recover


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("corrupt") / "original.h5"
    with SwmrFileWriter.create(path) as writer:
        a = writer.create_streaming_dataset_chunked("/g/a", "u2", (5,), (3, 5))
        writer.set_attribute("/g/a", "x", 1)
        b = writer.create_streaming_dataset_chunked_compressed(
            "/b", "u2", (6, 4), (4, 3, 4), FilterPipeline.deflate(1)
        )
        writer.start_swmr()
        for i in range(50):
            writer.append_frame(a, np.full(5, i, "u2"))
            writer.append_frame(b, np.full((6, 4), i, "u2"))
    return path.read_bytes()


@pytest.mark.parametrize("seed", range(8))
def test_mutated_files_raise_only_h5swmr_errors(tmp_path: Path, original: bytes, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "mutated.h5"
    for trial in range(40):
        data = bytearray(original)
        if trial % 3 == 0:
            data = data[: rng.randrange(len(data))]
        else:
            for _ in range(rng.randrange(1, 6)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))
        try:
            writer = SwmrFileWriter.open_append(path)
        except H5SwmrError:
            # refused: not a byte of the corrupt file may have changed
            assert path.read_bytes() == data, f"seed {seed} trial {trial}: open_append wrote"
        else:
            with contextlib.suppress(H5SwmrError):
                writer.start_swmr()
                writer.append_frame("/b", np.zeros((6, 4), "u2"))
            writer.close()
        path.write_bytes(bytes(data))
        try:
            recover(path, probe_seconds=0.0)  # no writer: nothing to watch for
        except H5SwmrError:
            assert path.read_bytes() == data, f"seed {seed} trial {trial}: recover wrote"
