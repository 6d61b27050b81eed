"""PartWriter: the writer end of a distributed fan-out, one per Dask actor.

It owns ``SwmrFileWriter`` s on part files (one per segment it takes part in, plus repair parts)
and appends what the client routes to it. Batches carry the position of their first frame in the
part, so batches that arrive out of order (a frame that is a Dask future is appended by a task,
and tasks finish in any order) are held back until the gap before them is filled: a frame never
lands at another position than the one it was routed to. Every ``flush_every`` frames the part is
flushed, and every call returns how many frames are appended and how many are flushed, so the
client knows which frames a crash of this worker could still lose.

Nothing here knows Dask: the client (``distributed.py``) places PartWriters as actors, and the
tests drive one directly as well. Every call holds one lock, so the actor's own thread and a task
on the same worker that appends frames it holds (without a round trip through Dask's RPC) take
turns.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from h5swmr.errors import InvalidArgumentError, InvalidStateError
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.writer.swmr_file_writer import SwmrFileWriter


@dataclass(frozen=True, slots=True)
class PartSpec:
    """What one part file holds: ``dataset`` of frames ``part_dims`` (a whole frame, or one
    writer's stripe of it), compressed by ``pipeline``, flushed every ``flush_every`` frames.
    ``writer_options`` go to ``SwmrFileWriter.create`` (durability, alignment, ...)."""

    path: str
    dataset: str
    dtype: str
    part_dims: tuple[int, ...]
    pipeline: FilterPipeline | None = None
    flush_every: int = 1
    writer_options: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class PartProgress:
    """Frames of one part appended (in order, no gap) and flushed (visible, crash-safe)."""

    path: str
    appended: int
    flushed: int


@dataclass
class _Part:
    spec: PartSpec
    writer: SwmrFileWriter
    appended: int = 0
    flushed: int = 0
    waiting: dict[int, list[object]] = field(default_factory=dict)


class PartWriter:
    """Writes the part files routed to one worker (see the module docstring)."""

    def __init__(self) -> None:
        self._parts: dict[str, _Part] = {}
        self._lock = threading.Lock()

    def where(self) -> tuple[str, int]:
        """Host name and process id of the worker this writer lives in."""
        return socket.gethostname(), os.getpid()

    def open(self, spec: PartSpec) -> PartProgress:
        """Create the part file, its dataset, and start SWMR: readers may follow it at once."""
        with self._lock:
            if spec.path in self._parts:
                raise InvalidStateError(f"part {spec.path!r} is already open on this worker")
            if spec.flush_every < 1:
                raise InvalidArgumentError(f"flush_every {spec.flush_every}: at least 1 frame")
            writer = SwmrFileWriter.create(spec.path, **dict(spec.writer_options))
            try:
                if spec.pipeline is None:
                    writer.create_streaming_dataset(spec.dataset, spec.dtype, spec.part_dims)
                else:
                    writer.create_streaming_dataset_compressed(
                        spec.dataset, spec.dtype, spec.part_dims, spec.pipeline
                    )
                writer.start_swmr()
            except BaseException:
                writer.close()
                raise
            self._parts[spec.path] = _Part(spec, writer)
            return PartProgress(spec.path, 0, 0)

    def append(self, path: str, first: int, items: Sequence[object]) -> PartProgress:
        """Append ``items`` (frames, or pre-compressed chunks as ``bytes``) at positions
        ``first, first + 1, ...`` of the part; a batch past a gap waits for the gap to fill."""
        with self._lock:
            part = self._part(path)
            if first < part.appended or first in part.waiting:
                raise InvalidArgumentError(
                    f"part {path!r}: frames from {first} routed twice ({part.appended} appended)"
                )
            part.waiting[first] = list(items)
            while part.appended in part.waiting:
                for item in part.waiting.pop(part.appended):
                    self._append_one(part, item)
            return self._progress(part)

    def flush(self, path: str) -> PartProgress:
        with self._lock:
            part = self._part(path)
            part.writer.flush()
            part.flushed = part.appended
            return self._progress(part)

    def close(self, path: str) -> PartProgress:
        """Flush and close the part; frames still held back behind a gap are refused."""
        with self._lock:
            part = self._part(path)
            if part.waiting:
                first = min(part.waiting)
                raise InvalidStateError(
                    f"part {path!r}: frames {part.appended}..{first - 1} never arrived"
                )
            part.writer.close()
            part.flushed = part.appended
            del self._parts[path]
            return self._progress(part)

    def close_all(self) -> list[PartProgress]:
        """Close every part this writer holds (shutdown), keeping what is appended."""
        with self._lock:
            done = []
            for path in list(self._parts):
                part = self._parts.pop(path)
                part.writer.close()
                part.flushed = part.appended
                done.append(self._progress(part))
            return done

    def _part(self, path: str) -> _Part:
        try:
            return self._parts[path]
        except KeyError:
            raise InvalidStateError(f"part {path!r} is not open on this worker") from None

    @staticmethod
    def _append_one(part: _Part, item: object) -> None:
        if isinstance(item, bytes | bytearray | memoryview):
            part.writer.append_chunk(0, item)
        else:
            part.writer.append_frame(0, np.asarray(item))
        part.appended += 1
        if part.appended % part.spec.flush_every == 0:
            part.writer.flush()
            part.flushed = part.appended

    @staticmethod
    def _progress(part: _Part) -> PartProgress:
        return PartProgress(part.spec.path, part.appended, part.flushed)
