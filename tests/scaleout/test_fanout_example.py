"""The fan-out example runs: K writer processes, one VDS master, checked against h5py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "fanout.py"


@pytest.mark.parametrize("mode", ["round_robin", "stripes"])
def test_fanout_example(tmp_path: Path, mode: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--workers", "2", "--frames", "120", "--mode", mode,
         "--shape", "32", "48", "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "120 frames checked against h5py" in done.stdout, done.stdout
