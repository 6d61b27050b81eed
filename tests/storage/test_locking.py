"""flock locks between real processes, and HDF5_USE_FILE_LOCKING read as libhdf5 reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py
import pytest

from h5swmr.errors import FileLockedError, H5SwmrError
from h5swmr.storage.locking import ENVIRONMENT_VARIABLE, FileLocking, lock, unlock

# A child process: take a non-blocking flock on argv[1] (argv[2] "sh" or "ex"), report, hold it
# until stdin closes.
_CHILD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
op = fcntl.LOCK_SH if sys.argv[2] == "sh" else fcntl.LOCK_EX
try:
    fcntl.flock(fd, op | fcntl.LOCK_NB)
except BlockingIOError:
    print("busy", flush=True)
else:
    print("locked", flush=True)
sys.stdin.read()
"""


@contextmanager
def child_lock(path: Path, mode: str) -> Iterator[str]:
    """Run the child; yield what it reported ("locked" or "busy") while it still runs."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[tuple[int, str]]:
    path = tmp_path / "locked.h5"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDWR)
    yield fd, str(path)
    os.close(fd)


@pytest.mark.parametrize("policy", [FileLocking.ENABLED, FileLocking.BEST_EFFORT])
def test_reader_holding_shared_lock_keeps_writer_out(
    target: tuple[int, str], policy: FileLocking
) -> None:
    fd, path = target
    with child_lock(Path(path), "sh") as state:
        assert state == "locked"
        with pytest.raises(FileLockedError) as info:
            lock(fd, path, policy, exclusive=True)
        assert isinstance(info.value, BlockingIOError)
        assert isinstance(info.value, H5SwmrError)
        assert info.value.filename == path
        # the cure for a lock another process holds is never to turn locking off
        assert ENVIRONMENT_VARIABLE not in str(info.value)
        assert "wait for it to close the file" in str(info.value)
        assert lock(fd, path, policy, exclusive=False) is True  # readers share
        unlock(fd)
    assert lock(fd, path, policy, exclusive=True) is True  # the child is gone


def test_exclusive_lock_keeps_readers_out_until_unlocked(target: tuple[int, str]) -> None:
    fd, path = target
    assert lock(fd, path, FileLocking.ENABLED, exclusive=True) is True
    with child_lock(Path(path), "sh") as state:
        assert state == "busy"
    assert lock(fd, path, FileLocking.ENABLED, exclusive=False) is True  # downgrade to shared
    with child_lock(Path(path), "sh") as state:
        assert state == "locked"
    with child_lock(Path(path), "ex") as state:
        assert state == "busy"
    unlock(fd)
    with child_lock(Path(path), "ex") as state:
        assert state == "locked"
    unlock(fd)  # unlocking what is not held is harmless


def test_disabled_never_locks(target: tuple[int, str]) -> None:
    fd, path = target
    with child_lock(Path(path), "ex") as state:
        assert state == "locked"
        assert lock(fd, path, FileLocking.DISABLED, exclusive=True) is False
    assert lock(fd, path, FileLocking.DISABLED, exclusive=True) is False
    with child_lock(Path(path), "ex") as state:
        assert state == "locked"  # DISABLED took nothing


def test_libhdf5_reader_keeps_our_writer_out(target: tuple[int, str]) -> None:
    fd, path = target
    os.close(os.open(path, os.O_WRONLY | os.O_TRUNC))
    with h5py.File(path, "w", libver="latest"):
        pass
    # libhdf5 holds LOCK_SH while a file is open for reading
    with h5py.File(path, "r"), pytest.raises(FileLockedError):
        lock(fd, path, FileLocking.ENABLED, exclusive=True)
    assert lock(fd, path, FileLocking.ENABLED, exclusive=True) is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("FALSE", FileLocking.DISABLED),
        ("0", FileLocking.DISABLED),
        ("TRUE", FileLocking.ENABLED),
        ("1", FileLocking.ENABLED),
        ("BEST_EFFORT", FileLocking.BEST_EFFORT),
    ],
)
def test_from_environment(value: str, expected: FileLocking) -> None:
    assert FileLocking.from_environment({ENVIRONMENT_VARIABLE: value}) is expected
    assert FileLocking.from_environment({ENVIRONMENT_VARIABLE: value, "OTHER": "FALSE"}) is expected


def test_from_environment_unset_and_garbage_lock() -> None:
    for environ in ({}, {ENVIRONMENT_VARIABLE: "garbage"}, {ENVIRONMENT_VARIABLE: ""}):
        assert FileLocking.from_environment(environ) is not FileLocking.DISABLED


def test_from_environment_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "FALSE")
    assert FileLocking.from_environment() is FileLocking.DISABLED
    monkeypatch.delenv(ENVIRONMENT_VARIABLE)
    assert FileLocking.from_environment() is not FileLocking.DISABLED


# --- oracle: which values make libhdf5 skip its lock? -----------------------------------------

ORACLE_VALUES: list[str | None] = ["FALSE", "0", "TRUE", "1", "BEST_EFFORT", "garbage", None]
CASE_VALUES: list[str | None] = ["false", " FALSE "]


def _libhdf5_skips_locking(path: Path, values: list[str | None]) -> dict[str | None, bool]:
    """Open ``path`` read-only with h5py in one process per value, while we hold LOCK_EX."""
    procs = {}
    for value in values:
        env = {k: v for k, v in os.environ.items() if k != ENVIRONMENT_VARIABLE}
        if value is not None:
            env[ENVIRONMENT_VARIABLE] = value
        procs[value] = subprocess.Popen(
            [sys.executable, "-c", "import h5py, sys; h5py.File(sys.argv[1], 'r').close()", path],
            env=env,
            stderr=subprocess.DEVNULL,
        )
    return {value: proc.wait(timeout=60) == 0 for value, proc in procs.items()}


@pytest.fixture(scope="module")
def libhdf5_verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str | None, bool]:
    path = tmp_path_factory.mktemp("lock") / "f.h5"
    with h5py.File(path, "w", libver="latest"):
        pass
    fd = os.open(path, os.O_RDWR)
    try:
        assert lock(fd, str(path), FileLocking.ENABLED, exclusive=True)
        return _libhdf5_skips_locking(path, ORACLE_VALUES + CASE_VALUES)
    finally:
        os.close(fd)


@pytest.mark.parametrize("value", ORACLE_VALUES)
def test_oracle_disabled_exactly_when_libhdf5_skips_locks(
    libhdf5_verdicts: dict[str | None, bool], value: str | None
) -> None:
    environ = {} if value is None else {ENVIRONMENT_VARIABLE: value}
    ours = FileLocking.from_environment(environ) is FileLocking.DISABLED
    assert ours == libhdf5_verdicts[value]


def test_oracle_libhdf5_facts(libhdf5_verdicts: dict[str | None, bool]) -> None:
    """What the two xfails below compare against: case-sensitive values, best-effort default."""
    assert not any(libhdf5_verdicts[value] for value in CASE_VALUES)  # libhdf5 still locks
    assert h5py.h5p.create(h5py.h5p.FILE_ACCESS).get_file_locking() == (True, True)


@pytest.mark.parametrize("value", CASE_VALUES)
def test_oracle_case_and_spaces_as_libhdf5(
    libhdf5_verdicts: dict[str | None, bool], value: str
) -> None:
    assert libhdf5_verdicts[value] is False
    assert FileLocking.from_environment({ENVIRONMENT_VARIABLE: value}) is not FileLocking.DISABLED


@pytest.mark.parametrize("value", [None, "garbage"])
def test_oracle_default_is_best_effort(value: str | None) -> None:
    environ = {} if value is None else {ENVIRONMENT_VARIABLE: value}
    assert FileLocking.from_environment(environ) is FileLocking.BEST_EFFORT
