"""The web server of ``h5swmr view``: aiohttp, one WebSocket per page, read-only.

Why aiohttp: HTTP and WebSocket in one well-kept dependency (no ASGI server beside it), an
asyncio API whose sends wait for the socket to drain (so a slow page slows only itself) and a
heartbeat that notices pages that vanished without closing.

Routes: ``/`` the page, ``/static/NAME`` its modules and style (only the files shipped in the
package, looked up by name in a table, so no path from a request ever reaches the file system),
``/ws`` the WebSocket. Files are named by their position in the list the server was given.
With a token (required when listening beyond the loopback address) every request must carry it,
as ``?token=`` or as the cookie the page receives with ``/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import ipaddress
import logging
import math
import secrets
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web

from h5swmr.errors import InvalidArgumentError
from h5swmr.view.files import DatasetInfo
from h5swmr.view.frames import (
    Region,
    Rendered,
    encode_message,
    finite_range,
    pack,
    plane,
    reduce_line,
    reduce_plane,
    roi_stats,
)
from h5swmr.view.protocol import MAX_MESSAGE, ViewRequest
from h5swmr.view.session import ROI_MAX_LAG, Session
from h5swmr.view.watch import FileWatch

log = logging.getLogger(__name__)

TOKEN_COOKIE = "h5swmr_view_token"
MAX_CLIENTS = 64
"""Pages connected at once; more are refused with 503 so memory and threads stay bounded."""
HEARTBEAT = 10.0
RENDER_CACHE_BYTES = 64 << 20
"""Packed frames kept for pages that ask for the same view (oldest dropped first)."""
POLL_INTERVAL = 0.025
"""Seconds to the first look after one that found no new frame (then longer, up to the update
period: ``watch.QUIET_BACKOFF``). While frames keep arriving the file is looked at once per update
period instead (``FileWatch``)."""
ROI_BUDGET = 0.02
"""Seconds of worker time per update spent on the ROI of frames not shown."""
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def static_files() -> dict[str, tuple[bytes, str]]:
    """Name -> (content, content type) of every file shipped in ``view/static``."""
    table = {}
    for entry in resources.files("h5swmr.view").joinpath("static").iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in CONTENT_TYPES:
            table[entry.name] = (entry.read_bytes(), CONTENT_TYPES[suffix])
    return table


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ViewServer:
    """The application: files, pages, and the ``aiohttp`` runner that serves them."""

    def __init__(
        self,
        files: Sequence[str],
        *,
        token: str | None = None,
        rate: float = 10.0,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        if not files:
            raise InvalidArgumentError("view: give at least one file")
        if not (math.isfinite(rate) and rate > 0):
            raise InvalidArgumentError(f"view: rate {rate!r} must be a number > 0 (per second)")
        self.period = 1.0 / rate
        self.watches = [
            FileWatch(i, str(p), poll_interval, self.period) for i, p in enumerate(files)
        ]
        self.token = token
        self.static = static_files()
        self.sessions: set[Session] = set()
        self._renders: dict[tuple[Any, ...], Rendered] = {}
        self._render_bytes = 0
        self._rendering: dict[tuple[Any, ...], asyncio.Future[Rendered]] = {}
        """Renders under way, so pages asking for the same frame at once share one."""
        self._tasks: list[asyncio.Task[None]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- life cycle ------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=MAX_MESSAGE)
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/ws", self._websocket)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: any free port); returns the page's URL."""
        if self.token is None and not is_loopback(host):
            self.token = secrets.token_urlsafe(24)
        self._runner = web.AppRunner(
            self.app(), handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        shown = host if not host.startswith("0.0.0.0") and host != "::" else _hostname()
        if ":" in shown:
            shown = f"[{shown}]"
        self.url = f"http://{shown}:{bound[1]}/"
        if self.token:
            self.url += f"?token={quote(self.token)}"
        for watch in self.watches:
            self._tasks.append(asyncio.create_task(self._run_watch(watch)))
        return self.url

    @property
    def port(self) -> int:
        return int(urlsplit(self.url).port or 0)

    async def _run_watch(self, watch: FileWatch) -> None:
        while True:
            try:
                await watch.run()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop the file's updates for good
                log.exception("view: polling %s failed; retrying", watch.path)
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for session in list(self.sessions):
            await session.close()
        if self._runner is not None:
            await self._runner.cleanup()
        for watch in self.watches:
            await watch.close()

    # -- HTTP ------------------------------------------------------------------------------------

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if self.token is not None:
            given = request.query.get("token") or request.cookies.get(TOKEN_COOKIE) or ""
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                raise web.HTTPForbidden(text="h5swmr view: this page needs the token in its URL")
        response = await handler(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    async def _index(self, request: web.Request) -> web.StreamResponse:
        body, content_type = self.static["index.html"]
        response = web.Response(body=body, content_type=content_type, charset="utf-8")
        if self.token is not None:
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="Strict")
        return response

    async def _static(self, request: web.Request) -> web.StreamResponse:
        found = self.static.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound(text="h5swmr view: no such file")
        return web.Response(body=found[0], content_type=found[1], charset="utf-8")

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            raise web.HTTPForbidden(text="h5swmr view: WebSocket from another site")
        if len(self.sessions) >= MAX_CLIENTS:
            raise web.HTTPServiceUnavailable(text=f"h5swmr view: {MAX_CLIENTS} pages already")
        ws = web.WebSocketResponse(
            heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE, compress=False, autoping=True
        )
        await ws.prepare(request)
        session = Session(self, ws)
        self.sessions.add(session)
        try:
            await session.run()
        finally:
            self.sessions.discard(session)
            await session.close()
        return ws

    # -- frames ----------------------------------------------------------------------------------

    async def render(
        self, watch: FileWatch, request: ViewRequest, info: DatasetInfo, index: int
    ) -> Rendered:
        """The frame reduced for ``request``; computed once for all pages asking the same."""
        key: tuple[Any, ...] = (watch.index, info.path, info.shape[1:], index, request.region)
        key += (request.size, request.slice)
        found = self._renders.get(key)
        if found is not None:
            return found
        pending = self._rendering.get(key)
        if pending is None:  # the first page to ask: the others wait for the same result
            arrival = watch.arrival(info.path, index)
            pending = asyncio.ensure_future(
                watch.call(self._render, watch, request, info, (index, arrival))
            )
            self._rendering[key] = pending
            pending.add_done_callback(functools.partial(self._rendered, key))
        # shielded: a page that goes away mid-render does not cancel it for the others
        return await asyncio.shield(pending)

    def _rendered(self, key: tuple[Any, ...], done: asyncio.Future[Rendered]) -> None:
        """Keep a finished render for later pages (errors are raised to each waiting page)."""
        del self._rendering[key]
        if done.cancelled() or done.exception() is not None:
            return
        rendered = done.result()
        self._renders[key] = rendered
        self._render_bytes += len(rendered.message)
        while self._render_bytes > RENDER_CACHE_BYTES and len(self._renders) > 1:
            self._render_bytes -= len(self._renders.pop(next(iter(self._renders))).message)

    @staticmethod
    def _render(
        watch: FileWatch, request: ViewRequest, info: DatasetInfo, at: tuple[int, float | None]
    ) -> Rendered:
        index, arrival = at
        frame = watch.read_frame(info, index)
        cut, chosen = plane(frame, request.slice)
        if cut.ndim == 2:
            reduced = reduce_plane(cut, request.region or Region.whole(cut.shape), request.size)
            kind = "image"
        else:
            reduced, kind = reduce_line(cut, request.size[1]), "line"
        low, high = finite_range(reduced.data)
        header = {
            "type": "frame",
            "file": request.file,
            "dataset": request.dataset,
            "index": index,
            "count": info.frame_count,
            "stacked": info.stacked,
            "time": arrival,
            "sent": time.time(),
            "dtype": str(info.dtype),
            "shape": list(frame.shape),
            "kind": kind,
            "slice": list(chosen),
            "region": reduced.region.as_list(),
            "step": reduced.step,
            "dims": list(reduced.data.shape),
            "min": low,
            "max": high,
        }
        packed = pack(reduced, frame.dtype, low, high)
        return Rendered(kind, chosen, encode_message(header, packed))

    @staticmethod
    def roi_points(
        watch: FileWatch, info: DatasetInfo, rect: Region, cut: tuple[int, ...], frames: range
    ) -> tuple[list[list[float | None]], int]:
        """(index, sum, mean) of the ROI for ``frames`` as far as the time budget allows (worker
        thread); returns the points and the next frame to do."""
        start, stop = frames.start, frames.stop
        deadline = time.monotonic() + ROI_BUDGET
        points: list[list[float | None]] = []
        index = max(start, stop - ROI_MAX_LAG)
        while index < stop:
            image, _ = plane(watch.read_frame(info, index), cut)
            if image.ndim != 2:
                return points, stop
            total, mean = roi_stats(image, rect.clipped(image.shape))
            points.append([index, _finite(total), _finite(mean)])
            index += 1
            if time.monotonic() >= deadline:
                break
        return points, index


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _hostname() -> str:
    return socket.getfqdn()


async def run_until_stopped(
    files: Sequence[str],
    *,
    host: str,
    port: int,
    token: str | None,
    rate: float,
    ready: Callable[[str], None],
) -> None:
    server = ViewServer(files, token=token, rate=rate)
    await server.start(host, port)
    stopped = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows or off-main
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    try:
        ready(server.url)
        await stopped.wait()  # SIGTERM (a service manager) ends it cleanly; Ctrl-C too
    finally:
        await server.stop()
