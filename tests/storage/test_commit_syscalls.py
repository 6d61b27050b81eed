"""Durability checked against the kernel: a real writer process runs under strace, and its
pwrite64 and fdatasync calls on the file show, for each durability setting, which syncs happen
and that they separate the commit phases in the documented order (docs/crash-safety.md):
chunk data, extensible-array data and super blocks, index block, array header, object headers,
superblock. Removing any sync() from storage/commit.py or the writer fails these tests."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.conftest import child_env


def _strace_works() -> bool:
    """strace is installed and may trace here (a container without ptrace rights may not)."""
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-o", "/dev/null", "true"], capture_output=True, check=False)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _strace_works(), reason="needs strace, allowed to trace (.ci/run installs it)"
)

WRITER = """
import os
import sys
import numpy as np
from h5swmr import SwmrFileWriter
path, durability = sys.argv[1], sys.argv[2]
def mark():  # an openat the trace shows between two calls of the writer
    try:
        os.open(path + ".mark", os.O_RDONLY)
    except FileNotFoundError:
        pass
with SwmrFileWriter.create(path, durability=durability, workers=0) as w:
    mark()
    ds = w.create_streaming_dataset("frames", "u2", (128, 128))
    w.start_swmr()
    mark()
    for flush in range(3):
        for i in range(3):
            w.append_frame(ds, np.full((128, 128), 1 + i, "u2"))
        mark()
        w.flush()
        mark()
    print("closing", flush=True)
"""
FLUSHES = 3
FRAME_BYTES = 128 * 128 * 2
RANKS = {b"EADB": 1, b"EASB": 1, b"EAIB": 2, b"EAHD": 3, b"OHDR": 4, b"OCHK": 4}
"""The phase of a metadata write by its signature; chunk data is 0, the superblock 5."""
SUPERBLOCK = 5
_CALL = re.compile(
    r"^\d+\s+(?P<call>openat|pwrite64|fdatasync|fsync)\((?P<args>.*)\)\s+= (?P<result>-?\d+)"
)
_HEX = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')


@dataclass(frozen=True)
class Event:
    call: str  # "write", "sync" or "mark" (between two calls of the writer)
    offset: int = 0
    size: int = 0
    head: bytes = b""

    @property
    def rank(self) -> int:
        if self.offset == 0 and self.head.startswith(b"\x89HDF"):
            return SUPERBLOCK
        return RANKS.get(self.head[:4], 0)


def _decode(text: str) -> bytes:
    return bytes.fromhex(text.replace("\\x", ""))


def trace_writer(path: Path, durability: str, log: Path) -> list[Event]:
    """The writes and syncs a real writer process made on ``path``, in order."""
    result = subprocess.run(
        [
            "strace",
            "-f",
            "-qq",
            "-xx",
            "-s",
            "256",
            "-e",
            "trace=openat,pwrite64,fsync,fdatasync",
            "-o",
            str(log),
            sys.executable,
            "-c",
            WRITER,
            str(path),
            durability,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    fd = None
    events: list[Event] = []
    for line in log.read_text().splitlines():
        match = _CALL.match(line)
        if match is None:
            assert "unfinished" not in line, line  # one thread writes: no interleaved calls
            continue
        call, args = match["call"], match["args"]
        if call == "openat":
            strings = _HEX.findall(args)
            if strings and _decode(strings[0]) == str(path).encode():
                fd = int(match["result"])
            elif strings and _decode(strings[0]) == f"{path}.mark".encode():
                events.append(Event("mark"))
            continue
        if fd is None or args.split(",")[0] != str(fd):
            continue
        if call == "pwrite64":
            head = _decode(_HEX.findall(args)[0])
            size, offset = (int(x) for x in args.rsplit(",", 2)[1:])
            events.append(Event("write", offset, size, head[:16]))
        else:
            events.append(Event("sync"))
    assert fd is not None and events
    return events


def _between_marks(events: list[Event]) -> list[list[Event]]:
    """The events of each stretch between two marks: create (its commit), start_swmr (its
    commit), then per flush the appends (chunk data only) and the flush (its commit), close."""
    stretches: list[list[Event]] = [[]]
    for event in events:
        if event.call == "mark":
            stretches.append([])
        else:
            stretches[-1].append(event)
    assert len(stretches) == 2 + 2 * FLUSHES + 1
    return stretches


def _commits(events: list[Event]) -> list[list[Event]]:
    """The events of each commit: create's, start_swmr's and each flush's (close apart)."""
    stretches = _between_marks(events)
    appends = stretches[2:-1:2]
    assert all(e.call == "write" and e.rank == 0 for s in appends for e in s)
    return [stretches[0], stretches[1], *stretches[3:-1:2]]


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Event]]:
    tmp_path = tmp_path_factory.mktemp("strace")
    return {
        durability: trace_writer(tmp_path / f"{durability}.h5", durability, tmp_path / "log")
        for durability in ("none", "flush", "close")
    }


