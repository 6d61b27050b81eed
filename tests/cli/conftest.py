"""Helpers of the CLI tests: run ``h5swmr`` or a writer in a child process with this source tree."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import h5swmr.cli

SRC = Path(h5swmr.cli.__file__).resolve().parents[2]
WRITER_CHILD = Path(__file__).resolve().parent / "writer_child.py"


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def h5swmr_process(*arguments: str) -> subprocess.Popen[str]:
    """``python -m h5swmr.cli.main ARGUMENTS`` started in a child, stdout and stderr piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "h5swmr.cli.main", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=child_env(),
    )


def run_h5swmr(*arguments: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "h5swmr.cli.main", *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=child_env(),
        check=False,
    )


def start_writer(path: Path, frames: int, mode: str) -> subprocess.Popen[str]:
    """``writer_child.py`` in a child; returns once it printed its first line (ready/closed)."""
    proc = subprocess.Popen(
        [sys.executable, str(WRITER_CHILD), str(path), str(frames), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=child_env(),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line not in ("ready", "closed"):
        proc.kill()
        _, err = proc.communicate(timeout=10)
        pytest.fail(f"writer child said {line!r}: {err}")
    return proc


@pytest.fixture
def held_writer(tmp_h5: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A file with 5 flushed frames that a writer in another process keeps open (SWMR flags set)."""
    proc = start_writer(tmp_h5, 5, "hold")
    try:
        yield tmp_h5, proc
    finally:
        proc.kill()
        proc.communicate(timeout=10)
