"""``h5swmr view``: watch frames arrive in a browser, from h5swmr's own reader (no libhdf5).

``serve(files)`` starts a read-only web server and blocks; the page it serves shows the tree of
each file, the latest frame (colour maps, contrast, zoom, history), the rates, the writer's state,
a histogram and a ROI plot, all pushed over one WebSocket. Needs the ``view`` extra
(``pip install "h5swmr[view]"``, which brings aiohttp); it is imported only when serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Sequence

from h5swmr.errors import ExtraUnavailableError, InvalidArgumentError

__all__ = ["DEFAULT_NICE", "serve"]

DEFAULT_RATE = 10.0
"""Updates per second sent to each page at most, whatever the writer's rate."""
DEFAULT_NICE = 10
"""How much ``serve`` lowers its priority (``os.nice``): a viewer must never slow acquisition.
With the writer on the same machine and the cores busy, the scheduler then gives the writer
the CPU first and the pages get their frames a little later; 0 keeps the priority as it is."""
DEFAULT_IDLE = True
"""Whether ``serve`` also runs at Linux's idle scheduling class (``SCHED_IDLE``): its threads
then run only on CPU time no other thread wants, and a waking writer thread takes the core back
at once. Nice 10 alone still leaves the server about a tenth of a busy core's time."""


def serve(
    files: Sequence[str | os.PathLike[str]],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    rate: float = DEFAULT_RATE,
    ready: Callable[[str], None] | None = None,
    nice: int = DEFAULT_NICE,
    idle: bool = DEFAULT_IDLE,
) -> None:
    """Serve ``files`` on ``host:port`` (port 0: any free one) until interrupted.

    On any address other than the loopback one a token is required: one is made up unless given,
    and it is part of the URL passed to ``ready`` (default: print it). ``nice`` lowers the
    priority of the calling thread and of every thread the server starts (Linux, ``os.nice``),
    so a writer on the same machine keeps the CPU it needs; 0 leaves it alone. ``idle`` also
    moves them to the idle scheduling class where there is one (Linux ``SCHED_IDLE``; elsewhere
    only ``nice`` applies), so they run only when a core has nothing else to do.
    """
    if nice < 0:
        raise InvalidArgumentError(f"view: nice {nice} must be 0 or more (it only lowers)")
    try:
        from h5swmr.view.server import run_until_stopped
    except ImportError as exc:  # aiohttp missing
        raise ExtraUnavailableError(
            f'h5swmr view needs aiohttp: pip install "h5swmr[view]" ({exc})'
        ) from exc
    lower_priority(nice, idle=idle)
    asyncio.run(
        run_until_stopped(
            [os.fspath(f) for f in files],
            host=host,
            port=port,
            token=token,
            rate=rate,
            ready=ready or (lambda url: print(url, flush=True)),  # noqa: T201
        )
    )


def lower_priority(nice: int, *, idle: bool) -> bool:
    """Lower the calling thread's priority, and so that of the threads it starts afterwards
    (Linux keeps priorities per thread and threads inherit them): ``nice`` more, and with
    ``idle`` the idle scheduling class. True when the idle class was set; where the system has
    none (or refuses it) only the nice value changes."""
    if nice and hasattr(os, "nice"):
        os.nice(nice)
    if not idle or not hasattr(os, "sched_setscheduler") or not hasattr(os, "SCHED_IDLE"):
        return False
    with contextlib.suppress(OSError):  # a seccomp filter, a container's policy
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        return True
    return False
