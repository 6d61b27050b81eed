"""The writer's state as the page shows it, judged with real writer processes (h5swmr's and
h5py's) and a real SIGKILL."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from h5swmr import SwmrFileReader
from h5swmr.view.writer_state import CLOSED, GONE, RUNNING, probe
from tests.oracle.holders import h5py_swmr_reader
from tests.view.processes import child_env, start_writer, stop, writer


def state_of(path: Path) -> str:
    with SwmrFileReader.open(path) as reader:
        return probe(str(path), reader.writer_active).state


def test_a_writing_process_is_running(tmp_h5: Path) -> None:
    with writer(tmp_h5, 3, 100.0, "hold") as proc:
        with SwmrFileReader.open(tmp_h5) as reader:
            found = probe(str(tmp_h5), reader.writer_active)
        assert found.state == RUNNING
        assert found.pid == proc.pid


def test_a_crashed_writer_is_gone_with_the_recover_hint(tmp_h5: Path) -> None:
    proc = start_writer(tmp_h5, 3, 100.0, "crash")
    proc.wait(timeout=30)
    stop(proc)
    with SwmrFileReader.open(tmp_h5) as reader:
        found = probe(str(tmp_h5), reader.writer_active)
    assert found.state == GONE
    assert f"h5swmr recover {tmp_h5}" in found.detail


def test_a_closed_file_is_closed(tmp_h5: Path) -> None:
    proc = start_writer(tmp_h5, 2, 100.0, "close")
    proc.wait(timeout=30)
    stop(proc)
    assert state_of(tmp_h5) == CLOSED


def test_an_h5py_swmr_writer_is_running(tmp_h5: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reader.h5py_live_writer",
            str(tmp_h5),
            "200",
            "0.05",
            "plain",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.stdout.readline()  # one frame flushed
        deadline = time.monotonic() + 10
        while state_of(tmp_h5) != RUNNING and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state_of(tmp_h5) == RUNNING
    finally:
        stop(proc)


def test_a_libhdf5_reader_holding_a_lock_does_not_make_a_crashed_writer_running(
    tmp_h5: Path,
) -> None:
    proc = start_writer(tmp_h5, 3, 100.0, "crash")
    proc.wait(timeout=30)
    stop(proc)
    with h5py_swmr_reader(tmp_h5):  # libhdf5's reader holds a shared lock
        assert state_of(tmp_h5) == GONE
