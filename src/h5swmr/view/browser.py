"""The headless chromium that shows the view page to the tests and to ``benchmarks/bench_view.py``.

One definition of how it is launched (Debian's ``/usr/bin/chromium`` driven by Playwright, no
browser download), so the page the tests check and the page the benchmark times run in the same
browser. The caller brings Playwright: nothing here imports it.
"""

from __future__ import annotations

import os
from typing import Any

CHROMIUM = "/usr/bin/chromium"
"""Debian's chromium; Playwright's own browser download is never used."""
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",  # containers and CI run as root, where chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no traffic but the page's: nothing to wait for offline
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1400, "height": 850}
"""Wide enough for the tree, the frame and the plots side by side."""


def launch_chromium(playwright: Any, profile: str | os.PathLike[str]) -> Any:
    """A headless chromium context (Playwright's ``BrowserContext``) with its profile in
    ``profile``; the caller closes it. ``playwright`` is what ``sync_playwright()`` yields."""
    return playwright.chromium.launch_persistent_context(
        os.fspath(profile),
        executable_path=CHROMIUM,
        args=list(CHROMIUM_ARGS),
        headless=True,
        viewport=dict(VIEWPORT),
    )
