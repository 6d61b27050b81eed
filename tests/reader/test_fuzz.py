"""Corrupt and truncated files: only H5SwmrError subclasses, never a hang or a huge allocation."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from h5swmr.errors import H5SwmrError
from h5swmr.reader import SwmrFileReader
from tests.reader.fuzz import h5swmr_original, heaps_original
from tests.reader.make_h5py_files import write_h5py_file

TIME_LIMIT = 5
READ_LIMIT = 1 << 22
KINDS = ("h5swmr", "latest", "default", "heaps")


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz")
    files = {}
    for kind in KINDS:
        path = folder / f"{kind}.h5"
        if kind == "h5swmr":
            h5swmr_original(path)
        elif kind == "heaps":
            heaps_original(path, links=1300, name_length=400)
        else:
            write_h5py_file(path, "latest" if kind == "latest" else None)
        files[kind] = path.read_bytes()
    return files


class _TimeLimitError(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _TimeLimitError


def exercise(path: Path) -> Iterator[str]:
    """Everything a user can ask of a file; yields what was done."""
    with SwmrFileReader.open(path, max_read_bytes=READ_LIMIT) as r:
        tree = r.tree()
        for name, kind in tree.items():
            if kind == "dataset":
                shape = r.shape(name)
                r.read(name)
                if len(shape) > 1 and shape[0]:
                    for i in (0, shape[0] // 2, -1, 0):  # the fast path, cold then warm
                        r.read_frame(name, i)
                yield name
            if kind in ("group", "dataset"):
                r.attrs(name)


def check_only_h5swmr_errors(path: Path) -> None:
    """Only H5SwmrError within TIME_LIMIT, and the file exactly as it was: a reader never
    writes, least of all into a corrupt file."""
    before = path.read_bytes()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT)
    try:
        for _ in exercise(path):
            pass
    except H5SwmrError:
        pass
    except _TimeLimitError:
        pytest.fail(f"no answer within {TIME_LIMIT} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert path.read_bytes() == before


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), max_size=8),
    cut=st.none() | st.floats(0, 1),
)
def test_mutated_files(
    originals: dict[str, bytes],
    tmp_path_factory: pytest.TempPathFactory,
    kind: str,
    flips: list[tuple[float, int]],
    cut: float | None,
) -> None:
    data = bytearray(originals[kind])
    for where, xor in flips:
        data[int(where * len(data))] ^= xor
    if cut is not None:
        del data[int(cut * len(data)) :]
    path = tmp_path_factory.mktemp("m") / "mutated.h5"
    path.write_bytes(bytes(data))
    check_only_h5swmr_errors(path)


@pytest.mark.parametrize("kind", KINDS)
def test_every_truncation_point_sample(
    originals: dict[str, bytes], tmp_path: Path, kind: str
) -> None:
    data = originals[kind]
    for size in range(0, len(data), max(1, len(data) // 200)):
        path = tmp_path / f"{size}.h5"
        path.write_bytes(data[:size])
        check_only_h5swmr_errors(path)
