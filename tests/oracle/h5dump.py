"""Debian's hdf5-tools (HDF5 1.10) as a judge of closed files: ``h5dump -H`` and ``h5dump -b``.

h5dump does not open files for SWMR reading, so it refuses a live or crashed file (flags 0x05):
that refusal is an :class:`H5dumpError`, as is a missing ``h5dump`` (install ``hdf5-tools``).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

TIMEOUT = 120.0


class H5dumpError(RuntimeError):
    """h5dump is missing, failed, or reported an error."""


def _h5dump() -> str:
    found = shutil.which("h5dump")
    if found is None:
        raise H5dumpError("h5dump not found: install Debian's hdf5-tools (bash .ci/run does)")
    return found


def _run(arguments: Sequence[str]) -> subprocess.CompletedProcess[str]:
    command = [_h5dump(), *arguments]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise H5dumpError(f"{' '.join(command)} timed out after {TIMEOUT} s") from exc
    # h5dump 1.10 reports some failures only on stderr, with exit code 0
    if done.returncode != 0 or "h5dump error" in done.stderr or "h5dump error" in done.stdout:
        raise H5dumpError(
            f"{' '.join(command)} failed (exit {done.returncode}):\n"
            f"{done.stderr}{done.stdout[-2000:]}"
        )
    return done


def h5dump_version() -> str:
    """The version h5dump reports, e.g. ``"1.10.8"``."""
    return _run(["--version"]).stdout.split()[-1]


def h5dump_header(path: str | os.PathLike[str], *, properties: bool = True) -> str:
    """``h5dump -H [-p] path``: the object tree without data, as text.

    With ``properties`` (``-p``) it also shows chunking, filters, fill value and storage layout.
    """
    flags = ["-H", "-p"] if properties else ["-H"]
    return _run([*flags, os.fspath(path)]).stdout


def h5dump_data(
    path: str | os.PathLike[str],
    dataset: str,
    dtype: npt.DTypeLike,
    shape: Sequence[int],
) -> np.ndarray[Any, Any]:
    """The data of ``dataset`` as h5dump 1.10 reads it (``h5dump -d NAME -b LE -o out.bin``).

    ``dtype`` and ``shape`` are what the caller expects; the bytes h5dump writes are interpreted as
    little-endian ``dtype`` and must fill ``shape`` exactly.
    """
    want = np.dtype(dtype).newbyteorder("<")
    with tempfile.TemporaryDirectory(prefix="h5swmr-h5dump-") as out_dir:
        out = Path(out_dir) / "data.bin"
        _run(["-d", dataset, "-b", "LE", "-o", str(out), os.fspath(path)])
        raw = out.read_bytes() if out.exists() else b""
    expected_nbytes = math.prod(shape) * want.itemsize
    if len(raw) != expected_nbytes:
        raise H5dumpError(
            f"h5dump -d {dataset} {path}: {len(raw)} bytes, expected {expected_nbytes} "
            f"({'x'.join(map(str, shape))} {want.str})"
        )
    return np.frombuffer(raw, dtype=want).reshape(tuple(shape)).copy()


def h5dump_text(path: str | os.PathLike[str], dataset: str) -> str:
    """``h5dump -d dataset path``: type, dataspace, attributes and values as text (for what
    ``-b`` cannot write, such as enums and variable-length strings)."""
    return _run(["-d", dataset, os.fspath(path)]).stdout
