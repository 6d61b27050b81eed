"""Receive + write of a DECTRIS Stream V2 stream against a receive-only consumer, side by side.

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/bench_receive.py [--frames N] [--repeat R] [--dir DIR]
        [--shape 2068x2162] [--compression bslz4|lz4|none]

A publisher child (this script with ``--publisher``) binds a PUSH socket on 127.0.0.1 (a port
the kernel picks) and sends one series per run: ``start``, ``--frames`` image messages of EIGER2
4M frames (2068x2162 uint32, Poisson counts, bitshuffle-LZ4 in HDF5's framing, encoded before
the clock starts; the message is built per frame, as a detector's), ``end``. Three consumers take
turns, one run each per repetition (order alternating):

- receive-only: a PULL socket that takes each message off the wire and discards it (the limit);
- pwrite-only: the same, appending each message's bytes to a plain file with one ``os.pwrite``
  (no HDF5, no decoding): the floor of any receiver that writes;
- h5swmr: ``h5swmr.receive.Receiver`` with default options: decodes and checks every message,
  appends each payload verbatim with ``append_chunk``, flushes every 0.1 s (or ``--flush-every``
  frames: 1 flushes each frame), closes the file.

Each consumer's clock runs from its first message to the end of the series (for h5swmr: the
file closed). MB/s counts the bytes on the wire; "raw MB/s" the uncompressed frame bytes. The
ratio is h5swmr fps / receive-only fps, the median over the repetitions of adjacent runs. "CPU a
frame" is the consumer process's CPU time (all threads, ZeroMQ's included) per image: on a
shared machine the frame rates follow the load, that number much less.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

POOL = 8


def parse_dims(text: str) -> tuple[int, int]:
    y, x = (int(v) for v in text.lower().split("x"))
    return y, x


def publisher(args: argparse.Namespace) -> int:
    from h5swmr.receive import Publisher
    from h5swmr.receive.publisher import encode_payload, end_message, image_message, start_message

    rng = np.random.default_rng(0)
    frames = [rng.poisson(10.0, args.shape).astype("<u4") for _ in range(POOL)]
    payloads = [encode_payload(frame, args.compression) for frame in frames]
    source = Publisher("tcp://127.0.0.1:*", linger=60.0)
    print(source.endpoint, flush=True)
    if not source.wait_for_receivers(1, 60.0):
        return 1
    cpu = time.process_time()
    source.send(start_message(1, ["threshold_1"], frames[0], args.frames))
    for i in range(args.frames):
        source.send(image_message(1, i, {"threshold_1": payloads[i % POOL]}))
    source.send(end_message(1))
    source.close()  # returns once ZeroMQ has sent every message
    print(f"cpu {time.process_time() - cpu}", flush=True)  # all threads, ZeroMQ's included
    return 0


def _pull_socket(endpoint: str) -> Any:
    """A PULL socket with the options ``Receiver`` sets (receive high-water mark, message size
    limit, linger), in the same default context (one ZeroMQ I/O thread)."""
    import zmq

    from h5swmr.receive.receiver import Receiver

    defaults = Receiver("tcp://127.0.0.1:1", _options(Path()))
    socket = zmq.Context.instance().socket(zmq.PULL)
    socket.setsockopt(zmq.RCVHWM, defaults.rcvhwm)
    socket.setsockopt(zmq.MAXMSGSIZE, defaults.max_message_bytes)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(endpoint)
    return socket


def _options(directory: Path, flush_every: int = 100, *, direct_io: bool = False) -> Any:
    from h5swmr.receive import ReceiveOptions

    return ReceiveOptions(
        output=str(directory / "series_{series_id:06d}.h5"),
        flush_every=flush_every,
        direct_io=direct_io,
    )


def receive_only(endpoint: str) -> tuple[float, int, int]:
    """Seconds from the first message to ``end``, image messages, bytes on the wire."""
    import cbor2

    socket = _pull_socket(endpoint)
    first = socket.recv(copy=False)
    started = time.perf_counter()
    images, nbytes = 0, len(first.buffer)
    while True:
        message = socket.recv(copy=False)
        view = message.buffer
        nbytes += len(view)
        if len(view) < 4096 and cbor2.loads(view).get("type") == "end":  # images are large
            break
        images += 1
    elapsed = time.perf_counter() - started
    socket.close(linger=0)
    return elapsed, images, nbytes


def receive_and_pwrite(endpoint: str, directory: Path) -> tuple[float, int, int]:
    """The floor of any writer: each message's bytes appended to a plain file with one
    ``os.pwrite`` (no HDF5, no decoding), the file closed at ``end``."""
    import cbor2

    socket = _pull_socket(endpoint)
    path = directory / "raw.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    first = socket.recv(copy=False)
    started = time.perf_counter()
    images, offset = 0, 0
    try:
        while True:
            view = socket.recv(copy=False).buffer
            if len(view) < 4096 and cbor2.loads(view).get("type") == "end":
                break
            offset += os.pwrite(fd, view, offset)
            images += 1
    finally:
        os.close(fd)
    elapsed = time.perf_counter() - started
    socket.close(linger=0)
    path.unlink()
    return elapsed, images, offset + len(first.buffer)


def receive_and_pwrite_direct(endpoint: str, directory: Path) -> tuple[float, int, int]:
    """As ``receive_and_pwrite`` with h5swmr's ``O_DIRECT`` writer (storage/direct.py, no
    HDF5): each message copied into an aligned buffer, padded to a page, written by its thread
    while the next one arrives; the floor of ``direct_io=True``."""
    import cbor2

    from h5swmr.storage.allocator import padded_size
    from h5swmr.storage.direct import DirectWriter

    def refused(reason: str) -> None:
        raise SystemExit(f"direct-only: {reason}")

    socket = _pull_socket(endpoint)
    path = directory / "raw.bin"
    path.touch()
    writer = DirectWriter.open(str(path), lambda address, data: None, refused)
    assert writer is not None
    first = socket.recv(copy=False)
    started = time.perf_counter()
    images, offset, nbytes = 0, 0, 0
    try:
        while True:
            view = socket.recv(copy=False).buffer
            if len(view) < 4096 and cbor2.loads(view).get("type") == "end":
                break
            writer.write(offset, view)
            offset += padded_size(len(view))
            nbytes += len(view)
            images += 1
        writer.drain()
    finally:
        writer.close()
    elapsed = time.perf_counter() - started
    socket.close(linger=0)
    path.unlink()
    return elapsed, images, nbytes + len(first.buffer)


def _warm_up(directory: Path) -> None:
    """Import what the first file needs (writer, filters) before any clock runs: a one-time
    cost of a receiver's start, not of its throughput."""
    from h5swmr import FilterPipeline, SwmrFileWriter

    path = directory / "warm-up.h5"
    with SwmrFileWriter.create(path, nexus=True) as writer:
        writer.create_streaming_dataset_compressed(
            "d", "<u4", (4, 4), FilterPipeline.bitshuffle_lz4()
        )
        writer.start_swmr()
    path.unlink()


