"""A SWMR reader process for the grid live test; runs under any h5py (3.8 to 3.16).

Usage: ``python grid_reader.py PATH DONE_PATH GY GX CY CX TIMEOUT``. Chunk (i, j) of generation g
holds ``1 + 1000 * g + i * GX + j`` in every element; the writer rewrites chunks with higher
generations. The reader polls with ``refresh`` and checks every chunk it sees: all zeros (not
written yet) or one value of the right coordinates, never a mix. Once DONE_PATH exists (a JSON
list of each chunk's final generation) it reads once more and checks every chunk is final. It
prints a JSON line once it has the file open, then one with polls, bad chunks and the distinct
numbers of written chunks it saw.
"""

import json
import sys
import time
from pathlib import Path

import h5py


def main() -> None:
    path, done_path = sys.argv[1], sys.argv[2]
    gy, gx, cy, cx = (int(a) for a in sys.argv[3:7])
    deadline = time.monotonic() + float(sys.argv[7])
    f = None
    while f is None:
        try:
            f = h5py.File(path, "r", swmr=True)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)
    ds = f["grid"]
    print(json.dumps({"opened": True}), flush=True)
    polls, bad, written_counts = 0, [], set()
    final = None
    while final is None and time.monotonic() < deadline:
        if Path(done_path).exists():
            final = json.loads(Path(done_path).read_text())
        ds.refresh()
        blocks = ds[...].reshape(gy, cy, gx, cx).transpose(0, 2, 1, 3)
        written = 0
        for i in range(gy):
            for j in range(gx):
                block = blocks[i, j]
                value = int(block.flat[0])
                if not value and not block.any():
                    continue
                written += 1
                coords_ok = (value - 1) % 1000 == i * gx + j
                generation = (value - 1) // 1000
                if not coords_ok or not (block == value).all():
                    bad.append([i, j, "mixed or misplaced", value])
                elif final is not None and generation != final[i][j]:
                    bad.append([i, j, "not final", generation])
                elif final is None and generation > 50:
                    bad.append([i, j, "generation", generation])
        if final is not None and written != gy * gx:
            bad.append(["final", written])
        written_counts.add(written)
        polls += 1
        time.sleep(0.002)
    print(
        json.dumps(
            {
                "polls": polls,
                "bad": bad[:20],
                "counts": sorted(written_counts),
                "finished": final is not None,
            }
        )
    )


main()
