"""``h5swmr view`` under load: flush-to-pixels latency, server CPU, and what 10 pages cost a writer.

Usage (from the repository root)::

    PYTHONPATH=src python benchmarks/bench_view.py [--seconds 15] [--rate 100] [--size 1024]
        [--clients 10] [--frames 300] [--repeat 1] [--part all|latency|slowdown] [--nice N]
        [--dir DIR]

1. Latency and CPU: a writer process appends ``size`` x ``size`` uint16 frames at ``rate`` frames/s
   (flush after each, printing the wall-clock time at which each ``flush()`` returned); an
   ``h5swmr view`` server process follows the file; Debian's chromium (headless, Playwright, a
   1400x850 window) shows the page. The page records when it drew each frame's pixels
   (``window.h5view.renders``); latency = draw time - flush time of that frame, for every frame
   drawn during ``seconds``. Server CPU = (user + system) time of the server process over the same
   window, from /proc, divided by the wall time (100% = one core).
2. Writer slowdown: an unthrottled writer appends ``frames`` frames alone, then again while the
   server streams to ``clients`` WebSocket clients in one separate process (they receive every
   update and drop it, like pages on other machines; a browser per client on this 2-core host
   would measure chromium, not the server), then alone again; ``--repeat`` rounds of that,
   alternating. Slowdown = median(with) / median(alone) - 1. The server's CPU (its event loop
   and its file worker apart) and the clients' process's CPU over each run are printed beside.

Targets (issue #19): median latency <= 200 ms at 100 fps of 1024x1024 uint16; server CPU <= 30%
of one core; slowdown <= 5% with 10 clients. The machine may be shared: the script prints the
load average (``os.getloadavg``) before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
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


def child_writer(path: str, rate: float, frames: int, size: int, wait: bool) -> None:
    """Append ``frames`` frames at ``rate`` (0: as fast as possible); print flush times. With
    ``wait``, start only when a line arrives on stdin (once the server and clients are up)."""
    from h5swmr import SwmrFileWriter

    rng = np.random.default_rng(7)
    pool = [rng.integers(0, 4000, (size, size), dtype=np.uint16) for _ in range(POOL)]
    writer = SwmrFileWriter.create(path)
    ds = writer.create_streaming_dataset(DATASET, "uint16", (size, size))
    writer.start_swmr()
    print("ready", flush=True)
    if wait:
        sys.stdin.readline()
    start = time.monotonic()
    lines = []
    for i in range(frames):
        writer.append_frame(ds, pool[i % POOL])
        writer.flush()
        stamp = time.time()
        if rate > 0:
            print(f"flushed {i} {stamp:.6f}", flush=True)
            delay = start + (i + 1) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        else:
            lines.append(stamp)
    elapsed = time.monotonic() - start
    cpu = time.process_time()
    writer.close()
    print(f"done {frames} {elapsed:.6f} {cpu:.6f}", flush=True)


def child_clients(url: str, n: int, seconds: float) -> None:
    """``n`` WebSocket clients following the latest frame for ``seconds``; print messages seen."""
    import aiohttp

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


def start_server(path: Path, nice: int | None) -> tuple[subprocess.Popen[str], str]:
    extra = [] if nice is None else ["--nice", str(nice)]
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
    server, url = start_server(path, args.nice)
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
class WriterRun:
    seconds: float
    cpu: float
    """The writer process's own CPU seconds (what it did, not what it waited for)."""
    server_loop_cpu: float = 0.0
    server_worker_cpu: float = 0.0
    clients_cpu: float = 0.0
    clients: str = ""


def finished(out: str, err: str) -> tuple[float, float]:
    found = re.search(r"done (\d+) ([\d.]+) ([\d.]+)", out)
    if not found:
        raise RuntimeError(err)
    return float(found.group(2)), float(found.group(3))


def writer_alone(path: Path, args: argparse.Namespace) -> WriterRun:
    os.sync()  # the last run's pages are written back before this one starts, not during it
    writer = start(__file__, "--child-writer", str(path), "0", str(args.frames), str(args.size))
    out, err = writer.communicate(timeout=600)
    path.unlink(missing_ok=True)
    return WriterRun(*finished(out, err))


