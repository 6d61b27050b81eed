"""The one place ``h5swmr view`` reads files: through ``h5swmr.File``, the reader users have.

Everything the server needs from a file (its tree with shapes, dtypes, chunks, filters, ratios and
attributes; the NeXus default plot; the frame count of a dataset and one frame) goes through
``ViewedFile``, which holds one ``h5swmr.File`` and takes a new snapshot at each ``refresh()``:
the view reads h5swmr files, libhdf5's SWMR files, closed ones, VDS masters and files whose
writer crashed exactly as ``h5swmr.File`` does. ``ViewedFile`` is not thread-safe: the server
calls it from one worker thread per file.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from h5swmr.errors import (
    DatasetNotFoundError,
    H5SwmrError,
    InvalidArgumentError,
    UnsupportedError,
)
from h5swmr.reader import Dataset, ExternalLink, File, Group, SoftLink

MAX_ATTR_ELEMENTS = 16
"""Attribute arrays up to this many elements are shown whole; longer ones are summarised."""
MAX_TEXT = 200
MAX_RATIO_CHUNKS = 20_000
"""The compression ratio walks the chunk index; beyond this many chunks it is left out."""
RATIO_INTERVAL = 10.0
"""Seconds between new walks for a growing dataset (the ratio shown may be that old)."""
MAX_WHOLE_READ = 256 << 20
"""A dataset that is shown whole (a fixed image, a 1-D series) may be at most this big."""


@dataclass(frozen=True, slots=True)
class Node:
    """One path of the tree, as the page shows it (plain JSON-able values)."""

    path: str
    kind: str
    """"group", "dataset", "other" or "soft link" / "external link"."""
    shape: tuple[int, ...] | None = None
    maxshape: tuple[int | None, ...] | None = None
    dtype: str = ""
    chunks: tuple[int, ...] | None = None
    filters: str = ""
    ratio: float | None = None
    virtual: bool = False
    attrs: dict[str, Any] = field(default_factory=dict)
    problem: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "shape": self.shape,
            "maxshape": self.maxshape,
            "dtype": self.dtype,
            "chunks": self.chunks,
            "filters": self.filters,
            "ratio": self.ratio,
            "virtual": self.virtual,
            "attrs": self.attrs,
            "problem": self.problem,
        }


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """What the frame pipeline needs of a dataset: its shape and whether axis 0 counts frames."""

    path: str
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    stacked: bool
    """True when axis 0 counts frames (a growing dataset, or any of 3 dimensions or more)."""

    @property
    def frame_count(self) -> int:
        return self.shape[0] if self.stacked else 1

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return self.shape[1:] if self.stacked else self.shape

    @property
    def frame_nbytes(self) -> int:
        return math.prod(self.frame_shape) * self.dtype.itemsize


class ViewedFile:
    """A file the server shows, read with h5swmr's own reader (no libhdf5)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file = File(path)
        self._ratios: dict[str, tuple[tuple[int, ...], float | None, float]] = {}

    def close(self) -> None:
        self._file.close()

    def refresh(self) -> None:
        """See what the writer flushed since the last call."""
        self._file.refresh()

    @property
    def writer_active(self) -> bool:
        return self._file.writer_active

    # -- the tree --------------------------------------------------------------------------------

    def tree(self) -> list[Node]:
        """Every path, depth first in name order, each with what the page shows of it; an object
        reached by several hard links is listed under each, its members under the first."""
        nodes = [self._node("/", self._file)]
        self._walk(self._file, nodes, {self._file.object_key("/")})
        return sorted(nodes, key=lambda node: node.path)

    def _walk(self, group: Group, nodes: list[Node], seen: set[tuple[str, int]]) -> None:
        for name in group:
            path = join(group.name, name)
            link = group.get(name, getlink=True)
            if isinstance(link, SoftLink | ExternalLink):
                kind = "soft link" if isinstance(link, SoftLink) else "external link"
                nodes.append(Node(path, kind))
                continue
            try:
                found = group[name]
            except UnsupportedError:  # a named datatype
                nodes.append(Node(path, "other"))
                continue
            except H5SwmrError as exc:  # a header that cannot be read
                nodes.append(Node(path, "other", problem=str(exc)))
                continue
            nodes.append(self._node(path, found))
            if isinstance(found, Group):
                key = self._file.object_key(path)
                if key not in seen:
                    seen.add(key)
                    self._walk(found, nodes, seen)

    def _node(self, path: str, found: Group | Dataset) -> Node:
        kind = "dataset" if isinstance(found, Dataset) else "group"
        try:
            manager = found.attrs
            attrs = {name: json_value(manager[name]) for name in manager}
        except H5SwmrError as exc:
            return Node(path, kind, problem=f"attributes: {exc}")
        if not isinstance(found, Dataset):
            return Node(path, kind, attrs=attrs)
        try:
            shape = found.shape
            virtual = found.is_virtual
            chunks = None if virtual else found.chunks
            pipeline = None if virtual else found.filters
            return Node(
                path,
                kind,
                shape=shape,
                maxshape=found.maxshape,
                dtype=str(found.dtype),
                chunks=chunks,
                filters=filters_text(pipeline),
                ratio=None if chunks is None else self._ratio(found, shape, chunks),
                virtual=virtual,
                attrs=attrs,
            )
        except H5SwmrError as exc:
            return Node(path, kind, attrs=attrs, problem=str(exc))

    def _ratio(
        self, found: Dataset, shape: tuple[int, ...], chunks: tuple[int, ...]
    ) -> float | None:
        """Logical bytes / stored bytes, walked again at most every ``RATIO_INTERVAL`` seconds
        while the dataset grows (the walk costs a lookup per chunk)."""
        path = found.name
        known = self._ratios.get(path)
        now = time.monotonic()
        if known is not None and (known[0] == shape or now - known[2] < RATIO_INTERVAL):
            return known[1]
        n_chunks = math.prod(-(-s // max(c, 1)) for s, c in zip(shape, chunks, strict=False))
        ratio = None
        if 0 < n_chunks <= MAX_RATIO_CHUNKS:
            stored = found.id.get_storage_size()
            logical = math.prod(shape) * found.dtype.itemsize
            ratio = round(logical / stored, 3) if stored else None
        if len(self._ratios) > 4096:
            self._ratios.clear()
        self._ratios[path] = (shape, ratio, now)
        return ratio

    def default_dataset(self, nodes: list[Node]) -> str | None:
        """The NeXus default plot (``@default`` down from the root, then the NXdata's
        ``@signal``), else the largest growing dataset of numbers, else the largest one; chosen
        among ``nodes`` (the tree just read) so nothing is read twice."""
        path = self._nexus_default()
        if path is not None:
            return path
        best: tuple[int, int, str] | None = None
        for node in nodes:
            if node.kind != "dataset" or node.shape is None or node.maxshape is None:
                continue
            try:
                dtype = np.dtype(node.dtype)
            except (TypeError, ValueError):  # a compound or other type numpy cannot re-read
                continue
            if dtype.kind not in "biuf":
                continue
            growing = int(bool(node.shape) and node.maxshape[0] is None)
            size = math.prod(node.shape) * dtype.itemsize
            if best is None or (growing, size) > best[:2]:
                best = (growing, size, node.path)
        return None if best is None else best[2]

    def _nexus_default(self) -> str | None:
        path = "/"
        for _ in range(8):  # root -> entry -> data, and a few more levels at most
            found = self._get(path)
            if found is None:
                return None
            if isinstance(found, Dataset):
                return path
            try:
                attrs = dict(found.attrs)
            except H5SwmrError:
                return None
            signal = text_of(attrs.get("signal"))
            if signal:
                candidate = join(path, signal)
                return candidate if isinstance(self._get(candidate), Dataset) else None
            default = text_of(attrs.get("default"))
            if not default:
                return None
            path = join(path, default)
        return None

    def _get(self, path: str) -> Group | Dataset | None:
        """The group or dataset at ``path``, or None where there is none (or it cannot be read)."""
        try:
            found = self._file.get(path)
        except (H5SwmrError, KeyError):
            return None
        return found if isinstance(found, Group | Dataset) else None

    # -- datasets and frames ---------------------------------------------------------------------

    def dataset(self, path: str) -> DatasetInfo:
        found = self._get(path)
        if not isinstance(found, Dataset):
            raise DatasetNotFoundError(f"{self.path}: no dataset {path!r}")
        shape, maxshape = found.shape, found.maxshape
        stacked = len(shape) >= 3 or (len(shape) == 2 and maxshape[0] is None)
        return DatasetInfo(path, shape, found.dtype, stacked)

    def read_frame(self, info: DatasetInfo, index: int) -> np.ndarray[Any, Any]:
        """Frame ``index`` of a stacked dataset, or the whole of any other dataset."""
        found = self._get(info.path)
        if not isinstance(found, Dataset):
            raise DatasetNotFoundError(f"{self.path}: no dataset {info.path!r}")
        if info.stacked:
            return np.asarray(found[index])
        nbytes = math.prod(info.shape) * info.dtype.itemsize
        if nbytes > MAX_WHOLE_READ:
            raise InvalidArgumentError(
                f"{info.path!r}: {nbytes} bytes is too big to show whole "
                f"(at most {MAX_WHOLE_READ}); it has no frame axis"
            )
        return np.asarray(found[()])


def join(group: str, name: str) -> str:
    if name.startswith("/"):
        return name
    return f"{group.rstrip('/')}/{name}"


def text_of(value: object) -> str:
    """An attribute that names something (``@default``, ``@signal``) as text, or ''."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", errors="replace").strip("\x00 ")
    if isinstance(value, str):
        return value.strip("\x00 ")
    return ""


def filters_text(pipeline: object) -> str:
    """A pipeline's filters by class name, ``shuffle, deflate(level=4)``; '' for none."""
    names = []
    for item in getattr(pipeline, "filters", ()):
        text = repr(item)
        head, _, rest = text.partition("(")
        name = head.removesuffix("Filter").lower()
        params = rest.removesuffix(")")
        names.append(f"{name}({params})" if params else name)
    return ", ".join(names)


def json_value(value: object) -> Any:
    """An attribute value as JSON: numbers, text, short lists; a summary for big arrays."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SU" or value.dtype.kind == "O":
            items = [json_value(v) for v in value.reshape(-1)[:MAX_ATTR_ELEMENTS]]
            return items[0] if value.ndim == 0 else items
        if value.size > MAX_ATTR_ELEMENTS:
            return f"array {value.shape} {value.dtype}"
        if value.dtype.kind in "biuf":
            return json_number_list(value) if value.ndim else json_value(value.item())
        return short(repr(value.tolist()))
    if isinstance(value, bytes | np.bytes_):
        return short(bytes(value).decode("utf-8", errors="replace"))
    if isinstance(value, np.generic):
        return json_value(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bool | int | str) or value is None:
        return short(value) if isinstance(value, str) else value
    return short(repr(value))


def json_number_list(value: np.ndarray[Any, Any]) -> list[Any]:
    return [json_value(v) for v in value.reshape(-1).tolist()]


def short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."
