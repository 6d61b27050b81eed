"""Writer and reader processes for the live tests, and the checks on what the readers saw.

Four readers, each a separate process speaking the JSON lines of ``py_reader.py``:

- ``hdf5-2.x``: this interpreter's h5py (HDF5 2.x);
- ``hdf5-1.14`` and ``hdf5-1.12``: h5py 3.11 and 3.8 in the cached venvs of ``tests.oracle``;
- ``hdf5-1.10``: ``swmr_reader.c``, compiled here with gcc against Debian's libhdf5-dev 1.10.

Nothing is skipped: a missing gcc, libhdf5-dev or venv is a failure. Every wait has a timeout.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.oracle import LiveReader, LiveReaderError, venv_python
from tests.oracle.live import Report
from tests.oracle.old_h5py import cache_dir

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
C_SOURCE = HERE / "swmr_reader.c"
PY_READER = HERE / "py_reader.py"
WRITER_SCRIPT = HERE / "writer_script.py"

HDF5_INCLUDE = "/usr/include/hdf5/serial"
HDF5_LIBDIR = "/usr/lib/x86_64-linux-gnu/hdf5/serial"
COMPILE_TIMEOUT = 180.0

READERS: dict[str, str] = {
    "hdf5-2.x": "2.",
    "hdf5-1.14": "1.14.",
    "hdf5-1.12": "1.12.",
    "hdf5-1.10": "1.10.",
}
"""Reader name -> the HDF5 version prefix it must report."""

_OLD_H5PY = {"hdf5-1.14": "3.11.0", "hdf5-1.12": "3.8.0"}


class CommandReader(LiveReader):
    """A :class:`LiveReader` running an arbitrary command (here: the compiled C reader)."""

    def __init__(self, command: Sequence[str], *, env: Mapping[str, str] | None = None) -> None:
        super().__init__("", env=env)
        self._command = [str(part) for part in command]


def c_reader_binary() -> Path:
    """``swmr_reader.c`` compiled against libhdf5 1.10, cached by source hash (built once)."""
    source = C_SOURCE.read_bytes()
    digest = hashlib.sha256(source + HDF5_INCLUDE.encode() + HDF5_LIBDIR.encode()).hexdigest()
    out_dir = cache_dir() / "c-reader"
    binary = out_dir / f"swmr_reader-{digest[:16]}"
    if binary.is_file():
        return binary
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("gcc not found: the HDF5 1.10 live reader is compiled at test time")
    if not Path(HDF5_INCLUDE, "hdf5.h").is_file():
        raise RuntimeError(f"{HDF5_INCLUDE}/hdf5.h missing: install Debian's libhdf5-dev")
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "build.lock").open("a") as lock:
        _flock(lock.fileno(), COMPILE_TIMEOUT)
        try:
            if binary.is_file():
                return binary
            with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
                built = Path(tmp) / "swmr_reader"
                command = [
                    gcc, "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror",
                    f"-I{HDF5_INCLUDE}", str(C_SOURCE), "-o", str(built),
                    f"-L{HDF5_LIBDIR}", f"-Wl,-rpath,{HDF5_LIBDIR}", "-lhdf5",
                ]  # fmt: skip
                done = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    timeout=COMPILE_TIMEOUT,
                    stdin=subprocess.DEVNULL,
                    check=False,
                )
                if done.returncode != 0:
                    raise RuntimeError(
                        f"compiling the C reader failed (exit {done.returncode}): "
                        f"{' '.join(command)}\n{done.stderr[-4000:]}"
                    )
                built.rename(binary)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return binary


def _flock(fd: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout} s for the C reader build lock") from None
            time.sleep(0.2)
        else:
            return


def prepare_readers() -> None:
    """Build whatever the readers need (venvs, C binary) before any timed run starts."""
    for version in _OLD_H5PY.values():
        venv_python(version)
    c_reader_binary()


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset as the writer creates it and the readers check it."""

    name: str
    variant: str | None
    salt: int
    dtype: str = "u2"
    bits: int = 16
    per_step: int = 1
    frame_dims: tuple[int, ...] | None = None

    def writer_options(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "variant": self.variant,
            "dtype": self.dtype,
            "bits": self.bits,
            "salt": self.salt,
            "per_step": self.per_step,
            "frame_dims": list(self.frame_dims) if self.frame_dims else None,
        }


