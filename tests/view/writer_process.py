"""A writer for the view tests: NeXus-style file, known frames (pattern.py) at a given rate.

Usage: python writer_process.py PATH FRAMES RATE END [ROWS COLS]
END is ``close`` (close cleanly), ``hold`` (keep the file open until killed) or ``crash``
(SIGKILL itself after the last frame). Prints ``ready`` after the first flushed frame, and
``flushed I T`` (frame index, wall-clock time) after every flush, for the latency benchmark.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from h5swmr import SwmrFileWriter
from tests.view.pattern import frame


def main() -> None:
    path, frames, rate, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    shape = (int(sys.argv[5]), int(sys.argv[6])) if len(sys.argv) > 6 else (48, 64)
    writer = SwmrFileWriter.create(path)
    writer.create_group("/entry")
    writer.create_group("/entry/data")
    writer.set_attribute("/", "default", "entry")
    writer.set_attribute("/entry", "NX_class", "NXentry")
    writer.set_attribute("/entry", "default", "data")
    writer.set_attribute("/entry/data", "NX_class", "NXdata")
    writer.set_attribute("/entry/data", "signal", "data")
    ds = writer.create_streaming_dataset("/entry/data/data", "uint16", shape)
    other = writer.create_streaming_dataset("/entry/data/other", "float32", (16, 16))
    writer.start_swmr()
    period = 1.0 / rate if rate > 0 else 0.0
    start = time.monotonic()
    for index in range(frames):
        writer.append_frame(ds, frame(index, shape))
        if index % 10 == 0:
            writer.append_frame(other, frame(index, (16, 16)).astype("float32"))
        writer.flush()
        print(f"flushed {index} {time.time():.6f}", flush=True)
        if index == 0:
            print("ready", flush=True)
        delay = start + (index + 1) * period - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    if end == "close":
        writer.close()
        print("closed", flush=True)
    elif end == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    else:
        time.sleep(600)


if __name__ == "__main__":
    main()
