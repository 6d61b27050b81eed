"""Without the ``view`` extra, ``h5swmr view`` says what to install (no traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.view.processes import child_env

SCRIPT = """
import sys
sys.modules["aiohttp"] = None  # as if aiohttp were not installed
from h5swmr.cli.main import main
sys.exit(main(["view", sys.argv[1]]))
"""


def test_a_missing_aiohttp_names_the_extra(tmp_h5: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_h5)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert 'pip install "h5swmr[view]"' in result.stderr
    assert "Traceback" not in result.stderr


def test_importing_h5swmr_view_does_not_import_aiohttp() -> None:
    code = "import sys, h5swmr, h5swmr.view; sys.exit('aiohttp' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], env=child_env(), timeout=60, check=False)
    assert result.returncode == 0