def start_reader(
    reader: str,
    path: Path,
    datasets: Mapping[DatasetSpec, int],
    *,
    mode: str,
    timeout: float,
    open_timeout: float = 30.0,
    poll_ms: int = 5,
    stride: int = 1,
) -> LiveReader:
    """A started reader process; ``datasets`` maps each dataset to its target frame count."""
    if reader == "hdf5-1.10":
        command: list[str] = [
            str(c_reader_binary()), str(path), mode, str(timeout), str(open_timeout),
            str(poll_ms), str(stride),
        ]  # fmt: skip
        for spec, target in datasets.items():
            command += [spec.name, str(spec.bits), str(spec.salt), str(target)]
        process: LiveReader = CommandReader(command)
    else:
        options = {
            "path": str(path),
            "mode": mode,
            "timeout": timeout,
            "open_timeout": open_timeout,
            "poll_ms": poll_ms,
            "stride": stride,
            "datasets": [
                {"name": s.name, "bits": s.bits, "salt": s.salt, "target": target}
                for s, target in datasets.items()
            ],
        }
        if reader in _OLD_H5PY:
            python = str(venv_python(_OLD_H5PY[reader]))
            env = {"PYTHONPATH": "", "PYTHONNOUSERSITE": "1"}  # nothing of this interpreter's
        elif reader == "hdf5-2.x":
            python, env = sys.executable, {}
        else:
            raise ValueError(f"unknown reader {reader!r}")
        process = LiveReader(PY_READER.read_text(), [json.dumps(options)], env=env, python=python)
    process.start()
    return process


def start_writer(
    path: Path,
    datasets: Sequence[DatasetSpec],
    *,
    steps: int,
    flush_pattern: Sequence[int],
    sleep: float,
    go_file: Path,
    close_file: Path | None = None,
    wait_timeout: float = 120.0,
    writer_options: Mapping[str, Any] | None = None,
) -> LiveReader:
    """A started writer process (see ``writer_script.py``)."""
    options = {
        "path": str(path),
        "writer_options": dict(writer_options or {}),
        "datasets": [spec.writer_options() for spec in datasets],
        "steps": steps,
        "flush_pattern": list(flush_pattern),
        "sleep": sleep,
        "go_file": str(go_file),
        "close_file": str(close_file) if close_file else None,
        "wait_timeout": wait_timeout,
    }
    pythonpath = os.pathsep.join([str(REPO / "src"), str(REPO)])
    writer = LiveReader(
        WRITER_SCRIPT.read_text(), [json.dumps(options)], env={"PYTHONPATH": pythonpath}
    )
    writer.start()
    return writer


@dataclass
class ReaderResult:
    """What one reader reported, and what the checks make of it."""

    reader: str
    reports: list[Report]
    returncode: int | None
    stderr: str
    sizes: dict[str, list[int]] = field(init=False)
    """Per dataset, every size the reader saw, in order (the size at open first)."""

    def __post_init__(self) -> None:
        opened = self.opened
        self.sizes = {} if opened is None else {name: [n] for name, n in opened["sizes"].items()}
        for report in self.reports:
            if report.get("event") == "size":
                self.sizes.setdefault(report["dataset"], []).append(report["n"])

    @property
    def done(self) -> Report | None:
        return next((r for r in self.reports if r.get("event") == "done"), None)

    @property
    def opened(self) -> Report | None:
        return next((r for r in self.reports if r.get("event") == "opened"), None)

    def summary(self) -> str:
        tail = "\n".join(json.dumps(r) for r in self.reports[-5:])
        stderr = self.stderr[-3000:]
        return f"{self.reader}: exit {self.returncode}\n{tail}\n--- stderr ---\n{stderr}"


def collect(reader: str, process: LiveReader, timeout: float) -> ReaderResult:
    """Wait (at most ``timeout`` s) for the reader to end and gather its reports."""
    try:
        code: int | None = process.wait(timeout)
    except LiveReaderError:
        process.close()
        code = process.returncode
    return ReaderResult(reader, list(process.reports), code, process.stderr)


