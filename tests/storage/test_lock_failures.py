"""When flock itself fails (ENOLCK, ENOSYS, EOPNOTSUPP), h5swmr decides as libhdf5 does.

No network file system that refuses locks can be mounted here, so the error path is reached with
a real process whose libc ``flock`` fails: a three-line shared library compiled by the test and
loaded with LD_PRELOAD. libhdf5 (h5py, in the same kind of process) is the oracle.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

SHIM = """
#include <errno.h>
#include <stdlib.h>
int flock(int fd, int op) { (void)fd; (void)op; errno = atoi(getenv("FLOCK_ERRNO")); return -1; }
"""

H5SWMR = """
import sys
from h5swmr import SwmrFileWriter, StorageError
try:
    with SwmrFileWriter.create(sys.argv[1]) as w:
        w.create_streaming_dataset("d", "u1", (1,))
        w.start_swmr()
        w.append_frame(0, b"\\x07")
    print("ok")
except StorageError as exc:
    print("refused", exc.errno, exc)
"""

H5PY = """
import sys, h5py
try:
    h5py.File(sys.argv[1], "w").close()
    print("ok")
except OSError:
    print("refused")
"""


@pytest.fixture(scope="module")
def failing_flock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("shim")
    (build / "shim.c").write_text(SHIM)
    library = build / "shim.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(library), str(build / "shim.c")],
        check=True,
        timeout=120,
    )
    return library


def _run(script: str, path: Path, library: Path, err: int, setting: str | None) -> str:
    env = {**os.environ, "LD_PRELOAD": str(library), "FLOCK_ERRNO": str(err)}
    env.pop("HDF5_USE_FILE_LOCKING", None)
    if setting is not None:
        env["HDF5_USE_FILE_LOCKING"] = setting
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize("setting", [None, "TRUE", "BEST_EFFORT", "FALSE"])
@pytest.mark.parametrize("err", [errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP])
def test_lock_failures_as_libhdf5(
    tmp_path: Path, failing_flock: Path, err: int, setting: str | None
) -> None:
    libhdf5 = _run(H5PY, tmp_path / "libhdf5.h5", failing_flock, err, setting)
    ours = _run(H5SWMR, tmp_path / "ours.h5", failing_flock, err, setting)
    assert ours.split()[0] == libhdf5, (ours, libhdf5)
    if ours == "ok":
        assert (tmp_path / "ours.h5").stat().st_size > 0
    else:
        assert ours.split()[1] == str(err)
        assert "HDF5_USE_FILE_LOCKING=" in ours
