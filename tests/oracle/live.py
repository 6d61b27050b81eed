"""Reader processes beside a writer: this interpreter's h5py following a growing file.

:class:`LiveReader` runs any script string in a child interpreter and collects the JSON lines it
prints, one report per line. Every wait has a timeout; on timeout, or on leaving the ``with`` block,
the child is killed. :data:`FOLLOW_SCRIPT` is the stock reader: it opens the file with
``swmr=True`` and polls with ``Dataset.refresh()`` (never ``dset.id.refresh()``, which leaves h5py's
cached shape stale), reporting each frame it sees.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import IO, Any, Self

Report = dict[str, Any]

_EOF = object()


class LiveReaderError(RuntimeError):
    """The reader timed out, exited early, or printed something that is not a JSON report."""

    def __init__(self, message: str, *, reports: Sequence[Report] = (), stderr: str = "") -> None:
        super().__init__(
            f"{message}\n--- reader stderr ---\n{stderr[-4000:]}" if stderr else message
        )
        self.reports = list(reports)
        self.stderr = stderr


class LiveReader:
    """A child ``python -c script args...`` whose stdout is a stream of JSON reports."""

    def __init__(
        self,
        script: str,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
    ) -> None:
        self._command = [python, "-c", script, *args]
        self._env = {**os.environ, **(env or {})}
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[object] = queue.Queue()
        self._stderr: list[str] = []
        self._threads: list[threading.Thread] = []
        self._finished = False
        self.reports: list[Report] = []
        """Every report received so far, in order."""

    def __repr__(self) -> str:
        state = "not started" if self._process is None else f"pid {self._process.pid}"
        return f"<LiveReader {state}, {len(self.reports)} reports>"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stderr(self) -> str:
        """What the child wrote to stderr so far."""
        return "".join(self._stderr)

    @property
    def returncode(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def start(self) -> None:
        if self._process is not None:
            raise RuntimeError("LiveReader already started")
        self._process = subprocess.Popen(
            self._command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self._env,
        )
        assert self._process.stdout is not None and self._process.stderr is not None
        self._threads = [
            threading.Thread(target=self._pump_stdout, args=(self._process.stdout,), daemon=True),
            threading.Thread(target=self._pump_stderr, args=(self._process.stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _pump_stdout(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put(_EOF)

    def _pump_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            self._stderr.append(line)

    def next_report(self, timeout: float) -> Report | None:
        """The next report, or None once the child closed its stdout; raises after ``timeout`` s."""
        if self._finished:
            return None
        try:
            item = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.close()
            raise LiveReaderError(
                f"no report from the reader within {timeout} s",
                reports=self.reports,
                stderr=self.stderr,
            ) from None
        if item is _EOF:
            self._finished = True
            return None
        line = str(item).strip()
        try:
            report = json.loads(line)
        except json.JSONDecodeError:
            self.close()
            raise LiveReaderError(
                f"reader printed a line that is not JSON: {line!r}",
                reports=self.reports,
                stderr=self.stderr,
            ) from None
        if not isinstance(report, dict):
            self.close()
            raise LiveReaderError(f"reader printed a non-object report: {line!r}")
        self.reports.append(report)
        return report

    def wait_for(self, predicate: Callable[[Report], bool], timeout: float) -> Report:
        """Read reports until one satisfies ``predicate``; raise if the child ends or times out."""
        deadline = time.monotonic() + timeout
        while True:
            report = self.next_report(max(0.0, deadline - time.monotonic()))
            if report is None:
                self.close()
                raise LiveReaderError(
                    f"reader exited (code {self.returncode}) before the awaited report",
                    reports=self.reports,
                    stderr=self.stderr,
                )
            if predicate(report):
                return report

    def wait(self, timeout: float) -> int:
        """Read every remaining report and wait for the child to exit; returns its exit code."""
        if self._process is None:
            raise RuntimeError("LiveReader not started")
        deadline = time.monotonic() + timeout
        while self.next_report(max(0.0, deadline - time.monotonic())) is not None:
            pass
        try:
            code = self._process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.close()
            raise LiveReaderError(
                f"reader did not exit within {timeout} s", reports=self.reports, stderr=self.stderr
            ) from None
        self._join_threads()
        return code

    def close(self) -> None:
        """Kill the child if it still runs and reap it. Safe to call twice."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL cannot be ignored
            self._process.wait(timeout=10)
        self._join_threads()

    def _join_threads(self) -> None:
        for thread in self._threads:
            thread.join(timeout=5)


FOLLOW_SCRIPT = r"""
import hashlib, json, sys, time
import numpy as np
import h5py

options = json.loads(sys.argv[1])
deadline = time.monotonic() + options["timeout"]
open_deadline = time.monotonic() + options["open_timeout"]


def report(**fields):
    print(json.dumps(fields), flush=True)


f = None
while f is None:
    try:
        f = h5py.File(options["path"], "r", swmr=True)
    except OSError as exc:
        if time.monotonic() > open_deadline:
            report(event="error", stage="open", message=str(exc))
            sys.exit(1)
        time.sleep(options["poll_interval"])

try:
    ds = f[options["dataset"]]
    report(event="opened", hdf5_version=h5py.version.hdf5_version, shape=list(ds.shape),
           chunks=list(ds.chunks) if ds.chunks else None, dtype=ds.dtype.str)
    seen = 0
    while True:
        ds.refresh()
        n = ds.shape[0]
        if n < seen:
            report(event="shrank", n_frames=n, seen=seen)
            sys.exit(1)
        if n > seen:
            data = ds[seen:n]
            frames = [
                {"index": seen + k,
                 "first": data[k].flat[0].item() if data[k].size else None,
                 "sha256": hashlib.sha256(np.ascontiguousarray(data[k]).tobytes()).hexdigest()}
                for k in range(n - seen)
            ]
            report(event="frames", n_frames=n, shape=list(ds.shape), frames=frames)
            seen = n
        if options["frames"] is not None and seen >= options["frames"]:
            report(event="done", n_frames=seen)
            sys.exit(0)
        if time.monotonic() > deadline:
            report(event="timeout", n_frames=seen)
            sys.exit(3)
        time.sleep(options["poll_interval"])
except Exception as exc:
    report(event="error", stage="read", type=type(exc).__name__, message=str(exc))
    sys.exit(1)
finally:
    f.close()
"""
"""Follows one dataset; argv[1] is JSON (see :func:`follow_dataset`). Reports, one JSON per line:
``opened`` (hdf5_version, shape, chunks, dtype); ``frames`` (n_frames, shape, and per new frame its
index, first element and sha256); then ``done``, ``timeout`` (exit 3), ``shrank`` or ``error``."""


def follow_dataset(
    path: str | os.PathLike[str],
    dataset: str,
    *,
    frames: int | None,
    timeout: float,
    poll_interval: float = 0.02,
    open_timeout: float = 10.0,
    env: Mapping[str, str] | None = None,
) -> LiveReader:
    """An unstarted :class:`LiveReader` running :data:`FOLLOW_SCRIPT` on ``path``/``dataset``.

    The child retries opening for ``open_timeout`` s (the writer may not have started SWMR yet),
    stops with ``done`` once it has seen ``frames`` frames (never, if None), and gives up with
    ``timeout`` after ``timeout`` s. Use it as ``with follow_dataset(...) as reader:``.
    """
    options = {
        "path": os.fspath(path),
        "dataset": dataset,
        "frames": frames,
        "timeout": timeout,
        "poll_interval": poll_interval,
        "open_timeout": open_timeout,
    }
    return LiveReader(FOLLOW_SCRIPT, [json.dumps(options)], env=env)
