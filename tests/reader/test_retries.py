"""A persistently bad checksum gives ChecksumError after a few short retries, never a hang."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from h5swmr.access import source
from h5swmr.errors import ChecksumError
from h5swmr.reader import SwmrFileReader
from h5swmr.writer.swmr_file_writer import SwmrFileWriter


def test_bad_index_checksum_fails_fast(tmp_h5: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SwmrFileWriter.create(tmp_h5) as w:
        ds = w.create_streaming_dataset("frames", np.uint8, (4,))
        w.start_swmr()
        for i in range(50):
            w.append_frame(ds, np.full(4, i, np.uint8))
    data = bytearray(tmp_h5.read_bytes())
    where = data.find(b"EAHD")
    data[where + 50] ^= 0xFF  # max_idx_set: the header's checksum no longer matches
    tmp_h5.write_bytes(bytes(data))
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)  # counted, not slept (source's retries)
    with (
        SwmrFileReader.open(tmp_h5) as r,
        pytest.raises(ChecksumError, match="extensible array header"),
    ):
        r.shape("frames")
    # short backoffs, then the error: the block's own retries inside the dataset's retries,
    # READ_ATTEMPTS each, a fraction of a second of backoff in all however slow the machine
    assert 0 < len(sleeps) <= source.READ_ATTEMPTS**2
    assert max(sleeps) <= source.FIRST_SLEEP * 2 ** (source.READ_ATTEMPTS - 2)
    assert sum(sleeps) < 0.5
