"""Fan-out on a Dask cluster: K writer actors, each writing its own SWMR part file, one VDS master.

``DistributedWriter`` places a ``PartWriter`` actor on each of K workers (``dask.distributed``:
a ``LocalCluster``, ``dask scheduler``/``dask worker`` by hand, dask-jobqueue, SSH; nothing here
depends on which) and routes frames to them, round robin (frame g to writer g mod K) or in stripes
(every writer gets its rows of every frame). Frames are numpy arrays, pre-compressed chunks
(``bytes``, stored verbatim) or Dask futures that produce either; a future is appended by a task on
the actor's own worker, so its data never passes through the client.

The master is written before any part exists, with unlimited mappings, so h5py (``swmr=True`` and
``Dataset.refresh()``) and ``as_dask_array`` follow it while the actors write.

Failure: each lane (one writer's part) keeps the frames it was sent until its actor reports them
flushed, at most ``max_in_flight`` frames plus one flush cadence. When a worker dies, its part file
keeps every flushed frame (read back here to count them exactly); the frames it had not flushed are
written again by a surviving actor into a repair part (mapped frame by frame into the master), or,
if they cannot be had any more, reported lost. The survivors close their parts and go on in new
part files (a new segment of the master), and the master is rewritten. ``close()`` writes the final
master with exact counts and returns a report of every frame routed, written, replayed and lost.

Install with ``pip install "h5swmr[distributed]"``; Dask is imported only here.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from h5swmr.closing import Closing
from h5swmr.errors import (
    DistributedWriterError,
    H5SwmrError,
    InvalidArgumentError,
    InvalidStateError,
)
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.reader import SwmrFileReader
from h5swmr.scaleout.mappings import strided_mapping
from h5swmr.scaleout.master import (
    ExternalLink,
    VirtualDataset,
    part_file_name,
    vds_literal,
    vds_source_name,
    write_master,
)
from h5swmr.scaleout.part_writer import PartProgress, PartSpec, PartWriter
from h5swmr.writer.recover import recover

log = logging.getLogger(__name__)

ROUND_ROBIN = "round_robin"
STRIPES = "stripes"
POLL_SECONDS = 0.5
"""How often a wait for an actor looks whether the actor's worker is still there."""


class _WorkerLostError(Exception):
    """Internal: the worker holding a lane's actor is gone."""


@dataclass(frozen=True, slots=True)
class LaneFailure:
    """A writer lost mid-stream: its part file holds ``frames_in_file`` of its frames."""

    worker: str
    part: str
    frames_in_file: int
    replayed: tuple[int, ...]
    lost: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DistributedReport:
    """What a distributed run wrote: frames routed, the part files, every failure, the frames
    written again after a failure (``replayed``) and those no file holds (``lost``)."""

    master: str
    frames: int
    parts: tuple[str, ...]
    failures: tuple[LaneFailure, ...]

    @property
    def replayed(self) -> tuple[int, ...]:
        return tuple(sorted(f for failure in self.failures for f in failure.replayed))

    @property
    def lost(self) -> tuple[int, ...]:
        return tuple(sorted(f for failure in self.failures for f in failure.lost))


@dataclass
class _Lane:
    """One actor's part in one segment, and the frames sent to it but not yet flushed."""

    worker: str
    actor: Any
    spec: PartSpec
    row_offset: int
    routed: int = 0
    acked: int = 0
    flushed: int = 0
    closed_count: int | None = None
    batch: list[tuple[int, object]] = field(default_factory=list)
    in_flight: deque[tuple[Any, int]] = field(default_factory=deque)
    retained: deque[tuple[int, int, object]] = field(default_factory=deque)

    @property
    def unacked(self) -> int:
        return sum(n for _, n in self.in_flight)


@dataclass
class _Segment:
    """Frames ``first`` onwards, spread over ``lanes`` (until the next segment's first)."""

    first: int
    mode: str
    lanes: list[_Lane]


@dataclass(frozen=True, slots=True)
class _Repair:
    path: str
    part_dims: tuple[int, ...]
    first_frame: int
    stride: int
    count: int
    row_offset: int


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            'DistributedWriter needs dask.distributed: pip install "h5swmr[distributed]"'
        ) from exc
    return distributed


