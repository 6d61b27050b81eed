"""``storage/activity.py``: lock holders from /proc/locks (or a probe), and a file changing."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from h5swmr.storage.activity import changes_within, is_locked, lock_holders
from tests.storage.test_locking import child_lock


def test_lock_holders_of_a_real_lock_in_another_process(tmp_path: Path) -> None:
    path = tmp_path / "held.h5"
    path.write_bytes(b"x")
    assert is_locked(path) == (False, [])
    for mode in ("sh", "ex"):
        with child_lock(path, mode) as state:
            assert state == "locked"
            locked, holders = is_locked(path)
            assert locked
            if Path("/proc/locks").exists():
                assert len(holders) == 1 and holders[0] != os.getpid()
        assert is_locked(path) == (False, [])


def test_lock_holders_parse_proc_locks(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    path.write_bytes(b"")
    st = path.stat()
    key = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    text = "\n".join(
        [
            f"1: FLOCK  ADVISORY  READ 4242 {key} 0 EOF",
            f"1: -> FLOCK  ADVISORY  WRITE 77 {key} 0 EOF",  # waiting, holds nothing
            f"2: POSIX  ADVISORY  WRITE 99 {key} 0 EOF",
            f"3: FLOCK  ADVISORY  WRITE 5 00:00:{st.st_ino + 1} 0 EOF",
            "garbage",
        ]
    )
    assert lock_holders(path, text) == [4242, 99]
    assert lock_holders(path, "") == []


def test_changes_within(tmp_path: Path) -> None:
    path = tmp_path / "growing.h5"
    path.write_bytes(b"\0" * 100)
    assert not changes_within(path, 0.1)

    def grow() -> None:
        time.sleep(0.05)
        with path.open("ab") as f:
            f.write(b"more")

    thread = threading.Thread(target=grow)
    thread.start()
    try:
        assert changes_within(path, 10.0)
    finally:
        thread.join()


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        is_locked(tmp_path / "none.h5")
