"""``h5swmr simulate OUT.h5``: stream synthetic detector frames into a file in SWMR mode.

Frames look like a detector's (rings, spots, beam stop, module gaps, a moving spot, hot pixels:
:class:`~h5swmr.cli.detector.SyntheticDetector`). The first element of frame ``i`` holds
:func:`~h5swmr.cli.detector.frame_marker` ``(i, dtype)`` so that a reader can check that frames
arrive complete and in order. ``--rate`` paces the appends like a detector; progress goes to
stderr, the one-line summary to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from h5swmr.cli import receive
from h5swmr.cli.command import (
    Command,
    UsageError,
    parse_amount,
    parse_non_negative,
    parse_positive,
    parse_positive_seconds,
)
from h5swmr.cli.detector import SyntheticDetector
from h5swmr.cli.progress import Pacer, Progress

if TYPE_CHECKING:
    from h5swmr import FilterPipeline, SwmrFileWriter, WriterStats

FRAME_DTYPES = (
    *("uint8", "uint16", "uint32", "uint64"),
    *("int8", "int16", "int32", "int64"),
    *("float32", "float64"),
)
MAX_RANK = 3
ALIGN_THRESHOLD = 4096
"""--align leaves smaller chunks packed: a tiny compressed chunk padded to a stripe is waste."""


def parse_dims(text: str) -> tuple[int, ...]:
    """``"256x256"`` -> ``(256, 256)``: 1 to 3 positive integers joined by ``x``."""
    parts = text.lower().split("x")
    if not 1 <= len(parts) <= MAX_RANK:
        raise argparse.ArgumentTypeError(f"{text!r}: give 1 to {MAX_RANK} sizes like 256x256")
    try:
        dims = tuple(int(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: sizes must be integers, as in 256x256"
        ) from None
    if any(size <= 0 for size in dims):
        raise argparse.ArgumentTypeError(f"{text!r}: sizes must be positive")
    return dims


def parse_rate(text: str) -> float:
    """Frames per second: a finite number >= 0 (0: as fast as possible)."""
    return parse_amount(text, "frames per second", "0 (as fast as possible)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "out", metavar="OUT.h5", type=Path, nargs="?", help="file to create (overwritten)"
    )
    parser.add_argument(
        "--frames", type=parse_non_negative, default=100, help="frames (default 100)"
    )
    parser.add_argument(
        "--shape", type=parse_dims, default=(256, 256), help="frame shape (default 256x256)"
    )
    parser.add_argument(
        "--dtype", choices=FRAME_DTYPES, default="uint16", help="pixel type (default uint16)"
    )
    parser.add_argument(
        "--frames-per-chunk",
        type=parse_positive,
        default=1,
        metavar="K",
        help="frames in one chunk (default 1)",
    )
    parser.add_argument(
        "--tile", type=parse_dims, default=None, metavar="RxC", help="chunk tile within a frame"
    )
    parser.add_argument(
        "--compression",
        default="none",
        metavar="SPEC",
        help="none (default), deflate[:LEVEL], shuffle-deflate[:LEVEL], and with the codecs "
        "extra lz4[:BLOCK_BYTES] (256 KiB blocks by default; 0: one block per chunk, "
        "hdf5plugin's default), bslz4, zstd[:LEVEL], bszstd[:LEVEL], "
        "blosc[:CNAME[:CLEVEL[:SHUFFLE]]]",
    )
    parser.add_argument(
        "--flush-every", type=parse_positive, default=1, metavar="N", help="flush every N frames"
    )
    parser.add_argument(
        "--dataset",
        default=None,
        help="dataset path (default /entry/data/data; with --nexus the detector dataset's name, "
        "default data)",
    )
    parser.add_argument(
        "--nexus",
        action="store_true",
        help="NeXus layout: data in /entry/instrument/detector (NXdetector), linked from "
        "/entry/data (NXdata), a key per frame and a finished flag for swmr-tools followers",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed of the frames")
    parser.add_argument(
        "--rate",
        type=parse_rate,
        default=0.0,
        metavar="HZ",
        help="append HZ frames per second, like a detector (default 0: as fast as possible)",
    )
    parser.add_argument(
        "--align",
        type=parse_positive,
        default=1,
        metavar="BYTES",
        help="start every chunk of 4 KiB or more on a multiple of BYTES (a Lustre stripe or "
        "GPFS block size; default 1: no alignment)",
    )
    parser.add_argument(
        "--watchdog",
        type=parse_positive_seconds,
        default=None,
        metavar="SECONDS",
        help="warn on stderr when an append or a flush takes longer than SECONDS",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace OUT.h5 even if its superblock says a writer has it open (a crashed "
        "writer's file: `h5swmr recover` keeps its frames instead)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress on stderr, only the summary"
    )
    receive.add_publish_arguments(parser)


def run(args: argparse.Namespace) -> int:
    frame_dims: tuple[int, ...] = args.shape
    tile: tuple[int, ...] | None = args.tile
    if tile is not None and len(tile) != len(frame_dims):
        raise UsageError(
            f"--tile {_dims_text(tile)} has rank {len(tile)}, "
            f"--shape {_dims_text(frame_dims)} has rank {len(frame_dims)}"
        )
    # imported here, as in _stream, so that `h5swmr --help` and usage errors stay fast
    from h5swmr import parse_compression

    pipeline = parse_compression(args.compression)
    dtype = np.dtype(args.dtype)
    detector = SyntheticDetector(frame_dims, dtype, args.seed)
    if args.publish is not None:  # a detector stream instead of a file
        return receive.publish(args, detector.frame)
    if args.out is None:
        raise UsageError("give OUT.h5, or --publish ENDPOINT")
    progress = None
    if not args.quiet:
        progress = Progress("simulate", args.frames, detector.nbytes, sys.stderr)
    started = time.perf_counter()
    stats = _stream(args, detector, pipeline, progress)
    elapsed = time.perf_counter() - started
    megabytes = args.frames * detector.nbytes / 1e6
    rate = megabytes / elapsed if elapsed > 0 else 0.0
    slow = f", {stats.slow_calls} over the watchdog" if args.watchdog is not None else ""
    print(
        f"simulate: {args.frames} frames of {_dims_text(frame_dims)} {dtype.name} "
        f"({megabytes:.1f} MB) in {elapsed:.2f} s, {rate:.1f} MB/s, {stats.commits} commits "
        f"(slowest {stats.max_commit_seconds * 1e3:.2f} ms{slow}) -> {Path(args.out).resolve()}"
    )
    return 0


def _stream(
    args: argparse.Namespace,
    detector: SyntheticDetector,
    pipeline: FilterPipeline | None,
    progress: Progress | None,
) -> WriterStats:
    """Create the file and dataset, start SWMR and append ``args.frames`` frames, ``args.rate``
    a second (0: as fast as possible); the writer's statistics just before it closes."""
    from h5swmr import SlowStorageWarning, SwmrFileWriter

    name: str = args.dataset or ("data" if args.nexus else "/entry/data/data")
    frame_dims: tuple[int, ...] = args.shape
    tile: tuple[int, ...] | None = args.tile
    k: int = args.frames_per_chunk
    dtype = detector.dtype
    options = {"alignment_threshold": ALIGN_THRESHOLD, "alignment_interval": args.align}
    with (
        warnings.catch_warnings(),
        SwmrFileWriter.create(
            args.out,
            nexus=args.nexus,
            watchdog=args.watchdog,
            overwrite=args.overwrite,
            **options,
        ) as writer,
    ):
        warnings.simplefilter("always", SlowStorageWarning)
        warnings.showwarning = _warning_line
        if k > 1:
            chunk = (k, *(tile or frame_dims))
            if pipeline is None:
                ds = writer.create_streaming_dataset_chunked(name, dtype, frame_dims, chunk)
            else:
                ds = writer.create_streaming_dataset_chunked_compressed(
                    name, dtype, frame_dims, chunk, pipeline
                )
        elif tile is not None:
            if pipeline is None:
                ds = writer.create_streaming_dataset_tiled(name, dtype, frame_dims, tile)
            else:
                ds = writer.create_streaming_dataset_tiled_compressed(
                    name, dtype, frame_dims, tile, pipeline
                )
        elif pipeline is None:
            ds = writer.create_streaming_dataset(name, dtype, frame_dims)
        else:
            ds = writer.create_streaming_dataset_compressed(name, dtype, frame_dims, pipeline)
        if args.nexus:
            _write_nexus_fields(writer, args, dtype)
        writer.start_swmr()
        pacer = Pacer(args.rate)
        done = 0
        try:
            for index in range(args.frames):
                frame = detector.frame(index)
                pacer.wait(index)
                writer.append_frame(ds, frame)
                if (index + 1) % args.flush_every == 0:
                    writer.flush()
                done = index + 1
                if progress is not None:
                    progress.update(done)
            writer.flush()
        finally:
            if progress is not None:
                progress.finish(done)
        return writer.stats()


