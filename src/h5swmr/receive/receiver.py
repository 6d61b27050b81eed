"""Receiver: a ZeroMQ PULL client of a DECTRIS Stream V2 endpoint that writes each series into
SWMR files (``SeriesWriter``).

One thread, one socket, one series open at a time. Every message is decoded and checked in full
before any byte of it reaches a file; a malformed one (bad CBOR, unknown type, a field of the
wrong type, an image that does not fit its series) is counted, logged and dropped, and the
receiver goes on. ``start`` opens a series (closing one left open: its ``end`` never came); an
``image`` of an unknown series opens one too (with several receivers on one PUSH socket only one
of them gets ``start``); ``end`` closes it. A series with no message for ``series_timeout``
seconds is closed as it is. The socket's receive high-water mark bounds what waits in memory
(ZeroMQ then holds the sender back, so frames wait at the detector, not dropped here), and
``max_message_bytes`` bounds one message.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from h5swmr.errors import H5SwmrError, InvalidArgumentError, InvalidStateError, MessageError
from h5swmr.receive import cbor
from h5swmr.receive.messages import EndMessage, ImageMessage, Message, StartMessage, parse
from h5swmr.receive.series import ReceiveOptions, SeriesReport, SeriesWriter

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05
"""How often the loop wakes without messages, to run timeouts and idle flushes."""
MISSING_SHOWN = 10
"""Placeholder rows a summary line names."""
PREFETCH = 4
"""Decoded messages waiting for the writer: bounds the memory between the two threads."""


@dataclass(slots=True)
class ReceiverStats:
    """Totals over every series since the receiver started."""

    messages: int = 0
    malformed: int = 0
    series: list[SeriesReport] = field(default_factory=list)


class Receiver:
    """Connects a PULL socket to ``endpoint`` (``tcp://HOST:PORT``) and writes what arrives.

    ``run()`` loops until ``max_series`` series are closed, ``idle_timeout`` seconds pass
    without a message, or ``stop()`` is called (from another thread or a signal handler).
    """

    def __init__(
        self,
        endpoint: str,
        options: ReceiveOptions,
        *,
        rcvhwm: int = 1000,
        max_message_bytes: int = 1 << 30,
        on_series: Callable[[SeriesReport], None] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.options = options
        self.rcvhwm = rcvhwm
        self.max_message_bytes = max_message_bytes
        self.on_series = on_series
        self.stats = ReceiverStats()
        self._series: SeriesWriter | None = None
        self._stopping = False
        self._pull_error: Exception | None = None

    def stop(self) -> None:
        self._stopping = True

    def run(self, *, max_series: int | None = None, idle_timeout: float | None = None) -> None:
        """Receive and write until a stop condition; the series open at the end is closed.

        Two threads: one takes messages off the socket and decodes them (cbor2 holds the GIL),
        this one writes them (``pwrite`` releases it), with at most ``PREFETCH`` decoded
        messages between; the socket's high-water mark holds the rest back at the sender."""
        import zmq

        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context.instance()
        socket = context.socket(zmq.PULL)
        socket.setsockopt(zmq.RCVHWM, self.rcvhwm)
        socket.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
        socket.setsockopt(zmq.LINGER, 0)
        try:
            socket.connect(self.endpoint)
        except zmq.ZMQError as exc:
            socket.close(linger=0)
            raise InvalidArgumentError(f"endpoint {self.endpoint!r}: {exc}") from None
        inbox: queue.Queue[Message | MessageError] = queue.Queue(maxsize=PREFETCH)
        done = threading.Event()
        puller = threading.Thread(
            target=self._pull, args=(socket, inbox, done), name="h5swmr-receive", daemon=True
        )
        puller.start()
        last_message = time.monotonic()
        try:
            while not self._stopping:
                if max_series is not None and len(self.stats.series) >= max_series:
                    break
                try:
                    decoded = inbox.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    now = time.monotonic()
                    if not puller.is_alive():
                        raise InvalidStateError(
                            f"receive {self.endpoint}: the socket thread stopped"
                        ) from self._pull_error
                    if idle_timeout is not None and now - last_message >= idle_timeout:
                        break
                    self.tick(now)
                    continue
                now = last_message = time.monotonic()
                self._handle_decoded(decoded, now)
        finally:
            done.set()
            puller.join(timeout=10.0)
            if self._series is not None:
                self._close_series(ended=False, now=time.monotonic())

    def _pull(
        self,
        socket: Any,
        inbox: queue.Queue[Message | MessageError],
        done: threading.Event,
    ) -> None:
        """The socket thread: receive, decode, hand over; closes the socket when ``done``."""
        try:
            while not done.is_set():
                if not socket.poll(int(POLL_SECONDS * 1000)):
                    continue
                # zero copy: payloads stay slices of ZeroMQ's buffer until pwrite (scan.py)
                decoded = self._decode(socket.recv(copy=False).buffer)
                while not done.is_set():
                    try:
                        inbox.put(decoded, timeout=POLL_SECONDS)
                        break
                    except queue.Full:
                        continue
        except Exception as exc:  # reported by run(), which sees this thread end
            self._pull_error = exc
            log.exception("receive %s: the socket thread stopped", self.endpoint)
        finally:
            socket.close(linger=0)

    # -- the steps, callable without a socket (run() adds the socket and the threads) ------

    @staticmethod
    def _decode(raw: bytes | memoryview) -> Message | MessageError:
        try:
            return parse(cbor.loads(raw))
        except MessageError as exc:
            return exc

    def handle(self, raw: bytes | memoryview, now: float) -> None:
        """One message off the wire."""
        self._handle_decoded(self._decode(raw), now)

    def _handle_decoded(self, decoded: Message | MessageError, now: float) -> None:
        self.stats.messages += 1
        try:
            if isinstance(decoded, MessageError):
                raise decoded
            self._dispatch(decoded, now)
        except MessageError as exc:
            self.stats.malformed += 1
            if self._series is not None:
                self._series.counts.malformed += 1
            log.warning("malformed message %d dropped: %s", self.stats.messages, exc)

    def tick(self, now: float) -> None:
        """Timeouts and idle flushes, when no message came for a while."""
        series = self._series
        if series is None:
            return
        if now - series.last_activity >= self.options.series_timeout:
            log.warning(
                "series %d: no message for %.1f s and no end; closing it",
                series.series_id,
                self.options.series_timeout,
            )
            self._close_series(ended=False, now=now)
            return
        series.poll(now)

    def _dispatch(self, message: StartMessage | ImageMessage | EndMessage, now: float) -> None:
        current = self._series
        if isinstance(message, StartMessage):
            if current is not None:
                log.warning("series %d: a new start came before its end", current.series_id)
                self._close_series(ended=False, now=now)
            self._open(message.series_id, message.series_unique_id, message, now)
            return
        if current is not None and current.series_id != message.series_id:
            self._close_series(ended=False, now=now)
            current = None
        if isinstance(message, EndMessage):
            if current is None:
                log.info(
                    "end of series %d, which this receiver holds no frames of", message.series_id
                )
                return
            self._close_series(ended=True, now=now)
            return
        if current is None:
            current = self._open(message.series_id, message.series_unique_id, None, now)
        current.add_image(message, now)

    def _open(
        self, series_id: int, unique_id: str, start: StartMessage | None, now: float
    ) -> SeriesWriter:
        series = SeriesWriter(self.options, series_id, unique_id, start)
        series.last_activity = now
        self._series = series
        log.info("series %d (%s) started", series_id, unique_id or "no unique id")
        return series

    def _close_series(self, *, ended: bool, now: float) -> None:
        series, self._series = self._series, None
        if series is None:
            return
        try:
            report = series.close(ended=ended, now=now)
        except H5SwmrError:
            series.abort()
            raise
        self.stats.series.append(report)
        if self.on_series is not None:
            self.on_series(report)


def summary(report: SeriesReport) -> str:
    """One line per series, as the CLI prints it."""
    c = report.counts
    where = report.master.path if report.master else ", ".join(report.files) or "(no file)"
    end = "end" if report.ended else "no end (timeout)"
    shown = report.missing_ids[:MISSING_SHOWN]
    ids = ""
    if shown:
        more = ", ..." if len(report.missing_ids) > len(shown) else ""
        ids = f" (rows {', '.join(map(str, shown))}{more} hold placeholders)"
    return (
        f"series {report.series_id}: {c.received} frames received, {c.written} written, "
        f"{c.missing} missing, {c.late} late, {c.duplicates} duplicate, {c.malformed} malformed "
        f"messages; {end} -> {where}{ids}"
    )