def _append_task(actor: Any, path: str, first: int, rows: slice | None, *items: object) -> Any:
    """A task on the actor's worker: Dask has resolved the futures among ``items``."""
    if rows is not None:
        items = tuple(np.asarray(item)[rows] for item in items)
    local = _local_writer(actor)
    if local is not None:
        return local.append(path, first, list(items))
    return actor.append(path, first, list(items)).result()


def _local_writer(actor: Any) -> PartWriter | None:
    """The actor's PartWriter itself, when this task runs on the actor's worker. A call through
    the actor would pickle every frame to the same process over Dask's RPC (measured here: 200
    frames/s of 2 MiB against 2,270 straight into the PartWriter). Where Dask keeps its actors
    elsewhere (``worker.state.actors`` is not a public API), the call goes through the actor."""
    distributed = _import_distributed()
    try:
        worker = distributed.get_worker()
    except ValueError:
        return None
    if worker.address != getattr(actor, "_address", None):
        return None
    actors = getattr(getattr(worker, "state", None), "actors", None)
    instance = actors.get(actor.key) if isinstance(actors, dict) else None
    return instance if isinstance(instance, PartWriter) else None


def stripe_bounds(height: int, n_writers: int) -> list[tuple[int, int]]:
    """Rows ``(start, stop)`` of each of ``n_writers`` stripes of ``height`` rows: as even as
    can be, the first ``height % n_writers`` stripes one row taller."""
    if not 1 <= n_writers <= height:
        raise InvalidArgumentError(f"{height} rows cannot be cut into {n_writers} stripes")
    base, extra = divmod(height, n_writers)
    bounds, start = [], 0
    for w in range(n_writers):
        stop = start + base + (w < extra)
        bounds.append((start, stop))
        start = stop
    return bounds


