"""Every code block of the README runs as written, and what it prints is checked.

The blocks are taken from README.md in order; a block this module does not know fails
``test_every_block_is_checked``, so a new example cannot go untested.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401 - the example writes bitshuffle-LZ4
import numpy as np
import pytest

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
INSTALL_AND_SIMULATE = "pip install . && h5swmr simulate stream.h5"
CI = "bash .ci/run"


def blocks(language: str | None = None) -> list[str]:
    found = re.findall(r"```(\w*)\n(.*?)```", README.read_text(), re.S)
    return [code for lang, code in found if language is None or lang == language]


def test_every_block_is_checked() -> None:
    """Two shell commands and one Python example: each has its test below."""
    assert [code.strip() for code in blocks("sh")] == [INSTALL_AND_SIMULATE, CI]
    assert len(blocks("python")) == 1
    assert len(blocks()) == 3


def test_writer_and_reader_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs verbatim; prints every frame from the first, as the README says right after it."""
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(blocks("python")[0], str(README), "exec"), {})
    assert out.getvalue().splitlines() == [f"{i} {float(i)}" for i in range(100)]
    assert "This prints `0 0.0`, `1 1.0`, ... `99 99.0`" in README.read_text()
    with h5py.File(tmp_path / "stream.h5", "r") as f:
        data = f["/entry/data/data"]
        assert data.shape == (100, 512, 512)
        assert (data[:, 0, 0] == np.arange(100)).all()


def test_simulate_command(tmp_path: Path) -> None:
    """The second half of the first block, with this checkout's code: `pip install .` itself is
    what .ci/run does (into a fresh venv) before the suite runs, so it is not repeated here."""
    command = INSTALL_AND_SIMULATE.split(" && ")[1].split()
    assert command[0] == "h5swmr"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "h5swmr.cli.main", *command[1:]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()  # one summary line; progress goes to stderr
    assert re.fullmatch(
        r"simulate: 100 frames of 256x256 uint16 \(13\.1 MB\) in [\d.]+ s, [\d.]+ MB/s, .*"
        + re.escape(f"-> {tmp_path / 'stream.h5'}"),
        line,
    ), line
    with h5py.File(tmp_path / "stream.h5", "r") as f:
        assert f["/entry/data/data"].shape == (100, 256, 256)


def test_ci_command() -> None:
    """`bash .ci/run` is this suite's own runner, so it is not run from inside it (it would
    recurse); it must exist, parse, and make a fresh venv and run pytest in it."""
    script = ROOT / CI.split()[1]
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
    text = script.read_text()
    assert 'rm -rf "$VENV"' in text
    assert '"$PYTHON" -m venv "$VENV"' in text
    assert '"$PY" -m pytest' in text
