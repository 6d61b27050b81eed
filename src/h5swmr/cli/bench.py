"""``h5swmr bench``: write speed of h5swmr, side by side with h5py and raw ``pwrite`` if it can.

From a source checkout with h5py installed, this runs the repository's
``benchmarks/bench_write.py`` (each measurement in a fresh child process, medians, read-back
checks, the full table). Elsewhere (an installed wheel, or no h5py) it runs a small built-in
subset with h5swmr alone, in this process, and says how to get the comparison.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from h5swmr.cli.command import Command, CommandError, UsageError, parse_positive

SCRIPT = Path("benchmarks") / "bench_write.py"
NOTE = (
    "note: built-in subset, h5swmr only. The side-by-side table against h5py (libhdf5) and "
    "pwrite needs a source checkout (its benchmarks/bench_write.py) and h5py installed."
)


@dataclass(frozen=True, slots=True)
class Workload:
    """One built-in measurement: frames of ``frame`` ``dtype``, flushed every ``flush_every``."""

    name: str
    frame: tuple[int, ...]
    dtype: str
    frames: int
    quick_frames: int
    flush_every: int = 1
    chunk_frames: int = 1
    compression: str = "none"

    def describe(self, frames: int) -> str:
        bits = ["x".join(map(str, self.frame)) + f" {self.dtype}", f"{frames} fr"]
        if self.chunk_frames > 1:
            bits.append(f"{self.chunk_frames} fr/chunk")
        if self.compression != "none":
            bits.append(self.compression)
        bits.append("flush/frame" if self.flush_every == 1 else f"flush/{self.flush_every}")
        return ", ".join(bits)


# the same names and shapes as bench_write.py's rows, so the numbers compare
WORKLOADS = (
    Workload("large-u16", (1024, 1024), "uint16", 500, 50),
    Workload("mid-f32", (256, 256), "float32", 4000, 400),
    Workload("mid-f32-k16", (256, 256), "float32", 4000, 400, chunk_frames=16),
    Workload("small-u16", (64, 64), "uint16", 20000, 2000),
    Workload("small-u16-f100", (64, 64), "uint16", 20000, 2000, flush_every=100),
    Workload("deflate4", (1024, 1024), "uint16", 150, 20, flush_every=10, compression="deflate:4"),
)


def find_script() -> Path | None:
    """``benchmarks/bench_write.py`` of the source checkout h5swmr runs from, if any."""
    import h5swmr

    root = Path(h5swmr.__file__).resolve().parents[2]  # src/h5swmr/__init__.py -> checkout
    script = root / SCRIPT
    return script if script.is_file() else None


def has_h5py() -> bool:
    return importlib.util.find_spec("h5py") is not None


def load_script(script: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("h5swmr_bench_write", script)
    if spec is None or spec.loader is None:
        raise OSError(f"cannot load {script}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def script_arguments(args: argparse.Namespace) -> list[str]:
    argv = [] if args.full else ["--quick"]
    if args.only:
        argv += ["--only", *args.only]
    if args.repeat is not None:
        argv += ["--repeat", str(args.repeat)]
    if args.list:
        argv.append("--list")
    return argv


def run_script(script: Path, args: argparse.Namespace) -> int:
    argv = script_arguments(args)
    print(f"bench: {script} {' '.join(argv)}", file=sys.stderr, flush=True)
    try:
        code = load_script(script).main(argv)
    except SystemExit as exc:  # its argparse refused the arguments (and said why)
        return exc.code if isinstance(exc.code, int) else 2
    except RuntimeError as exc:  # a measurement's child process failed
        raise CommandError(str(exc).strip().splitlines()[0]) from exc
    return int(code or 0)


# -- the built-in subset -----------------------------------------------------------------------


def selected(only: list[str] | None) -> list[Workload]:
    chosen = [w for w in WORKLOADS if not only or any(w.name.startswith(n) for n in only)]
    if not chosen:
        names = ", ".join(w.name for w in WORKLOADS)
        raise UsageError(
            f"no built-in workload matches {' '.join(only or [])}; choose from {names}"
        )
    return chosen


def frame_pool(w: Workload) -> list[np.ndarray[Any, Any]]:
    rng = np.random.default_rng(20260509)
    if w.compression != "none":
        return [rng.poisson(2.0, w.frame).astype(w.dtype) for _ in range(16)]
    if np.dtype(w.dtype).kind == "f":
        return [rng.random(w.frame).astype(w.dtype) for _ in range(16)]
    info = np.iinfo(w.dtype)
    return [rng.integers(0, info.max, w.frame, dtype=w.dtype, endpoint=True) for _ in range(16)]


def measure(w: Workload, frames: int, directory: Path) -> float:
    """Seconds from creating the file to closing it, for ``frames`` frames."""
    from h5swmr import SwmrFileWriter, parse_compression

    pool = frame_pool(w)
    pipeline = parse_compression(w.compression)
    path = directory / f"{w.name}.h5"
    started = time.perf_counter()
    with SwmrFileWriter.create(path) as writer:
        if w.chunk_frames > 1:
            chunk = (w.chunk_frames, *w.frame)
            ds = writer.create_streaming_dataset_chunked("data", w.dtype, w.frame, chunk)
        elif pipeline is not None:
            ds = writer.create_streaming_dataset_compressed("data", w.dtype, w.frame, pipeline)
        else:
            ds = writer.create_streaming_dataset("data", w.dtype, w.frame)
        writer.start_swmr()
        for index in range(frames):
            writer.append_frame(ds, pool[index % len(pool)])
            if (index + 1) % w.flush_every == 0:
                writer.flush()
    elapsed = time.perf_counter() - started
    path.unlink()
    return elapsed


def run_builtin(args: argparse.Namespace) -> int:
    workloads = selected(args.only)
    if args.list:
        for w in workloads:
            print(f"{w.name:18} {w.describe(w.frames if args.full else w.quick_frames)}")
        return 0
    repeat = args.repeat or (5 if args.full else 1)
    print(NOTE, file=sys.stderr, flush=True)
    print()
    print("| workload | h5swmr fr/s | h5swmr MB/s |")
    print("|---|--:|--:|")
    with tempfile.TemporaryDirectory(prefix="h5swmr-bench-") as tmp:
        for w in workloads:
            frames = w.frames if args.full else w.quick_frames
            times = [measure(w, frames, Path(tmp)) for _ in range(repeat)]
            seconds = statistics.median(times)
            fps = frames / seconds
            mbps = fps * math.prod(w.frame) * np.dtype(w.dtype).itemsize / 1e6
            print(f"| {w.name}: {w.describe(frames)} | {fps:,.0f} | {mbps:,.0f} |", flush=True)
    print(f"\n{repeat} repetition(s), medians. {NOTE}")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        dest="full",
        action="store_false",
        default=False,
        help="about a tenth of the frames, one repetition (the default)",
    )
    size.add_argument(
        "--full", action="store_true", help="all the frames, five repetitions (minutes)"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="workloads whose name starts so")
    parser.add_argument(
        "--repeat", type=parse_positive, metavar="N", help="repetitions of each run"
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument(
        "--builtin",
        action="store_true",
        help="run the built-in h5swmr-only subset even where bench_write.py and h5py exist",
    )


def run(args: argparse.Namespace) -> int:
    script = None if args.builtin else find_script()
    if script is not None and has_h5py():
        return run_script(script, args)
    return run_builtin(args)


EPILOG = """\
examples:
  h5swmr bench                       the quick table (a tenth of the frames, one repetition)
  h5swmr bench --only small mid      the workloads whose names start with small or mid
  h5swmr bench --full --repeat 3     the whole table, three repetitions (minutes)
  h5swmr bench --list

From a source checkout with h5py installed, runs benchmarks/bench_write.py: h5swmr, h5py
(libhdf5) and raw pwrite side by side, each run in a fresh process, with read-back checks.
Otherwise, or with --builtin, a built-in subset with h5swmr alone. The table goes to stdout,
progress to stderr. MB/s counts uncompressed frame bytes (10**6 bytes).
"""

COMMAND = Command(
    name="bench",
    help="measure write speed: h5swmr against h5py and pwrite (h5swmr alone without them)",
    add_arguments=add_arguments,
    run=run,
    epilog=EPILOG,
)
