"""A writer process for the CLI tests: streams frames with ``SwmrFileWriter``, then holds or dies.

Usage: python writer_child.py PATH FRAMES MODE, MODE one of
  hold   flush, print ``ready``, keep the file open until killed (watch --timeout, live ls);
  crash  flush, print ``ready``, kill itself with SIGKILL (a crashed writer, for recover);
  close  flush, close cleanly, print ``closed``;
  stream flush, print ``ready``, then append and flush a frame every 20 ms until killed (a writer
         still writing; with HDF5_USE_FILE_LOCKING=FALSE it holds no lock).
The dataset is ``/entry/data/data``, frames 8x6 uint16 whose elements all equal the frame index.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np

from h5swmr import SwmrFileWriter

DATASET = "/entry/data/data"
FRAME_DIMS = (8, 6)


def main() -> None:
    path, frames, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    writer = SwmrFileWriter.create(path)
    ds = writer.create_streaming_dataset(DATASET, "uint16", FRAME_DIMS)
    writer.start_swmr()
    for index in range(frames):
        writer.append_frame(ds, np.full(FRAME_DIMS, index, dtype=np.uint16))
    writer.flush()
    if mode == "close":
        writer.close()
        print("closed", flush=True)
        return
    print("ready", flush=True)
    if mode == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "stream":
        for index in range(frames, frames + 6000):  # 2 minutes at most
            time.sleep(0.02)
            writer.append_frame(ds, np.full(FRAME_DIMS, index % 65536, dtype=np.uint16))
            writer.flush()
    time.sleep(120)


if __name__ == "__main__":
    main()
