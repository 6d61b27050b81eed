"""A libhdf5 reader process that holds a file open (and so its shared lock) while a test looks."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLD = (
    "import sys, h5py; f = h5py.File(sys.argv[1], 'r', swmr=True); "
    "print('open', flush=True); sys.stdin.read()"
)


@contextmanager
def h5py_swmr_reader(path: Path) -> Iterator[subprocess.Popen[str]]:
    """h5py (HDF5 2.x) with ``path`` open, ``swmr=True``, until the block ends: libhdf5's
    readers hold a shared lock for as long as the file is open."""
    reader = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None
        line = reader.stdout.readline().strip()
        if line != "open":
            reader.kill()
            raise AssertionError(f"h5py did not open {path}: {reader.communicate(timeout=10)[1]}")
        yield reader
    finally:
        if reader.poll() is None:
            reader.communicate(timeout=10)  # closes stdin: the reader ends
