"""One page of ``h5swmr view``: what it asks to see, and the task that pushes it updates.

Each page has its own sender, woken by the files it shows, so a slow page only slows itself: it
always gets the newest frame at its next update, never a queue of old ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from h5swmr.errors import H5SwmrError, InvalidArgumentError
from h5swmr.view.files import DatasetInfo
from h5swmr.view.frames import Region, Rendered
from h5swmr.view.protocol import Ack, Request, RoiRequest, ViewRequest, parse
from h5swmr.view.watch import FileWatch

log = logging.getLogger(__name__)

SEND_TIMEOUT = 10.0
"""A page that takes longer than this to accept one message is dropped."""
MAX_IN_FLIGHT = 1
"""Frames sent and not yet acknowledged by the page."""
ROI_MAX_LAG = 1000
"""When the ROI falls further behind the writer, older frames are skipped (the plot shows gaps)."""


class SessionHost(Protocol):
    """What a page needs of the server (ViewServer has it; this module never imports it)."""

    watches: list[FileWatch]
    period: float

    async def render(
        self, watch: FileWatch, request: ViewRequest, info: DatasetInfo, index: int
    ) -> Rendered: ...

    def roi_points(
        self, watch: FileWatch, info: DatasetInfo, rect: Region, cut: tuple[int, ...], frames: range
    ) -> tuple[list[list[float | None]], int]: ...


class Session:
    """One page: what it looks at, and the task that pushes it updates at most ``rate`` times a
    second (the newest frame at each update, so a slow page skips frames, never queues them)."""

    def __init__(self, server: SessionHost, ws: web.WebSocketResponse) -> None:
        self.server = server
        self.ws = ws
        self.wake = asyncio.Event()
        self.view: ViewRequest | None = None
        self.roi: Region | None = None
        self.roi_next = 0
        self.roi_key: tuple[Any, ...] = ()
        self._sent_trees: dict[int, int] = {}
        self._sent_status: dict[int, int] = {}
        self._sent_frame: tuple[Any, ...] = ()
        self._watching: tuple[FileWatch, str] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._in_flight = 0
        self._messages = 0

    async def run(self) -> None:
        for watch in self.server.watches:
            watch.listeners.add(self.wake)
        files = [{"index": w.index, "name": w.name, "path": w.path} for w in self.server.watches]
        await self._send_text({"type": "hello", "files": files, "rate": 1 / self.server.period})
        self._sender = asyncio.create_task(self._push())
        self.wake.set()
        async for message in self.ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                self._accept(parse(message.data, len(self.server.watches)))
            except InvalidArgumentError as exc:
                await self._send_text({"type": "error", "message": str(exc)})
            self.wake.set()

    def _accept(self, request: Request) -> None:
        if isinstance(request, Ack):
            self._in_flight = max(0, self._in_flight - 1)
            return
        if isinstance(request, RoiRequest):
            self.roi = request.rect
            self.roi_key = ()
            return
        watch = self.server.watches[request.file]
        if self._watching is not None:
            old_watch, old_path = self._watching
            old_watch.watched[old_path] -= 1
            if old_watch.watched[old_path] <= 0:
                del old_watch.watched[old_path]
        watch.watched[request.dataset] += 1
        self._watching = (watch, request.dataset)
        if self.view is None or (self.view.file, self.view.dataset) != (
            request.file,
            request.dataset,
        ):
            self._sent_status.clear()  # the rates plot follows the dataset now shown
        self.view = request

    async def close(self) -> None:
        for watch in self.server.watches:
            watch.listeners.discard(self.wake)
        if self._watching is not None:
            watch, path = self._watching
            watch.watched[path] -= 1
            if watch.watched[path] <= 0:
                del watch.watched[path]
            self._watching = None
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sender
        with contextlib.suppress(Exception):
            await self.ws.close()

    async def _push(self) -> None:
        period = self.server.period
        last = 0.0
        try:
            while not self.ws.closed:
                await self.wake.wait()
                wait = last + period - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                self.wake.clear()
                started, sent = time.monotonic(), self._messages
                try:
                    await self._update()
                except (ConnectionError, TimeoutError, RuntimeError):
                    raise
                except Exception as exc:  # a bug or an odd file must not silence the page
                    log.exception("view: update failed")
                    await self._send_text({"type": "error", "message": f"server: {exc!r}"})
                if self._messages != sent:  # an update that sent nothing leaves the pace alone
                    # paced by the looks at the file shown (a period apart while frames arrive),
                    # so this page is due again when the next look's frames are there
                    last = (
                        started
                        if self._watching is None
                        else min(started, self._watching[0].looked)
                    )
        except (ConnectionError, TimeoutError, RuntimeError) as exc:
            log.info("view: a page went away: %s", exc)
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def _update(self) -> None:
        for watch in self.server.watches:
            if watch.tree_version and self._sent_trees.get(watch.index) != watch.tree_version:
                self._sent_trees[watch.index] = watch.tree_version
                await self._send_raw(watch.text(("tree", watch.tree_version), watch.tree_message))
            if watch.status_version and self._sent_status.get(watch.index) != watch.status_version:
                self._sent_status[watch.index] = watch.status_version
                shown = self.view.dataset if self.view and self.view.file == watch.index else None
                await self._send_raw(
                    watch.text(("status", watch.status_version, shown), watch.status, shown)
                )
        if self.view is not None:
            await self._send_frame(self.view)

    async def _send_frame(self, request: ViewRequest) -> None:
        watch = self.server.watches[request.file]
        info = watch.infos.get(request.dataset)
        if info is None:
            return  # not polled yet (the next poll wakes this page) or not a dataset
        count = info.frame_count
        if count == 0:
            return
        index = count - 1 if request.frame is None else min(max(request.frame, 0), count - 1)
        key = (request, index, count if request.frame is None else None)
        if key == self._sent_frame:  # a frame looked back at is sent once, not at every count
            return
        if self._in_flight >= MAX_IN_FLIGHT:
            return  # the page's ack wakes this session, and the newest frame goes then
        try:
            rendered = await self.server.render(watch, request, info, index)
        except (H5SwmrError, OSError, IndexError, ValueError) as exc:
            self._sent_frame = key
            await self._send_text({"type": "error", "message": f"{request.dataset}: {exc}"})
            return
        self._sent_frame = key
        self._in_flight += 1
        await self._send(rendered.message)
        if self.roi is not None and rendered.kind == "image" and info.stacked:
            await self._send_roi(watch, info, rendered, self.roi, count)

    async def _send_roi(
        self, watch: FileWatch, info: DatasetInfo, rendered: Rendered, roi: Region, count: int
    ) -> None:
        key = (watch.index, info.path, rendered.slice, roi)
        reset = key != self.roi_key
        if reset:
            self.roi_key, self.roi_next = key, max(0, count - ROI_MAX_LAG)
        if self.roi_next >= count and not reset:
            return
        points, self.roi_next = await watch.call(
            self.server.roi_points, watch, info, roi, rendered.slice, range(self.roi_next, count)
        )
        await self._send_text({"type": "roi", "reset": reset, "points": points})
        if self.roi_next < count:
            self.wake.set()  # more to do at the next update

    async def _send_text(self, message: dict[str, Any]) -> None:
        await self._send_raw(
            json.dumps(message, separators=(",", ":"), allow_nan=False, default=str)
        )

    async def _send_raw(self, text: str) -> None:
        self._messages += 1
        await asyncio.wait_for(self.ws.send_str(text), SEND_TIMEOUT)

    async def _send(self, data: bytes) -> None:
        self._messages += 1
        await asyncio.wait_for(self.ws.send_bytes(data), SEND_TIMEOUT)
