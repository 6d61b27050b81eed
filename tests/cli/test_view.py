"""``h5swmr view``: the command starts the server, prints its URL, and guards it with a token
when asked to listen beyond this machine (tested with an explicit token on 127.0.0.1)."""

from __future__ import annotations

import os
import signal
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.cli.conftest import run_h5swmr
from tests.view.processes import start_server, start_writer, stop

ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_view_prints_a_url_that_serves_the_page(tmp_h5: Path) -> None:
    proc = start_writer(tmp_h5, 2, 0.0, "close")
    proc.wait(timeout=30)
    stop(proc)
    server, url = start_server(str(tmp_h5))
    try:
        assert url.startswith("http://127.0.0.1:")
        status, body = get(url)
        assert status == 200 and b"h5swmr view" in body
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=30)
        assert server.returncode == 130, err
        assert "Traceback" not in err


def test_a_token_is_printed_in_the_url_and_required(tmp_h5: Path) -> None:
    # numpy's OpenBLAS starts a thread of its own at import, before the server lowers itself
    server, url = start_server(str(tmp_h5), "--token", "abc123", env=ONE_BLAS_THREAD)
    try:
        # the server yields the CPU to a writer beside it: 10 nicer than who started it, and
        # every thread it starts in the idle scheduling class (Linux)
        assert os.getpriority(os.PRIO_PROCESS, server.pid) == min(os.nice(0) + 10, 19)
        assert url.endswith("/?token=abc123")
        assert get(url.split("?")[0])[0] == 403
        assert get(url)[0] == 200
        if sys.platform == "linux":  # by now the file's worker thread looks at the file too
            assert len(list(Path(f"/proc/{server.pid}/task").iterdir())) >= 2
            assert scheduling_classes(server.pid) == {os.SCHED_IDLE}
    finally:
        server.send_signal(signal.SIGTERM)  # as a service manager stops it: cleanly, exit 0
        _, err = server.communicate(timeout=30)
        assert server.returncode == 0, err


def scheduling_classes(pid: int) -> set[int]:
    """The scheduling class of every thread of process ``pid`` (Linux)."""
    return {os.sched_getscheduler(int(task.name)) for task in Path(f"/proc/{pid}/task").iterdir()}


@pytest.mark.skipif(sys.platform != "linux", reason="scheduling classes are Linux's")
def test_no_idle_and_nice_0_keep_the_priority_it_was_started_with(tmp_h5: Path) -> None:
    server, _ = start_server(str(tmp_h5), "--no-idle", "--nice", "0", env=ONE_BLAS_THREAD)
    try:
        assert os.getpriority(os.PRIO_PROCESS, server.pid) == os.nice(0)
        assert scheduling_classes(server.pid) == {os.sched_getscheduler(0)}
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--port", "70000"], "--port 70000"),
        (["--rate", "0"], "--rate 0"),
        (["--nice", "-1"], "--nice -1"),
        (["--nice", "20"], "--nice 20"),
    ],
)
def test_bad_options_are_usage_errors(tmp_h5: Path, arguments: list[str], message: str) -> None:
    result = run_h5swmr("view", str(tmp_h5), *arguments)
    assert result.returncode == 2
    assert message in result.stderr
