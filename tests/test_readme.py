"""The README's example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401 - the example writes bitshuffle-LZ4
import numpy as np
import pytest

README = Path(__file__).parents[1] / "README.md"


def test_writer_and_reader_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0]
    monkeypatch.chdir(tmp_path)
    exec(compile(example, str(README), "exec"), {})
    with h5py.File(tmp_path / "stream.h5", "r") as f:
        data = f["/entry/data/data"]
        assert data.shape == (100, 512, 512)
        assert (data[:, 0, 0] == np.arange(100)).all()
