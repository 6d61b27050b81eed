"""HDF5 path names: the one place a path is split into link names (spec §IV.A.2.g, link names).

Two rules, one module: a path that names something to *create* must consist of valid link names
(no ``.`` or ``..``, no NUL, valid UTF-8, at most 65535 bytes); a path to *look up* may say
``.`` for "this group", as libhdf5's traversal allows, but not ``..`` (HDF5 has no parent link).
"""

from __future__ import annotations

from h5swmr.errors import InvalidArgumentError

MAX_NAME_BYTES = 65535


def split_path(path: str, *, what: str = "path") -> list[str]:
    """The link names of an absolute or root-relative path: ``"/entry/data"`` -> entry, data."""
    if not isinstance(path, str):
        raise InvalidArgumentError(f"{what} must be a str, not {type(path).__name__}")
    parts = [part for part in path.split("/") if part]
    for part in parts:
        check_link_name(part, what=f"{what} {path!r}")
    return parts


def check_link_name(name: str, *, what: str = "link name") -> None:
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(f"{what}: a link name must be a non-empty str")
    if "/" in name or name in (".", ".."):
        raise InvalidArgumentError(f"{what}: {name!r} is not a valid link name")
    if "\x00" in name:
        raise InvalidArgumentError(f"{what}: {name!r} contains a NUL character")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise InvalidArgumentError(f"{what}: name longer than {MAX_NAME_BYTES} bytes")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidArgumentError(f"{what}: {name!r} is not valid UTF-8") from exc


def split_lookup_path(path: str) -> list[str]:
    """The link names to follow for ``path``: empty and ``.`` parts skipped, ``..`` refused."""
    parts = [p for p in path.split("/") if p and p != "."]
    if any(p == ".." for p in parts):
        raise InvalidArgumentError(f"path {path!r}: '..' is not supported")
    return parts
