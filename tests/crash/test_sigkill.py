"""SIGKILL the writer at random moments; every flushed frame survives, nothing else is seen.

After each kill, with no repair step, a libhdf5 SWMR reader opens the file and reads every frame
up to the last completed flush exactly (and never a frame that is not the appended one). Then
``recover`` makes the file open in plain h5py and h5dump with the same frames.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import recover
from tests.crash.writer_process import DATASETS, FRAME_DIMS, METADATA, frame
from tests.oracle import h5dump_header

WRITER = Path(__file__).with_name("writer_process.py")
KILLS = 54
TIMEOUT = 60.0


class Writer:
    """The writer process and the markers it printed, read line by line with timeouts."""

    def __init__(
        self,
        path: Path,
        frames: int,
        flush_every: int,
        pace: float,
        durability: str,
        env: dict[str, str] | None = None,
    ) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(Path(__file__).parents[2] / "src"),
            "H5SWMR_TEST_HOLD": "1",  # it never ends by itself: every kill finds it running
            **(env or {}),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(WRITER),
                str(path),
                str(frames),
                str(flush_every),
                str(pace),
                durability,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.PIPE,  # held open: the writer waits on it after closing
            env=env,
        )
        self.flushed = 0
        self.saw_ready = False
        self.saw_closed = False
        self._buffer = b""

    def wait_for(self, marker: str) -> bool:
        """Read markers until one starts with ``marker``; False if the writer ended first."""
        deadline = time.monotonic() + TIMEOUT
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while time.monotonic() < deadline:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                text = line.decode()
                self._note(text)
                if text.startswith(marker):
                    return True
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return False
                self._buffer += chunk
        self.kill()
        raise TimeoutError(f"writer did not print {marker!r} within {TIMEOUT} s")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(TIMEOUT)
        self.wait_for_rest()

    def wait_for_rest(self) -> None:
        """Markers printed before the kill that were not read yet still count."""
        assert self.process.stdout is not None
        self._buffer += self.process.stdout.read()
        for line in self._buffer.decode().splitlines():
            self._note(line)
        self._buffer = b""

    def _note(self, line: str) -> None:
        if line.startswith("flushed "):
            self.flushed = int(line.split()[1])
        elif line == "ready":
            self.saw_ready = True
        elif line == "closed":
            self.saw_closed = True


def _check_outcome(path: Path, writer: Writer, frames: int) -> None:
    """Every outcome of a kill, asserted: the writer was running when it died of SIGKILL; a
    libhdf5 SWMR reader reads every flushed frame as the file is; recover then makes it open in
    plain h5py and h5dump with the same frames. A clean file (killed after ``closed``, or in
    close() after its last write) holds every frame and recover changes nothing; otherwise it
    holds from the last flush to the frames appended."""
    assert writer.process.returncode == -signal.SIGKILL
    assert writer.saw_ready
    flushed = frames if writer.saw_closed else writer.flushed
    with h5py.File(path, "r", swmr=True) as f:  # no repair step: SWMR readers open it as is
        seen = _check_frames(f, flushed, frames)
    report = recover(path)
    if writer.saw_closed:
        assert report.was_clean
    if report.was_clean:  # closed, or killed inside close() after its last write
        assert seen == dict.fromkeys(DATASETS, frames)
    assert report.datasets == _recovered_shapes(seen)
    assert not report.unread
    with h5py.File(path, "r") as f:
        assert _check_frames(f, flushed, frames) == seen
    h5dump_header(path)


def _check_frames(f: h5py.File, flushed: int, appended_at_most: int) -> dict[str, int]:
    counts = {}
    for name in DATASETS:
        ds = f[name]
        n = ds.shape[0]
        assert flushed <= n <= appended_at_most, (name, n, flushed)
        data = ds[()]
        for i in range(n):
            assert (data[i] == frame(i)).all(), f"{name}: frame {i} of {n} is not the appended one"
        assert ds.shape[1:] == FRAME_DIMS
        counts[name] = n
    for name, value in METADATA.items():
        if isinstance(value, str):
            assert f[name].asstr()[()] == value, name
        else:
            assert (f[name][()] == value).all(), name
    return counts


def _recovered_shapes(seen: dict[str, int]) -> dict[str, tuple[int, ...]]:
    """What recover() reports: every streaming dataset's frames, and the metadata's shapes."""
    shapes: dict[str, tuple[int, ...]] = {name: (n, *FRAME_DIMS) for name, n in seen.items()}
    return shapes | {name: np.shape(value) for name, value in METADATA.items()}


@pytest.mark.parametrize("seed", range(KILLS))
def test_kill_keeps_every_flushed_frame(tmp_h5: Path, seed: int) -> None:
    rng = random.Random(seed)
    moment = ("append", "flush", "close")[seed % 3]
    frames = rng.randrange(20, 120)
    flush_every = rng.choice([1, 2, 3, 5, 7] if moment != "close" else [10, frames + 1])
    durability = rng.choice(["none", "none", "flush" if moment != "close" else "close"])
    pace = 0.0005 if moment == "append" else 0.0
    writer = Writer(tmp_h5, frames, flush_every, pace, durability)
    try:
        assert writer.wait_for("ready")
        if moment == "append":
            time.sleep(rng.uniform(0.0, 0.06))
        elif moment == "flush":
            target = flush_every * rng.randrange(1, max(2, frames // flush_every))
            writer.wait_for(f"flushing {target}")
            time.sleep(rng.uniform(0.0, 0.0004))
        else:
            writer.wait_for("closing")
            time.sleep(rng.uniform(0.0, 0.003))
    finally:
        writer.kill()
    _check_outcome(tmp_h5, writer, frames)


INJECTED_KILLS = 30


@pytest.mark.parametrize("seed", range(INJECTED_KILLS))
def test_kill_at_any_write_keeps_every_flushed_frame(tmp_h5: Path, seed: int) -> None:
    """A real SIGKILL before a chosen pwrite, or in the middle of one at a 4 KiB boundary (as the
    kernel may cut a multi-page write), lands inside flushes and closes at every step."""
    rng = random.Random(1000 + seed)
    frames, flush_every = rng.randrange(10, 40), rng.choice([1, 3, 4])
    kill_after = rng.randrange(1, 60 + 25 * frames // flush_every)
    env = {"H5SWMR_TEST_KILL_AFTER_WRITES": str(kill_after), "H5SWMR_TEST_TEAR": str(seed % 2)}
    writer = Writer(tmp_h5, frames, flush_every, 0.0, "none", env)
    try:
        writer.wait_for("closed")  # False when the injected kill came first
    finally:
        writer.kill()
    _check_outcome(tmp_h5, writer, frames)


@pytest.mark.parametrize("frames", [120, 1400], ids=["small", "paged-index"])
def test_in_place_rewrites_never_cross_a_page(tmp_path: Path, frames: int) -> None:
    """Every write that lands on bytes written before fits in one 4 KiB page, so a kill can
    never leave a block that readers already use half old and half new. 1400 frames of six
    tiles each take the chunk index into paged data blocks, whose pages do cross pages."""
    log = tmp_path / "writes.log"
    env = {"H5SWMR_TEST_WRITE_LOG": str(log)}
    writer = Writer(tmp_path / "f.h5", frames, 2, 0.0, "none", env)
    try:
        assert writer.wait_for("closed")
    finally:
        writer.kill()
    writes = [tuple(map(int, line.split())) for line in log.read_text().splitlines()]
    written = bytearray(max(a + s for a, s in writes))
    crossing = []
    for address, size in writes:
        if (
            any(written[address : address + size])
            and address // 4096 != (address + size - 1) // 4096
        ):
            crossing.append((address, size))
        written[address : address + size] = b"\x01" * size
    assert len(writes) > 8 * frames
    assert crossing == []
    with h5py.File(tmp_path / "f.h5", "r") as f:
        _check_frames(f, frames, frames)
