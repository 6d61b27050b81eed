"""Files that a reader reaches through external links and virtual dataset sources: found where
libhdf5 looks for them, opened once per snapshot, closed together.

libhdf5 searches (H5Fint.c H5F_prefix_open_file): an absolute name as it is, then, under its
last component when that failed, a relative name under each directory of the prefix variable
(``HDF5_EXT_PREFIX`` for external links, ``HDF5_VDS_PREFIX`` for virtual dataset sources,
separated by ``:``), for a virtual dataset also under the whole variable with a leading
``${ORIGIN}`` standing for the holding file's directory (the dataset's prefix, H5Dint.c
H5D__build_file_prefix), in the directory of the file holding the link (as that file was
opened), in the working directory, and in the directory of the holding file with symbolic links
resolved. A candidate that does not exist, or is not an HDF5 file, is passed over, as libhdf5
passes over every file it cannot open. Prefix properties of access property lists have no
counterpart here.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from h5swmr.errors import FormatError

_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EISDIR})
EXT_PREFIX = "HDF5_EXT_PREFIX"
VDS_PREFIX = "HDF5_VDS_PREFIX"
ORIGIN = "${ORIGIN}"


class _Closable(Protocol):
    def close(self) -> None: ...


R = TypeVar("R", bound=_Closable)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a file was opened from, fixed when it is opened (a later chdir changes nothing)."""

    directory: str
    resolved_directory: str

    @classmethod
    def of(cls, path: str) -> Origin:
        return cls(str(Path(path).absolute().parent), str(Path(path).resolve().parent))

    def candidates(self, file_name: str, prefix_variable: str = EXT_PREFIX) -> list[str]:
        """The paths to try for ``file_name``, in libhdf5's order, each once."""
        name = file_name
        found = []
        if Path(file_name).is_absolute():
            found.append(file_name)
            name = Path(file_name).name
        prefixes = os.environ.get(prefix_variable, "")
        found += [str(Path(p) / name) for p in prefixes.split(":") if p]
        if prefix_variable == VDS_PREFIX and prefixes not in ("", "."):
            if prefixes.startswith(ORIGIN):
                prefixes = self.directory + prefixes[len(ORIGIN) :]
            found.append(str(Path(prefixes) / name))
        found += [str(Path(self.directory) / name), name, str(Path(self.resolved_directory) / name)]
        return list(dict.fromkeys(found))


def is_missing(exc: BaseException) -> bool:
    """Whether opening failed because nothing usable is there (what libhdf5 passes over), as
    opposed to a failure worth reporting, such as running out of file descriptors."""
    if isinstance(exc, FormatError):
        return True
    return isinstance(exc, OSError) and exc.errno in _MISSING_ERRNOS


class LinkedFiles(Generic[R]):
    """The files one reader snapshot has opened, by resolved path: each opened once, so links
    between them (even in a cycle) reuse the same reader, and all closed by ``close``.

    ``busy`` holds the (file, address) of every virtual dataset being sized or read right now, so
    a virtual dataset that is (through others) its own source is caught instead of recursing.
    """

    def __init__(self, open_file: Callable[[str], R]) -> None:
        self._open_file = open_file
        self._files: dict[str, R] = {}
        self._pinned: set[str] = set()
        self.busy: set[tuple[str, int]] = set()

    def pin(self, path: str, reader: R) -> None:
        """Register a reader opened elsewhere (the one that owns this set), never closed here."""
        key = os.path.realpath(path)
        self._files[key] = reader
        self._pinned.add(key)

    def find(self, file_name: str, origin: Origin, prefix_variable: str = EXT_PREFIX) -> R | None:
        """The reader of the first candidate for ``file_name`` that opens, or None."""
        for candidate in origin.candidates(file_name, prefix_variable):
            key = os.path.realpath(candidate)
            reader = self._files.get(key)
            if reader is not None:
                return reader
            try:
                reader = self._open_file(candidate)
            except (OSError, FormatError) as exc:
                if is_missing(exc):
                    continue
                raise
            self._files[key] = reader
            return reader
        return None

    def close(self) -> None:
        """Close every file opened here (not the pinned ones) and forget them."""
        opened = [r for key, r in self._files.items() if key not in self._pinned]
        self._files = {key: r for key, r in self._files.items() if key in self._pinned}
        self.busy.clear()
        for reader in opened:
            reader.close()