class DistributedWriter(Closing):
    """Frames spread over K ``PartWriter`` actors on a Dask cluster (module docstring).

    ``client``: a ``distributed.Client``. ``directory``: where the parts and the master go, on a
    file system every worker and the client see. ``n_writers`` (default: one per worker) actors
    are placed on ``workers`` (default: all) in turn. ``flush_every``: each part is flushed after
    that many of its frames; ``max_in_flight``: frames sent to one actor and not yet appended
    before ``append_frame`` waits; ``batch_frames`` (default ``min(flush_every, max_in_flight)``):
    frames sent to an actor in one message. ``writer_options``: ``SwmrFileWriter.create``'s
    (``durability``, ``alignment_threshold``, ...). ``timeout``: seconds an actor may take to
    answer while its worker lives.
    """

    def __init__(
        self,
        client: Any,
        directory: str | Path,
        *,
        dtype: DTypeLike,
        frame_dims: tuple[int, ...],
        dataset: str = "/entry/data/data",
        n_writers: int | None = None,
        workers: Sequence[str] | None = None,
        mode: str = ROUND_ROBIN,
        pipeline: FilterPipeline | None = None,
        flush_every: int = 1,
        max_in_flight: int = 8,
        batch_frames: int | None = None,
        master: str = "master.h5",
        part_prefix: str = "part",
        writer_options: dict[str, Any] | None = None,
        timeout: float = 120.0,
    ) -> None:
        self._distributed = _import_distributed()
        if mode not in (ROUND_ROBIN, STRIPES):
            raise InvalidArgumentError(f"mode {mode!r}: use {ROUND_ROBIN!r} or {STRIPES!r}")
        if flush_every < 1 or max_in_flight < 1:
            raise InvalidArgumentError(
                f"flush_every {flush_every}, max_in_flight {max_in_flight}: each at least 1"
            )
        self._client = client
        self._directory = Path(directory)
        self._dtype = np.dtype(dtype)
        self._frame_dims = tuple(int(d) for d in frame_dims)
        if not self._frame_dims or min(self._frame_dims) < 1:
            raise InvalidArgumentError(f"frame dims {frame_dims}: at least one, each >= 1")
        self._dataset = dataset
        self._mode = mode
        self._pipeline = pipeline
        self._flush_every = flush_every
        self._max_in_flight = max_in_flight
        self._batch = batch_frames or min(flush_every, max_in_flight)
        if not 1 <= self._batch <= max_in_flight:
            raise InvalidArgumentError(f"batch_frames {batch_frames}: 1 to max_in_flight")
        self._writer_options = tuple(sorted((writer_options or {}).items()))
        self._timeout = timeout
        self._prefix = part_prefix
        self.master_path = str(self._directory / master)
        alive = self._alive_workers()
        placed = list(workers) if workers is not None else sorted(alive)
        if not placed or any(w not in alive for w in placed):
            raise InvalidArgumentError(f"workers {placed}: none, or not in the cluster")
        k = n_writers if n_writers is not None else len(placed)
        if k < 1:
            raise InvalidArgumentError(f"n_writers {n_writers}: at least 1")
        self._next = 0
        self._segments: list[_Segment] = []
        self._repairs: list[_Repair] = []
        self._failures: list[LaneFailure] = []
        self._closed = False
        self._start_segment([(placed[i % len(placed)], None) for i in range(k)], first=0)

    # -- public API -------------------------------------------------------------------------

    @property
    def n_writers(self) -> int:
        return len(self._segments[-1].lanes)

    @property
    def frames_routed(self) -> int:
        return self._next

    @property
    def part_paths(self) -> list[str]:
        parts = [lane.spec.path for s in self._segments for lane in s.lanes]
        return parts + [r.path for r in self._repairs]

    @property
    def frames_held(self) -> int:
        """The most frames the client holds for one writer: sent or batched, not yet flushed
        (kept to be written again if that writer's worker dies). Bounded by ``max_in_flight``
        plus ``flush_every`` plus one batch."""
        return max((len(lane.retained) for lane in self._segments[-1].lanes), default=0)

    @property
    def failures(self) -> tuple[LaneFailure, ...]:
        return tuple(self._failures)

    def worker_for(self, index: int) -> str:
        """The worker that frame ``index`` (not yet routed) will be written on, so that a frame
        can be computed or scattered where it is written (``client.submit(make, i,
        workers=[w.worker_for(i)])``) and never cross the network on its way to the file. A
        worker's loss changes the answer for the frames after it."""
        segment = self._segments[-1]
        if index < self._next:
            raise InvalidArgumentError(f"worker_for({index}): frame {index} is already routed")
        if segment.mode == STRIPES:
            raise InvalidArgumentError("worker_for: in stripes every worker writes every frame")
        return segment.lanes[(index - segment.first) % len(segment.lanes)].worker

    def append_frame(self, frame: object) -> int:
        """Route one frame (array, pre-compressed chunk as ``bytes``, or a Dask future of
        either); returns its index in the master. Waits while its actor is ``max_in_flight``
        frames behind."""
        self._require_open("append_frame")
        if isinstance(frame, bytes | bytearray | memoryview):
            if self._mode == STRIPES:
                raise InvalidArgumentError("pre-compressed chunks cannot be cut into stripes")
            frame = bytes(frame)
        elif not self._is_future(frame):
            array = np.asarray(frame)
            if array.shape != self._frame_dims:
                raise InvalidArgumentError(
                    f"append_frame: shape {array.shape}, expected {self._frame_dims}"
                )
            frame = array
        index = self._next
        self._next += 1
        segment = self._segments[-1]
        local = index - segment.first
        if segment.mode == ROUND_ROBIN:
            k = len(segment.lanes)
            self._route(segment.lanes[local % k], local // k, index, frame)
        else:
            for lane in segment.lanes:
                self._route(lane, local, index, frame)
        return index

    def flush(self) -> None:
        """Every frame routed so far flushed in its part: visible to readers of the master."""
        self._require_open("flush")
        self._settle(close=False)

    def close(self) -> DistributedReport:
        """Flush, close every part, write the final master (exact counts); the report says
        what was written, replayed and lost."""
        if not self._closed:
            self._settle(close=True)
            self._closed = True
            self._write_master(final=True)
        return self.report()

    def report(self) -> DistributedReport:
        return DistributedReport(
            self.master_path, self._next, tuple(self.part_paths), tuple(self._failures)
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self.n_writers} writers"
        return f"<DistributedWriter {self.master_path!r} ({self._next} frames, {state})>"

    # -- routing ----------------------------------------------------------------------------

    def _route(self, lane: _Lane, local: int, index: int, frame: object) -> None:
        lane.batch.append((local, frame))
        lane.retained.append((local, index, frame))
        lane.routed = local + 1
        if len(lane.batch) >= self._batch:
            self._guarded(lane, self._send)

    def _send(self, lane: _Lane) -> None:
        if not lane.batch:
            return
        n = len(lane.batch)
        while lane.in_flight and lane.unacked + n > self._max_in_flight:
            self._wait_oldest(lane)
        while len(lane.retained) > self._max_in_flight + self._flush_every + self._batch:
            if lane.in_flight:
                self._wait_oldest(lane)
            else:
                self._take(
                    lane, self._call(lane, self._start(lane, lane.actor, "flush", lane.spec.path))
                )
        first = lane.batch[0][0]
        items = [item for _, item in lane.batch]
        lane.batch = []
        lane.in_flight.append(
            (self._submit_append(lane, lane.actor, lane.spec.path, first, items), n)
        )

    def _submit_append(
        self, lane: _Lane, actor: Any, path: str, first: int, items: list[object]
    ) -> Any:
        """The actor call that appends ``items`` (``lane``'s stripe of them) at ``first``.
        Futures go through a task on the actor's worker, so their data never visits the
        client; arrays the client holds are cut into the stripe here, before they travel."""
        rows = self._rows(lane)
        if any(self._is_future(item) for item in items):
            return self._start(
                lane,
                self._client,
                "submit",
                _append_task,
                actor,
                path,
                first,
                rows,
                *items,
                workers=[lane.worker],
                allow_other_workers=False,
                pure=False,
            )
        if rows is not None:
            items = [np.asarray(item)[rows] for item in items]
        return self._start(lane, actor, "append", path, first, items)

    def _start(self, lane: _Lane, target: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        """``target.method(*args, **kwargs)``: an actor call, or a task, started for ``lane``.
        Dask refuses at once (even the method's lookup) to call an actor whose worker it
        already knows is gone."""
        try:
            return getattr(target, method)(*args, **kwargs)
        except Exception as exc:
            raise self._failure(lane, exc) from exc

    def _failure(self, lane: _Lane, exc: Exception) -> Exception:
        """What a failed call on ``lane`` means: its worker is gone, or its writer failed."""
        if lane.worker not in self._alive_workers():
            return _WorkerLostError(lane.worker)
        return DistributedWriterError(f"writer on {lane.worker} ({lane.spec.path}): {exc}")

    def _rows(self, lane: _Lane) -> slice | None:
        if self._mode != STRIPES:
            return None
        return slice(lane.row_offset, lane.row_offset + lane.spec.part_dims[0])

    def _wait_oldest(self, lane: _Lane) -> None:
        future, _ = lane.in_flight[0]
        progress = self._call(lane, future)
        lane.in_flight.popleft()
        self._take(lane, progress)

    def _take(self, lane: _Lane, progress: PartProgress) -> None:
        lane.acked = max(lane.acked, progress.appended)
        lane.flushed = max(lane.flushed, progress.flushed)
        while lane.retained and lane.retained[0][0] < lane.flushed:
            lane.retained.popleft()

    def _call(self, lane: _Lane, future: Any) -> PartProgress:
        """The result of an actor call, watching that the actor's worker is still there."""
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                result: PartProgress = future.result(timeout=POLL_SECONDS)
            except TimeoutError:
                if lane.worker not in self._alive_workers():
                    raise _WorkerLostError(lane.worker) from None
                if time.monotonic() > deadline:
                    raise DistributedWriterError(
                        f"writer on {lane.worker} ({lane.spec.path}) did not answer in "
                        f"{self._timeout} s"
                    ) from None
                continue
            except H5SwmrError:
                raise
            except Exception as exc:
                raise self._failure(lane, exc) from exc
            return result

    def _guarded(self, lane: _Lane, step: Any) -> None:
        """Run ``step(lane)``; if the lane's worker is lost, recover and go on."""
        try:
            step(lane)
        except _WorkerLostError:
            self._recover([lane])

    def _settle(self, *, close: bool) -> None:
        """Send every batch, wait for every answer, then flush (or close) every part."""
        while True:
            segment = self._segments[-1]
            lost = []
            for lane in segment.lanes:
                try:
                    self._send(lane)
                    while lane.in_flight:
                        self._wait_oldest(lane)
                    call = "close" if close else "flush"
                    progress = self._call(lane, self._start(lane, lane.actor, call, lane.spec.path))
                    self._take(lane, progress)
                    if close:
                        lane.closed_count = progress.appended
                except _WorkerLostError:
                    lost.append(lane)
            if not lost:
                return
            self._recover(lost)
            if close:  # the survivors' new parts are open: close them on the next pass
                continue
            return

    # -- failure ----------------------------------------------------------------------------

    def _recover(self, lost: list[_Lane]) -> None:
        """Close the segment: count what each lost part holds, let the survivors close their
        parts, write the lost lanes' unflushed frames again on a survivor, go on in new parts."""
        segment = self._segments[-1]
        dead = {id(lane) for lane in lost}
        while True:
            survivors = [lane for lane in segment.lanes if id(lane) not in dead]
            newly_lost = []
            for lane in survivors:
                if lane.closed_count is not None:
                    continue
                try:
                    self._send(lane)
                    while lane.in_flight:
                        self._wait_oldest(lane)
                    progress = self._call(
                        lane, self._start(lane, lane.actor, "close", lane.spec.path)
                    )
                    self._take(lane, progress)
                    lane.closed_count = progress.appended
                except _WorkerLostError:
                    newly_lost.append(lane)
            if not newly_lost:
                break
            dead |= {id(lane) for lane in newly_lost}
            lost += newly_lost
        if not survivors:
            self._closed = True
            for lane in lost:
                self._fail_lane(lane, None)
            self._write_master(final=True)
            raise DistributedWriterError(
                f"every writer is lost ({', '.join(sorted({lane.worker for lane in lost}))}); "
                f"the master {self.master_path} maps what their parts hold"
            )
        for lane in lost:
            self._fail_lane(lane, survivors[len(self._repairs) % len(survivors)])
        self._start_segment([(lane.worker, lane.actor) for lane in survivors], first=self._next)

    def _fail_lane(self, lane: _Lane, helper: _Lane | None) -> None:
        in_file = self._frames_in(lane.spec.path)
        lane.closed_count = in_file
        pending = [(local, index, item) for local, index, item in lane.retained if local >= in_file]
        expected = range(in_file, lane.routed)
        replayed: tuple[int, ...] = ()
        if helper is not None and [p[0] for p in pending] == list(expected) and pending:
            replayed = self._replay(lane, helper, pending)
        covered = set(replayed)
        segment = self._segment_of(lane)
        lost = tuple(
            i
            for i in (self._index_of(segment, lane, local) for local in expected)
            if i not in covered
        )
        failure = LaneFailure(lane.worker, lane.spec.path, in_file, replayed, lost)
        self._failures.append(failure)
        log.warning(
            "writer on %s lost: %s keeps %d frames; %d replayed, %d lost",
            lane.worker,
            lane.spec.path,
            in_file,
            len(replayed),
            len(lost),
        )

    def _replay(
        self, lane: _Lane, helper: _Lane, pending: list[tuple[int, int, object]]
    ) -> tuple[int, ...]:
        """Write ``pending`` into a repair part on ``helper``'s actor; the indices written."""
        path = str(Path(lane.spec.path).with_suffix("")) + "_repair.h5"
        spec = PartSpec(
            path,
            self._dataset,
            lane.spec.dtype,
            lane.spec.part_dims,
            self._pipeline,
            max(1, len(pending)),
            self._writer_options,
        )
        stand_in = _Lane(helper.worker, helper.actor, spec, lane.row_offset)
        try:
            self._call(stand_in, self._start(stand_in, helper.actor, "open", spec))
            items = [item for _, _, item in pending]
            self._call(stand_in, self._submit_append(stand_in, helper.actor, path, 0, items))
            self._call(stand_in, self._start(stand_in, helper.actor, "close", path))
        except (_WorkerLostError, DistributedWriterError) as exc:
            log.warning("replay of %d frames into %s failed: %s", len(pending), path, exc)
            return ()
        segment = self._segment_of(lane)
        k = len(segment.lanes) if segment.mode == ROUND_ROBIN else 1
        first_local = pending[0][0]
        self._repairs.append(
            _Repair(
                path,
                lane.spec.part_dims,
                self._index_of(segment, lane, first_local),
                k,
                len(pending),
                lane.row_offset,
            )
        )
        return tuple(index for _, index, _ in pending)

    def _frames_in(self, path: str) -> int:
        """Frames a lost writer's part file holds (what it flushed before its worker died),
        after ``recover`` has cleared the flags its writer left set: a reader that opens the
        final master without SWMR would otherwise be refused the part and see fill instead."""
        try:
            recover(path)
            with SwmrFileReader.open(path) as reader:
                return reader.shape(self._dataset)[0]
        except (H5SwmrError, OSError) as exc:
            log.warning("part %s of a lost writer cannot be read: %s", path, exc)
            return 0

    # -- segments and the master ------------------------------------------------------------

    def _start_segment(self, workers: list[tuple[str, Any]], *, first: int) -> None:
        """Lanes on ``workers`` (each with the actor it already has, or None for a new one)
        from frame ``first`` on; the master maps them before their parts exist."""
        number = len(self._segments)
        k = len(workers)
        if self._mode == STRIPES:
            bounds = stripe_bounds(self._frame_dims[0], k)
        else:
            bounds = [(0, self._frame_dims[0])] * k
        lanes = []
        for w, ((worker, actor), (top, bottom)) in enumerate(zip(workers, bounds, strict=True)):
            path = str(self._directory / f"{self._prefix}_s{number:03d}_w{w:03d}.h5")
            spec = PartSpec(
                path,
                self._dataset,
                self._dtype.str,
                (bottom - top, *self._frame_dims[1:]),
                self._pipeline,
                self._flush_every,
                self._writer_options,
            )
            lanes.append(_Lane(worker, actor, spec, top))
        self._segments.append(_Segment(first, self._mode, lanes))
        self._write_master(final=False)  # before the parts exist: readers follow at once
        for lane in lanes:
            if lane.actor is None:
                lane.actor = self._new_actor(lane.worker)
        opened = [(lane, self._start(lane, lane.actor, "open", lane.spec)) for lane in lanes]
        for lane, future in opened:
            self._call(lane, future)

    def _new_actor(self, worker: str) -> Any:
        future = self._client.submit(
            PartWriter, actor=True, workers=[worker], allow_other_workers=False, pure=False
        )
        return future.result(timeout=self._timeout)

    def _segment_of(self, lane: _Lane) -> _Segment:
        return next(s for s in self._segments if any(x is lane for x in s.lanes))

    @staticmethod
    def _index_of(segment: _Segment, lane: _Lane, local: int) -> int:
        if segment.mode == STRIPES:
            return segment.first + local
        k = len(segment.lanes)
        position = next(w for w, x in enumerate(segment.lanes) if x is lane)
        return segment.first + position + local * k

    def _write_master(self, *, final: bool) -> None:
        mappings = []
        current = self._segments[-1]
        for segment in self._segments:
            k = len(segment.lanes) if segment.mode == ROUND_ROBIN else 1
            for w, lane in enumerate(segment.lanes):
                count: int | None = lane.closed_count
                if count is None and (final or segment is not current):
                    count = lane.routed
                if count == 0:
                    continue
                mappings.append(
                    strided_mapping(
                        vds_source_name(self.master_path, lane.spec.path),
                        vds_literal(self._dataset),
                        lane.spec.part_dims,
                        first_frame=segment.first + (w if k > 1 else 0),
                        stride=k,
                        n_frames=count,
                        offset=(lane.row_offset, *(0,) * (len(self._frame_dims) - 1)),
                    )
                )
        for repair in self._repairs:
            mappings.append(
                strided_mapping(
                    vds_source_name(self.master_path, repair.path),
                    vds_literal(self._dataset),
                    repair.part_dims,
                    first_frame=repair.first_frame,
                    stride=repair.stride,
                    n_frames=repair.count,
                    offset=(repair.row_offset, *(0,) * (len(self._frame_dims) - 1)),
                )
            )
        frames = self._next if final else current.first
        virtual = VirtualDataset.create(
            self._dataset, self._dtype, (frames, *self._frame_dims), mappings
        )
        links = [
            ExternalLink(f"parts/{Path(p).stem}", part_file_name(self.master_path, p))
            for p in self.part_paths
        ]
        write_master(self.master_path, [virtual], links)

    # -- helpers ----------------------------------------------------------------------------

    def _alive_workers(self) -> set[str]:
        return set(self._client.scheduler_info(n_workers=-1)["workers"])

    def _is_future(self, item: object) -> bool:
        return isinstance(item, self._distributed.Future)

    def _require_open(self, call: str) -> None:
        if self._closed:
            raise InvalidStateError(f"{call}: the distributed writer is closed")
