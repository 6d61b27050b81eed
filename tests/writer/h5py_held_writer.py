"""An h5py (libhdf5) writer that holds its file open until told to finish: for the tests that
another program must not destroy (or read inconsistently) a file a writer has open.

Usage: python -m tests.writer.h5py_held_writer PATH MODE
MODE "swmr": libver latest, ``swmr_mode = True`` (libhdf5 drops its lock), frames flushed;
"plain": an ordinary writer, which holds libhdf5's exclusive lock. It writes FRAMES frames,
prints "ready", waits for a line on stdin, writes FRAMES more, closes and prints "closed".
Frame i of /frames is 16x16 uint16 filled with i.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

FRAME = (16, 16)
FRAMES = 5
REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 60


def _append(ds: h5py.Dataset, start: int) -> None:
    for i in range(start, start + FRAMES):
        ds.resize((i + 1, *FRAME))
        ds[i] = np.full(FRAME, i, np.uint16)
        ds.flush()


def main() -> None:
    path, mode = sys.argv[1], sys.argv[2]
    with h5py.File(path, "w", libver="latest") as f:
        ds = f.create_dataset(
            "frames", shape=(0, *FRAME), maxshape=(None, *FRAME), chunks=(1, *FRAME), dtype="u2"
        )
        if mode == "swmr":
            f.swmr_mode = True
        _append(ds, 0)
        f.flush()
        print("ready", flush=True)
        sys.stdin.readline()
        _append(ds, FRAMES)
    print("closed", flush=True)


class HeldWriter:
    """A tests.writer.h5py_held_writer process that has written its first frames."""

    def __init__(self, path: Path, mode: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.writer.h5py_held_writer", str(path), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=_child_env(),
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # blocks until the writer says so: no sleeps
        assert line == "ready\n", self.process.communicate(timeout=TIMEOUT)

    def finish(self) -> tuple[int, str]:
        out, err = self.process.communicate("go\n", timeout=TIMEOUT)
        return self.process.returncode, out + err

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.communicate(timeout=TIMEOUT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.kill()


def _child_env() -> dict[str, str]:
    from tests.cli.conftest import child_env

    return child_env()


if __name__ == "__main__":
    main()
