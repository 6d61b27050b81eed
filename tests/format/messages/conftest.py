"""Session fixtures: oracle files written once by h5py."""

from __future__ import annotations

import pytest

from tests.format.messages.oracle import Oracle, read, write


@pytest.fixture(scope="session")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Oracle:
    """h5py libver="latest": what HDF5 2.0 writes by default."""
    path = tmp_path_factory.mktemp("oracle") / "latest.h5"
    write(path, "latest")
    return read(path)


@pytest.fixture(scope="session")
def oracle_v114(tmp_path_factory: pytest.TempPathFactory) -> Oracle:
    """h5py libver=("v110", "v110"): what HDF5 1.10 can read (layout v4, compound/enum v3)."""
    path = tmp_path_factory.mktemp("oracle") / "v110.h5"
    write(path, ("v110", "v110"))
    return read(path)
