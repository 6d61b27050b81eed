"""``h5swmr view`` under load: flush-to-pixels latency, server CPU, and what 10 pages cost a writer.

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/bench_view.py [--part all|latency|slowdown|paced|unthrottled]
        [--seconds 15] [--rate 100] [--size 1024] [--clients 10] [--frames 400]
        [--paced-frames 150] [--segments 4] [--repeat 4] [--nice N] [--idle|--no-idle]
        [--preallocate|--no-preallocate] [--dir /dev/shm]

1. Latency and CPU (``latency``): a writer process appends ``size`` x ``size`` uint16 frames at
   ``rate`` frames/s (flush after each, printing the wall-clock time at which each ``flush()``
   returned); an ``h5swmr view`` server process follows the file; Debian's chromium (headless,
   Playwright, a 1400x850 window) shows the page. The page records when it drew each frame's
   pixels (``window.h5view.renders``); latency = draw time - flush time of that frame, for every
   frame drawn during ``seconds``. Server CPU = (user + system) time of the server process over
   the same window, from /proc, divided by the wall time (100% = one core).
2. Writer slowdown (``slowdown`` = ``paced`` and ``unthrottled``): per file, one writer, one
   server following it and ``clients`` WebSocket clients in one separate process (they
   acknowledge every update as the page does and drop it, like pages on other machines; a
   browser per client on this 2-core host would measure chromium, not the server). The writer
   writes one unmeasured warm-up stretch, then ``segments`` stretches, half of them with the
   server and the clients running ("beside") and half with both stopped by SIGSTOP ("alone":
   they use no CPU), in the order ABBA (BAAB in every other file), with 0.3 s between stretches
   for the server to catch up; ``repeat`` files. The writer times itself.

   - ``paced``, the issue's case: ``rate`` (100) frames/s of ``paced-frames`` per stretch; it
     prints the per-frame ``append_frame`` + ``flush`` time (median, p90, p99, max) alone and
     beside, the rate each stretch kept, and the frames whose flush ended after their slot.
   - ``unthrottled``: ``frames`` frames per stretch as fast as the writer can (about 1.5 of
     the 2 cores: it tiles on a helper thread), the wall time of each stretch.

   Slowdown = median beside / median alone - 1, and the median (quartiles, range) of each
   stretch beside against the alone one next to it. Also printed: every stretch in order, the
   writer's CPU time, the server's CPU (event loop and file worker apart), the clients' CPU, and
   how many updates a client got per second while beside.
   The file's pages are allocated before the stretches (``--preallocate``, ``allocate``): new
   /dev/shm pages cost this VM a varying price that would drown the server's part. /dev/shm
   (memory) is the default ``--dir``, so the page cache's write-back stays out; each file is
   deleted after its run and must fit with 2 GiB to spare.

Targets (issue #19): median latency <= 200 ms at 100 fps of 1024x1024 uint16; server CPU <= 30%
of one core; slowdown <= 5% with 10 clients (the issue's context: following that writer; the
unthrottled row is the harder case, printed beside it). The machine may be shared: the script
prints the load average (``os.getloadavg``) before and after each part.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
DATASET = "/entry/data/data"
POOL = 8


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), e.get("PYTHONPATH")]))
    return e


# -- child processes --------------------------------------------------------------------------


def child_writer(path: str, rate: float, frames: int, size: int) -> None:
    """Append ``frames`` frames at ``rate``; print the wall-clock time of each flush."""
    from h5swmr import SwmrFileWriter

    rng = np.random.default_rng(7)
    pool = [rng.integers(0, 4000, (size, size), dtype=np.uint16) for _ in range(POOL)]
    writer = SwmrFileWriter.create(path)
    ds = writer.create_streaming_dataset(DATASET, "uint16", (size, size))
    writer.start_swmr()
    print("ready", flush=True)
    start = time.monotonic()
    for i in range(frames):
        writer.append_frame(ds, pool[i % POOL])
        writer.flush()
        print(f"flushed {i} {time.time():.6f}", flush=True)
        delay = start + (i + 1) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    writer.close()


def child_clients(url: str, n: int, seconds: float, idle: bool = False) -> None:
    """``n`` WebSocket clients following the latest frame for ``seconds``; print messages seen.
    With ``idle`` they run in the idle scheduling class (Linux), as pages on other machines
    would cost this one nothing."""
    import aiohttp

    if idle:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))

    async def one(
        http: aiohttp.ClientSession, counts: list[int], k: int, ready: asyncio.Barrier
    ) -> None:
        async with http.ws_connect(url.replace("http", "ws", 1).split("?")[0] + "ws") as ws:
            await ws.send_json(
                {"op": "view", "file": 0, "dataset": DATASET, "frame": None, "size": [650, 830]}
            )
            while json.loads((await ws.receive(timeout=60)).data)["type"] != "status":
                pass
            if await ready.wait() == 0:
                print("connected", flush=True)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                try:
                    message = await ws.receive(timeout=max(end - time.monotonic(), 0.01))
                except TimeoutError:
                    break
                if message.type == aiohttp.WSMsgType.BINARY:
                    counts[k] += 1
                    if k == 0:  # when updates come (all clients get the same ones)
                        print(f"got {time.time():.6f}", flush=True)
                    await ws.send_json({"op": "ack"})  # as the page does
                elif message.type not in (aiohttp.WSMsgType.TEXT,):
                    break

    async def main(counts: list[int]) -> None:
        ready = asyncio.Barrier(n)
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(one(http, counts, k, ready) for k in range(n)))

    counts = [0] * n
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(counts))
    print(f"updates received per client: {' '.join(map(str, counts))}", flush=True)


# -- helpers ----------------------------------------------------------------------------------


def start(*argv: str, stdin: int = subprocess.DEVNULL) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=stdin,
        text=True,
        env=env(),
    )


def start_server(
    path: Path, nice: int | None, idle: bool | None = None
) -> tuple[subprocess.Popen[str], str]:
    extra = [] if nice is None else ["--nice", str(nice)]
    extra += [] if idle is None else ["--idle" if idle else "--no-idle"]
    proc = start("-m", "h5swmr.cli.main", "view", str(path), *extra)
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"(http://\S+)", line)
        if found:
            return proc, found.group(1)
    raise RuntimeError(f"server did not start: {proc.stderr.read() if proc.stderr else ''}")


def cpu_seconds(pid: int, task: int | None = None) -> float:
    where = f"/proc/{pid}/stat" if task is None else f"/proc/{pid}/task/{task}/stat"
    fields = Path(where).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def split_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of a process's main thread (the server's event loop: WebSocket sends, JSON)
    and of its other threads (the file's worker: polling, reading, binning, packing)."""
    main = cpu_seconds(pid, pid)
    return main, cpu_seconds(pid) - main


