"""RolloverWriter: SwmrFileWriter's streaming API over a series of part files of N frames each,
with one master file presenting every dataset as one virtual dataset.

Frame ``f`` of any dataset goes to part ``f // frames_per_file``. A part file is created (every
dataset defined, SWMR started) when the first frame for it arrives, and closed once every dataset
has filled it. Each time a part starts, the master is rewritten atomically: finished parts are
mapped frame for frame, the newest part through an unlimited mapping, so a libhdf5 reader that
opens the master (``h5py.File(master, "r", swmr=True)``) and calls ``Dataset.refresh()`` follows
the newest part as it grows; after a rollover it must reopen the master to see the next part.
``close`` writes the final master, with exact frame counts and no unlimited mappings.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from h5swmr.closing import Closing
from h5swmr.errors import DatasetNotFoundError, InvalidArgumentError, InvalidStateError
from h5swmr.filters.pipeline import FilterPipeline
from h5swmr.scaleout.mappings import printf_mapping, run_mapping
from h5swmr.scaleout.master import (
    ExternalLink,
    VirtualDataset,
    part_file_name,
    vds_literal,
    vds_source_name,
    write_master,
)
from h5swmr.storage.commit import Durability
from h5swmr.writer.swmr_file_writer import SwmrFileWriter

_FIELD = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True, slots=True)
class _Definition:
    name: str
    dtype: np.dtype
    frame_dims: tuple[int, ...]
    chunk: tuple[int, ...] | None
    pipeline: FilterPipeline | None

    def create_in(self, writer: SwmrFileWriter) -> None:
        if self.chunk is None and self.pipeline is None:
            writer.create_streaming_dataset(self.name, self.dtype, self.frame_dims)
        elif self.chunk is None and self.pipeline is not None:
            writer.create_streaming_dataset_compressed(
                self.name, self.dtype, self.frame_dims, self.pipeline
            )
        elif self.chunk is not None and self.pipeline is None:
            writer.create_streaming_dataset_chunked(
                self.name, self.dtype, self.frame_dims, self.chunk
            )
        elif self.chunk is not None and self.pipeline is not None:
            writer.create_streaming_dataset_chunked_compressed(
                self.name, self.dtype, self.frame_dims, self.chunk, self.pipeline
            )


class RolloverWriter(Closing):
    """Streams frames into ``template.format(0)``, ``template.format(1)``, ... (each holding
    ``frames_per_file`` frames of every dataset) and keeps ``master`` pointing at all of them.

    ``master`` defaults to the template with its number field replaced by "master"
    (``run_{:06d}.h5`` -> ``run_master.h5``). ``links_group`` (None for none) holds one external
    link per part to its root group. ``printf=True`` writes the master once with a printf-style
    mapping (``%b``) that libhdf5 extends to new parts by itself; it needs an unpadded number
    field (``{}`` or ``{:d}``) and shows the newest part's missing frames as fill until written.
    """

    def __init__(
        self,
        template: str | os.PathLike[str],
        frames_per_file: int,
        *,
        master: str | os.PathLike[str] | None = None,
        links_group: str | None = "parts",
        printf: bool = False,
        durability: Durability | str = Durability.NONE,
        workers: int | None = None,
    ) -> None:
        template = os.fspath(template)
        if len(_FIELD.findall(template)) != 1:
            raise InvalidArgumentError(
                f"RolloverWriter: template {template!r} needs exactly one {{}} field"
            )
        if not isinstance(frames_per_file, int) or frames_per_file < 1:
            raise InvalidArgumentError(f"frames_per_file must be >= 1, not {frames_per_file!r}")
        if printf and _FIELD.search(template).group() not in ("{}", "{:d}"):  # type: ignore[union-attr]
            raise InvalidArgumentError(
                f"RolloverWriter(printf=True): {template!r} must number parts plainly ({{}})"
            )
        self.template = template
        self.frames_per_file = frames_per_file
        self.master_path = (
            os.fspath(master) if master is not None else _FIELD.sub("master", template)
        )
        self._links_group = links_group
        self._printf = printf
        self._durability = durability
        self._workers = workers
        self._definitions: list[_Definition] = []
        self._counts: list[int] = []
        self._writers: dict[int, SwmrFileWriter] = {}
        self._n_parts = 0
        self._swmr = False
        self._closed = False

    # -- datasets --------------------------------------------------------------------------

    def create_streaming_dataset(
        self, name: str, dtype: DTypeLike, frame_dims: tuple[int, ...]
    ) -> int:
        return self._define(name, dtype, frame_dims, None, None)

    def create_streaming_dataset_compressed(
        self, name: str, dtype: DTypeLike, frame_dims: tuple[int, ...], pipeline: FilterPipeline
    ) -> int:
        return self._define(name, dtype, frame_dims, None, pipeline)

    def create_streaming_dataset_chunked(
        self, name: str, dtype: DTypeLike, frame_dims: tuple[int, ...], chunk: tuple[int, ...]
    ) -> int:
        return self._define(name, dtype, frame_dims, tuple(chunk), None)

    def create_streaming_dataset_chunked_compressed(
        self,
        name: str,
        dtype: DTypeLike,
        frame_dims: tuple[int, ...],
        chunk: tuple[int, ...],
        pipeline: FilterPipeline,
    ) -> int:
        return self._define(name, dtype, frame_dims, tuple(chunk), pipeline)

    def _define(
        self,
        name: str,
        dtype: DTypeLike,
        frame_dims: tuple[int, ...],
        chunk: tuple[int, ...] | None,
        pipeline: FilterPipeline | None,
    ) -> int:
        self._require_open("create_streaming_dataset")
        if self._n_parts:
            raise InvalidStateError(
                f"create_streaming_dataset({name!r}): the first part file exists; define every "
                "dataset before start_swmr() and the first frame"
            )
        definition = _Definition(
            "/" + name.strip("/"), np.dtype(dtype), tuple(frame_dims), chunk, pipeline
        )
        if any(d.name == definition.name for d in self._definitions):
            raise InvalidArgumentError(f"create_streaming_dataset: {name!r} already exists")
        self._definitions.append(definition)
        self._counts.append(0)
        return len(self._definitions) - 1

    # -- streaming -------------------------------------------------------------------------

    @property
    def dataset_names(self) -> list[str]:
        return [d.name for d in self._definitions]

    @property
    def part_paths(self) -> list[str]:
        """Every part file created so far, in order."""
        return [self.part_path(p) for p in range(self._n_parts)]

    def part_path(self, part: int) -> str:
        return self.template.format(part)

    def frame_count(self, ds: int | str) -> int:
        return self._counts[self._index(ds, "frame_count")]

    def start_swmr(self) -> None:
        """Create the first part, start SWMR in it and write the master: readers may open."""
        self._require_open("start_swmr")
        if self._swmr:
            raise InvalidStateError("start_swmr: already called")
        if not self._definitions:
            raise InvalidStateError("start_swmr: define at least one dataset first")
        self._swmr = True
        if not self._writers:
            self._open_part(0)
        else:
            for writer in self._writers.values():
                writer.start_swmr()
            self._write_master(final=False)

    def append_frame(self, ds: int | str, data: object) -> None:
        """Append one frame to dataset ``ds``, in the part its frame number belongs to."""
        self._require_open("append_frame")
        index = self._index(ds, "append_frame")
        part = self._counts[index] // self.frames_per_file
        writer = self._writers.get(part) or self._open_part(part)
        writer.append_frame(self._definitions[index].name, data)
        self._counts[index] += 1
        self._close_finished_parts()

    def flush(self) -> None:
        """Make every frame appended so far visible, oldest part first."""
        self._require_open("flush")
        for part in sorted(self._writers):
            self._writers[part].flush()

    def close(self) -> None:
        """Close every part and write the final master (exact frame counts)."""
        if self._closed:
            return
        self._closed = True
        try:
            for part in sorted(self._writers):
                self._writers.pop(part).close()
        finally:
            if self._n_parts:
                self._write_master(final=True)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self._n_parts} parts"
        return f"<RolloverWriter {self.template!r} -> {self.master_path!r} ({state})>"

    # -- internals -------------------------------------------------------------------------

    def _require_open(self, call: str) -> None:
        if self._closed:
            raise InvalidStateError(f"{call}: the RolloverWriter of {self.template!r} is closed")

    def _index(self, ds: int | str, call: str) -> int:
        if isinstance(ds, int) and 0 <= ds < len(self._definitions):
            return ds
        if isinstance(ds, str):
            for i, d in enumerate(self._definitions):
                if d.name == "/" + ds.strip("/"):
                    return i
        raise DatasetNotFoundError(
            f"{call}: no dataset {ds!r} (datasets: {self.dataset_names})", dataset=ds
        )

    def _open_part(self, part: int) -> SwmrFileWriter:
        if not self._definitions:
            raise InvalidStateError("append_frame: define at least one dataset first")
        if part != self._n_parts:
            raise InvalidStateError(f"part {part} requested while {self._n_parts} exist")
        writer = SwmrFileWriter.create(
            self.part_path(part), durability=self._durability, workers=self._workers
        )
        try:
            for definition in self._definitions:
                definition.create_in(writer)
            if self._swmr:
                writer.start_swmr()
        except BaseException:
            writer.close()
            raise
        self._writers[part] = writer
        self._n_parts = part + 1
        if self._swmr and (not self._printf or part == 0):
            self._write_master(final=False)
        return writer

    def _close_finished_parts(self) -> None:
        done = min(self._counts) // self.frames_per_file
        for part in [p for p in self._writers if p < done]:
            self._writers.pop(part).close()

    def _write_master(self, *, final: bool) -> None:
        n = self.frames_per_file
        datasets = []
        for definition, count in zip(self._definitions, self._counts, strict=True):
            mappings = []
            if self._printf and not final:
                # NUL, in no path, holds the number field's place while the name is escaped
                name = vds_source_name(self.master_path, _FIELD.sub("\0", self.template))
                mappings.append(
                    printf_mapping(
                        name.replace("\0", "%b"),
                        vds_literal(definition.name),
                        definition.frame_dims,
                        n,
                    )
                )
                shape_frames = max(count, n)
            else:
                last = self._n_parts - 1
                for part in range(self._n_parts):
                    frames: int | None
                    if final:
                        frames = min(n, count - part * n)
                        if frames <= 0:
                            continue
                    else:
                        frames = None if part == last else n
                    mappings.append(
                        run_mapping(
                            vds_source_name(self.master_path, self.part_path(part)),
                            vds_literal(definition.name),
                            definition.frame_dims,
                            first_frame=part * n,
                            n_frames=frames,
                        )
                    )
                shape_frames = count if final else max(count, last * n)
            datasets.append(
                VirtualDataset.create(
                    definition.name,
                    definition.dtype,
                    (shape_frames, *definition.frame_dims),
                    mappings,
                )
            )
        links = []
        if self._links_group is not None:
            for part in range(self._n_parts):
                name = Path(self.part_path(part)).stem
                links.append(
                    ExternalLink(
                        f"{self._links_group}/{name}",
                        part_file_name(self.master_path, self.part_path(part)),
                        "/",
                    )
                )
        write_master(self.master_path, datasets, links)