def writer_with_clients(path: Path, args: argparse.Namespace) -> WriterRun:
    """The writer starts writing once the server runs and every client follows the file."""
    writer = start(
        __file__,
        "--child-writer",
        str(path),
        "0",
        str(args.frames),
        str(args.size),
        "wait",
        stdin=subprocess.PIPE,
    )
    assert writer.stdout is not None and writer.stdin is not None
    assert writer.stdout.readline().strip() == "ready"
    server, url = start_server(path, args.nice)
    clients = start(__file__, "--child-clients", url, str(args.clients), "600")
    assert clients.stdout is not None
    assert clients.stdout.readline().strip() == "connected"
    time.sleep(0.5)  # the first tree and frames are sent before the writer starts
    os.sync()
    (loop0, worker0), clients0 = split_cpu(server.pid), cpu_seconds(clients.pid)
    try:
        out, err = writer.communicate("go\n", timeout=600)
        (loop1, worker1), clients1 = split_cpu(server.pid), cpu_seconds(clients.pid)
    finally:
        time.sleep(0.5)  # let the clients see the last frames
        clients.send_signal(signal.SIGINT)
        try:
            seen, _ = clients.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            seen = stop(clients)
        stop(server)
        path.unlink(missing_ok=True)
    seconds, cpu = finished(out, err)
    return WriterRun(
        seconds, cpu, loop1 - loop0, worker1 - worker0, clients1 - clients0, seen.strip()
    )


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


def print_slowdown(args: argparse.Namespace, alone: list[WriterRun], w: list[WriterRun]) -> None:
    mb = args.frames * args.size * args.size * 2 / 1e6
    base = statistics.median(r.seconds for r in alone)
    busy = statistics.median(r.seconds for r in w)
    print(
        f"writer, {args.frames} frames of {args.size}x{args.size} uint16 ({mb:.0f} MB) "
        f"unthrottled, {len(alone)} runs alone and {len(w)} with the server (nice {args.nice}) "
        f"and {args.clients} WebSocket clients, alternating:"
    )
    print(
        f"  alone: {' '.join(f'{r.seconds:.3f}' for r in alone)} s (median {base:.3f} s, "
        f"{mb / base:.0f} MB/s); writer CPU {' '.join(f'{r.cpu:.2f}' for r in alone)} s"
    )
    print(
        f"  with:  {' '.join(f'{r.seconds:.3f}' for r in w)} s (median {busy:.3f} s, "
        f"{mb / busy:.0f} MB/s); writer CPU {' '.join(f'{r.cpu:.2f}' for r in w)} s"
    )
    print(f"  slowdown of the medians {100 * (busy / base - 1):+.1f}% (target <= 5%)")
    for r in w:
        print(
            f"  while it ran: server event loop {r.server_loop_cpu:.3f} CPU s, file worker "
            f"{r.server_worker_cpu:.3f} CPU s, the clients' process {r.clients_cpu:.3f} CPU s; "
            f"{r.clients}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=1, help="alternating slowdown rounds")
    parser.add_argument(
        "--part", choices=["all", "latency", "slowdown"], default="all", help="what to run"
    )
    parser.add_argument(
        "--nice", type=int, default=None, help="the server's --nice (default: the server's own)"
    )
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        if args.part in ("all", "latency"):
            print_latency(args, latency_run(folder, args))
            print(f"load average after the latency part: {os.getloadavg()}")
        if args.part in ("all", "slowdown"):
            path = folder / "slowdown.h5"
            alone, with_clients = [writer_alone(path, args)], []
            for _ in range(args.repeat):
                with_clients.append(writer_with_clients(path, args))
                alone.append(writer_alone(path, args))
            print_slowdown(args, alone, with_clients)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child-writer":
        wait = len(sys.argv) > 6 and sys.argv[6] == "wait"
        child_writer(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), wait)
    elif len(sys.argv) > 1 and sys.argv[1] == "--child-clients":
        child_clients(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        main()