PIXEL_SIZE_M = 75e-6
"""A hybrid pixel detector's pitch (EIGER, PILATUS: 75 um, 172 um)."""
DISTANCE_M = 0.15


def _write_nexus_fields(writer: SwmrFileWriter, args: argparse.Namespace, dtype: np.dtype) -> None:
    """The NXdetector fields a facility file carries, as datasets with units (NeXus fields),
    visible to readers for the whole stream."""
    detector = "/entry/instrument/detector"
    height, width = (args.shape[-2], args.shape[-1]) if len(args.shape) > 1 else (1, args.shape[0])
    fields: dict[str, tuple[object, str | None]] = {
        "description": ("h5swmr simulated detector", None),
        "x_pixel_size": (PIXEL_SIZE_M, "m"),
        "y_pixel_size": (PIXEL_SIZE_M, "m"),
        "distance": (DISTANCE_M, "m"),
        "beam_center_x": (width / 2, "pixel"),
        "beam_center_y": (height / 2, "pixel"),
        "count_time": (1.0 / args.rate if args.rate else 0.0, "s"),
        "bit_depth_readout": (dtype.itemsize * 8, None),
    }
    for field, (value, units) in fields.items():
        writer.write_dataset(f"{detector}/{field}", value)
        if units is not None:
            writer.set_attribute(f"{detector}/{field}", "units", units)
    shape = _dims_text(args.shape)
    writer.write_string_dataset("/entry/title", f"h5swmr simulate: {args.frames} frames of {shape}")


