"""``File`` and ``Group``: h5py's read side of groups, as read-only Mappings of names.

``File(source, "r")`` opens a path, an open binary file object or an fsspec file; it is the
root ``Group``. Names are resolved through hard, soft and external links as libhdf5 resolves
them (SwmrFileReader does the walking); ``get(name, getlink=True)`` gives the link itself as
h5py's ``HardLink``/``SoftLink``/``ExternalLink``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from h5swmr.access.source import FileSource
from h5swmr.closing import Closing
from h5swmr.errors import (
    DatasetNotFoundError,
    FormatError,
    InvalidArgumentError,
    NotReadableError,
    UnsupportedError,
)
from h5swmr.format.paths import split_lookup_path as split_path
from h5swmr.reader.attrs import AttributeManager
from h5swmr.reader.failures import reading
from h5swmr.reader.file import DEFAULT_READ_LIMIT, SwmrFileReader
from h5swmr.reader.h5dataset import Dataset
from h5swmr.reader.streams import BinaryReadable, StreamHandle

T = TypeVar("T")

DECODE_THREADS = 4
"""Most threads decoding filtered chunks for one File (fewer on a machine with fewer cores)."""


class HardLink:
    """A hard link (h5py's ``HardLink``): the object itself."""

    def __repr__(self) -> str:
        return "<HardLink>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HardLink)

    def __hash__(self) -> int:
        return hash(HardLink)


class SoftLink:
    """A soft link to ``path`` in the same file (h5py's ``SoftLink``)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f'<SoftLink to "{self.path}">'

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SoftLink) and other.path == self.path

    def __hash__(self) -> int:
        return hash((SoftLink, self.path))


class ExternalLink:
    """A link to ``path`` in the file ``filename`` (h5py's ``ExternalLink``)."""

    def __init__(self, filename: str, path: str) -> None:
        self.filename = filename
        self.path = path

    def __repr__(self) -> str:
        return f'<ExternalLink to "{self.path}" in file "{self.filename}">'

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExternalLink) and (other.filename, other.path) == (
            self.filename,
            self.path,
        )

    def __hash__(self) -> int:
        return hash((ExternalLink, self.filename, self.path))


def _join(base: str, name: str) -> str:
    parts = split_path(name) if name.startswith("/") else split_path(base) + split_path(name)
    return "/" + "/".join(parts)


class Group(Mapping[str, Any]):
    """A group of an open ``File``: ``g["a/b"]``, ``in``, iteration in name order, ``len``.

    ``g[name]`` is a ``Group`` or a ``Dataset``, typed ``Any`` so that h5py-style code
    (``f["data"][0]``, ``f["entry"]["data"]``) type-checks without an ``isinstance`` at each step.
    """

    def __init__(self, file: File | None, path: str) -> None:
        self._file_ref = file
        self._path = path

    @property
    def file(self) -> File:
        if self._file_ref is None:  # the File itself
            if not isinstance(self, File):  # pragma: no cover - only File passes None
                raise TypeError("a Group needs its File")
            return self
        return self._file_ref

    @property
    def name(self) -> str:
        return self._path

    @property
    def parent(self) -> Group:
        return Group(self.file, self._path.rsplit("/", 1)[0] or "/")

    @property
    def attrs(self) -> AttributeManager:
        return AttributeManager(self.file.reader, self._path)

    def _object(self, path: str) -> Group | Dataset:
        with reading(path):
            kind = self.file.reader.kind(path)
        if kind == "dataset":
            return Dataset(self.file, path)
        if kind == "group":
            return Group(self.file, path)
        raise UnsupportedError(f"{path!r}: neither a group nor a dataset (a named datatype?)")

    def __getitem__(self, name: str) -> Any:
        if not isinstance(name, str | bytes):
            raise DatasetNotFoundError(
                f"{self._path!r}: names are strings, not {type(name).__name__}", dataset=name
            )
        text = os.fsdecode(name)
        if text in ("", "."):
            return self._object(self._path)
        return self._object(_join(self._path, text))

    def get(
        self, name: str, default: object = None, getclass: bool = False, getlink: bool = False
    ) -> Any:
        """The object at ``name`` (or its class, with ``getclass``), or with ``getlink`` the
        link that names it; ``default`` where there is nothing."""
        if getlink:
            try:
                link = self._link(name)
            except KeyError:
                return default
            return type(link) if getclass else link
        try:
            found = self[name]
        except KeyError:
            return default
        return type(found) if getclass else found

    def _link(self, name: str) -> HardLink | SoftLink | ExternalLink:
        path = _join(self._path, name)
        parts = split_path(path)
        if not parts:
            return HardLink()
        parent = "/" + "/".join(parts[:-1])
        link = self.file.reader.links(parent).get(parts[-1])
        if link is None:
            raise DatasetNotFoundError(f"{path!r}: no such link", dataset=path)
        if link.kind == "soft":
            return SoftLink(link.target)
        if link.kind == "external":
            return ExternalLink(link.file_name, link.target)
        return HardLink()

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self[name]
        except (KeyError, InvalidArgumentError, UnsupportedError):
            return False
        return True

    def _names(self) -> list[str]:
        with reading(self._path):
            return sorted(self.file.reader.keys(self._path))

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __bool__(self) -> bool:
        return not self.file.closed

    def __eq__(self, other: object) -> bool:
        """The same object of the file, whatever the path to it (two hard links to one group
        are equal), as h5py compares objects."""
        return (
            isinstance(other, Group)
            and other.file is self.file
            and other.file.object_key(other.name) == self.file.object_key(self._path)
        )

    def __hash__(self) -> int:
        return hash(self.file.object_key(self._path))

    def __repr__(self) -> str:
        if self.file.closed:
            return "<Closed HDF5 group>"
        return f'<HDF5 group "{self._path}" ({len(self)} members)>'

    def visit(self, func: Callable[[str], T | None]) -> T | None:
        """Call ``func(name)`` for each object below this group, each object once (by the
        first name met, depth first in name order), links other than hard ones not followed;
        stop at the first result that is not None."""
        return self.visititems(lambda name, _obj: func(name))

    def visititems(self, func: Callable[[str, Group | Dataset], T | None]) -> T | None:
        reader = self.file.reader
        seen = {reader._locate(self._path)[1]}
        return self._visit(func, self._path, "", seen)

    def _visit(
        self,
        func: Callable[[str, Group | Dataset], T | None],
        path: str,
        prefix: str,
        seen: set[int],
    ) -> T | None:
        reader = self.file.reader
        links = reader.links(path)
        for name in sorted(links):
            link = links[name]
            if link.kind != "hard" or link.address in seen:
                continue
            seen.add(link.address)
            child = _join(path, name)
            relative = f"{prefix}{name}"
            try:
                obj = self._object(child)
            except UnsupportedError:
                continue
            result = func(relative, obj)
            if result is not None:
                return result
            if isinstance(obj, Group):
                result = self._visit(func, child, relative + "/", seen)
                if result is not None:
                    return result
        return None


class File(Group, Closing):
    """An HDF5 file opened for reading, h5py-style: the root group, a context manager.

    ``source`` is a path, an open binary file object (left open at ``close()``) or an fsspec
    file (read by range requests). ``swmr`` is accepted for h5py's spelling: the reader always
    follows a SWMR writer. ``reader`` is the path-based ``SwmrFileReader`` underneath.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | BinaryReadable | SwmrFileReader,
        mode: str = "r",
        *,
        swmr: bool = True,
        max_read_bytes: int = DEFAULT_READ_LIMIT,
    ) -> None:
        super().__init__(None, "/")
        if mode != "r":
            raise InvalidArgumentError(
                f"h5swmr.File opens files for reading only (mode 'r'), not {mode!r}: "
                "write with h5swmr.SwmrFileWriter"
            )
        self.swmr_mode = True  # h5py's attribute; this reader always follows a SWMR writer
        self._pool: ThreadPoolExecutor | None = None
        if isinstance(source, SwmrFileReader):
            self._reader = source
            return
        try:
            if isinstance(source, str | os.PathLike):
                self._reader = SwmrFileReader.open(source, max_read_bytes=max_read_bytes)
            elif callable(getattr(source, "read", None)) and callable(
                getattr(source, "seek", None)
            ):
                src = FileSource(StreamHandle.of(source))
                self._reader = SwmrFileReader(src, max_read_bytes=max_read_bytes)
            else:
                raise InvalidArgumentError(
                    f"h5swmr.File: a path or a binary file object, not {type(source).__name__}"
                )
        except FormatError as exc:
            if isinstance(exc, OSError):  # NotHdf5FileError, NotReadableError: h5py's OSError
                raise
            raise NotReadableError(
                f"Unable to open file {_describe(source)} ({exc})",
                structure=exc.structure,
                address=exc.address,
            ) from exc

    @property
    def reader(self) -> SwmrFileReader:
        return self._reader

    @property
    def decode_pool(self) -> ThreadPoolExecutor:
        """Threads that decode the filtered chunks of one read side by side (zlib, numpy and
        the codecs release the GIL); made at the first such read, shut down at ``close()``."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=min(DECODE_THREADS, os.cpu_count() or 1),
                thread_name_prefix="h5swmr-decode",
            )
        return self._pool

    def object_key(self, path: str) -> tuple[str, int]:
        """(file, header address) of the object at ``path``: what makes two paths one object."""
        with reading(path):
            owner, address = self._reader._locate(path)
        return owner.path, address

    @property
    def filename(self) -> str:
        return self._reader.path

    @property
    def mode(self) -> str:
        return "r"

    @property
    def closed(self) -> bool:
        return self._reader.closed

    @property
    def writer_active(self) -> bool:
        """Whether the superblock says a writer has the file open (h5swmr's own)."""
        return self._reader.writer_active

    def refresh(self) -> None:
        """A new snapshot of the whole file: superblock, root, every header and index."""
        with reading(self.filename):
            self._reader.refresh()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._reader.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<Closed HDF5 file>"
        return f'<HDF5 file "{Path(self.filename).name}" (mode r)>'


def _describe(source: object) -> str:
    if isinstance(source, str | os.PathLike):
        return repr(os.fspath(source))
    return f"<{type(source).__name__}>"
