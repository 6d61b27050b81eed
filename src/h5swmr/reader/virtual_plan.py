"""Which source fills which part of a virtual dataset in one snapshot, and the extent that gives.

libhdf5's default view (H5D_VDS_LAST_AVAILABLE; H5Dvirtual.c H5D__virtual_set_extent_unlim):
along a dimension where some mapping is unlimited, the extent is the largest any such mapping
needs, and at least the end of every limited selection; along the others it is the stored one.
A mapping unlimited in both selections needs its virtual selection clipped to as many slices as
the source's current extent holds. A printf mapping (``%b`` in a source name, only the virtual
selection unlimited) has one part per block, for the parts 0, 1, ... that exist before the first
missing one, and needs every block up to the last of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import UNLIMITED
from h5swmr.format.messages.layout import ChunkedLayoutMessage
from h5swmr.format.messages.virtual_layout import VirtualLayoutMessage, VirtualMapping
from h5swmr.format.selection import AllSelection, HyperslabSelection, NoneSelection, Selection
from h5swmr.reader.dataset import DatasetState
from h5swmr.reader.hyperslabs import (
    MAX_POSITION,
    block_of,
    bounds_end,
    clip_extent,
    matched_slices,
    slices_below,
    unlimited_dim,
)


@dataclass(frozen=True, slots=True)
class SourceDataset:
    """A source dataset as its own file's reader sees it, and how to read rows of it."""

    state: DatasetState
    read_rows: Callable[[int, int], np.ndarray]

    @property
    def pads(self) -> bool:
        """Whether elements past its extent read as its fill value: libhdf5's chunk reader finds
        no chunk there; contiguous storage it reads past its end, which h5swmr refuses."""
        return isinstance(self.state.layout, ChunkedLayoutMessage | VirtualLayoutMessage)


SourceOpener = Callable[[str, str], SourceDataset | None]
"""(file name, dataset path) -> the source, or None where libhdf5 finds none (read as fill)."""


