"""follow(): every frame from the first by default; start="end" follows only new frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from h5swmr import InvalidArgumentError, SwmrFileWriter
from h5swmr.reader import SwmrFileReader


def _write(path: Path, n: int) -> None:
    with SwmrFileWriter.create(path) as writer:
        ds = writer.create_streaming_dataset("frames", np.int32, (2, 3))
        writer.start_swmr()
        for i in range(n):
            writer.append_frame(ds, np.full((2, 3), i, np.int32))
        writer.flush()


def test_default_yields_every_frame_of_a_closed_file(tmp_h5: Path) -> None:
    _write(tmp_h5, 5)
    with SwmrFileReader.open(tmp_h5) as reader:
        got = [(i, int(frame[0, 0])) for i, frame in reader.follow("frames", timeout=0.0)]
    assert got == [(i, i) for i in range(5)]


def test_start_end_follows_only_new_frames(tmp_h5: Path) -> None:
    """A writer in this process: frames written before follow() starts are skipped."""
    with SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("frames", np.int32, (2, 3))
        writer.start_swmr()
        for i in range(3):
            writer.append_frame(ds, np.full((2, 3), i, np.int32))
        writer.flush()
        with SwmrFileReader.open(tmp_h5) as reader:
            frames = reader.follow("frames", timeout=5.0, start="end")
            # "end" is the count when follow() is called, not at the first next()
            writer.append_frame(ds, np.full((2, 3), 3, np.int32))
            writer.flush()
            index, frame = next(frames)
            frames.close()
    assert (index, int(frame[0, 0])) == (3, 3)


def test_start_end_on_a_closed_file_yields_nothing(tmp_h5: Path) -> None:
    _write(tmp_h5, 4)
    with SwmrFileReader.open(tmp_h5) as reader:
        assert list(reader.follow("frames", timeout=0.0, start="end")) == []
        assert [i for i, _ in reader.follow("frames", timeout=0.0, start=2)] == [2, 3]


@pytest.mark.parametrize("start", [-1, "first", 1.5, None])
def test_bad_start_is_named(tmp_h5: Path, start: object) -> None:
    _write(tmp_h5, 1)
    with SwmrFileReader.open(tmp_h5) as reader, pytest.raises(InvalidArgumentError, match="start"):
        reader.follow("frames", timeout=0.0, start=start)  # type: ignore[arg-type]
