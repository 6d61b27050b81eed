"""Write throughput of h5swmr against h5py (libhdf5) and raw ``os.pwrite``, on the same workloads.

Usage (from the repository root; unset the OpenBLAS overrides in this command only)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=src \\
        python benchmarks/bench_write.py [--quick] [--long] [--only NAME ...] [--repeat N] \\
        [--json out.json] [--dir DIR] [--workers N] [--profile] [--issue N]

The rows of an issue's targets alone: ``--issue 17 --repeat 3`` (about 5 minutes).

Each measurement runs in a fresh child process (this script with ``--child``) that imports only
what it writes with, so h5py and h5swmr never share a process, a heap or a peak-RSS number.
Implementations alternate within each repetition (the order rotates), the file is deleted after
each run, and the table shows medians. The ratio h5swmr / h5py is the median of the ratios of
runs that were adjacent in time, which cancels slow drifts in machine load.

- h5py writes the usual SWMR way: ``libver="latest"``, ``maxshape=(None, ...)``, the same chunks
  and filters, ``f.swmr_mode = True``, then per frame ``resize`` + slice write, and
  ``Dataset.flush()`` every ``flush_every`` frames. Its chunk cache is ``--rdcc-mb`` (64 MiB), so a
  multi-frame chunk stays in memory between frames instead of being read back.
- h5swmr: ``SwmrFileWriter.create`` (durability none, like libhdf5), ``start_swmr``,
  ``append_frame`` per frame, ``flush()`` with the same cadence, ``close``.
- pwrite: the same chunk bytes (compressed before the clock starts, for filtered workloads), one
  ``os.pwrite`` per chunk, at consecutive offsets of a fresh file: the physical floor.

The clock runs from file creation to close. Frames come from a pool of 16 distinct frames made
before the clock starts (frame ``i`` is ``pool[i % 16]``). MB/s counts uncompressed frame bytes
(10**6 bytes) for every implementation. Nothing is dropped from the page cache and nothing is
synced: this measures what reaches the OS, as SWMR readers on the same host see it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
POOL = 16
SEED = 20260509
IMPLS = ("h5py", "h5swmr", "pwrite")


@dataclass(frozen=True)
class Workload:
    name: str
    frame: tuple[int, ...]
    dtype: str
    frames: int
    quick_frames: int
    flush_every: int = 1
    chunk_frames: int = 1
    tile: tuple[int, ...] | None = None
    codec: str | None = None  # None, "deflate", "shuffle_deflate"; plugins "bslz4", "lz4", "zstd"
    # lz4 block size in bytes on both sides (0: one block per chunk); None: each side's default
    # (h5swmr 256 KiB blocks, hdf5plugin one block per chunk)
    block: int | None = None
    level: int = 4
    data: str = "random"  # "random" or "poisson2"
    target_h5py: float | None = None  # h5swmr / h5py target (printed, not asserted)
    target_pwrite: float | None = None  # h5swmr / pwrite target
    growth: tuple[int, ...] = ()  # checkpoints for the growth curve (frames)
    impls: tuple[str, ...] = IMPLS
    backend: str = "auto"  # h5swmr's deflate backend: "auto" (isal if installed), "zlib", ...
    policy: bool = False  # h5swmr flushes by its flush_every option, not by flush() calls

    @property
    def chunk(self) -> tuple[int, ...]:
        return (self.chunk_frames, *(self.tile or self.frame))

    @property
    def frame_nbytes(self) -> int:
        return int(np.prod(self.frame)) * np.dtype(self.dtype).itemsize


WORKLOADS = [
    Workload("large-u16", (1024, 1024), "uint16", 500, 50, target_h5py=1.5, target_pwrite=0.9),
    Workload("mid-f32", (256, 256), "float32", 4000, 400),
    Workload("mid-f32-k16", (256, 256), "float32", 4000, 400, chunk_frames=16),
    Workload("mid-f32-k16-f16", (256, 256), "float32", 4000, 400, chunk_frames=16, flush_every=16),
    Workload(
        "large-u16-tiled",
        (1024, 1024),
        "uint16",
        500,
        50,
        tile=(256, 256),
        target_h5py=1.5,
        target_pwrite=0.85,
    ),
    Workload("small-u16", (64, 64), "uint16", 20000, 2000, target_h5py=4.0),
    Workload("small-u16-f100", (64, 64), "uint16", 20000, 2000, flush_every=100, target_h5py=6.0),
    Workload(
        "small-u16-p100",
        (64, 64),
        "uint16",
        20000,
        2000,
        flush_every=100,
        policy=True,
        target_h5py=2.0,
    ),
    Workload(
        "deflate4-zlib",
        (1024, 1024),
        "uint16",
        150,
        20,
        flush_every=10,
        codec="deflate",
        data="poisson2",
        target_h5py=1.8,
        backend="zlib",
    ),
    Workload(
        "deflate4",
        (1024, 1024),
        "uint16",
        150,
        20,
        flush_every=10,
        codec="deflate",
        data="poisson2",
        target_h5py=5.0,
        backend="auto",
    ),
    Workload(
        "shuffle-deflate4-zlib",
        (1024, 1024),
        "uint16",
        150,
        20,
        flush_every=10,
        codec="shuffle_deflate",
        data="poisson2",
        target_h5py=1.8,
        backend="zlib",
    ),
    Workload(
        "shuffle-deflate4",
        (1024, 1024),
        "uint16",
        150,
        20,
        flush_every=10,
        codec="shuffle_deflate",
        data="poisson2",
        target_h5py=5.0,
        backend="auto",
    ),
    Workload(
        "bslz4",
        (1024, 1024),
        "uint16",
        150,
        20,
        flush_every=10,
        codec="bslz4",
        data="poisson2",
        target_h5py=1.5,
    ),
    Workload(
        "lz4",
        (1024, 1024),
        "uint16",
        150,
        20,
        flush_every=10,
        codec="lz4",
        data="poisson2",
        target_h5py=1.5,
    ),
    # issue 17: one 1024x1024 chunk per frame, flush() after every frame (what detectors do)
    Workload(
        "f1-deflate4-zlib",
        (1024, 1024),
        "uint16",
        100,
        10,
        codec="deflate",
        data="poisson2",
        target_h5py=1.8,
        backend="zlib",
    ),
    Workload(
        "f1-deflate4",
        (1024, 1024),
        "uint16",
        100,
        10,
        codec="deflate",
        data="poisson2",
        target_h5py=5.0,
        backend="auto",
    ),
    Workload(
        "f1-bslz4",
        (1024, 1024),
        "uint16",
        400,
        40,
        codec="bslz4",
        data="poisson2",
        target_h5py=1.7,
    ),
    Workload(
        "f1-lz4",
        (1024, 1024),
        "uint16",
        300,
        30,
        codec="lz4",
        data="poisson2",
        target_h5py=1.7,
    ),
    Workload(
        "f1-lz4-b256k",
        (1024, 1024),
        "uint16",
        300,
        30,
        codec="lz4",
        block=256 * 1024,
        data="poisson2",
        target_h5py=1.7,
    ),
    Workload(  # hdf5plugin's default on both sides: the same bytes, one block, one thread
        "f1-lz4-b0",
        (1024, 1024),
        "uint16",
        300,
        30,
        codec="lz4",
        block=0,
        data="poisson2",
    ),
    Workload(
        "f1-zstd",
        (1024, 1024),
        "uint16",
        200,
        20,
        codec="zstd",
        level=3,
        data="poisson2",
        target_h5py=1.7,
    ),
    Workload(
        "growth",
        (64, 64),
        "uint16",
        100_000,
        10_000,
        growth=(1_000, 10_000, 100_000),
        impls=("h5py", "h5swmr"),
    ),
]


# -- frames and chunks (parent and children) --------------------------------------------------


def frame_pool(w: Workload) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    shape = (POOL, *w.frame)
    if w.data == "poisson2":
        return rng.poisson(2.0, shape).astype(w.dtype)
    if np.dtype(w.dtype).kind == "f":
        return rng.random(shape, dtype=w.dtype)
    return rng.integers(0, np.iinfo(w.dtype).max, shape, dtype=w.dtype, endpoint=True)


def chunk_payloads(w: Workload, pool: np.ndarray) -> list[bytes]:
    """The chunk bytes h5swmr and h5py store for ``w.frames`` frames, in file order (pwrite)."""
    k = w.chunk_frames
    tile = w.tile or w.frame
    payloads: list[bytes] = []
    cache: dict[tuple[int, ...], bytes] = {}
    for start in range(0, w.frames, k):
        key = tuple(i % POOL for i in range(start, start + k))
        band = np.zeros((k, *w.frame), w.dtype)
        band[: min(k, w.frames - start)] = pool[list(key)][: w.frames - start]
        for origin in np.ndindex(*(-(-f // t) for f, t in zip(w.frame, tile, strict=True))):
            tkey = (*key, *origin)
            if tkey not in cache:
                block = np.zeros((k, *tile), w.dtype)
                sl = tuple(slice(o * t, (o + 1) * t) for o, t in zip(origin, tile, strict=True))
                part = band[(slice(None), *sl)]
                block[tuple(slice(0, s) for s in part.shape)] = part
                cache[tkey] = encode_chunk(w, block)
            payloads.append(cache[tkey])
    return payloads


ISSUE_ROWS = {
    17: (
        "large-u16",
        "small-u16",
        "small-u16-f100",
        "f1-deflate4-zlib",
        "f1-deflate4",
        "f1-bslz4",
        "f1-lz4",
        "f1-lz4-b256k",
        "f1-lz4-b0",
        "f1-zstd",
    ),
}
"""The rows an issue's targets name (``--issue N``), exact names."""
PLUGIN_CODECS = ("bslz4", "lz4", "zstd")


