"""Shared test configuration: hypothesis profiles and a fresh ``.h5`` path per test.

Profiles: ``ci`` (small, the default when ``CI`` is set, keeps the suite under 10 minutes on two
cores) and ``dev`` (larger, the default otherwise). ``HYPOTHESIS_PROFILE`` overrides the choice.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.reader.make_h5py_files import write_h5py_file

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def tmp_h5(tmp_path: Path) -> Path:
    """A path to a ``.h5`` file that does not exist yet, in a directory of its own."""
    return tmp_path / "test.h5"


@pytest.fixture(scope="module", params=["latest", "default"])
def h5py_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file h5py wrote with every layout and chunk index (tests/reader/make_h5py_files.py), in
    the latest format and in libhdf5's default one; one per module and format."""
    path = tmp_path_factory.mktemp("h5py") / f"{request.param}.h5"
    write_h5py_file(path, "latest" if request.param == "latest" else None)
    return path