@contextmanager
def about(where: str) -> Iterator[None]:
    """Prefix h5swmr's format and support errors with the mapping they concern."""
    try:
        yield
    except FormatError as exc:
        raise type(exc)(f"{where}: {exc}", structure=exc.structure, address=exc.address) from exc
    except UnsupportedError as exc:
        raise type(exc)(f"{where}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class SourceName:
    """A source file or dataset name cut at each ``%b`` (H5D_virtual_parse_source_name):
    ``%%`` stands for ``%``, and any other ``%`` sequence is an error."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> SourceName:
        parts: list[str] = []
        current: list[str] = []
        position = 0
        while (found := text.find("%", position)) >= 0:
            current.append(text[position:found])
            code = text[found + 1 : found + 2]
            if code == "b":
                parts.append("".join(current))
                current = []
            elif code == "%":
                current.append("%")
            else:
                raise FormatError(f"source name {text!r}: '%{code}' is neither %b nor %%")
            position = found + 2
        current.append(text[position:])
        parts.append("".join(current))
        return cls(tuple(parts))

    @property
    def is_printf(self) -> bool:
        return len(self.parts) > 1

    def build(self, number: int) -> str:
        return str(number).join(self.parts)


@dataclass(slots=True)
class Piece:
    """One source dataset's share of the virtual dataset: ``virtual_slices`` and
    ``source_slices`` clip the unlimited dimension of each selection; the source is opened
    once, on first use."""

    file_name: str
    dataset_name: str
    virtual: Selection
    source: Selection
    virtual_slices: int | None = None
    source_slices: int | None = None
    dataset: SourceDataset | None = None
    opened: bool = False

    @property
    def where(self) -> str:
        return f"source {self.dataset_name!r} in {self.file_name!r}"

    def open(self, open_source: SourceOpener) -> SourceDataset | None:
        if not self.opened:
            self.dataset = open_source(self.file_name, self.dataset_name)
            self.opened = True
        return self.dataset


def plan(
    mappings: tuple[VirtualMapping, ...], stored: tuple[int, ...], open_source: SourceOpener
) -> tuple[list[Piece], tuple[int, ...]]:
    """The pieces of the virtual dataset and its extent in this snapshot."""
    rank = len(stored)
    least = [0] * rank
    needed: dict[int, int] = {}
    pieces: list[Piece] = []
    for mapping in mappings:
        with about(f"mapping of {mapping.source_dataset!r} in {mapping.source_file!r}"):
            ends = bounds_end(mapping.virtual_selection)
            if ends is not None and len(ends) != rank:
                raise FormatError(f"a virtual selection of rank {len(ends)} for rank {rank}")
            for dim, end in enumerate(ends or ()):
                if end is not None:
                    least[dim] = max(least[dim], end)
            found = _pieces(mapping, open_source)
            pieces += found.pieces
            if found.dim is not None:
                needed[found.dim] = max(needed.get(found.dim, 0), found.extent)
    dims = tuple(max(needed[d], least[d]) if d in needed else stored[d] for d in range(rank))
    return pieces, dims


@dataclass(frozen=True, slots=True)
class _Found:
    pieces: list[Piece]
    dim: int | None = None
    extent: int = 0


def _pieces(mapping: VirtualMapping, open_source: SourceOpener) -> _Found:
    file_name = SourceName.parse(mapping.source_file)
    dataset_name = SourceName.parse(mapping.source_dataset)
    printf = file_name.is_printf or dataset_name.is_printf
    virtual, source = mapping.virtual_selection, mapping.source_selection
    v_dim, s_dim = unlimited_dim(virtual), unlimited_dim(source)
    if v_dim is None or s_dim is not None:
        if printf:
            raise FormatError("%b in a source name needs a limited source selection")
        if (v_dim is None) != (s_dim is None):
            raise FormatError("a limited virtual selection over an unlimited source selection")
        piece = Piece(file_name.build(0), dataset_name.build(0), virtual, source)
        if v_dim is None or s_dim is None:
            return _Found([piece])
        return _Found([piece], v_dim, _sized(piece, v_dim, s_dim, open_source))
    if not printf:
        raise FormatError("an unlimited virtual selection over a limited source needs %b")
    if not isinstance(virtual, HyperslabSelection) or virtual.count[v_dim] != UNLIMITED:
        raise UnsupportedError("a printf mapping whose virtual selection has no unlimited count")
    pieces: list[Piece] = []
    while virtual.start[v_dim] + len(pieces) * virtual.stride[v_dim] < MAX_POSITION:
        number = len(pieces)
        piece = Piece(
            file_name.build(number),
            dataset_name.build(number),
            block_of(virtual, v_dim, number),
            source,
        )
        dataset = piece.open(open_source)
        if dataset is None:
            break
        if not pieces and isinstance(source, AllSelection):
            source = _extent_of(dataset.state.dims)  # libhdf5 keeps the first part's extent
            piece.source = source
        pieces.append(piece)
    extent = 0
    if pieces:
        extent = virtual.start[v_dim] + (len(pieces) - 1) * virtual.stride[v_dim]
        extent += virtual.block[v_dim]
    return _Found(pieces, v_dim, extent)


def _extent_of(dims: tuple[int, ...]) -> Selection:
    """Every element of a dataspace of ``dims``, as a selection that no longer follows it."""
    if not dims or 0 in dims:
        return NoneSelection()
    return HyperslabSelection.from_slices(tuple((0, d) for d in dims))


def _sized(piece: Piece, v_dim: int, s_dim: int, open_source: SourceOpener) -> int:
    """Clip a mapping unlimited on both sides to its source's current extent; the extent the
    virtual dataset needs for it."""
    if not isinstance(piece.virtual, HyperslabSelection) or not isinstance(
        piece.source, HyperslabSelection
    ):  # pragma: no cover - only hyperslabs are unlimited
        raise FormatError("an unlimited selection that is no hyperslab")
    dataset = piece.open(open_source)
    piece.virtual_slices = piece.source_slices = 0
    if dataset is not None:
        dims = dataset.state.dims
        if s_dim >= len(dims):
            raise FormatError(f"selection rank {piece.source.rank}, source rank {len(dims)}")
        piece.source_slices = slices_below(piece.source, s_dim, dims[s_dim])
        piece.virtual_slices = matched_slices(piece.source, s_dim, dims[s_dim])
    return clip_extent(piece.virtual, v_dim, piece.virtual_slices)