def _warning_line(message: Warning | str, *_: object, **__: object) -> None:
    """A watchdog warning as one line of the command's own, not a Python source location."""
    print(f"h5swmr simulate: warning: {message}", file=sys.stderr)


def _dims_text(dims: tuple[int, ...]) -> str:
    return "x".join(map(str, dims))


EPILOG = """\
examples:
  h5swmr simulate scan.h5
      100 frames of 256x256 uint16 into /entry/data/data, as fast as possible
  h5swmr simulate scan.h5 --frames 1000 --rate 50 --shape 1024x1024 &
  h5swmr watch scan.h5 --png latest.png
      a 50 Hz detector for 20 s, watched live from another process
  h5swmr simulate scan.h5 --compression shuffle-deflate:4 --frames-per-chunk 8 --flush-every 8
      compressed chunks of 8 frames, flushed once per chunk
  h5swmr simulate scan.h5 --shape 2048x2048 --tile 512x512 --dtype uint32 -q

Progress (frames, MB/s, ETA) goes to stderr: a bar on a terminal, a line a second otherwise.
The summary line goes to stdout.
"""

COMMAND = Command(
    name="simulate",
    help="stream synthetic detector frames into OUT.h5 in SWMR mode",
    add_arguments=add_arguments,
    run=run,
    epilog=EPILOG,
)
