"""A writer process for the crash tests: streams frames and reports each completed step.

Usage: python writer_process.py PATH FRAMES FLUSH_EVERY PACE_S DURABILITY. Every frame's
elements are non-zero and encode the frame index, so neither zero fill nor a stale frame can pass.
Prints ``ready`` after start_swmr, ``flushing N`` / ``flushed N`` around each flush of N frames,
``closing`` and ``closed``; the test kills it with SIGKILL at a moment of its choosing. With
H5SWMR_TEST_HOLD=1 it then waits for the end of stdin, so whatever moment the test picks, the
kill finds it running. H5SWMR_TEST_KILL_AFTER_WRITES counts the writes made after ``ready``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict

import numpy as np

from h5swmr import FilterPipeline, SwmrFileWriter
from h5swmr.storage.file import Buffer, FileHandle

PAGE = 4096

FRAME_DIMS = (6, 10)


class Options(TypedDict, total=False):
    """How one dataset is laid out: contiguous frames unless chunk or tile, raw unless pipeline."""

    pipeline: FilterPipeline
    chunk: tuple[int, ...]
    tile: tuple[int, ...]


DATASETS: dict[str, Options] = {
    "/plain": {},
    "/deflate": {"pipeline": FilterPipeline.deflate(1)},
    "/tiled": {"tile": (4, 4)},
    "/tiled_deflate": {"tile": (4, 4), "pipeline": FilterPipeline.shuffle_deflate(2)},
    "/chunked": {"chunk": (4, 3, 10)},
    "/chunked_deflate": {"chunk": (3, 6, 10), "pipeline": FilterPipeline.deflate(3)},
}


METADATA: dict[str, np.ndarray | float | str] = {
    "/meta/mask": (np.arange(1600, dtype=np.uint32) % 5).reshape(40, 40),  # contiguous
    "/meta/distance": 0.5,  # compact, in its header
    "/meta/title": "crash test ✓",  # a variable-length string in the global heap
}
"""Datasets written whole before start_swmr: every reader, after any kill, reads them."""


def frame(index: int) -> np.ndarray:
    values = (np.arange(60, dtype=np.uint32) * 7919 + index * 104729) % 65521 + 1
    return values.astype(np.uint16).reshape(FRAME_DIMS)


def create(writer: SwmrFileWriter, name: str, options: Options) -> int:
    pipeline = options.get("pipeline")
    if "chunk" in options:
        chunk = options["chunk"]
        if pipeline is None:
            return writer.create_streaming_dataset_chunked(name, "u2", FRAME_DIMS, chunk)
        return writer.create_streaming_dataset_chunked_compressed(
            name, "u2", FRAME_DIMS, chunk, pipeline
        )
    if "tile" in options:
        tile = options["tile"]
        if pipeline is None:
            return writer.create_streaming_dataset_tiled(name, "u2", FRAME_DIMS, tile)
        return writer.create_streaming_dataset_tiled_compressed(
            name, "u2", FRAME_DIMS, tile, pipeline
        )
    if pipeline is None:
        return writer.create_streaming_dataset(name, "u2", FRAME_DIMS)
    return writer.create_streaming_dataset_compressed(name, "u2", FRAME_DIMS, pipeline)


def inject_faults(kill_after_writes: int, tear: bool, log_path: str) -> None:
    """Count the writer's pwrites; kill the process with a real SIGKILL before write number
    ``kill_after_writes`` (with ``tear``, after writing that write's bytes up to the next 4 KiB
    boundary, as the kernel may when a fatal signal arrives during a multi-page write). With
    ``log_path``, record every write's address and size."""
    original = FileHandle.pwrite
    count = 0
    log = Path(log_path).open("a") if log_path else None  # noqa: SIM115 - open until the end

    def pwrite(self: FileHandle, address: int, data: bytes | bytearray | memoryview) -> None:
        nonlocal count
        if ARMED[0]:
            count += 1
        size = memoryview(data).nbytes
        if log is not None:
            log.write(f"{address} {size}\n")
            log.flush()
        if ARMED[0] and count == kill_after_writes:
            boundary = (address // PAGE + 1) * PAGE
            if tear and address + size > boundary:
                original(self, address, memoryview(data).cast("B")[: boundary - address])
            os.kill(os.getpid(), signal.SIGKILL)
        original(self, address, data)

    def pwrite_each(self: FileHandle, writes: Sequence[tuple[int, Buffer]]) -> None:
        for address, data in writes:  # a commit phase: each write counted, as pwrite's
            pwrite(self, address, data)

    FileHandle.pwrite = pwrite  # type: ignore[method-assign]
    FileHandle.pwrite_each = pwrite_each  # type: ignore[method-assign]


ARMED = [False]
"""Whether injected kills count writes yet: from ``ready`` on, so every kill lands in a file
that exists (a kill during ``create`` promises nothing and could not be checked)."""


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    path, frames, flush_every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    pace, durability = float(sys.argv[4]), sys.argv[5]
    kill_after = int(os.environ.get("H5SWMR_TEST_KILL_AFTER_WRITES", "0"))
    log_path = os.environ.get("H5SWMR_TEST_WRITE_LOG", "")
    if kill_after or log_path:
        inject_faults(kill_after, os.environ.get("H5SWMR_TEST_TEAR") == "1", log_path)
    writer = SwmrFileWriter.create(path, durability=durability)
    handles = [create(writer, name, options) for name, options in DATASETS.items()]
    for name, value in METADATA.items():
        if isinstance(value, str):
            writer.write_string_dataset(name, value)
        else:
            writer.write_dataset(name, value)
    writer.start_swmr()
    ARMED[0] = True
    say("ready")
    for i in range(frames):
        for ds in handles:
            writer.append_frame(ds, frame(i))
        if (i + 1) % flush_every == 0:
            say(f"flushing {i + 1}")
            writer.flush()
            say(f"flushed {i + 1}")
        if pace:
            time.sleep(pace)
    say("closing")
    writer.close()
    say("closed")
    if os.environ.get("H5SWMR_TEST_HOLD") == "1":
        sys.stdin.read()  # until the test kills it (or closes stdin)


if __name__ == "__main__":
    main()
