"""Deflate backends: isal and libdeflate write zlib streams libhdf5 decodes; "auto" picks one.

Their bytes differ from stdlib zlib's, so these tests compare decoded data, never bytes.
"""

from __future__ import annotations

import importlib
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest

from h5swmr import FilterPipeline, SwmrFileWriter
from h5swmr.errors import FilterError, FilterUnavailableError
from h5swmr.filters import deflate
from h5swmr.filters.deflate import BACKENDS, EXACT_BACKEND, DeflateFilter, resolve_backend

from .conformance import FilterTests


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


INSTALLED = {
    "isal": _importable("isal.isal_zlib"),
    "libdeflate": _importable("deflate"),
    "zlib": True,
}
FAST = ["isal", "libdeflate"]
"""Every backend "auto" can pick besides stdlib zlib: the test extra installs both (isal and
deflate), so none of these tests skips: a backend whose bytes libhdf5 never read is untested."""


@pytest.fixture(autouse=True)
def _fresh_resolution(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(deflate.BACKEND_ENVIRONMENT_VARIABLE, raising=False)
    deflate.forget_backend_choice()
    yield
    monkeypatch.undo()
    deflate.forget_backend_choice()


def test_every_backend_is_installed_for_the_tests() -> None:
    missing = [b for b, ok in INSTALLED.items() if not ok]
    assert not missing, f'pip install -e ".[test]" installs {missing} too'


class TestFastDeflate(FilterTests):
    """The shared battery (round trips, libhdf5 decoding what we write) on every fast backend."""

    byte_identical = False
    instances = tuple(DeflateFilter(level, backend=b) for b in FAST for level in (1, 4, 9))


def test_auto_takes_the_first_installed() -> None:
    expected = next(b for b in BACKENDS if INSTALLED[b])
    assert resolve_backend("auto") == expected
    assert DeflateFilter().backend_in_use == expected
    assert DeflateFilter(0).backend_in_use == "zlib"


def test_environment_variable_overrides_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(deflate.BACKEND_ENVIRONMENT_VARIABLE, "zlib")
    chunk = np.arange(5000, dtype="<u2").tobytes()
    assert DeflateFilter(4).backend_in_use == "zlib"
    assert DeflateFilter(4).encode(chunk, 2) == zlib.compress(chunk, 4)


def test_backend_is_not_part_of_identity() -> None:
    assert DeflateFilter(4, backend="zlib") == DeflateFilter(4)
    assert hash(DeflateFilter(4, backend="zlib")) == hash(DeflateFilter(4))
    assert repr(DeflateFilter(4, backend="zlib")) == "DeflateFilter(level=4)"


@pytest.mark.parametrize("backend", ["zstd", "", "ZLIB ", 3])
def test_unknown_backend_is_refused(backend: object) -> None:
    with pytest.raises(FilterError, match="backend"):
        DeflateFilter(4, backend=backend)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", FAST)
def test_missing_backend_fails_when_the_filter_is_made(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = deflate._MODULES[backend]
    monkeypatch.setitem(sys.modules, module, None)  # what import sees when it is not installed
    monkeypatch.setitem(sys.modules, module.partition(".")[0], None)
    deflate.forget_backend_choice()
    with pytest.raises(FilterUnavailableError, match=r"h5swmr\[fast\]"):
        DeflateFilter(4, backend=backend)


@pytest.mark.parametrize("backend", FAST)
@pytest.mark.parametrize("level", range(10))
def test_every_level_decodes(backend: str, level: int) -> None:
    rng = np.random.default_rng(level)
    chunk = rng.poisson(2.0, 40_000).astype("<u2").tobytes()
    encoded = DeflateFilter(level, backend=backend).encode(memoryview(chunk), 2)
    assert zlib.decompress(encoded) == chunk
    assert DeflateFilter(level).decode(encoded, 2) == chunk


@pytest.mark.parametrize("backend", [*BACKENDS, EXACT_BACKEND])
@pytest.mark.parametrize("shuffle", [False, True])
def test_h5py_reads_frames_each_backend_wrote(
    tmp_path: Path, shuffle: bool, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer's own path (``"auto"``, steered by the environment variable) with each
    backend, read back by libhdf5."""
    monkeypatch.setenv(deflate.BACKEND_ENVIRONMENT_VARIABLE, backend)
    deflate.forget_backend_choice()
    path = tmp_path / "fast.h5"
    rng = np.random.default_rng(7)
    frames = rng.poisson(2.0, (12, 64, 48)).astype(np.uint16)
    pipeline = FilterPipeline.shuffle_deflate(4) if shuffle else FilterPipeline.deflate(4)
    assert DeflateFilter(4).backend_in_use == backend
    with SwmrFileWriter.create(path) as writer:
        ds = writer.create_streaming_dataset_compressed("d", "u2", (64, 48), pipeline)
        writer.start_swmr()
        for i, frame in enumerate(frames):
            writer.append_frame(ds, frame)
            if i % 5 == 4:
                writer.flush()
    with h5py.File(path, "r") as f:
        assert f["d"].compression == "gzip"
        np.testing.assert_array_equal(f["d"][...], frames)
