"""The one path splitter: names to create must be valid link names; lookups may say '.'."""

from __future__ import annotations

import pytest

from h5swmr.errors import InvalidArgumentError
from h5swmr.format.paths import MAX_NAME_BYTES, check_link_name, split_lookup_path, split_path


@pytest.mark.parametrize(
    ("path", "parts"),
    [("/", []), ("", []), ("/entry/data", ["entry", "data"]), ("entry//data/", ["entry", "data"])],
)
def test_split_path(path: str, parts: list[str]) -> None:
    assert split_path(path) == parts
    assert split_lookup_path(path) == parts


@pytest.mark.parametrize("path", ["/a/./b", "/a/../b", "/a\x00b", "/\udc80", 5])
def test_split_path_refuses_what_cannot_be_a_link_name(path: object) -> None:
    with pytest.raises(InvalidArgumentError, match="where"):
        split_path(path, what="where")  # type: ignore[arg-type]


def test_a_lookup_skips_dot_and_refuses_dot_dot() -> None:
    assert split_lookup_path("/./entry/./data") == ["entry", "data"]
    with pytest.raises(InvalidArgumentError, match=r"'\.\.'"):
        split_lookup_path("/entry/../data")


def test_link_name_length_counts_utf8_bytes() -> None:
    check_link_name("é" * (MAX_NAME_BYTES // 2))
    with pytest.raises(InvalidArgumentError, match="longer than"):
        check_link_name("é" * (MAX_NAME_BYTES // 2 + 1))
