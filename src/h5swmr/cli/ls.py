"""``h5swmr ls FILE``: every group, dataset, link and attribute of a file, live or closed.

One line per object, by full path, so ``grep`` finds one. An object reached by a second hard link
is listed once, the other paths as ``hard link -> first path``. The file is read with
``h5swmr.File`` (h5py's read side without libhdf5), so a writer streaming into the file is read
live and never disturbed.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from h5swmr.cli.command import Command, CommandError

if TYPE_CHECKING:
    from h5swmr import Dataset, File, Group

PATH_COLUMN = 32
VALUE_WIDTH = 72
H5D_COMPACT = 0
"""``get_layout()`` of compact data (h5py's ``h5d.COMPACT``)."""
_FILTER_REPR = re.compile(r"^(\w+?)Filter\((.*)\)$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One path of the file: an object (``group``, ``dataset``, ``other``) or a link to one."""

    path: str
    kind: str
    """"group", "dataset", "other", "hard link", "soft link" or "external link"."""
    target: str = ""
    """For links: the path (or ``file:path``) the link points to."""

    @property
    def is_object(self) -> bool:
        return not self.kind.endswith("link")


def walk(f: File) -> list[Entry]:
    """Every path from the root, depth first in name order; each object once."""
    entries = [Entry("/", "group")]
    entries.extend(_walk_group(f, f, {f: "/"}))
    return entries


def _walk_group(f: File, group: Group, seen: dict[object, str]) -> Iterator[Entry]:
    from h5swmr import ExternalLink, Group, SoftLink, UnsupportedError

    for name in group:
        path = f"{group.name.rstrip('/')}/{name}"
        link = group.get(name, getlink=True)
        if isinstance(link, SoftLink):
            yield Entry(path, "soft link", link.path)
            continue
        if isinstance(link, ExternalLink):
            yield Entry(path, "external link", f"{link.filename}:{link.path}")
            continue
        try:
            node: Group | Dataset | None = f[path]
        except UnsupportedError:  # a named datatype or another kind of object
            node = None
        if node is not None and node in seen:
            yield Entry(path, "hard link", seen[node])
            continue
        if node is None:
            yield Entry(path, "other")
            continue
        seen[node] = path
        yield Entry(path, "group" if isinstance(node, Group) else "dataset")
        if isinstance(node, Group):
            yield from _walk_group(f, node, seen)


def shape_text(shape: tuple[int | None, ...]) -> str:
    """h5py's notation: ``(5, 16, 8)``, ``(None, 16, 8)``, ``(7,)``, ``()``."""
    return repr(tuple(shape))


def filters_text(pipeline: object) -> str:
    """A pipeline's filters by name: ``shuffle, deflate(level=4)``."""
    names = []
    for item in getattr(pipeline, "filters", ()):
        match = _FILTER_REPR.match(repr(item))
        if match is None:
            names.append(repr(item))
        else:
            name, params = match.groups()
            names.append(name.lower() + (f"({params})" if params else ""))
    return ", ".join(names) or "none"


def dataset_text(dataset: Dataset) -> str:
    """``(5, 16, 8) uint16, maxshape (None, 16, 8), chunks (1, 16, 8)[, filters ..][, ratio ..]``.

    Chunked datasets also show their filters and the compression ratio (logical bytes / stored
    bytes, as h5py's ``Dataset.id.get_storage_size`` counts them).
    """
    shape, dtype = dataset.shape, dataset.dtype
    is_text = dtype.metadata is not None and dtype.metadata.get("vlen") is str
    parts = [f"{shape_text(shape)} {'str (variable-length)' if is_text else dtype}"]
    maxshape = dataset.maxshape
    if maxshape != shape:
        parts.append(f"maxshape {shape_text(maxshape)}")
    if dataset.is_virtual:
        sources = dataset.virtual_sources()
        files = sorted({source.file_name for source in sources})
        shown = ", ".join(files[:3]) + (f", ... ({len(files)} files)" if len(files) > 3 else "")
        parts.append(f"virtual, {len(sources)} mappings from {shown}")
        return ", ".join(parts)
    chunks = dataset.chunks
    if chunks is None:
        compact = dataset.id.get_create_plist().get_layout() == H5D_COMPACT
        parts.append("compact" if compact else "contiguous")
        return ", ".join(parts)
    parts.append(f"chunks {shape_text(chunks)}")
    pipeline = dataset.filters
    if pipeline is not None:
        parts.append(f"filters {filters_text(pipeline)}")
    stored = dataset.id.get_storage_size()
    if stored > 0:
        logical = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        parts.append(f"ratio {logical / stored:.2f} ({logical} / {stored} bytes)")
    return ", ".join(parts)


def value_text(value: object, width: int = VALUE_WIDTH) -> str:
    """An attribute value on one line: strings decoded, arrays summarised, long text cut."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "S" and value.ndim == 0:
        value = value.item()
    if isinstance(value, bytes | np.bytes_):
        text = repr(bytes(value).decode("utf-8", errors="replace"))
    elif isinstance(value, np.ndarray):
        body = np.array2string(
            value, threshold=8, edgeitems=3, separator=", ", max_line_width=10**6
        )
        text = f"{body} {value.dtype}" if value.ndim else body
        text = " ".join(text.split())
    elif isinstance(value, np.generic):
        text = f"{value.item()!r} {value.dtype}"
    else:
        text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


class Listing:
    """Lines for entries, counting the objects that could not be read.

    A structure h5swmr does not read (``UnsupportedError``, e.g. variable-length strings) is
    marked ``(not shown: ...)``; anything else (a damaged file) ``(cannot read: ...)`` and counted.
    """

    def __init__(self, f: File, column: int) -> None:
        self.file = f
        self.column = column
        self.failed = 0

    def lines(self, entry: Entry) -> list[str]:
        """The line of ``entry`` and those of its attributes."""
        from h5swmr import H5SwmrError

        label = entry.path.ljust(self.column)
        if not entry.is_object:
            return [f"{label} {entry.kind} -> {entry.target}"]
        text = entry.kind
        if entry.kind == "dataset":
            try:
                text = f"dataset {dataset_text(self.file[entry.path])}"
            except H5SwmrError as exc:
                text = f"dataset {self._problem(exc)}"
        lines = [f"{label} {text}"]
        try:
            attrs = (
                dict(self.file[entry.path].attrs)
                if entry.kind != "other"
                else self.file.reader.attrs(entry.path)
            )
        except H5SwmrError as exc:
            return [*lines, f"    @ attributes {self._problem(exc)}"]
        return lines + [f"    @{name} = {value_text(value)}" for name, value in attrs.items()]

    def _problem(self, exc: Exception) -> str:
        from h5swmr import UnsupportedError

        if isinstance(exc, UnsupportedError):
            return f"(not shown: {exc})"
        self.failed += 1
        return f"(cannot read: {exc})"


LS_PROBE_SECONDS = 0.2
"""How long ``ls`` watches a file with SWMR flags set and no lock for a writer's changes."""


def status_text(reader: File, file: str) -> str:
    """ "closed (no writer)", or whether the writer of a file with its SWMR flags set is running
    (it holds the lock, or the file changes) or gone without closing (then: recover)."""
    from h5swmr.writer.recover import probe_writer

    if not reader.writer_active:
        return "closed (no writer)"
    probe = probe_writer(file, LS_PROBE_SECONDS)
    if probe.is_running:
        return f"live: {probe.describe()}; shapes as of now"
    return (
        f"not closed: SWMR flags set, but {probe.describe()}; run: h5swmr recover {file} "
        "(unless its writer runs without locks and is idle); shapes as last flushed"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="HDF5 file, growing or not")


def run(args: argparse.Namespace) -> int:
    from h5swmr import File

    with File(args.file) as f:
        print(f"{args.file}: {status_text(f, args.file)}")
        entries = walk(f)
        listing = Listing(f, min(PATH_COLUMN, max(len(e.path) for e in entries)))
        for entry in entries:
            print("\n".join(listing.lines(entry)))
    if listing.failed:
        raise CommandError(f"{listing.failed} object(s) could not be read (see 'cannot read')")
    return 0


EPILOG = """\
examples:
  h5swmr ls scan.h5
  h5swmr ls scan.h5 | grep dataset          the datasets, one per line
  h5swmr ls scan.h5 | grep -A3 '^/entry '   a group and its attributes

Each line: full path, then "group", "dataset SHAPE DTYPE, maxshape, chunks[, filters, ratio]",
"hard link -> PATH" (an object already listed under another path), "soft link -> PATH" or
"external link -> FILE:PATH"; attributes follow their object as "    @NAME = VALUE".
A file a writer still has open is read as it is now ("live" on the first line); one whose
writer is gone without closing it says so ("not closed", then: h5swmr recover FILE).
Exit code 1 if the file, or any object in it, cannot be read (the rest is still listed);
what h5swmr's reader does not decode yet (e.g. variable-length strings) is "(not shown: ...)".
"""

COMMAND = Command(
    name="ls",
    help="list the groups, datasets (shape, dtype, chunks), links and attributes of FILE",
    add_arguments=add_arguments,
    run=run,
    epilog=EPILOG,
)