def stop(proc: subprocess.Popen[str]) -> str:
    """Stop a child (SIGTERM, then SIGKILL) and return what it printed."""
    if proc.poll() is None:
        proc.terminate()
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""


def latency_run(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from h5swmr.view.browser import launch_chromium

    path = folder / "latency.h5"
    frames = int(args.rate * (args.seconds + 15))
    writer = start(
        __file__, "--child-writer", str(path), str(args.rate), str(frames), str(args.size)
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready"
    flushed: dict[int, float] = {}

    def collect() -> None:
        assert writer.stdout is not None
        for line in writer.stdout:
            parts = line.split()
            if parts and parts[0] == "flushed":
                flushed[int(parts[1])] = float(parts[2])

    threading.Thread(target=collect, daemon=True).start()
    server, url = start_server(path, args.nice, args.idle)
    try:
        with sync_playwright() as playwright:
            context = launch_chromium(playwright, tempfile.mkdtemp(dir=folder))
            page = context.new_page()
            page.goto(url)
            page.wait_for_function("() => window.h5view && window.h5view.header", timeout=30_000)
            page.wait_for_timeout(1000)  # settle: first tree, first frames
            first = page.evaluate("window.h5view.renders.length")
            (loop0, worker0), wall0 = split_cpu(server.pid), time.monotonic()
            page.wait_for_timeout(args.seconds * 1000)
            (loop1, worker1), wall1 = split_cpu(server.pid), time.monotonic()
            renders = page.evaluate("window.h5view.renders")[first:]
            header = page.evaluate("window.h5view.header")
            context.close()
    finally:
        stop(server)
        stop(writer)
        path.unlink(missing_ok=True)
    latencies = [r["at"] / 1000 - flushed[r["index"]] for r in renders if r["index"] in flushed]
    to_server = [r["sent"] - flushed[r["index"]] for r in renders if r["index"] in flushed]
    to_page = [r["at"] / 1000 - r["sent"] for r in renders]
    span = (min(flushed), max(flushed)) if flushed else (0, 0)
    stamps = sorted(flushed.values())
    writer_fps = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    indices = [r["index"] for r in renders]
    return {
        "writer_fps": writer_fps,
        "flush_to_sent_median_ms": 1000 * statistics.median(to_server) if to_server else 0.0,
        "sent_to_drawn_median_ms": 1000 * statistics.median(to_page) if to_page else 0.0,
        "frames_flushed": span[1] - span[0] + 1,
        "drawn": len(renders),
        "drawn_per_s": len(renders) / (wall1 - wall0),
        "latency_median_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "latency_p90_ms": 1000 * float(np.percentile(latencies, 90)) if latencies else float("nan"),
        "latency_max_ms": 1000 * max(latencies) if latencies else float("nan"),
        "server_cpu_percent": 100 * (loop1 + worker1 - loop0 - worker0) / (wall1 - wall0),
        "loop_cpu_percent": 100 * (loop1 - loop0) / (wall1 - wall0),
        "worker_cpu_percent": 100 * (worker1 - worker0) / (wall1 - wall0),
        "message_bytes": renders[-1].get("bytes", "?") if renders else "?",
        "binned": f"{header['dims']} step {header['step']}",
        "index_span": (min(indices), max(indices)) if indices else None,
    }


@dataclass(frozen=True)
class Segment:
    """One stretch of writing, measured by the writer itself."""

    beside: bool
    """True when the server and the clients ran during it; False when they were stopped."""
    seconds: float
    cpu: float
    """The writer process's own CPU seconds in it (what it did, not what it waited for)."""
    frame_times: list[float]
    """Seconds each ``append_frame`` + ``flush`` took."""
    late: int
    """Paced segments: frames whose flush ended after their slot (start + (i + 1) / rate)."""
    server_loop_cpu: float = 0.0
    server_worker_cpu: float = 0.0
    clients_cpu: float = 0.0
    updates: int = 0
    """Updates one client received during the stretch."""


def collect_updates(clients: subprocess.Popen[str], into: list[float]) -> None:
    """The times at which the first client received its updates (its ``got`` lines)."""
    assert clients.stdout is not None
    for line in clients.stdout:
        if line.startswith("got "):
            into.append(float(line.split()[1]))


def child_segments(path: str, rate: float, frames: int, size: int, segments: int) -> None:
    """``segments`` stretches of ``frames`` frames each, at ``rate`` (0: as fast as possible),
    each started by a line on stdin and reported on stdout as one JSON line. A line
    ``preallocate`` on stdin first allocates the file's pages (see ``allocate``)."""
    from h5swmr import SwmrFileWriter

    rng = np.random.default_rng(7)
    pool = [rng.integers(0, 4000, (size, size), dtype=np.uint16) for _ in range(POOL)]
    writer = SwmrFileWriter.create(path)
    ds = writer.create_streaming_dataset(DATASET, "uint16", (size, size))
    writer.start_swmr()
    if sys.stdin.readline().strip() == "preallocate":
        allocate(path, frames * segments * size * size * 2 + (64 << 20))
    print("ready", flush=True)
    done = 0
    for _ in range(segments):
        sys.stdin.readline()
        times, late = [], 0
        cpu0 = time.process_time()
        start = time.perf_counter()
        for i in range(frames):
            before = time.perf_counter()
            writer.append_frame(ds, pool[done % POOL])
            writer.flush()
            after = time.perf_counter()
            done += 1
            times.append(after - before)
            if rate > 0:
                slot = start + (i + 1) / rate
                late += after > slot
                if slot > after:
                    time.sleep(slot - after)
        seconds = time.perf_counter() - start
        report = {"seconds": seconds, "cpu": time.process_time() - cpu0, "times": times}
        print(json.dumps({**report, "late": late}), flush=True)
    writer.close()


def allocate(path: str, nbytes: int) -> None:
    """Allocate ``nbytes`` of pages to the file beyond its end without changing its size
    (Linux ``fallocate(FALLOC_FL_KEEP_SIZE)``), so the stretches write into pages that exist.
    On this VM a new page of /dev/shm costs a varying price (the same stretch of 400 frames took
    0.24 s or 1.5 s of the writer's CPU time, by where in the file it fell), which would drown
    the server's part; allocated first, that price is paid before any stretch."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDWR)
    try:
        keep_size = 1
        if libc.fallocate(fd, keep_size, ctypes.c_long(0), ctypes.c_long(nbytes)) != 0:
            raise OSError(ctypes.get_errno(), f"fallocate {path}")
    finally:
        os.close(fd)


def segments_run(
    path: Path, args: argparse.Namespace, rate: float, frames: int, flip: int
) -> list[Segment]:
    """One writer, one server following its file, ``args.clients`` clients; the writer writes
    ``args.segments`` stretches of ``frames`` frames, alternately with the server and clients
    running and stopped (SIGSTOP: they use no CPU then), in the order ABBA BAAB ... (BAAB ABBA
    ... with ``flip``) so slow drifts of the machine fall on both sides alike, after one
    unmeasured stretch with them running. Before each stretch the server (when it
    runs) has ``SETTLE`` seconds to catch up, so each stretch measures it following."""
    stretches = args.segments + 1  # the first warms the writer and the server up, unmeasured
    argv = [str(path), str(rate), str(frames), str(args.size), str(stretches)]
    writer = start(__file__, "--child-segments", *argv, stdin=subprocess.PIPE)
    assert writer.stdout is not None and writer.stdin is not None
    writer.stdin.write("preallocate\n" if args.preallocate else "no\n")
    writer.stdin.flush()
    if writer.stdout.readline().strip() != "ready":
        raise RuntimeError(stop(writer))
    server, url = start_server(path, args.nice, args.idle)
    idle = "idle" if args.clients_idle else "normal"
    clients = start(__file__, "--child-clients", url, str(args.clients), "3600", idle)
    assert clients.stdout is not None
    out: list[Segment] = []
    try:
        if clients.stdout.readline().strip() != "connected":
            raise RuntimeError("the clients did not connect")
        updates: list[float] = []
        threading.Thread(target=collect_updates, args=(clients, updates), daemon=True).start()
        time.sleep(0.5)  # the first tree and frames are sent before the writer starts
        for k in range(-1, args.segments):
            beside = k < 0 or bool(ABBA[k % 4] ^ (k // 4 + flip) % 2)
            for proc in (server, clients):
                os.kill(proc.pid, signal.SIGCONT if beside else signal.SIGSTOP)
            time.sleep(SETTLE)
            (loop0, worker0), clients0 = split_cpu(server.pid), cpu_seconds(clients.pid)
            began = time.time()
            writer.stdin.write("go\n")
            writer.stdin.flush()
            report = json.loads(writer.stdout.readline())
            ended = time.time()
            if k < 0:
                continue
            (loop1, worker1), clients1 = split_cpu(server.pid), cpu_seconds(clients.pid)
            out.append(
                Segment(
                    beside,
                    report["seconds"],
                    report["cpu"],
                    report["times"],
                    report["late"],
                    loop1 - loop0,
                    worker1 - worker0,
                    clients1 - clients0,
                    sum(began <= t <= ended for t in list(updates)),
                )
            )
    finally:
        for proc in (server, clients):
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGCONT)
        clients.send_signal(signal.SIGINT)
        try:
            clients.wait(timeout=20)  # its output goes to collect_updates
        except subprocess.TimeoutExpired:
            clients.kill()
            clients.wait()
        stop(server)
        stop(writer)
        path.unlink(missing_ok=True)
    return out


ABBA = (0, 1, 1, 0)
SETTLE = 0.3
"""Seconds between stretches: the server catches up on the last one, the clients on its frames."""


def print_latency(args: argparse.Namespace, lat: dict[str, Any]) -> None:
    print(
        f"latency: {args.rate:g} fps of {args.size}x{args.size} uint16, {args.seconds:g} s: "
        f"{lat['drawn']} frames drawn ({lat['drawn_per_s']:.1f}/s, {lat['binned']}), "
        f"flush->pixels median {lat['latency_median_ms']:.0f} ms, "
        f"p90 {lat['latency_p90_ms']:.0f} ms, max {lat['latency_max_ms']:.0f} ms "
        f"(target median <= 200 ms)"
    )
    print(
        f"  writer kept {lat['writer_fps']:.1f} fps; median flush->sent by the server "
        f"{lat['flush_to_sent_median_ms']:.0f} ms, sent->drawn by the page "
        f"{lat['sent_to_drawn_median_ms']:.0f} ms; {lat['message_bytes']} bytes per update"
    )
    print(
        f"server CPU: {lat['server_cpu_percent']:.1f}% of one core (target <= 30%): event loop "
        f"{lat['loop_cpu_percent']:.1f}%, file worker {lat['worker_cpu_percent']:.1f}%"
    )


def spread(values: list[float], scale: float = 1.0, digits: int = 3) -> str:
    """Median, quartiles and range of ``values`` (times ``scale``)."""
    q = np.percentile(np.asarray(values) * scale, [0, 25, 50, 75, 100])
    return (
        f"median {q[2]:.{digits}f} (quartiles {q[1]:.{digits}f}-{q[3]:.{digits}f}, "
        f"range {q[0]:.{digits}f}-{q[4]:.{digits}f})"
    )


def print_sequence(runs: list[Segment]) -> None:
    """Every stretch in the order it ran: A alone, B beside; seconds / writer CPU seconds."""
    print(
        "  in order (A alone, B beside; wall s / writer CPU s): "
        + " ".join(f"{'B' if r.beside else 'A'} {r.seconds:.3f}/{r.cpu:.2f}" for r in runs)
    )


def print_server_cpu(args: argparse.Namespace, runs: list[Segment]) -> None:
    beside = [r for r in runs if r.beside]
    wall = sum(r.seconds for r in beside)
    loop = sum(r.server_loop_cpu for r in beside)
    worker = sum(r.server_worker_cpu for r in beside)
    clients = sum(r.clients_cpu for r in beside)
    print(
        f"  while beside it ({wall:.1f} s in all): server {100 * (loop + worker) / wall:.1f}% of "
        f"one core (event loop {100 * loop / wall:.1f}%, file worker {100 * worker / wall:.1f}%), "
        f"the {args.clients} clients' process {100 * clients / wall:.1f}%; each client got "
        f"{sum(r.updates for r in beside) / wall:.1f} updates/s (the server's rate: at most "
        "10/s)"
    )


def company(args: argparse.Namespace) -> str:
    """The server's and the clients' priorities as run."""
    nice = "its own" if args.nice is None else str(args.nice)
    idle = "its own" if args.idle is None else str(args.idle)
    clients = "idle class" if args.clients_idle else "normal class"
    return f"nice {nice}, idle {idle}; {args.clients} WebSocket clients, {clients}"


def print_unthrottled(args: argparse.Namespace, runs: list[Segment]) -> None:
    alone = [r.seconds for r in runs if not r.beside]
    beside = [r.seconds for r in runs if r.beside]
    pairs = [b.seconds / a.seconds - 1 for a, b in pairs_of(runs)]
    mb = args.frames * args.size * args.size * 2 / 1e6
    base, busy = statistics.median(alone), statistics.median(beside)
    print(
        f"unthrottled writer: stretches of {args.frames} frames of {args.size}x{args.size} uint16 "
        f"({mb:.0f} MB) as fast as it can, {len(alone)} alone and {len(beside)} beside the server "
        f"({company(args)}), alternating in {args.repeat} file(s):"
    )
    print(f"  alone:  seconds {spread(alone)}; {mb / base:.0f} MB/s")
    print(f"  beside: seconds {spread(beside)}; {mb / busy:.0f} MB/s")
    print(
        f"  writer CPU s alone {spread([r.cpu for r in runs if not r.beside], digits=2)}, "
        f"beside {spread([r.cpu for r in runs if r.beside], digits=2)}"
    )
    print(
        f"  slowdown of the medians {100 * (busy / base - 1):+.1f}%; of each stretch beside "
        f"against the one alone next to it: {spread(pairs, 100, 1)} % (target <= 5%)"
    )
    print_sequence(runs)
    print_server_cpu(args, runs)


def print_paced(args: argparse.Namespace, runs: list[Segment]) -> None:
    alone = [t for r in runs if not r.beside for t in r.frame_times]
    beside = [t for r in runs if r.beside for t in r.frame_times]
    print(
        f"paced writer (the issue's case): {args.rate:g} fps of {args.size}x{args.size} uint16, "
        f"stretches of {args.paced_frames} frames, {len(alone)} frames alone and {len(beside)} "
        f"beside the server ({company(args)}), alternating in {args.repeat} file(s):"
    )
    for label, times, side in (("alone", alone, False), ("beside", beside, True)):
        mine = [r for r in runs if r.beside is side]
        fps = [args.paced_frames / r.seconds for r in mine]
        late = sum(r.late for r in mine)
        p = np.percentile(np.asarray(times) * 1000, [50, 90, 99])
        print(
            f"  {label + ':':7} append+flush median {p[0]:.2f} ms, p90 {p[1]:.2f} ms, "
            f"p99 {p[2]:.2f} ms, max {1000 * max(times):.2f} ms; kept {min(fps):.2f}-"
            f"{max(fps):.2f} fps; {late} of {len(times)} frames flushed after their slot"
        )
    per = [
        statistics.median(b.frame_times) / statistics.median(a.frame_times) - 1
        for a, b in pairs_of(runs)
    ]
    slower = statistics.median(beside) / statistics.median(alone) - 1
    print(
        f"  append+flush slower beside by {100 * slower:+.1f}% "
        f"(medians); of each stretch beside against the one alone next to it: "
        f"{spread(per, 100, 1)} % (target <= 5%)"
    )
    print_server_cpu(args, runs)


def pairs_of(runs: list[Segment]) -> list[tuple[Segment, Segment]]:
    """(alone, beside) stretches that ran next to each other, each stretch in one pair."""
    out = []
    k = 0
    while k + 1 < len(runs):
        a, b = runs[k], runs[k + 1]
        if a.beside != b.beside:
            out.append((b, a) if a.beside else (a, b))
            k += 2
        else:
            k += 1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15, help="latency part: seconds")
    parser.add_argument("--rate", type=float, default=100, help="the paced writer's frames/s")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument(
        "--frames", type=int, default=400, help="frames per stretch of the unthrottled writer"
    )
    parser.add_argument(
        "--paced-frames", type=int, default=150, help="frames per stretch of the paced writer"
    )
    parser.add_argument(
        "--segments", type=int, default=4, help="stretches per file, half of them beside"
    )
    parser.add_argument("--repeat", type=int, default=4, help="files (writer, server, clients)")
    parser.add_argument(
        "--part",
        choices=["all", "latency", "slowdown", "paced", "unthrottled"],
        default="all",
        help="what to run (slowdown: paced and unthrottled)",
    )
    parser.add_argument(
        "--nice", type=int, default=None, help="the server's --nice (default: the server's own)"
    )
    parser.add_argument(
        "--idle",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the server's --idle / --no-idle (default: the server's own)",
    )
    parser.add_argument(
        "--clients-idle",
        action="store_true",
        help="run the clients' process in the idle scheduling class (default: normal), to tell "
        "the server's part from theirs (pages on other machines cost this one nothing)",
    )
    parser.add_argument(
        "--preallocate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="allocate each file's pages before its stretches (default: on; see allocate())",
    )
    parser.add_argument(
        "--dir", type=Path, default=SHM if SHM.is_dir() else None, help="default /dev/shm"
    )
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    parts = {"all": ("latency", "paced", "unthrottled"), "slowdown": ("paced", "unthrottled")}
    chosen = parts.get(args.part, (args.part,))
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        if "latency" in chosen:
            print_latency(args, latency_run(folder, args))
            print(f"load average after the latency part: {os.getloadavg()}")
        for part, rate, frames, show in (
            ("paced", args.rate, args.paced_frames, print_paced),
            ("unthrottled", 0.0, args.frames, print_unthrottled),
        ):
            if part not in chosen:
                continue
            path = folder / f"{part}.h5"
            room(folder, frames * (args.segments + 1) * args.size**2 * 2)
            runs = [
                r for k in range(args.repeat) for r in segments_run(path, args, rate, frames, k % 2)
            ]
            show(args, runs)
            print(f"load average after the {part} part: {os.getloadavg()}")


SHM = Path("/dev/shm")


def room(folder: Path, nbytes: int) -> None:
    """Refuse to start a file that would fill its file system (/dev/shm is memory)."""
    free = shutil.disk_usage(folder).free
    if nbytes > free - (2 << 30):
        raise SystemExit(
            f"{folder}: a file of {nbytes / 1e9:.1f} GB needs that much and 2 GiB more free, "
            f"{free / 1e9:.1f} GB is; use fewer --frames/--segments or another --dir"
        )
    print(
        f"{folder}: {free / 1e9:.1f} GB free; each file takes {nbytes / 1e9:.1f} GB, deleted "
        "after its run"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-writer":
        child_writer(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-segments":
        rate, frames, size, segments = sys.argv[3:7]
        child_segments(sys.argv[2], float(rate), int(frames), int(size), int(segments))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-clients":
        idle = len(sys.argv) > 5 and sys.argv[5] == "idle"
        child_clients(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), idle)
    else:
        main()
