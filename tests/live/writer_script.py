"""The writer process of the live tests: an h5swmr SwmrFileWriter appending paced frames.

Run as ``python -c <this file's source> OPTIONS_JSON`` with ``src`` and the repository root on
``PYTHONPATH`` (see ``harness.start_writer``). Options:

- ``path``; ``datasets``: a list of ``{name, variant, dtype, bits, salt, per_step}``, where
  ``variant`` names one of ``tests.writer.conftest.VARIANTS`` (rank-2 frames) or is null for a
  plain one-frame-per-chunk dataset of ``frame_dims``;
- ``steps``: each step appends ``per_step`` frames to every dataset, then sleeps ``sleep`` s;
- ``flush_pattern``: the numbers of steps between flushes, cycled (a final flush always follows);
- ``go_file``: after ``start_swmr`` the writer reports ``swmr`` and waits (at most
  ``wait_timeout`` s) for this file, so readers can open first;
- ``close_file`` (or null): after the last flush, wait for it before closing;
- ``writer_options``: keyword options of ``SwmrFileWriter.create`` (alignment, say).

Reports, one JSON per line: ``swmr``; ``flushed`` (``counts``: frames per dataset that this flush
published, ``t``) after every flush; ``all_flushed`` (counts, t); ``closed`` (t); ``error``.
Frame ``i`` of a dataset is ``expected_values(i, ...)`` of ``tests.live.py_reader``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from h5swmr import SwmrFileWriter
from tests.live.py_reader import expected_values
from tests.writer.conftest import FRAME_DIMS, VARIANTS


def _report(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def _wait_for(path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not Path(path).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(0.002)


def _create(writer: SwmrFileWriter, spec: dict[str, Any]) -> tuple[int, tuple[int, ...]]:
    if spec["variant"] is None:
        frame_dims = tuple(spec["frame_dims"])
        return writer.create_streaming_dataset(spec["name"], spec["dtype"], frame_dims), frame_dims
    variant = {v.name: v for v in VARIANTS}[spec["variant"]]
    return variant.create(writer, spec["name"], spec["dtype"], 2), FRAME_DIMS[2]


def _counts(
    writer: SwmrFileWriter, specs: list[dict[str, Any]], handles: list[int]
) -> dict[str, int]:
    return {spec["name"]: writer.frame_count(h) for spec, h in zip(specs, handles, strict=True)}


def main(options: dict[str, Any]) -> int:
    start = time.monotonic()
    specs = options["datasets"]
    steps = options["steps"]
    with SwmrFileWriter.create(options["path"], **options.get("writer_options", {})) as writer:
        handles = []
        frames = []
        for spec in specs:
            handle, frame_dims = _create(writer, spec)
            total = steps * spec["per_step"]
            size = int(np.prod(frame_dims))
            values = expected_values(0, total, size, spec["bits"], spec["salt"])
            handles.append(handle)
            frames.append(values.astype(spec["dtype"]).reshape(total, *frame_dims))
        writer.start_swmr()
        _report(event="swmr", t=round(time.monotonic() - start, 4))
        _wait_for(options["go_file"], options["wait_timeout"])
        pattern = options["flush_pattern"]
        flushes = 0
        since_flush = 0
        for step in range(steps):
            for spec, handle, data in zip(specs, handles, frames, strict=True):
                per_step = spec["per_step"]
                for frame in data[step * per_step : (step + 1) * per_step]:
                    writer.append_frame(handle, frame)
            since_flush += 1
            if since_flush == pattern[flushes % len(pattern)] or step == steps - 1:
                writer.flush()
                flushes += 1
                since_flush = 0
                _report(
                    event="flushed",
                    counts=_counts(writer, specs, handles),
                    t=round(time.monotonic() - start, 4),
                )
            if options["sleep"]:
                time.sleep(options["sleep"])
        counts = _counts(writer, specs, handles)
        _report(event="all_flushed", counts=counts, t=round(time.monotonic() - start, 4))
        if options["close_file"] is not None:
            _wait_for(options["close_file"], options["wait_timeout"])
    _report(event="closed", t=round(time.monotonic() - start, 4))
    return 0


if __name__ == "__main__":
    try:
        code = main(json.loads(sys.argv[1]))
    except Exception as exc:
        _report(event="error", message=f"{type(exc).__name__}: {exc}")
        raise
    sys.exit(code)
