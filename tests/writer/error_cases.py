"""Every bad call h5swmr documents in docs/errors.md, tried on a writer with flushed frames.

``python -m tests.writer.error_cases`` prints the table rows the docs show; the tests in
test_error_table.py check the docs against what these calls really raise.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from h5swmr import FilterPipeline, SwmrFileWriter
from h5swmr.filters.pipeline import FilterPipeline as _Pipeline

FRAME = np.arange(12, dtype="<u2").reshape(3, 4)


@dataclass(frozen=True)
class Case:
    what: str
    call: Callable[[SwmrFileWriter, int, Path], object]
    closes_writer: bool = False


def _dataset_after_start(w: SwmrFileWriter, ds: int, tmp: Path) -> object:
    return w.create_streaming_dataset("/late", "u2", (3, 4))


def _append_after_close(w: SwmrFileWriter, ds: int, tmp: Path) -> None:
    w.close()
    w.append_frame(ds, FRAME)


def _not_writable(w: SwmrFileWriter, ds: int, tmp: Path) -> object:
    folder = tmp / "read-only"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o500)
    target = folder if not os.access(folder, os.W_OK) else Path("/sys")  # root writes anywhere
    return SwmrFileWriter.create(target / "x.h5")


CASES = [
    Case("frame of the wrong size (bytes)", lambda w, ds, t: w.append_frame(ds, bytes(23))),
    Case("frame of the wrong dtype", lambda w, ds, t: w.append_frame(ds, FRAME.astype("f4"))),
    Case("frame of the wrong shape", lambda w, ds, t: w.append_frame(ds, FRAME.reshape(4, 3))),
    Case("frame that is not an array or bytes", lambda w, ds, t: w.append_frame(ds, [1, 2])),
    Case("unknown dataset number", lambda w, ds, t: w.append_frame(7, FRAME)),
    Case("unknown dataset name", lambda w, ds, t: w.append_frame("/nope", FRAME)),
    Case("dataset created after start_swmr", _dataset_after_start),
    Case("start_swmr twice", lambda w, ds, t: w.start_swmr()),
    Case("append after close", _append_after_close, closes_writer=True),
    Case(
        "empty dataset name",
        lambda w, ds, t: _new(t).create_streaming_dataset_compressed("", "u2", (3, 4), _deflate()),
    ),
    Case("name through a dataset", lambda w, ds, t: w.create_hard_link("/entry/data", "x", "/")),
    Case("link name with a slash", lambda w, ds, t: w.create_hard_link("/", "a/b", "/entry")),
    Case("hard link to nothing", lambda w, ds, t: w.create_hard_link("/", "x", "/missing")),
    Case(
        "dtype that is not a number",
        lambda w, ds, t: _new(t).create_streaming_dataset("d", "U8", (3, 4)),
    ),
    Case(
        "bytes dtype of no length", lambda w, ds, t: _new(t).create_streaming_dataset("d", "S", ())
    ),
    Case(
        "string longer than its dataset's length", lambda w, ds, t: _string_frame(t, "ten bytes!")
    ),
    Case("text array for a bytes dataset", lambda w, ds, t: _string_frame(t, np.array("a"))),
    Case(
        "record with a text field",
        lambda w, ds, t: _new(t).create_streaming_dataset("d", [("t", "<f8"), ("s", "U8")], ()),
    ),
    Case("record of other fields", lambda w, ds, t: _record_dataset(t)),
    Case(
        "zero or negative frame dims",
        lambda w, ds, t: _new(t).create_streaming_dataset("d", "u2", (0, 4)),
    ),
    Case(
        "chunk of the wrong rank",
        lambda w, ds, t: _new(t).create_streaming_dataset_chunked("d", "u2", (3, 4), (2, 3)),
    ),
    Case(
        "tile larger than the frame",
        lambda w, ds, t: _new(t).create_streaming_dataset_tiled("d", "u2", (3, 4), (4, 4)),
    ),
    Case(
        "chunk of 4 GiB or more",
        lambda w, ds, t: _new(t).create_streaming_dataset_chunked("d", "u2", (3, 4), (2**30, 3, 4)),
    ),
    Case(
        "pipeline that is not a FilterPipeline",
        lambda w, ds, t: _new(t).create_streaming_dataset_compressed(
            "d", "u2", (3, 4), cast(FilterPipeline, "gzip")
        ),
    ),
    Case("empty filter pipeline", lambda w, ds, t: _Pipeline([])),
    Case("deflate level out of range", lambda w, ds, t: FilterPipeline.deflate(12)),
    Case("same filter twice", lambda w, ds, t: FilterPipeline.deflate(1).with_deflate(2)),
    Case("pre-compressed chunk declaring the wrong size", lambda w, ds, t: _bad_chunk(t)),
    Case("grid chunk on a streaming dataset", lambda w, ds, t: w.write_chunk_at(ds, (0,), FRAME)),
    Case("grid chunk outside the grid", lambda w, ds, t: _grid_chunk(t, (2, 0))),
    Case("frame appended to a grid", lambda w, ds, t: _grid_frame(t)),
    Case("fill value after the first append", lambda w, ds, t: w.set_dataset_fill_value(ds, 3)),
    Case(
        "fill value the dtype cannot hold",
        lambda w, ds, t: _new_dataset(t).set_dataset_fill_value("d", 70000),
    ),
    Case("dataset name that exists", lambda w, ds, t: w.write_dataset("/entry/data", 1.5)),
    Case(
        "dataset of an unsupported dtype",
        lambda w, ds, t: w.write_dataset("/when", np.array(["2026-12-03"], "datetime64[D]")),
    ),
    Case("string dataset of numbers", lambda w, ds, t: w.write_string_dataset("/s", [1, 2])),
    Case(
        "text with a filter pipeline",
        lambda w, ds, t: w.write_dataset("/t", ["a", "b"], pipeline=FilterPipeline.deflate()),
    ),
    Case("frame appended to a dataset written whole", lambda w, ds, t: _static_frame(w)),
    Case("directory that is not writable", _not_writable),
    Case("file another writer holds", lambda w, ds, t: SwmrFileWriter.create(w.path)),
]


_OTHERS: list[SwmrFileWriter] = []


def _new(tmp: Path) -> SwmrFileWriter:
    writer = SwmrFileWriter.create(tmp / f"other{len(_OTHERS)}.h5")
    _OTHERS.append(writer)
    return writer


def _string_frame(tmp: Path, value: object) -> None:
    writer = _new(tmp)
    writer.append_frame(writer.create_streaming_dataset("name", "S8", ()), value)


def _new_dataset(tmp: Path) -> SwmrFileWriter:
    writer = _new(tmp)
    writer.create_streaming_dataset("d", "u2", (3, 4))
    return writer


def _record_dataset(tmp: Path) -> None:
    writer = _new(tmp)
    status = np.dtype([("frame", "<u8"), ("t", "<f8")])
    ds = writer.create_streaming_dataset("status", status, ())
    writer.append_frame(ds, np.zeros((), [("frame", "<u8"), ("t", "<f4")]))


def _static_frame(writer: SwmrFileWriter) -> None:
    writer.write_dataset("/entry/distance", 0.5)
    writer.append_frame("/entry/distance", np.float64(1.0))


def _deflate() -> FilterPipeline:
    return FilterPipeline.deflate(4)


def _bad_chunk(tmp: Path) -> None:
    writer = _new(tmp)
    pipeline = FilterPipeline.lz4()
    ds = writer.create_streaming_dataset_compressed("d", "u2", (3, 4), pipeline)
    writer.append_chunk(ds, pipeline.encode(bytes(12), 2)[0])


def _grid(tmp: Path) -> tuple[SwmrFileWriter, int]:
    writer = _new(tmp)
    return writer, writer.create_grid_dataset("g", "u2", (6, 4), (3, 4))


def _grid_chunk(tmp: Path, coords: tuple[int, ...]) -> None:
    writer, grid = _grid(tmp)
    writer.write_chunk_at(grid, coords, FRAME)


def _grid_frame(tmp: Path) -> None:
    writer, grid = _grid(tmp)
    writer.append_frame(grid, FRAME)


def writer_with_frames(path: Path) -> tuple[SwmrFileWriter, int]:
    writer = SwmrFileWriter.create(path)
    ds = writer.create_streaming_dataset("/entry/data", "u2", (3, 4))
    writer.start_swmr()
    writer.append_frame(ds, FRAME)
    writer.flush()
    return writer, ds


def try_case(case: Case, tmp: Path) -> BaseException:
    """Run ``case``; returns what it raised (it must raise)."""
    writer, ds = writer_with_frames(tmp / "f.h5")
    try:
        case.call(writer, ds, tmp)
    except Exception as exc:
        return exc
    finally:
        writer.close()
        while _OTHERS:
            _OTHERS.pop().close()
    raise AssertionError(f"{case.what}: nothing raised")


def main() -> None:
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            exc = try_case(case, Path(tmp))
            kinds = [c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins"]
            builtin = kinds[0] if kinds else ""
            message = str(exc).replace(tmp, "…").replace("|", "\\\\|")
            print(f"| {case.what} | `{type(exc).__name__}` ({builtin}) | {message} |")


if __name__ == "__main__":
    main()
