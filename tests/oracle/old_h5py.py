"""Old h5py wheels (HDF5 1.12 and 1.14) in cached venvs, as readers of files we wrote.

Each version lives in its own venv under ``${H5SWMR_TEST_CACHE:-~/.cache/h5swmr-tests}/venvs``,
built once with ``python -m venv`` and pip from PyPI, guarded by a lock file so that parallel test
processes never build the same venv twice. A failed build raises :class:`OldH5pyError`: a missing
oracle is a test failure, never a skip.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tests.oracle.describe import DESCRIBE_SCRIPT, FileDescription, decode_description

OLD_H5PY_VERSIONS: dict[str, tuple[str, ...]] = {
    "3.8.0": ("h5py==3.8.0", "numpy<2"),  # HDF5 1.12.2
    "3.11.0": ("h5py==3.11.0", "numpy<2"),  # HDF5 1.14.2
}
"""Supported old h5py versions and the pip requirements that install each."""

BUILD_TIMEOUT = 900.0
"""Seconds one venv build (or the wait for another process's build) may take."""

_COMPLETE = "h5swmr-complete.json"


class OldH5pyError(RuntimeError):
    """An old-h5py venv could not be built, or its reader script failed."""


def cache_dir() -> Path:
    """Root of the test cache: ``$H5SWMR_TEST_CACHE`` or ``~/.cache/h5swmr-tests``."""
    configured = os.environ.get("H5SWMR_TEST_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "h5swmr-tests"


def venv_dir(version: str) -> Path:
    """Where the venv for ``version`` lives (one per host interpreter version)."""
    tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    return cache_dir() / "venvs" / f"h5py-{version}-{tag}"


def venv_python(version: str) -> Path:
    """The interpreter of the venv for ``version``, building the venv first if needed."""
    if version not in OLD_H5PY_VERSIONS:
        known = ", ".join(OLD_H5PY_VERSIONS)
        raise ValueError(f"old h5py {version!r} is not supported; choose one of {known}")
    root = venv_dir(version)
    python = root / "bin" / "python"
    if (root / _COMPLETE).is_file():
        return python
    root.parent.mkdir(parents=True, exist_ok=True)
    lock_path = root.parent / f"{root.name}.lock"
    with lock_path.open("a") as lock:
        _lock_with_timeout(lock.fileno(), lock_path, BUILD_TIMEOUT)
        try:
            if not (root / _COMPLETE).is_file():  # another process may have built it meanwhile
                _build(version, root)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return python


def _lock_with_timeout(fd: int, lock_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise OldH5pyError(
                    f"timed out after {timeout:.0f} s waiting for {lock_path}"
                ) from None
            time.sleep(0.5)
        else:
            return


def _build(version: str, root: Path) -> None:
    if root.exists():
        shutil.rmtree(root)  # a build that died half-way
    started = time.monotonic()
    _run_build_step([sys.executable, "-m", "venv", str(root)], version)
    python = str(root / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--no-input", "--disable-pip-version-check"]
    _run_build_step([*pip, "--only-binary=:all:", *OLD_H5PY_VERSIONS[version]], version)
    probe = "import json, h5py; print(json.dumps([h5py.__version__, h5py.version.hdf5_version]))"
    out = _run_build_step([python, "-c", probe], version)
    h5py_version, hdf5_version = json.loads(out.strip().splitlines()[-1])
    if h5py_version != version:
        raise OldH5pyError(f"venv {root} has h5py {h5py_version}, wanted {version}")
    info = {
        "h5py": h5py_version,
        "hdf5": hdf5_version,
        "build_seconds": round(time.monotonic() - started, 1),
    }
    (root / _COMPLETE).write_text(json.dumps(info))


def _run_build_step(command: Sequence[str], version: str) -> str:
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise OldH5pyError(f"building the h5py {version} venv timed out: {command}") from exc
    if done.returncode != 0:
        raise OldH5pyError(
            f"building the h5py {version} venv failed (exit {done.returncode}): "
            f"{' '.join(command)}\n--- stdout ---\n{done.stdout[-4000:]}"
            f"\n--- stderr ---\n{done.stderr[-4000:]}"
        )
    return done.stdout


def build_info(version: str) -> dict[str, Any]:
    """What the build recorded: h5py and HDF5 versions and the build time in seconds."""
    venv_python(version)
    info: dict[str, Any] = json.loads((venv_dir(version) / _COMPLETE).read_text())
    return info


def describe_with(
    version: str,
    path: str | os.PathLike[str],
    *,
    swmr: bool = False,
    export: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> FileDescription:
    """Open ``path`` with old h5py ``version`` and describe every object in it.

    ``export`` names datasets whose full arrays come back in the result's ``"arrays"``.
    See :mod:`oracle.describe` for the shape of the result.
    """
    return run_describe(
        venv_python(version), path, swmr=swmr, export=export, env=env, timeout=timeout
    )


def describe_current(
    path: str | os.PathLike[str],
    *,
    swmr: bool = False,
    export: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 120.0,
) -> FileDescription:
    """As :func:`describe_with`, with this interpreter's h5py (HDF5 2.x), in a child process."""
    python = Path(sys.executable)
    return run_describe(python, path, swmr=swmr, export=export, env=env, timeout=timeout)


def run_describe(
    python: Path,
    path: str | os.PathLike[str],
    *,
    swmr: bool,
    export: Sequence[str],
    env: Mapping[str, str] | None,
    timeout: float,
) -> FileDescription:
    """Run the describe script with ``python`` and decode its JSON (and exported arrays)."""
    with tempfile.TemporaryDirectory(prefix="h5swmr-describe-") as out_dir:
        request = {
            "path": os.fspath(path),
            "swmr": swmr,
            "export": list(export),
            "out_dir": out_dir,
        }
        child_env = {**os.environ, **(env or {})}
        child_env.pop("PYTHONPATH", None)  # never let the old venv see this interpreter's packages
        try:
            done = subprocess.run(
                [str(python), "-c", DESCRIBE_SCRIPT, json.dumps(request)],
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                env=child_env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise OldH5pyError(f"{python} timed out after {timeout} s describing {path}") from exc
        if done.returncode != 0:
            raise OldH5pyError(
                f"{python} could not describe {path} (exit {done.returncode}):\n"
                f"{done.stderr[-4000:]}"
            )
        description = decode_description(done.stdout)
        arrays: dict[str, np.ndarray[Any, Any]] = {}
        for name, file_name in description["exported"].items():
            arrays[name] = np.load(Path(out_dir) / file_name, allow_pickle=False)
        description["arrays"] = arrays
        return description
