"""Reading through ``h5swmr.File`` beside ``h5py.File`` in one run, on the same files.

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/bench_read.py [--frames N] [--side S] [--repeat R]

Files: ``N`` frames of ``S``x``S`` uint16 written by h5swmr, one frame per chunk, unfiltered
("plain") and shuffle+deflate ("deflate"); and a 1-D dataset of 100,000 one-element chunks
written by h5py (extensible array index). Both readers open each file once in this process;
each case is timed best of ``R``, the two readers alternating; the ratio is h5py time / h5swmr
time (above 1: h5swmr faster).

Cases: every frame one by one (``d[i]``), blocks of 50 frames (``d[a:a + 50]``), a 32x32
region of every frame (``d[:, y:y+32, x:x+32]``), every 10th frame (``d[::10]``), an index list
of frames (``d[[...]]``); then one element of the 100k-chunk dataset, with the bytes h5swmr read
to open the file and get it (counted through a file object that tallies ``read`` calls).
Speed is never asserted anywhere; this script only prints.
"""

from __future__ import annotations

import argparse
import functools
import io
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

import h5swmr
from h5swmr import FilterPipeline, SwmrFileWriter


def best_pair(
    first: Callable[[], object], second: Callable[[], object], repeat: int
) -> tuple[float, float]:
    """Best time of each, the two run alternately so that a change in machine load hits both."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, kept in ((first, times[0]), (second, times[1])):
            began = time.perf_counter()
            fn()
            kept.append(time.perf_counter() - began)
    return min(times[0]), min(times[1])


def write_frames(path: Path, n: int, side: int, pipeline: FilterPipeline | None) -> None:
    rng = np.random.default_rng(0)
    pool = [rng.poisson(20, (side, side)).astype(np.uint16) for _ in range(8)]
    w = SwmrFileWriter.create(path)
    if pipeline is None:
        ds = w.create_streaming_dataset("data", np.uint16, (side, side))
    else:
        ds = w.create_streaming_dataset_compressed("data", np.uint16, (side, side), pipeline)
    w.start_swmr()
    for i in range(n):
        w.append_frame(ds, pool[i % len(pool)])
    w.close()


def cases(n: int, side: int) -> dict[str, Callable[[Any], object]]:
    y = x = side // 3
    picks = sorted({(i * 37) % n for i in range(50)})
    return {
        "frame by frame": lambda d: [d[i] for i in range(n)],
        "blocks of 50": lambda d: [d[a : a + 50] for a in range(0, n, 50)],
        "32x32 region": lambda d: d[:, y : y + 32, x : x + 32],
        "every 10th": lambda d: d[::10],
        "index list (50)": lambda d: d[picks],
    }


class CountingFile(io.RawIOBase):
    """A read-only file that counts the bytes read through it."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")
        self.nbytes = 0
        self.calls = 0
        self.name = str(path)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self.nbytes += len(data)
        self.calls += 1
        return data

    def close(self) -> None:
        self._file.close()
        super().close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--side", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, side = args.frames, args.side
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for label, pipeline in (("plain", None), ("deflate", FilterPipeline.shuffle_deflate(4))):
            path = Path(tmp) / f"{label}.h5"
            write_frames(path, n, side, pipeline)
            with h5py.File(path, "r", swmr=True) as theirs, h5swmr.File(path) as ours:
                np.testing.assert_array_equal(ours["data"][n // 2], theirs["data"][n // 2])
                for case, run in cases(n, side).items():
                    t_h5py, t_ours = best_pair(
                        functools.partial(run, theirs["data"]),
                        functools.partial(run, ours["data"]),
                        args.repeat,
                    )
                    rows.append((label, case, t_h5py, t_ours))
        print(f"{n} frames of {side}x{side} uint16, one per chunk; best of {args.repeat}")
        print(f"{'dataset':8} {'case':18} {'h5py ms':>9} {'h5swmr ms':>10} {'h5py/h5swmr':>12}")
        for label, case, t_h5py, t_ours in rows:
            print(
                f"{label:8} {case:18} {t_h5py * 1e3:9.1f} {t_ours * 1e3:10.1f} "
                f"{t_h5py / t_ours:12.2f}"
            )
        many = Path(tmp) / "many.h5"
        with h5py.File(many, "w", libver="latest") as f:
            f.create_dataset(
                "d", data=np.arange(100_000, dtype="<i8"), chunks=(1,), maxshape=(None,)
            )
        size = many.stat().st_size
        counting = CountingFile(many)
        began = time.perf_counter()
        with h5swmr.File(counting) as ours:
            value = ours["d"][54_321]
        t_ours = time.perf_counter() - began
        t_path, t_h5py = best_pair(
            lambda: _one_element(h5swmr.File(many)),
            lambda: _one_element(h5py.File(many, "r")),
            args.repeat,
        )
        assert value == _one_element(h5py.File(many, "r"))
        print(
            f"100,000-chunk dataset ({size} bytes): one element, open included: h5swmr read "
            f"{counting.nbytes} bytes in {counting.calls} reads (through a counting file "
            f"object: {t_ours * 1e3:.1f} ms; from the path: {t_path * 1e3:.1f} ms), "
            f"h5py {t_h5py * 1e3:.1f} ms"
        )


def _one_element(f: Any) -> object:
    with f:
        return f["d"][54_321]


if __name__ == "__main__":
    main()
