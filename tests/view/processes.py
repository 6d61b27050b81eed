"""Writer and server processes for the view tests, started and stopped by the tests themselves."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5swmr

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(h5swmr.__file__).resolve().parents[1]
WRITER = Path(__file__).resolve().parent / "writer_process.py"
_URL = re.compile(r"(http://\S+)")


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), str(ROOT), env.get("PYTHONPATH")]))
    return env


def start_writer(
    path: Path, frames: int, rate: float, end: str, shape: tuple[int, int] = (48, 64)
) -> subprocess.Popen[str]:
    """``writer_process.py`` in a child; returns once the first frame is flushed."""
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(path), str(frames), str(rate), end, *map(str, shape)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=child_env(),
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "ready":
            return proc
    proc.kill()
    _, err = proc.communicate(timeout=10)
    raise AssertionError(f"writer did not start: {err}")


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)


@contextmanager
def writer(
    path: Path, frames: int, rate: float, end: str = "hold"
) -> Iterator[subprocess.Popen[str]]:
    proc = start_writer(path, frames, rate, end)
    try:
        yield proc
    finally:
        stop(proc)


def start_server(
    *arguments: str, timeout: float = 30, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """``h5swmr view ARGUMENTS`` in a child (``env``: variables added to its environment);
    returns it and the URL it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "h5swmr.cli.main", "view", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**child_env(), **(env or {})},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        found = _URL.search(line)
        if found:
            return proc, found.group(1)
        if time.monotonic() > deadline:
            break
    proc.kill()
    _, err = proc.communicate(timeout=10)
    raise AssertionError(f"view server did not start: {err}")
