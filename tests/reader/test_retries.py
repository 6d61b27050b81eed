"""A persistently bad checksum gives ChecksumError after a few short retries, never a hang."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from h5swmr.errors import ChecksumError
from h5swmr.reader import SwmrFileReader
from h5swmr.writer.swmr_file_writer import SwmrFileWriter


def test_bad_index_checksum_fails_fast(tmp_h5: Path) -> None:
    with SwmrFileWriter.create(tmp_h5) as w:
        ds = w.create_streaming_dataset("frames", np.uint8, (4,))
        w.start_swmr()
        for i in range(50):
            w.append_frame(ds, np.full(4, i, np.uint8))
    data = bytearray(tmp_h5.read_bytes())
    where = data.find(b"EAHD")
    data[where + 50] ^= 0xFF  # max_idx_set: the header's checksum no longer matches
    tmp_h5.write_bytes(bytes(data))
    with SwmrFileReader.open(tmp_h5) as r:
        began = time.monotonic()
        with pytest.raises(ChecksumError, match="extensible array header"):
            r.shape("frames")
        assert time.monotonic() - began < 0.5
