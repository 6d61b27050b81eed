"""``Closing``: every writer and reader closes at the end of a ``with`` block, normal or not, and
lets the exception through. Judged by libhdf5 (h5py opens what a broken-off block left behind)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import File, SwmrFileReader, SwmrFileWriter
from h5swmr.closing import Closing
from h5swmr.scaleout.distributed import DistributedWriter
from h5swmr.scaleout.rollover import RolloverWriter


class _BoomError(Exception):
    pass


class _Counter(Closing):
    def __init__(self) -> None:
        self.closes = 0

    def close(self) -> None:
        self.closes += 1


def test_close_is_abstract() -> None:
    class NoClose(Closing):
        pass

    with pytest.raises(TypeError, match="close"):
        NoClose()  # type: ignore[abstract]


def test_with_block_closes_and_returns_the_object() -> None:
    counter = _Counter()
    with counter as entered:
        assert entered is counter
        assert counter.closes == 0
    assert counter.closes == 1


def test_an_exception_closes_and_propagates() -> None:
    counter = _Counter()
    with pytest.raises(_BoomError), counter:
        raise _BoomError
    assert counter.closes == 1


@pytest.mark.parametrize(
    "cls", [SwmrFileWriter, SwmrFileReader, File, RolloverWriter, DistributedWriter]
)
def test_every_writer_and_reader_is_closing(cls: type) -> None:
    assert issubclass(cls, Closing)


def test_writer_closed_by_an_error_leaves_a_clean_file(tmp_h5: Path) -> None:
    frame = np.arange(12, dtype="<u2").reshape(3, 4)
    with pytest.raises(_BoomError), SwmrFileWriter.create(tmp_h5) as writer:
        ds = writer.create_streaming_dataset("data", "uint16", (3, 4))
        writer.start_swmr()
        writer.append_frame(ds, frame)
        raise _BoomError
    assert writer.closed
    with h5py.File(tmp_h5, "r") as f:  # no SWMR flags left: libhdf5 opens it without swmr=True
        np.testing.assert_array_equal(f["data"][:], frame[None])


def test_readers_closed_by_an_error(tmp_h5: Path) -> None:
    with h5py.File(tmp_h5, "w") as f:
        f["x"] = np.arange(5)
    with pytest.raises(_BoomError), File(tmp_h5) as file, SwmrFileReader.open(tmp_h5) as reader:
        assert list(file) == ["x"]
        raise _BoomError
    assert file.closed
    assert reader.closed
