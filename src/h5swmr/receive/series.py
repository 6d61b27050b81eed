"""SeriesWriter: one detector series (``start`` .. ``end``) into SWMR part files.

Layout of every part (NeXus, ``nexus=True``): one streaming dataset per channel in
``/entry/instrument/detector`` (linked from ``/entry/data``), and beside them the per-frame
datasets ``image_id``, ``start_time``, ``stop_time``, ``real_time`` (seconds) and ``received``
(1: the frame arrived; 0: a placeholder for a missing one), appended as metadata of the first
channel's frame, so a reader never sees a frame before its id. The ``start`` message's metadata
go to NXdetector/NXbeam fields (datasets), its tables to datasets (``metadata.py``).

The file is created at the first ``image`` (the payloads say which filter the datasets need:
bitshuffle-LZ4 and LZ4 payloads are stored verbatim with ``append_chunk``; raw ones go through
the configured pipeline). A payload that cannot be stored verbatim (another filter, another
element size, column-major) is decoded and appended as a frame.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from h5swmr.errors import InvalidArgumentError, MessageError
from h5swmr.filters.lz4 import WHOLE_CHUNK
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.receive.cbor import Compressed, MultiDimArray
from h5swmr.receive.master import (
    MasterReport,
    find_parts,
    master_lock,
    master_tree,
    write_merged_master,
)
from h5swmr.receive.messages import ImageMessage, StartMessage
from h5swmr.receive.metadata import start_tables, write_start_metadata
from h5swmr.receive.reorder import Released, ReorderBuffer
from h5swmr.scaleout import VirtualDataset, run_mapping, write_master
from h5swmr.scaleout.master import vds_literal, vds_source_name
from h5swmr.writer.swmr_file_writer import SwmrFileWriter

log = logging.getLogger(__name__)

DETECTOR: Final = "/entry/instrument/detector"
IMAGE_ID: Final = f"{DETECTOR}/image_id"
RECEIVED: Final = f"{DETECTOR}/received"
TIMES: Final = ("start_time", "stop_time", "real_time")
MISSING_KEPT: Final = 1000
"""Ids of placeholder rows a report lists (the ``received`` dataset has them all)."""
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")
_GLOB_FIELDS: Final = re.compile(r"\{(receiver|part)(:[^{}]*)?\}")


@dataclass(frozen=True, slots=True)
class ReceiveOptions:
    """How a receiver writes series.

    ``output``: file name template with ``{series_id}`` (and ``{series_unique_id}``), plus
    ``{part}`` when ``frames_per_file`` rolls over and ``{receiver}`` when ``receivers`` > 1.
    ``master``: the VDS master's template (default: ``output`` with its ``{receiver}``/``{part}``
    fields replaced by "master"). ``pipeline``: filters for raw (uncompressed) payloads.
    ``reorder_frames``/``reorder_timeout``: the reorder window (frames held, seconds a gap waits).
    ``series_timeout``: a series with no message for that long is closed (no ``end`` came).
    ``flush_every``/``flush_interval``: a flush once this many frames wait, or once the oldest
    waited this long (default 100 frames, 0.1 s: a live view at 10 Hz; a flush per frame costs
    a commit of every per-frame dataset, and halved the benchmark's frame rate).
    ``verify``: decode every compressed payload before storing it (slower; catches payloads
    whose framing declares the right size but whose body is corrupt).
    """

    output: str
    master: str | None = None
    frames_per_file: int | None = None
    receiver: int = 0
    receivers: int = 1
    pipeline: FilterPipeline | None = None
    reorder_frames: int = 16
    reorder_timeout: float = 1.0
    series_timeout: float = 10.0
    flush_every: int = 100
    flush_interval: float = 0.1
    verify: bool = False
    workers: int | None = None

    def __post_init__(self) -> None:
        fields = {"series_id": 0, "series_unique_id": "u", "receiver": 0, "part": 0}
        try:
            self.output.format(**fields)
            if self.master is not None:
                self.master.format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            raise InvalidArgumentError(
                f"output template {self.output!r}: {exc!r}; fields are {{series_id}}, "
                "{series_unique_id}, {receiver}, {part}"
            ) from None
        if self.frames_per_file is not None and (
            self.frames_per_file < 1 or "{part" not in self.output
        ):
            raise InvalidArgumentError(
                f"frames_per_file {self.frames_per_file}: needs >= 1 and a {{part}} field in "
                f"{self.output!r}"
            )
        if self.receivers < 1 or not 0 <= self.receiver < self.receivers:
            raise InvalidArgumentError(f"receiver {self.receiver} of {self.receivers}")
        if self.receivers > 1 and "{receiver" not in self.output:
            raise InvalidArgumentError(
                f"{self.receivers} receivers: {self.output!r} needs a {{receiver}} field"
            )
        if self.reorder_frames < 0 or self.reorder_timeout < 0 or self.series_timeout <= 0:
            raise InvalidArgumentError("reorder window and timeouts must be positive")

    @property
    def uses_master(self) -> bool:
        return self.frames_per_file is not None or self.receivers > 1

    def master_template(self) -> str:
        if self.master is not None:
            return self.master
        spans = list(_GLOB_FIELDS.finditer(self.output))
        return self.output[: spans[0].start()] + "master" + self.output[spans[-1].end() :]


@dataclass(slots=True)
class SeriesCounts:
    """What happened to one series' frames (stored in its last part and printed at its end)."""

    received: int = 0
    written: int = 0
    gaps: int = 0
    late: int = 0
    duplicates: int = 0
    malformed: int = 0
    missing: int = 0


@dataclass(slots=True)
class SeriesReport:
    series_id: int
    files: list[str]
    master: MasterReport | None
    counts: SeriesCounts
    ended: bool
    missing_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Frame:
    """One image, checked and ready to write: per channel a verbatim chunk or an array."""

    parts: tuple[bytes | memoryview | np.ndarray[Any, Any], ...]
    times: tuple[float, float, float]


class SeriesWriter:
    """Writes one series; ``add_image`` raises ``MessageError`` (changing nothing) for an image
    that does not fit the series."""

    def __init__(
        self, options: ReceiveOptions, series_id: int, unique_id: str, start: StartMessage | None
    ) -> None:
        self._tables = start_tables(start) if start is not None else []  # a bad one: no series
        self.options = options
        self.series_id = series_id
        self.unique_id = unique_id
        self.start = start
        self.counts = SeriesCounts()
        self.files: list[str] = []
        self.last_activity = 0.0
        self._fill = options.receivers == 1
        self._reorder: ReorderBuffer[_Frame] = ReorderBuffer(
            max_frames=options.reorder_frames,
            timeout=options.reorder_timeout,
            fill_gaps=self._fill,
        )
        self._channels: tuple[str, ...] = start.channels if start else ()
        self._dtype: np.dtype[Any] | None = start.dtype if start else None
        self._dims: tuple[int, ...] = start.frame_dims if start else ()
        self._modes: list[str] = []  # per channel: "bslz4", "lz4" or "raw"
        self._writer: SwmrFileWriter | None = None
        self._channel_refs: tuple[int, ...] = ()
        self._metadata_refs: tuple[int, ...] = ()
        """Dataset numbers of the open part (channels; image_id, received, times): a number
        is found without parsing a path, which every frame would otherwise pay six times."""
        self._rows_in_part = 0
        self._unflushed = 0
        self._last_flush = 0.0
        self._gap_frames: list[np.ndarray[Any, Any]] = []
        self._missing_ids: list[int] = []

    # -- frames ----------------------------------------------------------------------------

    def add_image(self, image: ImageMessage, now: float) -> None:
        self.last_activity = now
        if not self._modes:
            self._adopt_layout(image)
        frame = self._prepare(image)
        self.counts.received += 1
        before = (self._reorder.late, self._reorder.duplicates)
        released = self._reorder.push(image.image_id, frame, now)
        if (self._reorder.late, self._reorder.duplicates) != before:
            log.warning(
                "series %d: image %d came after its row was written (or twice); not written",
                self.series_id,
                image.image_id,
            )
        self._write_rows(released, now)

    def poll(self, now: float) -> None:
        """Release frames whose reorder wait is over; flush what waited too long."""
        self._write_rows(self._reorder.poll(now), now)
        if self._unflushed and now - self._last_flush >= self.options.flush_interval:
            self._flush(now)

    def close(self, *, ended: bool, now: float) -> SeriesReport:
        """Write what is held (gaps between), store the counts, close, write the master."""
        self._write_rows(self._reorder.drain(), now)
        counts = self.counts
        counts.gaps, counts.late = self._reorder.gaps, self._reorder.late
        counts.duplicates = self._reorder.duplicates
        counts.missing = counts.gaps
        number = self.start.number_of_images if self.start else None
        if self._fill and number is not None and self._reorder.next_id < number:
            counts.missing += number - self._reorder.next_id  # never sent, or lost at the end
        if self._writer is not None:
            self._store_counts(self._writer, ended)
            self._writer.close()
            self._writer = None
        master = None
        if self.options.uses_master and self.files:
            master = self._final_master()
            if not self._fill:
                counts.missing = master.missing
        return SeriesReport(
            self.series_id, list(self.files), master, counts, ended, list(self._missing_ids)
        )

    def abort(self) -> None:
        """Close without writing what is held (the receiver is going down on an error)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # -- layout ----------------------------------------------------------------------------

    def _adopt_layout(self, image: ImageMessage) -> None:
        """Channels, dtype and frame shape (from ``start``, else this first image) and how each
        channel's payloads are stored; then the first part file."""
        if not self._channels:
            self._channels = tuple(image.data)
        for name in self._channels:
            if not _NAME.match(name) or name in {"image_id", "received", *TIMES}:
                raise MessageError(f"channel name {name!r} cannot name a dataset", field="data")
        first = image.data.get(self._channels[0])
        if first is None:
            raise MessageError(f"image without channel {self._channels[0]!r}", field="data")
        if self._dtype is None:
            dtype = first.array.dtype
            if dtype.kind not in "ui":
                raise MessageError(f"image dtype {dtype}: not an integer type", field="data")
            self._dtype = dtype.newbyteorder("<")
            self._dims = first.dims
        modes = []
        for name in self._channels:
            array = image.data.get(name)
            payload = array.array.payload if array is not None else None
            modes.append(payload.algorithm if isinstance(payload, Compressed) else "raw")
        self._modes = modes
        try:
            self._prepare(image)  # refuse a bad first image before any file exists
        except MessageError:
            self._modes = []
            raise

    def _pipeline(self, mode: str) -> FilterPipeline | None:
        if mode == "bslz4":
            return FilterPipeline.bitshuffle_lz4()
        if mode == "lz4":
            # the detector's chunks are stored as sent, one block per frame: cd_values (0,)
            return FilterPipeline.lz4(WHOLE_CHUNK)
        return self.options.pipeline

    def _template_fields(self, part: int) -> dict[str, object]:
        return {
            "series_id": self.series_id,
            "series_unique_id": self.unique_id,
            "receiver": self.options.receiver,
            "part": part,
        }

    def _open_part(self) -> SwmrFileWriter:
        part = len(self.files)
        path = self.options.output.format(**self._template_fields(part))
        assert self._dtype is not None
        tables = self._tables if part == 0 else []
        writer = SwmrFileWriter.create(
            path, nexus=True, workers=self.options.workers, create_dirs=True
        )
        try:
            for name, mode in zip(self._channels, self._modes, strict=True):
                pipeline = self._pipeline(mode)
                if pipeline is None:
                    writer.create_streaming_dataset(name, self._dtype, self._dims)
                else:
                    writer.create_streaming_dataset_compressed(
                        name, self._dtype, self._dims, pipeline
                    )
            writer.create_streaming_dataset_chunked(IMAGE_ID, "<i8", (), (1024,))
            writer.create_streaming_dataset_chunked(RECEIVED, "u1", (), (1024,))
            for name in TIMES:
                writer.create_streaming_dataset_chunked(f"{DETECTOR}/{name}", "<f8", (), (1024,))
                writer.set_attribute(f"{DETECTOR}/{name}", "units", "s")
            writer.set_attribute("/entry", "series_id", self.series_id)
            writer.set_attribute("/entry", "series_unique_id", self.unique_id)
            writer.set_attribute("/entry", "part", part)
            writer.set_attribute("/entry", "receiver", self.options.receiver)
            if self.start is not None:
                write_start_metadata(writer, self.start, tables)
            writer.start_swmr()
            self._channel_refs = tuple(
                writer.dataset_index(f"{DETECTOR}/{name}") for name in self._channels
            )
            self._metadata_refs = tuple(
                writer.dataset_index(path)
                for path in (IMAGE_ID, RECEIVED, *(f"{DETECTOR}/{name}" for name in TIMES))
            )
        except BaseException:
            writer.close()
            raise
        self.files.append(path)
        self._rows_in_part = 0
        if self.options.frames_per_file is not None and self._fill:
            self._live_master()
        return writer

    # -- writing ---------------------------------------------------------------------------

    def _prepare(self, image: ImageMessage) -> _Frame:
        """Check every channel of ``image`` against the series before anything is written."""
        assert self._dtype is not None
        if set(image.data) != set(self._channels):
            raise MessageError(
                f"image {image.image_id}: channels {sorted(image.data)}, the series has "
                f"{list(self._channels)}",
                field="data",
            )
        nbytes = int(np.prod(self._dims)) * self._dtype.itemsize
        parts: list[bytes | memoryview | np.ndarray[Any, Any]] = []
        for name, mode in zip(self._channels, self._modes, strict=True):
            array: MultiDimArray = image.data[name]
            where = f"image {image.image_id} channel {name!r}"
            if array.dims != self._dims:
                raise MessageError(f"{where}: dims {array.dims}, expected {self._dims}")
            dtype = array.array.dtype
            if dtype.kind != self._dtype.kind or dtype.itemsize != self._dtype.itemsize:
                raise MessageError(f"{where}: dtype {dtype}, the series has {self._dtype}")
            payload = array.array.payload
            verbatim = (
                isinstance(payload, Compressed)
                and payload.algorithm == mode
                and not array.column_major
                and (dtype.byteorder != ">" or dtype.itemsize == 1)
                and (mode != "bslz4" or payload.modifier == dtype.itemsize)
            )
            if verbatim:
                assert isinstance(payload, Compressed)
                declared = payload.declared_size()
                if declared != nbytes:
                    raise MessageError(
                        f"{where}: {payload.algorithm} payload declares {declared} bytes, the "
                        f"frame is {nbytes} ({'x'.join(map(str, self._dims))} {self._dtype})"
                    )
                if self.options.verify and len(payload.decompress()) != nbytes:
                    raise MessageError(f"{where}: payload does not decode to {nbytes} bytes")
                parts.append(payload.data)
            else:
                frame = array.to_numpy()
                if frame.nbytes != nbytes:
                    raise MessageError(f"{where}: {frame.nbytes} bytes, expected {nbytes}")
                parts.append(np.ascontiguousarray(frame, dtype=self._dtype))
        return _Frame(tuple(parts), (image.start_time, image.stop_time, image.real_time))

    def _write_rows(self, released: list[Released[_Frame]], now: float) -> None:
        for row in released:
            self._write_row(row)
            self._unflushed += 1
            if (
                self._unflushed >= self.options.flush_every
                or now - self._last_flush >= self.options.flush_interval
            ):
                self._flush(now)

    def _write_row(self, row: Released[_Frame]) -> None:
        limit = self.options.frames_per_file
        if self._writer is not None and limit is not None and self._rows_in_part >= limit:
            self._writer.flush()
            self._writer.close()
            self._writer = None
        if self._writer is None:
            self._writer = self._open_part()
        writer = self._writer
        item = row.item
        times = item.times if item is not None else (float("nan"),) * 3
        image_id, received, *time_refs = self._metadata_refs
        metadata: dict[str | int, object] = {
            image_id: np.asarray(row.image_id, "<i8"),
            received: np.asarray(0 if item is None else 1, "u1"),
        }
        for ref, value in zip(time_refs, times, strict=True):
            metadata[ref] = np.asarray(value, "<f8")
        for index, ref in enumerate(self._channel_refs):
            extra = metadata if index == 0 else None
            if item is None:
                writer.append_frame(ref, self._gap_frame(index), extra)
            else:
                part = item.parts[index]
                if isinstance(part, bytes | memoryview):
                    writer.append_chunk(ref, part, metadata=extra)
                else:
                    writer.append_frame(ref, part, extra)
        self._rows_in_part += 1
        if item is None:
            if len(self._missing_ids) < MISSING_KEPT:
                self._missing_ids.append(row.image_id)
            log.warning(
                "series %d: image %d missing; a placeholder row", self.series_id, row.image_id
            )
        else:
            self.counts.written += 1

    def _gap_frame(self, index: int) -> np.ndarray[Any, Any]:
        if not self._gap_frames:
            assert self._dtype is not None
            zeros = np.zeros(self._dims, self._dtype)
            self._gap_frames = [zeros] * len(self._channels)
        return self._gap_frames[index]

    def _flush(self, now: float) -> None:
        if self._writer is not None:
            self._writer.flush()
        self._unflushed = 0
        self._last_flush = now

    def _store_counts(self, writer: SwmrFileWriter, ended: bool) -> None:
        counts = self.counts
        for name in ("received", "written", "gaps", "late", "duplicates", "missing"):
            writer.set_attribute("/entry", f"frames_{name}", int(getattr(counts, name)))
        writer.set_attribute("/entry", "messages_malformed", counts.malformed)
        writer.set_attribute("/entry", "end_received", int(ended))

    # -- masters ---------------------------------------------------------------------------

    def _datasets(self) -> list[tuple[str, np.dtype[Any], tuple[int, ...]]]:
        assert self._dtype is not None
        found: list[tuple[str, np.dtype[Any], tuple[int, ...]]] = [
            (f"{DETECTOR}/{name}", self._dtype, self._dims) for name in self._channels
        ]
        found += [(f"{DETECTOR}/{name}", np.dtype("<f8"), ()) for name in TIMES]
        return found

    def _master_path(self) -> str:
        return self.options.master_template().format(**self._template_fields(0))

    def _live_master(self) -> None:
        """Rollover by one receiver: part p holds frames pN.. exactly, so the master is known
        without reading the parts; the newest part is mapped unlimited so readers follow it."""
        n = self.options.frames_per_file
        assert n is not None
        master = self._master_path()
        last = len(self.files) - 1
        per_frame = [
            *self._datasets(),
            (IMAGE_ID, np.dtype("<i8"), ()),
            (RECEIVED, np.dtype("u1"), ()),
        ]
        tree = master_tree(master, self.files[0], [name for name, _, _ in per_frame])
        datasets = []
        for name, dtype, dims in per_frame:
            mappings = [
                run_mapping(
                    vds_source_name(master, path),
                    vds_literal(name),
                    dims,
                    first_frame=part * n,
                    n_frames=None if part == last else n,
                )
                for part, path in enumerate(self.files)
            ]
            fill = -1 if name == IMAGE_ID else None
            datasets.append(
                VirtualDataset.create(
                    name,
                    dtype,
                    (last * n, *dims),
                    mappings,
                    fillvalue=fill,
                    attrs=tree.dataset_attrs.get(name, ()),
                )
            )
        write_master(master, datasets, tree.links, hard_links=tree.hard_links, groups=tree.groups)

    def _final_master(self) -> MasterReport:
        master = self._master_path()
        number = self.start.number_of_images if self.start else None
        with master_lock(master):
            parts = find_parts(
                self.options.output, series_id=self.series_id, series_unique_id=self.unique_id
            )
            return write_merged_master(
                master,
                parts,
                self._datasets(),
                image_id=IMAGE_ID,
                received=RECEIVED,
                n_frames=number or 0,
            )
