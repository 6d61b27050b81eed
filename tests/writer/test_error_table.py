"""docs/errors.md lists every bad call with the error it raises; after each, the file is valid."""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest

from h5swmr import H5SwmrError
from tests.writer.error_cases import CASES, FRAME, Case, try_case

DOC = Path(__file__).parents[2] / "docs" / "errors.md"


@pytest.mark.parametrize("case", CASES, ids=[c.what for c in CASES])
def test_documented_error_and_file_intact(tmp_path: Path, case: Case) -> None:
    raised = try_case(case, tmp_path)
    assert isinstance(raised, H5SwmrError), repr(raised)
    row = next(line for line in DOC.read_text().splitlines() if line.startswith(f"| {case.what} |"))
    assert f"`{type(raised).__name__}`" in row
    with h5py.File(tmp_path / "f.h5", "r") as f:
        assert (f["/entry/data"][()] == [FRAME]).all()
