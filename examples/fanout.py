"""Fan-out with multiprocessing: K writer processes, each its own SWMR file, one VDS master.

    PYTHONPATH=src python examples/fanout.py --workers 2 --frames 2000
    PYTHONPATH=src python examples/fanout.py --bench          # K = 1, 2; prints a table

Worker k writes frames k, k + K, ... (``--mode round_robin``) or rows k*H/K.. of every frame
(``--mode stripes``) of ``/entry/data/data`` into ``fan_<k>.h5``. The master ``fan_master.h5``
is written once, before the workers start; h5py reads it while they run
(``h5py.File(master, "r", swmr=True)`` + ``Dataset.refresh()``), and checks it at the end.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from multiprocessing.synchronize import Event
from pathlib import Path

import numpy as np

from h5swmr import SwmrFileWriter
from h5swmr.scaleout import stripe_rows, worker_frames, write_fanout_master

DATASET = "/entry/data/data"


def frame(i: int, shape: tuple[int, int]) -> np.ndarray:
    """Frame ``i``: cheap to make, different for every frame, so the check is meaningful."""
    row = np.arange(shape[1], dtype="<u2")
    return (np.add.outer(np.arange(shape[0], dtype="<u2") * 3, row) + i).astype("<u2")


def worker(
    *,
    k: int,
    n_workers: int,
    path: str,
    n_frames: int,
    shape: tuple[int, int],
    mode: str,
    flush_every: int,
    start: Event,
) -> None:
    rows = stripe_rows(k, n_workers, shape[0]) if mode == "stripes" else slice(None)
    frames = range(n_frames) if mode == "stripes" else worker_frames(k, n_workers, n_frames)
    part_shape = frame(0, shape)[rows].shape
    with SwmrFileWriter.create(path) as writer:
        writer.create_streaming_dataset(DATASET, "<u2", part_shape)
        writer.start_swmr()
        start.wait()
        for n, i in enumerate(frames, start=1):
            writer.append_frame(0, frame(i, shape)[rows])
            if n % flush_every == 0:
                writer.flush()


def run(
    *,
    directory: Path,
    n_workers: int,
    n_frames: int,
    shape: tuple[int, int],
    mode: str,
    flush_every: int = 10,
) -> float:
    """Seconds for K workers to write ``n_frames`` frames (after every file exists)."""
    import h5py

    parts = [str(directory / f"fan_{k}.h5") for k in range(n_workers)]
    master = directory / "fan_master.h5"
    write_fanout_master(master, parts, DATASET, "<u2", shape, mode=mode)
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [
        ctx.Process(
            target=worker,
            kwargs={
                "k": k,
                "n_workers": n_workers,
                "path": parts[k],
                "n_frames": n_frames,
                "shape": shape,
                "mode": mode,
                "flush_every": flush_every,
                "start": start,
            },
        )
        for k in range(n_workers)
    ]
    for p in procs:
        p.start()
    while not all(Path(p).exists() for p in parts):
        time.sleep(0.01)
    time.sleep(0.2)  # every worker has its file and dataset
    t0 = time.perf_counter()
    start.set()
    seen = 0
    with h5py.File(master, "r", swmr=True) as f:  # a live reader of the master, meanwhile
        data = f[DATASET]
        while any(p.is_alive() for p in procs):
            data.refresh()
            seen = max(seen, data.shape[0])
            time.sleep(0.05)
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - t0
    if any(p.exitcode for p in procs):
        raise SystemExit(f"a worker failed: {[p.exitcode for p in procs]}")
    with h5py.File(master, "r") as f:
        data = f[DATASET]
        if data.shape != (n_frames, *shape):
            raise SystemExit(f"master shape {data.shape}, expected {(n_frames, *shape)}")
        for i in range(0, n_frames, max(1, n_frames // 50)):
            np.testing.assert_array_equal(data[i], frame(i, shape))
    print(
        f"  K={n_workers}: {elapsed:.2f} s; a live reader of the master saw up to {seen} "
        f"frames while writing; {n_frames} frames checked against h5py"
    )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--shape", type=int, nargs=2, default=(512, 512))
    parser.add_argument("--mode", choices=("round_robin", "stripes"), default="round_robin")
    parser.add_argument("--flush-every", type=int, default=10)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--bench", action="store_true", help="K = 1, 2 and print a table")
    parser.add_argument("--repeat", type=int, default=1, help="runs per K (median shown)")
    args = parser.parse_args()
    shape = (args.shape[0], args.shape[1])
    frame_mb = shape[0] * shape[1] * 2 / 1e6
    counts = (1, 2) if args.bench else (args.workers,)
    rows = []
    for _ in range(args.repeat):
        for k in counts:  # alternate K so drifting machine load hits every K alike
            with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
                rows.append(
                    (
                        k,
                        run(
                            directory=Path(tmp),
                            n_workers=k,
                            n_frames=args.frames,
                            shape=shape,
                            mode=args.mode,
                            flush_every=args.flush_every,
                        ),
                    )
                )
    print(
        f"{'K':>2} {'median s':>8} {'frames/s':>9} {'MB/s':>8}   ({args.frames} frames "
        f"{shape[0]}x{shape[1]} <u2, {args.mode}, flush every {args.flush_every}, "
        f"{args.repeat} runs each)"
    )
    for k in counts:
        elapsed = float(np.median([t for kk, t in rows if kk == k]))
        print(
            f"{k:>2} {elapsed:8.2f} {args.frames / elapsed:9.0f} "
            f"{args.frames * frame_mb / elapsed:8.0f}"
        )


if __name__ == "__main__":
    main()
