"""DistributedWriter on a LocalCluster of processes against K plain writer processes (the limit).

    PYTHONPATH=src python benchmarks/bench_distributed.py                 # every row, 3 repeats
    PYTHONPATH=src python benchmarks/bench_distributed.py --repeat 1 --writers 1

Both sides write the same frames (made once, before the clock starts) in round robin to K part
files, flushing each part every ``--flush-every`` frames, in the same directory. The limit: K
``multiprocessing`` processes, each with its own frames, writing with ``SwmrFileWriter`` and
nothing else. The distributed run: a ``DistributedWriter`` with K actors on a LocalCluster of K
worker processes, the client routing every frame (so the frames also cross a socket). Runs
alternate; the table gives medians and the efficiency (distributed / limit frames per second).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import numpy as np

from h5swmr import FilterPipeline, SwmrFileWriter
from h5swmr.scaleout import write_fanout_master
from h5swmr.scaleout.distributed import DistributedWriter

DATASET = "/entry/data/data"
ROWS = {  # name: (frame dims, frames per run)
    "64x64": ((64, 64), 20_000),
    "1024x1024": ((1024, 1024), 400),
}


def make_frames(dims: tuple[int, ...], n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    pool = [rng.poisson(2, dims).astype("<u2") for _ in range(8)]
    return [pool[i % len(pool)] for i in range(n)]


def pipeline_of(codec: str) -> FilterPipeline | None:
    return FilterPipeline.bitshuffle_lz4() if codec == "bslz4" else None


def _limit_worker(  # noqa: PLR0917
    path: str, dims: tuple[int, ...], n: int, codec: str, flush_every: int, go: Event
) -> None:
    frames = make_frames(dims, n)
    with SwmrFileWriter.create(path) as writer:
        pipeline = pipeline_of(codec)
        if pipeline is None:
            writer.create_streaming_dataset(DATASET, "<u2", dims)
        else:
            writer.create_streaming_dataset_compressed(DATASET, "<u2", dims, pipeline)
        writer.start_swmr()
        go.wait()
        for i, frame in enumerate(frames, start=1):
            writer.append_frame(0, frame)
            if i % flush_every == 0:
                writer.flush()


def run_limit(
    directory: Path, *, k: int, dims: tuple[int, ...], n: int, codec: str, flush: int
) -> float:
    ctx = multiprocessing.get_context("fork")
    go = ctx.Event()
    share = [len(range(w, n, k)) for w in range(k)]
    procs = [
        ctx.Process(
            target=_limit_worker,
            args=(str(directory / f"limit_{w}.h5"), dims, share[w], codec, flush, go),
        )
        for w in range(k)
    ]
    for p in procs:
        p.start()
    time.sleep(1.0)  # every file created and every frame made before the clock starts
    start = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
    return time.perf_counter() - start


def run_distributed(
    client: Any,
    directory: Path,
    *,
    k: int,
    dims: tuple[int, ...],
    n: int,
    codec: str,
    flush: int,
    source: str,
) -> float:
    """Seconds to route ``n`` frames and close. ``source`` "client": the client holds the frames
    and sends them; "cluster": each frame already lies on the worker that writes it (scattered
    there before the clock starts, as frames computed on the cluster would)."""
    frames: list[Any] = make_frames(dims, n)
    writer = DistributedWriter(
        client,
        directory,
        dtype="<u2",
        frame_dims=dims,
        n_writers=k,
        pipeline=pipeline_of(codec),
        flush_every=flush,
        max_in_flight=8 * flush,
    )
    if source == "cluster":
        on = [writer.worker_for(i) for i in range(n)]
        pool = {w: client.scatter(frames[:8], workers=[w]) for w in set(on)}
        frames = [pool[on[i]][i % 8] for i in range(n)]
    start = time.perf_counter()
    for frame in frames:
        writer.append_frame(frame)
    report = writer.close()
    seconds = time.perf_counter() - start
    if report.frames != n or report.lost:
        raise RuntimeError(f"distributed run wrote {report.frames} of {n} frames")
    return seconds


def master_scale(counts: list[int], directory_root: str | None) -> None:
    """How a round-robin master's size, writing and reading grow with the parts it maps: K parts
    of two 16x16 frames each, read by h5py (libhdf5 opens every source)."""
    import h5py

    print(f"{'K':>5} {'master B':>9} {'write ms':>9} {'h5py open ms':>13} {'one frame ms':>13} "
          f"{'all frames ms':>14}")  # fmt: skip
    for k in counts:
        directory = Path(tempfile.mkdtemp(dir=directory_root, prefix="bench-master-"))
        try:
            parts = []
            for w in range(k):
                part = directory / f"part_{w}.h5"
                with SwmrFileWriter.create(part) as writer:
                    writer.create_streaming_dataset(DATASET, "<u2", (16, 16))
                    writer.start_swmr()
                    for i in range(2):
                        writer.append_frame(0, np.full((16, 16), w + i * k, "<u2"))
                parts.append(str(part))
            master = directory / "master.h5"
            start = time.perf_counter()
            write_fanout_master(master, parts, DATASET, "<u2", (16, 16))
            written = time.perf_counter() - start
            start = time.perf_counter()
            with h5py.File(master, "r") as f:
                dataset = f[DATASET]
                _ = dataset.shape
                opened = time.perf_counter() - start
                start = time.perf_counter()
                dataset[k // 2]
                one = time.perf_counter() - start
                start = time.perf_counter()
                every = dataset[...]
                whole = time.perf_counter() - start
            if any(int(every[i, 0, 0]) != i for i in range(2 * k)):
                raise RuntimeError(f"K={k}: the master maps frames to the wrong places")
            print(f"{k:>5} {master.stat().st_size:>9} {written * 1e3:>9.1f} {opened * 1e3:>13.1f} "
                  f"{one * 1e3:>13.1f} {whole * 1e3:>14.1f}")  # fmt: skip
        finally:
            shutil.rmtree(directory)


def _one(side: str, run: Any, directory_root: str | None) -> float:
    directory = Path(tempfile.mkdtemp(dir=directory_root, prefix=f"bench-dist-{side}-"))
    try:
        return float(run(directory))
    finally:
        shutil.rmtree(directory)


def main() -> None:
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--codecs", nargs="+", default=["none", "bslz4"])
    parser.add_argument("--sources", nargs="+", default=["client", "cluster"])
    parser.add_argument("--flush-every", type=int, default=10)
    parser.add_argument("--dir", default=None, help="where the files go (default: a temp dir)")
    parser.add_argument(
        "--master-scale", type=int, nargs="*", metavar="K",
        help="instead: how opening and reading a master grows with K parts (e.g. 10 100 1000)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.master_scale:
        master_scale(args.master_scale, args.dir)
        return
    flush = args.flush_every
    print(f"load {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores, flush every {flush} frames")
    print(
        f"{'row':<10} {'codec':<6} {'source':<8} {'K':>2} {'limit fr/s':>11} {'dask fr/s':>10} "
        f"{'dask MB/s':>10} {'efficiency':>10}"
    )
    for k in args.writers:
        with (
            LocalCluster(
                n_workers=k, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            for row, codec, source in itertools.product(args.rows, args.codecs, args.sources):
                dims, n = ROWS[row]
                limit, dask = [], []
                plain = functools.partial(run_limit, k=k, dims=dims, n=n, codec=codec, flush=flush)
                actors = functools.partial(
                    run_distributed, client, k=k, dims=dims, n=n, codec=codec, flush=flush,
                    source=source,
                )  # fmt: skip
                for _ in range(args.repeat):  # alternating, so drifts of the machine hit both
                    limit.append(n / _one("limit", plain, args.dir))
                    dask.append(n / _one("dask", actors, args.dir))
                lim, dsk = statistics.median(limit), statistics.median(dask)
                mb = dsk * math.prod(dims) * 2 / 1e6
                print(
                    f"{row:<10} {codec:<6} {source:<8} {k:>2} {lim:>11.0f} {dsk:>10.0f} "
                    f"{mb:>10.0f} {dsk / lim:>10.0%}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
