"""The frame formula of the live tests, and the h5py SWMR reader that checks it.

Frame ``i`` of a dataset holds ``expected_values(i, 1, frame_size, bits, salt)``: every element a
hash of (frame index, position, dataset salt), never 0, so a zero-filled frame, a stale frame or a
frame of another dataset cannot pass. ``swmr_reader.c`` computes the same formula in C.

Run as a script (``python -c <this file's source> OPTIONS_JSON``, by any h5py from 3.8 on, with
numpy 1.x or 2.x) it is the Python twin of ``swmr_reader.c``: it opens the file with
``swmr=True`` and either *follows* the datasets (``Dataset.refresh()``; read and check every new
frame, and again the ``RECHECK`` frames before them, until each holds its target) or *samples*
them (size equals the target; check every ``stride``-th frame and the last one). Reports are the
C reader's JSON lines: ``opened`` (hdf5, sizes), ``size`` (dataset, n, checked, t), ``bad``,
``shrank``, ``error``, ``timeout``, ``done`` (sizes, checked, polls, t). Exit status: 0 done,
1 error or bad frame, 3 timeout.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np

BLOCK_ELEMENTS = 1 << 20
"""At most this many elements are read and checked at once."""
RECHECK = 4
"""When the size grows, the frames just before the old size are checked again."""

_M32 = np.uint64(0xFFFFFFFF)


def expected_values(first: int, count: int, frame_size: int, bits: int, salt: int) -> np.ndarray:
    """Frames ``first .. first + count - 1`` as uint64, shape ``(count, frame_size)``.

    Values lie in ``1 .. 2**bits - 1``; every intermediate fits in 63 bits for any frame index
    below 2**30, so numpy 1.x and 2.x and the C reader agree exactly.
    """
    i = np.arange(first, first + count, dtype=np.uint64)[:, np.newaxis]
    p = np.arange(frame_size, dtype=np.uint64)[np.newaxis, :]
    h = (i * np.uint64(2654435761) + p * np.uint64(40503) + np.uint64(salt)) & _M32
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(0x2C1B3C6D)) & _M32
    h ^= h >> np.uint64(12)
    result: np.ndarray = np.uint64(1) + h % np.uint64((1 << bits) - 1)
    return result


def _report(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


class _Followed:
    def __init__(self, dataset: Any, spec: dict[str, Any]) -> None:
        self.dataset = dataset
        self.name: str = spec["name"]
        self.bits: int = spec["bits"]
        self.salt: int = spec["salt"]
        self.target: int = spec["target"]
        self.frame_dims = tuple(dataset.shape[1:])
        self.frame_size = int(np.prod(self.frame_dims, dtype=np.int64))
        self.seen = 0
        self.checked = 0

    def extent(self) -> int:
        self.dataset.refresh()  # Dataset.refresh(), never dataset.id.refresh() (stale shape)
        shape = tuple(self.dataset.shape)
        if shape[1:] != self.frame_dims:
            raise RuntimeError(f"{self.name}: frame dims changed to {shape[1:]}")
        return int(shape[0])

    def check(self, first: int, count: int, n: int, *, count_checked: bool = True) -> bool:
        data = self.dataset[first : first + count].reshape(count, self.frame_size)
        want = expected_values(first, count, self.frame_size, self.bits, self.salt)
        got = data.astype(np.uint64)
        wrong = np.nonzero(got != want)
        if len(wrong[0]):
            f, p = int(wrong[0][0]), int(wrong[1][0])
            _report(
                event="bad",
                dataset=self.name,
                index=first + f,
                position=p,
                got=int(got[f, p]),
                expected=int(want[f, p]),
                zero_frame=not got[f].any(),
                n=n,
            )
            return False
        if count_checked:
            self.checked += count
        return True

    def read_new(self, n: int) -> bool:
        block = max(1, BLOCK_ELEMENTS // self.frame_size)
        back = min(self.seen, RECHECK, block)  # seen frames must not change (re-filtered bands)
        if back and not self.check(self.seen - back, back, n, count_checked=False):
            return False
        for first in range(self.seen, n, block):
            if not self.check(first, min(block, n - first), n):
                return False
        self.seen = n
        return True


def main(options: dict[str, Any]) -> int:
    import h5py

    start = time.monotonic()
    deadline = start + options["timeout"]
    open_deadline = start + options["open_timeout"]
    poll = options["poll_ms"] / 1000
    f = None
    while f is None:
        try:
            f = h5py.File(options["path"], "r", swmr=True)
        except OSError as exc:
            if time.monotonic() > open_deadline:
                _report(event="error", stage="open", dataset="", message=str(exc))
                return 1
            time.sleep(poll)
    try:
        followed = [_Followed(f[spec["name"]], spec) for spec in options["datasets"]]
        _report(
            event="opened",
            hdf5=h5py.version.hdf5_version,
            sizes={d.name: int(d.dataset.shape[0]) for d in followed},
        )
        polls = 0
        if options["mode"] == "follow":
            while True:
                polls += 1
                for d in followed:
                    n = d.extent()
                    if n < d.seen:
                        _report(event="shrank", dataset=d.name, n=n, seen=d.seen)
                        return 1
                    if n > d.seen:
                        if not d.read_new(n):
                            return 1
                        t = round(time.monotonic() - start, 4)
                        _report(event="size", dataset=d.name, n=n, checked=d.checked, t=t)
                if all(d.seen >= d.target for d in followed):
                    break
                if time.monotonic() > deadline:
                    _report(event="timeout", sizes={d.name: d.seen for d in followed})
                    return 3
                time.sleep(poll)
        else:
            polls = 1
            stride = max(1, options["stride"])
            for d in followed:
                n = d.extent()
                if n != d.target:
                    message = f"{n} frames, expected {d.target}"
                    _report(event="error", stage="sample", dataset=d.name, message=message)
                    return 1
                for i in [*range(0, n, stride), *([n - 1] if n else [])]:
                    if not d.check(i, 1, n):
                        return 1
                d.seen = n
        _report(
            event="done",
            sizes={d.name: d.seen for d in followed},
            checked={d.name: d.checked for d in followed},
            polls=polls,
            t=round(time.monotonic() - start, 4),
        )
        return 0
    except Exception as exc:
        _report(event="error", stage="read", dataset="", message=f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        f.close()


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
