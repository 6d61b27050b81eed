"""Selections as products of per-dimension positions, the form a virtual mapping needs.

libhdf5 pairs the elements of a mapping's two selections by their rank in row-major order. When a
selection is a Cartesian product of sorted per-dimension positions, an element's rank splits into
one index per dimension, so a run of ranks is a run of rows and no element is ever listed one by
one. "All" and regular hyperslabs (h5swmr's mappings, h5py's slicing) are products by
construction; a block list (libhdf5 writes one for a strided selection when the file's lower
format bound is the earliest) is accepted when its blocks form a product, refused otherwise.

Unlimited selections are clipped as libhdf5 clips them (H5Shyper.c H5S_hyper_clip_unlim and
H5S__hyper_get_clip_extent_real): the unlimited dimension keeps its first ``slices`` positions.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import UNLIMITED
from h5swmr.format.selection import (
    AllSelection,
    HyperslabBlockList,
    HyperslabSelection,
    NoneSelection,
    Selection,
)

MAX_POSITION = 1 << 62
"""Positions past this cannot be numpy int64 offsets; no real dataset comes near it."""


@dataclass(frozen=True, slots=True)
class RegularAxis:
    """Positions ``start + (i // block) * stride + i % block`` for ``i < size`` (blocks of
    ``block`` positions every ``stride``, the last one possibly cut short)."""

    start: int
    stride: int
    block: int
    size: int

    def count_below(self, bound: int) -> int:
        """How many positions lie below ``bound``."""
        if bound <= self.start:
            return 0
        full, rest = divmod(bound - self.start, self.stride)
        return min(full * self.block + min(rest, self.block), self.size)

    def positions(self, lo: int, hi: int) -> np.ndarray:
        """Positions ``lo`` to ``hi - 1``, ascending."""
        i = np.arange(lo, hi, dtype=np.int64)
        return self.start + (i // self.block) * self.stride + i % self.block

    @property
    def end(self) -> int:
        """One past the last position (the extent that just holds the axis)."""
        if not self.size:
            return 0
        last = self.size - 1
        return self.start + (last // self.block) * self.stride + last % self.block + 1


class ListAxis:
    """Positions given as sorted, disjoint inclusive intervals (from a block list)."""

    __slots__ = ("_before", "_firsts", "end", "size")

    def __init__(self, intervals: list[tuple[int, int]]) -> None:
        self._firsts = np.array([a for a, _ in intervals], dtype=np.int64)
        lengths = np.array([b - a + 1 for a, b in intervals], dtype=np.int64)
        self._before = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
        self.size = int(lengths.sum())
        self.end = intervals[-1][1] + 1

    def count_below(self, bound: int) -> int:
        k = int(np.searchsorted(self._firsts, bound, side="left"))
        if k == 0:
            return 0
        length = (self._before[k] if k < len(self._before) else self.size) - self._before[k - 1]
        return int(self._before[k - 1] + min(bound - int(self._firsts[k - 1]), int(length)))

    def positions(self, lo: int, hi: int) -> np.ndarray:
        i = np.arange(lo, hi, dtype=np.int64)
        j = np.searchsorted(self._before, i, side="right") - 1
        return self._firsts[j] + (i - self._before[j])


Axis: TypeAlias = RegularAxis | ListAxis


def shape_of(axes: tuple[Axis, ...]) -> tuple[int, ...]:
    return tuple(axis.size for axis in axes)


def unlimited_dim(selection: Selection) -> int | None:
    return selection.unlimited_dim if isinstance(selection, HyperslabSelection) else None


def slices_below(selection: HyperslabSelection, dim: int, extent: int) -> int:
    """Positions of the unlimited dimension ``dim`` below ``extent``: the slices a source of that
    extent holds (H5S_hyper_get_clip_extent_match counts them the same way)."""
    start, stride, block = selection.start[dim], selection.stride[dim], selection.block[dim]
    if extent <= start:
        return 0
    if block == UNLIMITED:
        return extent - start
    full, rest = divmod(extent - start, stride)
    return full * block + min(rest, block)


def matched_slices(selection: HyperslabSelection, dim: int, extent: int) -> int:
    """The slices libhdf5 credits a source of ``extent`` with when it sizes the virtual side
    (H5S_hyper_get_clip_extent_match): as ``slices_below``, except that a first block cut short
    by the extent counts whole when it is the only block reached (the source side itself is
    clipped exactly, so libhdf5 then refuses to read that mapping: the counts differ)."""
    start, stride, block = selection.start[dim], selection.stride[dim], selection.block[dim]
    if start < extent <= start + stride and block not in (UNLIMITED, stride):
        return block
    return slices_below(selection, dim, extent)


def clip_extent(selection: HyperslabSelection, dim: int, slices: int) -> int:
    """The extent along the unlimited dimension ``dim`` that holds exactly ``slices`` positions
    and ends at the last of them (libhdf5's clip without trailing space)."""
    if slices == 0:
        return 0
    start, stride, block = selection.start[dim], selection.stride[dim], selection.block[dim]
    if block == UNLIMITED:
        return start + slices
    last = slices - 1
    return start + (last // block) * stride + last % block + 1


def block_of(selection: HyperslabSelection, dim: int, number: int) -> HyperslabSelection:
    """Block ``number`` of the unlimited count along ``dim``: the part a printf mapping's
    ``number``-th source fills (H5S_hyper_get_unlim_block)."""
    start = list(selection.start)
    count = list(selection.count)
    start[dim] += number * selection.stride[dim]
    count[dim] = 1
    return HyperslabSelection(tuple(start), selection.stride, tuple(count), selection.block)


def bounds_end(selection: Selection) -> tuple[int | None, ...] | None:
    """Per dimension, one past the selection's last position (None along an unlimited one);
    None for "all" and "none", which fit any extent."""
    if isinstance(selection, HyperslabBlockList):
        rank = selection.rank
        return tuple(max(hi[d] for _, hi in selection.blocks) + 1 for d in range(rank))
    if not isinstance(selection, HyperslabSelection):
        return None
    ends: list[int | None] = []
    for s, st, c, b in zip(
        selection.start, selection.stride, selection.count, selection.block, strict=True
    ):
        ends.append(None if UNLIMITED in (c, b) else s + (c - 1) * st + b)
    return tuple(ends)


def axes_of(
    selection: Selection, dims: tuple[int, ...], *, slices: int | None = None
) -> tuple[Axis, ...]:
    """The selection, within a dataspace of ``dims``, as one axis per dimension; ``slices``
    clips the unlimited dimension of an unlimited hyperslab."""
    rank = len(dims)
    if isinstance(selection, AllSelection):
        return tuple(RegularAxis(0, max(d, 1), max(d, 1), d) for d in dims)
    if isinstance(selection, NoneSelection):
        return tuple(RegularAxis(0, 1, 1, 0) for _ in dims)
    if selection.rank != rank:
        raise FormatError(f"a selection of rank {selection.rank} in a dataspace of rank {rank}")
    if isinstance(selection, HyperslabBlockList):
        axes: tuple[Axis, ...] = _block_list_axes(selection)
    else:
        axes = _regular_axes(selection, slices)
    if any(axis.end > MAX_POSITION for axis in axes):
        raise UnsupportedError(f"a selection reaching past position {MAX_POSITION}")
    return axes


def _regular_axes(selection: HyperslabSelection, slices: int | None) -> tuple[Axis, ...]:
    unlimited = selection.unlimited_dim
    axes: list[Axis] = []
    for dim, (s, st, c, b) in enumerate(
        zip(selection.start, selection.stride, selection.count, selection.block, strict=True)
    ):
        if dim == unlimited:
            if slices is None:
                raise FormatError("an unlimited selection where a limited one is required")
            if b == UNLIMITED:
                axes.append(RegularAxis(s, 1, 1, slices))
            elif st < b:
                raise FormatError(f"an unlimited count of blocks of {b} every {st}: they overlap")
            else:
                axes.append(RegularAxis(s, st, b, slices))
        else:
            axes.append(RegularAxis(s, st if c > 1 else b, b, c * b))
    return tuple(axes)


def _block_list_axes(selection: HyperslabBlockList) -> tuple[Axis, ...]:
    blocks = selection.blocks
    per_dim = [sorted({(lo[d], hi[d]) for lo, hi in blocks}) for d in range(selection.rank)]
    disjoint = all(a[1] < b[0] for ranges in per_dim for a, b in itertools.pairwise(ranges))
    product = math.prod(len(ranges) for ranges in per_dim)
    if not disjoint or product != len(blocks) or len(set(blocks)) != len(blocks):
        raise UnsupportedError(
            f"an irregular hyperslab of {len(blocks)} blocks that is no product of ranges"
        )
    return tuple(ListAxis(ranges) for ranges in per_dim)
