"""A real writer process appends while this process follows with SwmrFileReader and h5py checks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr.reader import SwmrFileReader

ROOT = Path(__file__).resolve().parents[2]


def _start_writer(
    path: Path, n: int, interval: float, variant: str, writer: str = "h5swmr", per_chunk: int = 1
) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    module = "tests.reader.live_writer" if writer == "h5swmr" else "tests.reader.h5py_live_writer"
    args = [str(path), str(n), str(interval), variant]
    if writer == "h5py":
        args.append(str(per_chunk))
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def follow_live(
    path: Path, n: int, interval: float, variant: str, writer: str = "h5swmr", per_chunk: int = 1
) -> list[float]:
    """Follow a live writer (h5swmr's or h5py's, in another process); every frame must equal the
    one appended. Returns the latency of each frame from the writer's flush() to its yield."""
    proc = _start_writer(path, n, interval, variant, writer, per_chunk)
    seen: dict[int, float] = {}
    try:
        with SwmrFileReader.open(path) as r:
            for index, frame in r.follow("frames", timeout=10.0, start=0, poll_interval=0.001):
                seen[index] = time.time()
                assert (frame == float(index)).all(), index
    finally:
        assert proc.stdout is not None
        out = proc.stdout.read()  # not communicate(timeout=...): it skips buffered lines
        proc.wait(timeout=30)
    assert proc.returncode == 0
    assert sorted(seen) == list(range(n))
    flushed = {int(i): float(t) for i, t in (line.split() for line in out.splitlines())}
    return [seen[i] - flushed[i] for i in range(n)]


@pytest.mark.parametrize("variant", ["plain", "deflate"])
def test_follow_live_writer(tmp_h5: Path, variant: str) -> None:
    latencies = follow_live(tmp_h5, 200, 0.002, variant)
    assert np.median(latencies) < 0.5
    with h5py.File(tmp_h5, "r") as f, SwmrFileReader.open(tmp_h5) as r:
        assert r.read("frames").tobytes() == f["frames"][()].tobytes()


@pytest.mark.parametrize(
    ("variant", "per_chunk"), [("plain", 1), ("plain", 4), ("gzip", 1), ("gzip", 4)]
)
def test_follow_live_h5py_writer(tmp_h5: Path, variant: str, per_chunk: int) -> None:
    """libhdf5's SWMR writer: resize + write + flush per frame; frames equal, then all of it."""
    latencies = follow_live(tmp_h5, 200, 0.002, variant, "h5py", per_chunk)
    assert np.median(latencies) < 0.5
    with h5py.File(tmp_h5, "r") as f, SwmrFileReader.open(tmp_h5) as r:
        assert r.read("frames").tobytes() == f["frames"][()].tobytes()
        assert r.chunks("frames") == (per_chunk, 64, 64)


def test_follow_ends_after_timeout(tmp_h5: Path) -> None:
    proc = _start_writer(tmp_h5, 3, 5.0, "plain")  # slow: 3 frames over 15 s
    try:
        with SwmrFileReader.open(tmp_h5) as r:
            began = time.monotonic()
            frames = list(r.follow("frames", timeout=0.3, start=0))
            assert time.monotonic() - began >= 0.3  # it waited its timeout for frame 1...
            assert proc.poll() is None  # ...and ended on it: the writer was still running
            assert [i for i, _ in frames] == [0]
    finally:
        proc.kill()
        proc.wait()


def test_h5py_swmr_reader_alongside(tmp_h5: Path) -> None:
    """Our reader holds no lock: an h5py SWMR reader and ours read the live file together."""
    proc = _start_writer(tmp_h5, 50, 0.005, "plain")
    try:
        with SwmrFileReader.open(tmp_h5) as r, h5py.File(tmp_h5, "r", swmr=True) as f:
            for _ in range(20):
                r.refresh()
                f["frames"].refresh()
                n = min(r.shape("frames")[0], f["frames"].shape[0])
                assert r.read_frames("frames", 0, n).tobytes() == f["frames"][:n].tobytes()
                time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait(timeout=30)