def receive_and_write(
    endpoint: str, directory: Path, flush_every: int, *, direct_io: bool = False
) -> tuple[float, int, int]:
    from h5swmr.receive import Receiver
    from h5swmr.receive.series import SeriesReport

    done: list[float] = []

    def closed(report: SeriesReport) -> None:
        done.append(time.perf_counter())

    receiver = Receiver(
        endpoint, _options(directory, flush_every, direct_io=direct_io), on_series=closed
    )
    original = receiver._handle_decoded  # the writer thread's step: timed from the first
    first: list[float] = []

    def timed(raw: Any, now: float) -> None:
        if not first:
            first.append(time.perf_counter())
        original(raw, now)

    receiver._handle_decoded = timed  # type: ignore[method-assign]
    receiver.run(max_series=1, idle_timeout=120.0)
    report = receiver.stats.series[0]
    nbytes = sum(p.stat().st_size for p in directory.glob("*.h5"))
    for path in directory.glob("*.h5"):
        path.unlink()
    return done[0] - first[0], report.counts.written, nbytes


def warm_page_cache(directory: Path, nbytes: int) -> None:
    """Write ``nbytes`` to a scratch file and delete it: the page cache of the next run then
    reuses memory the kernel has just freed. In a virtual machine whose free memory goes back to
    the host (free page reporting, as here), a page cache page in memory freed seconds ago costs
    a fault in the host on first touch: a 2.8 MB ``pwrite`` measured 0.53 ms of CPU just after
    a delete and 1.1-3 ms a few seconds later. A receiver host running for hours has its memory
    full of page cache and pays the first figure."""
    path = directory / "warm.bin"
    block = bytes(1 << 22)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for offset in range(0, nbytes, len(block)):
            os.pwrite(fd, block, offset)
    finally:
        os.close(fd)
    path.unlink()