def test_none_never_syncs(traced: dict[str, list[Event]]) -> None:
    events = traced["none"]
    assert [e for e in events if e.call == "sync"] == []
    assert sum(e.size == FRAME_BYTES for e in events) == 3 * FLUSHES


def test_flush_syncs_between_every_phase_of_every_commit(traced: dict[str, list[Event]]) -> None:
    events = traced["flush"]
    commits = _commits(events)
    with_frames = commits[2:]  # each flush's commit: its chunk bytes came just before it
    assert len(with_frames) == FLUSHES
    for commit in commits:
        writes = [e for e in commit if e.call == "write"]
        ranks = [e.rank for e in writes]
        assert ranks == sorted(ranks), f"phases out of order: {ranks}"
        for before, after in itertools.pairwise(commit):
            if before.call == "write" and after.call == "write":
                # writes of one phase may follow each other; a new phase waits for a sync
                assert before.rank == after.rank, f"no sync between phases {before} {after}"
        # the superblock, when a commit changes it (flags, root, or appends past the end of
        # file it stores): last, after a sync, and synced itself
        superblocks = [i for i, e in enumerate(commit) if e.rank == SUPERBLOCK]
        for i in superblocks:
            assert commit[i - 1].call == "sync", "the superblock is written before a sync"
            assert i + 1 < len(commit) and commit[i + 1].call == "sync", "no sync after it"
    assert all(any(e.rank == SUPERBLOCK for e in c) for c in commits[:2])  # flags 0x01, 0x05
    for commit in with_frames:  # chunk bytes synced, then EA blocks, header, object header
        assert commit[0].call == "sync", "the chunk bytes are not synced first"
        ranks = sorted({e.rank for e in commit if e.call == "write"})
        assert ranks[0] >= 1 and ranks[-1] >= 4
        assert len(ranks) >= 2
    # the EA header when a frame starts a data block or page (its max_index_set runs ahead
    # to that block's or page's end), as the first frame does
    assert any(e.rank == 3 for e in with_frames[0])


def test_close_syncs_only_around_the_final_superblock(traced: dict[str, list[Event]]) -> None:
    events = traced["close"]
    syncs = [i for i, e in enumerate(events) if e.call == "sync"]
    assert len(syncs) == 2
    final = max(i for i, e in enumerate(events) if e.rank == SUPERBLOCK)
    assert events[final].head[11] == 0  # the clean superblock: flags cleared
    # every frame and every earlier commit before the first sync, the clean superblock between
    # the two, nothing after the second
    assert syncs[0] < final < syncs[1] == len(events) - 1
    assert all(e.call == "sync" or e.rank == SUPERBLOCK for e in events[syncs[0] + 1 :])
    assert sum(e.size == FRAME_BYTES for e in events[: syncs[0]]) == 3 * FLUSHES