def plugin_pipeline(w: Workload) -> Any:
    from h5swmr.filters.pipeline import FilterPipeline

    if w.codec == "bslz4":
        return FilterPipeline.bitshuffle_lz4()
    if w.codec == "zstd":
        return FilterPipeline.zstd(w.level)
    return FilterPipeline.lz4() if w.block is None else FilterPipeline.lz4(w.block)


def plugin_kwargs(w: Workload) -> dict[str, Any]:
    import hdf5plugin

    if w.codec == "bslz4":
        return dict(hdf5plugin.Bitshuffle())
    if w.codec == "zstd":
        return dict(hdf5plugin.Zstd(clevel=w.level))
    return dict(hdf5plugin.LZ4() if w.block is None else hdf5plugin.LZ4(nbytes=w.block))


def encode_chunk(w: Workload, block: np.ndarray) -> bytes:
    raw = np.ascontiguousarray(block)
    if w.codec is None:
        return raw.tobytes()
    if w.codec in PLUGIN_CODECS:
        return bytes(plugin_pipeline(w).encode(raw.tobytes(), raw.dtype.itemsize)[0])
    if w.codec == "shuffle_deflate":
        raw = raw.view(np.uint8).reshape(-1, raw.dtype.itemsize).T.copy()
    return zlib.compress(raw.tobytes(), w.level)