def run_one(
    name: str, args: argparse.Namespace, directory: Path, wire_bytes: int
) -> tuple[float, int, int, float, float]:
    """One consumer against a fresh publisher: seconds, images, bytes, CPU seconds of the
    consumer and of the publisher (its send loop, ZeroMQ's thread included)."""
    # a fresh publisher per run: a PUSH socket may still count a consumer that just left as a
    # peer for a moment, and would send it the next run's start
    child = subprocess.Popen(
        [sys.executable, __file__, "--publisher", "--frames", str(args.frames),
         "--shape", "x".join(map(str, args.shape)), "--compression", args.compression],
        stdout=subprocess.PIPE,
        text=True,
        # bitshuffle's OpenMP threads spin against each other on a busy machine (one encode
        # took 2.3 s instead of 0.07 s at load 10): encode in one thread
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    assert child.stdout is not None
    endpoint = child.stdout.readline().strip()  # the frames are encoded by now
    if args.warm_page_cache:
        warm_page_cache(directory, wire_bytes)
    # the writeback of the previous runs' files (and of the warming file) is done before the
    # clock starts: else a run that writes to the device (direct I/O) shares it with them
    os.sync()
    cpu = time.process_time()
    if name == "receive-only":
        seconds, images, nbytes = receive_only(endpoint)
    elif name == "pwrite-only":
        seconds, images, nbytes = receive_and_pwrite(endpoint, directory)
    elif name == "direct-only":
        seconds, images, nbytes = receive_and_pwrite_direct(endpoint, directory)
    else:
        seconds, images, nbytes = receive_and_write(
            endpoint, directory, args.flush_every, direct_io=name == "h5swmr --direct-io"
        )
    cpu = time.process_time() - cpu
    publisher_cpu = float(child.stdout.readline().split()[1])
    child.wait(timeout=120)
    assert images == args.frames, (name, images)
    return seconds, images, nbytes, cpu, publisher_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shape", type=parse_dims, default=(2068, 2162))
    parser.add_argument("--compression", choices=("bslz4", "lz4", "none"), default="bslz4")
    parser.add_argument(
        "--flush-every", type=int, default=100, help="receiver's flush policy (its default)"
    )
    parser.add_argument(
        "--warm-page-cache",
        action="store_true",
        help="before every run (every consumer alike), write and delete a file of the "
        "series' size, so that the page cache reuses memory just freed (warm_page_cache)",
    )
    parser.add_argument(
        "--direct-io",
        action="store_true",
        help="also run h5swmr with direct_io=True and its floor, direct-only (O_DIRECT pwrite)",
    )
    parser.add_argument("--dir", type=Path, default=None, help="where the files go (a temp dir)")
    parser.add_argument("--publisher", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publisher:
        return publisher(args)
    directory = Path(tempfile.mkdtemp(prefix="bench-receive-", dir=args.dir))
    frame_nbytes = int(np.prod(args.shape)) * 4
    raw_mb = args.frames * frame_nbytes / 1e6
    names = ["receive-only", "pwrite-only", "h5swmr"]
    if args.direct_io:
        names += ["direct-only", "h5swmr --direct-io"]
    fps: dict[str, list[float]] = {name: [] for name in names}
    mbs: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    publisher_cpus: dict[str, list[float]] = {name: [] for name in names}
    ratios: dict[str, list[float]] = {name: [] for name in names[1:]}
    load_before = os.getloadavg()[0]
    wire_bytes = args.frames * frame_nbytes  # an upper bound: compressed frames are smaller
    try:
        _warm_up(directory)
        for repeat in range(args.repeat):
            order = names if repeat % 2 == 0 else names[::-1]
            for name in order:
                seconds, images, nbytes, cpu, publisher_cpu = run_one(
                    name, args, directory, wire_bytes
                )
                wire_bytes = nbytes
                fps[name].append(images / seconds)
                mbs[name].append(nbytes / 1e6 / seconds)
                cpus[name].append(cpu / images * 1e3)
                publisher_cpus[name].append(publisher_cpu / images * 1e3)
                print(
                    f"  run {repeat} {name:>18}: {fps[name][-1]:7.1f} fps, {mbs[name][-1]:7.1f} "
                    f"MB/s ({'wire' if name == 'receive-only' else 'file'}), "
                    f"{raw_mb / seconds:7.1f} raw MB/s, CPU a frame {cpus[name][-1]:5.2f} ms "
                    f"(publisher {publisher_cpus[name][-1]:5.2f} ms)",
                    flush=True,
                )
            for name in names[1:]:
                ratios[name].append(fps[name][-1] / fps["receive-only"][-1])
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    warm = ", page cache warmed before each run" if args.warm_page_cache else ""
    print(
        f"\n{args.frames} frames of {args.shape[0]}x{args.shape[1]} uint32, {args.compression}, "
        f"{args.repeat} repetitions (medians){warm}; load {load_before:.2f} -> "
        f"{os.getloadavg()[0]:.2f}:"
    )
    for name in names:
        fps_median = statistics.median(fps[name])
        raw = fps_median * frame_nbytes / 1e6
        print(
            f"  {name:>18}: {fps_median:7.1f} fps, {statistics.median(mbs[name]):7.1f} MB/s, "
            f"{raw:7.1f} raw MB/s, CPU a frame {statistics.median(cpus[name]):5.2f} ms "
            f"(publisher {statistics.median(publisher_cpus[name]):5.2f} ms)"
        )
    for name in names[1:]:
        target = " (target >= 0.80)" if name.startswith("h5swmr") else ""
        print(f"  ratio {name} / receive-only: {statistics.median(ratios[name]):.2f}{target}")
    floor = statistics.median(a / b for a, b in zip(fps["h5swmr"], fps["pwrite-only"], strict=True))
    print(f"  ratio h5swmr / pwrite-only: {floor:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