def check_reader(
    result: ReaderResult,
    targets: Mapping[str, int],
    flushed: Mapping[str, set[int]],
    *,
    mode: str,
    checked_every_frame: bool,
) -> None:
    """Assert the reader ended ``done`` with no bad frame, ran the right HDF5, and saw only
    flushed, never decreasing counts ending at the target."""
    problems = [r for r in result.reports if r.get("event") in {"bad", "shrank", "error"}]
    assert not problems, result.summary()
    assert result.returncode == 0 and result.done is not None, result.summary()
    opened = result.opened
    assert opened is not None, result.summary()
    assert opened["hdf5"].startswith(READERS[result.reader]), result.summary()
    done = result.done
    assert done["sizes"] == dict(targets), result.summary()
    for name, sizes in result.sizes.items():
        assert sizes == sorted(sizes), f"{result.reader} {name}: count decreased: {sizes}"
        unflushed = sorted(set(sizes) - flushed[name] - {0})
        assert not unflushed, f"{result.reader} {name}: saw counts never flushed: {unflushed}"
        if mode == "follow":
            assert sizes[-1] == targets[name], f"{result.reader} {name}: {sizes}"
    if checked_every_frame:
        assert done["checked"] == dict(targets), result.summary()


def intermediate_sizes(result: ReaderResult, name: str, target: int) -> list[int]:
    """The sizes strictly between 0 and ``target`` that the reader saw for ``name``."""
    return sorted({n for n in result.sizes.get(name, []) if 0 < n < target})


def flushed_counts(writer_reports: Sequence[Report]) -> dict[str, set[int]]:
    """Per dataset, every count a writer flush published."""
    counts: dict[str, set[int]] = {}
    for report in writer_reports:
        if report.get("event") == "flushed":
            for name, n in report["counts"].items():
                counts.setdefault(name, set()).add(n)
    return counts


@dataclass
class LiveRun:
    """One writer run followed live by readers."""

    path: Path
    writer_reports: list[Report]
    readers: dict[str, ReaderResult]
    targets: dict[str, int]
    seconds: float

    @property
    def flushed(self) -> dict[str, set[int]]:
        return flushed_counts(self.writer_reports)


def run_live(
    tmp_dir: Path,
    datasets: Sequence[DatasetSpec],
    *,
    steps: int,
    flush_pattern: Sequence[int],
    sleep: float,
    readers: Sequence[str] = tuple(READERS),
    poll_ms: int = 5,
    timeout: float = 120.0,
    writer_options: Mapping[str, Any] | None = None,
) -> LiveRun:
    """Start the writer; once it reports ``swmr`` start every reader; once all have opened the
    file let the writer append; wait for all of them (each wait bounded by ``timeout``)."""
    prepare_readers()
    started = time.monotonic()
    path = tmp_dir / "live.h5"
    go_file = tmp_dir / "go"
    targets = {spec.name: steps * spec.per_step for spec in datasets}
    writer = start_writer(
        path,
        datasets,
        steps=steps,
        flush_pattern=flush_pattern,
        sleep=sleep,
        go_file=go_file,
        writer_options=writer_options,
    )
    processes: dict[str, LiveReader] = {}
    try:
        writer.wait_for(lambda r: r.get("event") in {"swmr", "error"}, timeout)
        by_spec = {spec: targets[spec.name] for spec in datasets}
        for reader in readers:
            processes[reader] = start_reader(
                reader, path, by_spec, mode="follow", timeout=timeout, poll_ms=poll_ms
            )
        for process in processes.values():
            process.wait_for(lambda r: r.get("event") in {"opened", "error"}, timeout)
        go_file.touch()
        results = {name: collect(name, p, timeout) for name, p in processes.items()}
        writer_code = writer.wait(timeout)
        assert writer_code == 0, f"writer exit {writer_code}\n{writer.stderr[-4000:]}"
    finally:
        for process in processes.values():
            process.close()
        writer.close()
    return LiveRun(path, list(writer.reports), results, targets, time.monotonic() - started)
