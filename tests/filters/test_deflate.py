"""DeflateFilter: the battery, level validation and corrupt streams."""

from __future__ import annotations

import re
import zlib
from typing import Any

import pytest

from h5swmr.errors import FilterError
from h5swmr.filters.deflate import DeflateFilter
from h5swmr.format.constants import FilterId

from .conformance import FilterTests


class TestDeflateFilter(FilterTests):
    """Stdlib zlib: byte for byte what libhdf5 writes."""

    instances = (
        DeflateFilter(backend="zlib"),
        DeflateFilter(0),
        DeflateFilter(1, backend="zlib"),
        DeflateFilter(9, backend="zlib"),
    )


def test_defaults_and_cd_values() -> None:
    assert DeflateFilter() == DeflateFilter(4)
    assert DeflateFilter.filter_id == int(FilterId.DEFLATE) == 1
    assert DeflateFilter.optional
    assert DeflateFilter(7).cd_values(8) == (7,)
    assert DeflateFilter.from_cd_values((9,)) == DeflateFilter(9)


def test_stream_is_zlib_compress2_output() -> None:
    chunk = b"abc" * 1000
    assert DeflateFilter(6, backend="zlib").encode(chunk, 1) == zlib.compress(chunk, 6)
    assert DeflateFilter(6).encode(chunk, 1)[:1] == b"\x78"


@pytest.mark.parametrize("level", [-1, 10, 255, True, 4.0, "4", None])
def test_invalid_level_is_named(level: Any) -> None:
    with pytest.raises(FilterError, match=re.escape(repr(level))):
        DeflateFilter(level)


@pytest.mark.parametrize("cd_values", [(), (4, 1), (10,)])
def test_invalid_cd_values(cd_values: tuple[int, ...]) -> None:
    with pytest.raises(FilterError):
        DeflateFilter.from_cd_values(cd_values)


@pytest.mark.parametrize("chunk", [b"", b"not zlib", zlib.compress(b"x" * 100)[:-3]])
def test_corrupt_stream_raises_filter_error(chunk: bytes) -> None:
    with pytest.raises(FilterError, match="deflate"):
        DeflateFilter().decode(chunk, 1)