# -- children: one writer each ------------------------------------------------------------------


def _rss_kib(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return -1


def _result(w: Workload, elapsed: float, flushes: list[int], extra: dict[str, Any]) -> dict:
    return {
        "elapsed_s": elapsed,
        "frames": w.frames,
        "fps": w.frames / elapsed,
        "mbps": w.frames * w.frame_nbytes / elapsed / 1e6,
        "flush_ns": flushes,
        "vmhwm_kib": _rss_kib("VmHWM"),
        **extra,
    }


def run_h5py(w: Workload, path: str, pool: np.ndarray, rdcc_mb: int) -> dict:
    import h5py

    growth: dict[int, float] = {}
    window = {n: n - min(n // 10, 10_000) for n in w.growth}
    starts = set(window.values())
    marks: dict[int, float] = {}
    setup_rss = _rss_kib("VmRSS")
    flushes: list[int] = []
    kwargs: dict[str, Any] = {}
    if w.codec in PLUGIN_CODECS:
        kwargs = plugin_kwargs(w)
    elif w.codec is not None:
        kwargs = {"compression": "gzip", "compression_opts": w.level}
        kwargs["shuffle"] = w.codec == "shuffle_deflate"
    clock = time.perf_counter_ns
    t0 = time.perf_counter()
    f = h5py.File(path, "w", libver="latest", rdcc_nbytes=rdcc_mb << 20, rdcc_nslots=10007)
    ds = f.create_dataset(
        "data",
        shape=(0, *w.frame),
        maxshape=(None, *w.frame),
        dtype=w.dtype,
        chunks=w.chunk,
        **kwargs,
    )
    f.swmr_mode = True
    every = w.flush_every
    for i in range(w.frames):
        if i in starts:
            marks[i] = time.perf_counter()
        ds.resize(i + 1, axis=0)
        ds[i] = pool[i % POOL]
        if (i + 1) % every == 0:
            s = clock()
            ds.flush()
            flushes.append(clock() - s)
        if i + 1 in window:
            growth[i + 1] = (time.perf_counter() - marks[window[i + 1]]) / (i + 1 - window[i + 1])
    f.close()
    elapsed = time.perf_counter() - t0
    return _result(w, elapsed, flushes, {"growth_s_per_frame": growth, "setup_rss_kib": setup_rss})


def run_h5swmr(w: Workload, path: str, pool: np.ndarray, workers: int | None) -> dict:
    from h5swmr.filters.pipeline import FilterPipeline
    from h5swmr.writer.swmr_file_writer import SwmrFileWriter

    growth: dict[int, float] = {}
    window = {n: n - min(n // 10, 10_000) for n in w.growth}
    starts = set(window.values())
    marks: dict[int, float] = {}
    setup_rss = _rss_kib("VmRSS")
    flushes: list[int] = []
    pipeline = None
    backend = None
    if w.codec in PLUGIN_CODECS:
        pipeline = plugin_pipeline(w)
    elif w.codec is not None:
        from h5swmr.filters.deflate import DeflateFilter
        from h5swmr.filters.shuffle import ShuffleFilter

        deflate = DeflateFilter(w.level, backend=w.backend)
        backend = deflate.backend_in_use
        filters = [ShuffleFilter(), deflate] if w.codec == "shuffle_deflate" else [deflate]
        pipeline = FilterPipeline(filters)
    policy = {"flush_every": w.flush_every} if w.policy else {}
    clock = time.perf_counter_ns
    t0 = time.perf_counter()
    writer = SwmrFileWriter.create(path, workers=workers, **policy)
    if w.chunk_frames > 1:
        chunk = w.chunk
        if pipeline is None:
            ds = writer.create_streaming_dataset_chunked("data", w.dtype, w.frame, chunk)
        else:
            ds = writer.create_streaming_dataset_chunked_compressed(
                "data", w.dtype, w.frame, chunk, pipeline
            )
    elif w.tile is not None:
        if pipeline is None:
            ds = writer.create_streaming_dataset_tiled("data", w.dtype, w.frame, w.tile)
        else:
            ds = writer.create_streaming_dataset_tiled_compressed(
                "data", w.dtype, w.frame, w.tile, pipeline
            )
    elif pipeline is None:
        ds = writer.create_streaming_dataset("data", w.dtype, w.frame)
    else:
        ds = writer.create_streaming_dataset_compressed("data", w.dtype, w.frame, pipeline)
    writer.start_swmr()
    every = w.flush_every
    for i in range(w.frames):
        if i in starts:
            marks[i] = time.perf_counter()
        writer.append_frame(ds, pool[i % POOL])
        if (i + 1) % every == 0 and not w.policy:
            s = clock()
            writer.flush()
            flushes.append(clock() - s)
        if i + 1 in window:
            growth[i + 1] = (time.perf_counter() - marks[window[i + 1]]) / (i + 1 - window[i + 1])
    writer.close()
    elapsed = time.perf_counter() - t0
    extra = {"growth_s_per_frame": growth, "setup_rss_kib": setup_rss, "deflate_backend": backend}
    return _result(w, elapsed, flushes, extra)


def run_pwrite(w: Workload, path: str, pool: np.ndarray) -> dict:
    payloads = chunk_payloads(w, pool)
    setup_rss = _rss_kib("VmRSS")
    t0 = time.perf_counter()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o666)
    offset = 0
    for data in payloads:
        os.pwrite(fd, data, offset)
        offset += len(data)
    os.close(fd)
    elapsed = time.perf_counter() - t0
    extra = {"bytes": offset, "pwrites": len(payloads), "setup_rss_kib": setup_rss}
    return _result(w, elapsed, [], extra)


def child(spec: dict) -> None:
    w = workload_from_dict(spec["workload"])
    pool = frame_pool(w)
    impl = spec["impl"]
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    if impl == "h5py":
        result = run_h5py(w, spec["path"], pool, spec["rdcc_mb"])
    elif impl == "h5swmr":
        result = run_h5swmr(w, spec["path"], pool, spec["workers"])
    else:
        result = run_pwrite(w, spec["path"], pool)
    if profiler is not None:
        import pstats

        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(35)
    sys.stdout.write(json.dumps(result))


def workload_from_dict(d: dict) -> Workload:
    d = dict(d)
    for key in ("frame", "tile", "growth", "impls"):
        if d.get(key) is not None:
            d[key] = tuple(d[key])
    return Workload(**d)


# -- parent: schedule, verify, tabulate ---------------------------------------------------------


def spawn(spec: dict, env: dict[str, str]) -> dict:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        name = spec["workload"]["name"]
        raise RuntimeError(f"child {spec['impl']} {name} failed:\n{proc.stderr}")
    if proc.stderr:
        sys.stderr.write(proc.stderr)
    return json.loads(proc.stdout)


def verify(w: Workload, impl: str, path: Path, result: dict) -> str:
    """Read the file back (outside the clock): frame count, chunking, filters and sample frames."""
    if impl == "pwrite":
        expected = sum(len(p) for p in chunk_payloads(w, frame_pool(w)))
        size = path.stat().st_size
        return "ok" if size == expected == result["bytes"] else f"size {size} != {expected}"
    import h5py
    import hdf5plugin  # noqa: F401 - registers the plugin filters with h5py

    pool = frame_pool(w)
    with h5py.File(path, "r") as f:
        ds = f["data"]
        problems = []
        if ds.shape != (w.frames, *w.frame):
            problems.append(f"shape {ds.shape}")
        if ds.chunks != w.chunk:
            problems.append(f"chunks {ds.chunks}")
        plugin = w.codec in PLUGIN_CODECS
        if not plugin and (
            ds.compression != ("gzip" if w.codec else None)
            or ds.shuffle != (w.codec == "shuffle_deflate")
        ):
            problems.append(f"filters {ds.compression} shuffle={ds.shuffle}")
        rng = np.random.default_rng(w.frames)
        samples = {0, 1, w.frames // 2, w.frames - 1, *rng.integers(0, w.frames, 6).tolist()}
        for i in sorted(samples):
            if not np.array_equal(ds[i], pool[i % POOL]):
                problems.append(f"frame {i} differs")
    return "ok" if not problems else "; ".join(problems)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[int], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run_workload(w: Workload, args: argparse.Namespace, env: dict[str, str], tmp: Path) -> dict:
    runs: dict[str, list[dict]] = {impl: [] for impl in w.impls}
    checks: dict[str, str] = {}
    order = list(w.impls)
    for rep in range(args.repeat):
        for impl in order[rep % len(order) :] + order[: rep % len(order)]:
            path = tmp / f"{w.name}-{impl}.h5"
            spec = {
                "workload": asdict(w),
                "impl": impl,
                "path": str(path),
                "rdcc_mb": args.rdcc_mb,
                "workers": args.workers,
                "profile": args.profile and impl == "h5swmr" and rep == 0,
            }
            if args.settle:
                os.sync()  # previous runs' writeback and ext4 discards finish off the clock
            result = spawn(spec, env)
            if rep == 0:
                checks[impl] = verify(w, impl, path, result)
            path.unlink()
            runs[impl].append(result)
            print(
                f"  {w.name:18} rep {rep + 1}/{args.repeat} {impl:7} "
                f"{result['fps']:10.1f} frames/s {result['mbps']:9.1f} MB/s",
                file=sys.stderr,
                flush=True,
            )
    summary: dict[str, Any] = {"workload": asdict(w), "checks": checks, "impls": {}}
    for impl, results in runs.items():
        flush_all = [ns for r in results for ns in r["flush_ns"]]
        growth: dict[str, float] = {}
        for n in w.growth:
            growth[str(n)] = median([r["growth_s_per_frame"][str(n)] for r in results])
        summary["impls"][impl] = {
            "fps": median([r["fps"] for r in results]),
            "mbps": median([r["mbps"] for r in results]),
            "fps_all": [r["fps"] for r in results],
            "flush_p50_us": percentile(flush_all, 50) / 1e3,
            "flush_p99_us": percentile(flush_all, 99) / 1e3,
            "flush_max_us": max(flush_all, default=float("nan")) / 1e3,
            "vmhwm_mib": median([r["vmhwm_kib"] for r in results]) / 1024,
            "setup_rss_mib": median([r["setup_rss_kib"] for r in results]) / 1024,
            "growth_us_per_frame": {n: s * 1e6 for n, s in growth.items()},
            "deflate_backend": results[0].get("deflate_backend"),
        }
    for other in ("h5py", "pwrite"):
        if other in runs and "h5swmr" in runs:
            pairs = zip(runs["h5swmr"], runs[other], strict=True)
            summary[f"ratio_{other}"] = median([a["fps"] / b["fps"] for a, b in pairs])
            best = max(r["fps"] for r in runs["h5swmr"]) / max(r["fps"] for r in runs[other])
            summary[f"best_ratio_{other}"] = best
    return summary


def fmt(x: float, digits: int = 0) -> str:
    return "n/a" if x != x else f"{x:,.{digits}f}"  # noqa: PLR0124 (NaN check)


def target_text(ratio: float | None, target: float | None, percent: bool = False) -> str:
    if ratio is None:
        return "n/a"
    text = f"{ratio * 100:.0f}%" if percent else f"{ratio:.2f}x"
    if target is None:
        return text
    goal = f"{target * 100:.0f}%" if percent else f"{target:.1f}x"
    return f"{text} ({'met' if ratio >= target else 'MISSED'} >= {goal})"


def lz4_blocks(w: Workload) -> str:
    if w.codec != "lz4":
        return ""
    if w.block is None:
        return " defaults (h5swmr 256 KiB blocks, hdf5plugin 1 block/chunk)"
    return f" {w.block // 1024} KiB blocks" if w.block else " 1 block/chunk both"


def describe(w: Workload) -> str:
    frame = "x".join(map(str, w.frame))
    bits = [f"{frame} {w.dtype}", f"{w.frames} fr"]
    if w.tile:
        bits.append("tiles " + "x".join(map(str, w.tile)))
    if w.chunk_frames > 1:
        bits.append(f"{w.chunk_frames} fr/chunk")
    if w.codec in ("bslz4", "lz4"):
        bits.append(f"{w.codec}{lz4_blocks(w)}, {w.data}")
    elif w.codec:
        bits.append(f"{w.codec.replace('_', '+')} {w.level}, {w.data}")
        if w.backend != "auto":
            bits.append(f"h5swmr deflate: {w.backend}")
    bits.append("flush/frame" if w.flush_every == 1 else f"flush/{w.flush_every}")
    if w.policy:
        bits.append("h5swmr by flush_every")
    return ", ".join(bits)


def print_tables(summaries: list[dict]) -> None:
    print()
    print(
        "| workload | h5py fr/s | h5swmr fr/s | pwrite fr/s | h5py MB/s | h5swmr MB/s | "
        "pwrite MB/s | h5swmr/h5py (target) | h5swmr/pwrite (target) | best/best h5py, pwrite "
        "| check |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|---|---|---|---|")
    for s in summaries:
        w = workload_from_dict(s["workload"])
        if w.growth:
            continue
        im = s["impls"]
        label = describe(w)
        used = im.get("h5swmr", {}).get("deflate_backend")
        if w.codec and w.backend == "auto" and used:
            label += f", h5swmr deflate: auto = {used}"
        cells = [f"{w.name}: {label}"]
        for key, digits in (("fps", 0), ("mbps", 0)):
            cells += [fmt(im[i][key], digits) if i in im else "n/a" for i in IMPLS]
        cells.append(target_text(s.get("ratio_h5py"), w.target_h5py))
        cells.append(target_text(s.get("ratio_pwrite"), w.target_pwrite, percent=True))
        best = [s.get("best_ratio_h5py"), s.get("best_ratio_pwrite")]
        cells.append(", ".join(target_text(b, None, percent=i == 1) for i, b in enumerate(best)))
        cells.append(", ".join(f"{k} {v}" for k, v in s["checks"].items()))
        print("| " + " | ".join(cells) + " |")

    print()
    print("Flush latency (each flush() / Dataset.flush() call, all repetitions pooled), in us:")
    print()
    print("| workload | h5py p50 | h5py p99 | h5py max | h5swmr p50 | h5swmr p99 | h5swmr max |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for s in summaries:
        im = s["impls"]
        cells = [s["workload"]["name"]]
        nan = float("nan")
        for impl in ("h5py", "h5swmr"):
            keys = ("flush_p50_us", "flush_p99_us", "flush_max_us")
            cells += [fmt(im.get(impl, {}).get(k, nan), 1) for k in keys]
        print("| " + " | ".join(cells) + " |")

    for s in summaries:
        w = workload_from_dict(s["workload"])
        if not w.growth:
            continue
        im = s["impls"]
        print()
        print(
            f"Growth curve ({describe(w)}): mean time per frame (append + flush) over the "
            "last min(N/10, 10000) frames before N, and the writer process's peak RSS:"
        )
        print()
        print("| frames N | h5py us/frame | h5swmr us/frame | h5swmr/h5py speed |")
        print("|--:|--:|--:|--:|")
        nan = float("nan")
        for n in w.growth:
            a = im.get("h5py", {}).get("growth_us_per_frame", {}).get(str(n), nan)
            b = im.get("h5swmr", {}).get("growth_us_per_frame", {}).get(str(n), nan)
            print(f"| {n:,} | {fmt(a, 1)} | {fmt(b, 1)} | {fmt(a / b, 2)}x |")
        print()
        print("| writer | RSS before the file is created (MiB) | peak RSS VmHWM (MiB) |")
        print("|---|--:|--:|")
        for impl in ("h5py", "h5swmr"):
            if impl in im:
                print(f"| {impl} | {im[impl]['setup_rss_mib']:.1f} | {im[impl]['vmhwm_mib']:.1f} |")


def machine() -> dict[str, Any]:
    import h5py

    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "h5py": h5py.__version__,
        "hdf5": h5py.version.hdf5_version,
        "platform": platform.platform(),
        "loadavg_start": os.getloadavg(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
    }
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
            for p in threadpool_info()
        ]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 1/10 of the frames, 1 repeat")
    parser.add_argument("--long", action="store_true", help="add the 1M-frame growth point")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="workloads to run (prefixes)")
    parser.add_argument("--repeat", type=int, help="repetitions per implementation (default 5)")
    parser.add_argument("--json", type=Path, help="write every sample and summary here")
    parser.add_argument("--dir", type=Path, help="where the files go (default: the temp dir)")
    parser.add_argument("--workers", type=int, default=None, help="h5swmr filter threads")
    parser.add_argument("--rdcc-mb", type=int, default=64, help="h5py chunk cache per file")
    parser.add_argument("--profile", action="store_true", help="cProfile h5swmr's first run")
    parser.add_argument(
        "--no-settle",
        dest="settle",
        action="store_false",
        help="skip os.sync() before each run (it drops nothing from the page cache)",
    )
    parser.add_argument(
        "--impls",
        nargs="+",
        choices=IMPLS,
        help="only these writers (e.g. --long --only growth --impls h5swmr for the 1M point)",
    )
    parser.add_argument(
        "--issue",
        type=int,
        choices=sorted(ISSUE_ROWS),
        help="only the rows this issue's targets name (e.g. --issue 17 --repeat 3)",
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    if args.list:
        for w in WORKLOADS:
            print(f"{w.name:18} {describe(w)}")
        return 0
    args.repeat = args.repeat or (1 if args.quick else 5)

    workloads = []
    for listed in WORKLOADS:
        if args.only and not any(listed.name.startswith(n) for n in args.only):
            continue
        if args.issue and listed.name not in ISSUE_ROWS[args.issue]:
            continue
        base = listed
        if args.impls:
            base = replace(listed, impls=tuple(i for i in listed.impls if i in args.impls))
        if args.quick:
            growth = tuple(n for n in base.growth if n <= base.quick_frames)
            workloads.append(replace(base, frames=base.quick_frames, growth=growth))
        elif args.long and base.growth:
            workloads.append(replace(base, frames=1_000_000, growth=(*base.growth, 1_000_000)))
        else:
            workloads.append(base)
    if not workloads:
        parser.error(f"no workload matches {args.only}; see --list")

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH", "")]))
    tmp = Path(tempfile.mkdtemp(prefix="h5swmr-bench-", dir=args.dir))
    info = machine()
    info["files_in"] = str(tmp)
    print(json.dumps(info), file=sys.stderr)
    summaries = []
    started = time.time()
    try:
        for w in workloads:
            summaries.append(run_workload(w, args, env, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    info["loadavg_end"] = os.getloadavg()
    info["wall_s"] = time.time() - started
    print_tables(summaries)
    print(
        f"\n{args.repeat} repetition(s), medians; wall {info['wall_s']:.0f} s; "
        f"load average {info['loadavg_start'][0]:.2f} -> {info['loadavg_end'][0]:.2f}"
    )
    if args.json:
        out = {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}}
        out["results"] = summaries
        args.json.write_text(json.dumps(out, indent=1))
    bad = [s["workload"]["name"] for s in summaries if set(s["checks"].values()) != {"ok"}]
    if bad:
        print(f"read-back check FAILED for: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
