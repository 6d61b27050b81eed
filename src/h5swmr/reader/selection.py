"""h5py's simple and fancy selections, parsed once into one axis selection per dimension.

h5py (``_hl/selections.py`` and its Cython ``Selector``) accepts integers, slices with a
positive step, one ``Ellipsis``, ``()`` and, on one axis only, a list or array of increasing
indices or a boolean mask; everything else is refused with the built-in error type h5py uses, so
``except IndexError`` written for h5py keeps working. Each error is also an ``H5SwmrError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from h5swmr.errors import SelectionIndexError, SelectionTypeError, SelectionValueError


@dataclass(frozen=True, slots=True)
class SliceAxis:
    """``count`` positions ``start, start + step, ...``; ``drop`` for an integer index (the
    axis leaves the result's shape, as numpy drops it)."""

    start: int
    step: int
    count: int
    drop: bool = False

    @property
    def last(self) -> int:
        return self.start + (self.count - 1) * self.step

    def positions(self) -> np.ndarray:
        return self.start + self.step * np.arange(self.count, dtype=np.int64)

    def covers(self, extent: int) -> bool:
        """Whether the axis is the whole dimension, in order (``:``)."""
        return not self.drop and self.start == 0 and self.step == 1 and self.count == extent


@dataclass(frozen=True, slots=True)
class PointsAxis:
    """Strictly increasing positions from a list, an index array or a boolean mask."""

    positions_: np.ndarray

    @property
    def count(self) -> int:
        return len(self.positions_)

    def positions(self) -> np.ndarray:
        return self.positions_


Axis: TypeAlias = SliceAxis | PointsAxis


@dataclass(frozen=True, slots=True)
class Selection:
    """What ``Dataset.__getitem__`` reads: one axis per dimension, or a whole-shape mask."""

    axes: tuple[Axis, ...]
    scalar_result: bool
    """The result is a numpy scalar (every axis an integer, or ``()`` on a scalar dataset)."""
    mask: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape read, dropped axes included (as length 1)."""
        return tuple(axis.count for axis in self.axes)

    @property
    def result_shape(self) -> tuple[int, ...]:
        return tuple(
            axis.count for axis in self.axes if not (isinstance(axis, SliceAxis) and axis.drop)
        )


def _integer(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def parse_selection(key: object, shape: tuple[int, ...]) -> Selection:
    """``key`` (anything ``Dataset.__getitem__`` takes) against a dataset of ``shape``.

    Arguments are taken left to right, as h5py's selector takes them, so that of two faults
    the first one met is the one reported."""
    args = key if isinstance(key, tuple) else (key,)
    if any(arg is None for arg in args):
        raise SelectionTypeError("Indexing with None (or np.newaxis) is not supported")
    if any(isinstance(arg, str) for arg in args):
        raise SelectionValueError("Field names only allowed for compound types")
    if not shape:
        return _parse_scalar(args)
    if len(args) == 1 and isinstance(args[0], np.ndarray) and args[0].dtype == np.bool_:
        mask = args[0]
        if mask.shape == shape:
            return Selection(tuple(SliceAxis(0, 1, n) for n in shape), False, mask)
        if mask.shape != shape[:1]:
            raise SelectionTypeError("Boolean indexing array has incompatible shape")
    elif len(shape) == 1 and any(_is_mask(arg) for arg in args):
        raise SelectionTypeError("Use other code for boolean selection on 1D dataset")
    named = sum(1 for arg in args if arg is not Ellipsis)
    axes: list[Axis] = []
    seen_ellipsis = seen_list = False
    for arg in args:
        if arg is Ellipsis:
            if seen_ellipsis:
                raise SelectionValueError("Only one ellipsis may be used.")
            seen_ellipsis = True
            axes += [SliceAxis(0, 1, n) for n in shape[len(axes) : len(axes) + len(shape) - named]]
            continue
        if len(axes) >= len(shape):
            raise SelectionValueError(f"{named} indexing arguments for {len(shape)} dimensions")
        if isinstance(arg, list | np.ndarray):
            if seen_list:
                raise SelectionTypeError(
                    "Only one indexing vector or array is currently allowed for fancy indexing"
                )
            seen_list = True
        axes.append(_parse_axis(arg, shape[len(axes)]))
    axes += [SliceAxis(0, 1, n) for n in shape[len(axes) :]]
    for axis, n in zip(axes, shape, strict=True):
        # h5py checks an index list's range only when the selection holds elements: one that
        # selects nothing reads as an empty array whatever its indices
        if (
            isinstance(axis, PointsAxis)
            and axis.count
            and math.prod(a.count for a in axes)
            and axis.positions_.max() >= n
        ):
            raise SelectionIndexError(f"Fancy indexing out of range for (0-{n - 1})")
    every_int = all(isinstance(axis, SliceAxis) and axis.drop for axis in axes)
    return Selection(tuple(axes), every_int)


def _is_mask(arg: object) -> bool:
    return isinstance(arg, np.ndarray) and arg.dtype == np.bool_


def _parse_scalar(args: tuple[object, ...]) -> Selection:
    if args == ():
        return Selection((), True)
    if args == (Ellipsis,):
        return Selection((), False)
    raise SelectionValueError("Illegal slicing argument for scalar dataspace")


def _parse_axis(arg: object, n: int) -> Axis:
    if _integer(arg):
        index = int(arg)  # type: ignore[call-overload]
        if n == 0:
            raise SelectionIndexError(f"Index ({index}) out of range for empty dimension")
        position = index + n if index < 0 else index
        if not 0 <= position < n:
            raise SelectionIndexError(f"Index ({index}) out of range for (0-{n - 1})")
        return SliceAxis(position, 1, 1, drop=True)
    if isinstance(arg, slice):
        try:
            start, stop, step = arg.indices(n)
        except (TypeError, ValueError) as exc:
            kind = SelectionValueError if isinstance(exc, ValueError) else SelectionTypeError
            raise kind(f"slice {arg}: {exc}") from exc
        if step < 1:
            raise SelectionValueError(f"Step must be >= 1 (got {step})")
        count = 0 if stop <= start else 1 + (stop - start - 1) // step
        return SliceAxis(start if count else 0, step, count)
    if isinstance(arg, list | np.ndarray):
        return _parse_points(arg, n)
    raise SelectionTypeError(f"Selection can't process {arg!r}")


def _parse_points(arg: list[object] | np.ndarray, n: int) -> PointsAxis:
    try:
        values = np.asarray(arg)
    except (TypeError, ValueError) as exc:
        raise SelectionTypeError(f"Selection can't process {arg!r}") from exc
    if values.ndim != 1:
        raise SelectionTypeError(f"Selection can't process {arg!r}")
    if isinstance(arg, np.ndarray) and values.dtype.kind not in "iub":
        raise SelectionTypeError("Indexing arrays must have integer dtypes")
    if values.dtype == np.bool_:
        if len(values) != n:
            raise SelectionTypeError(f"boolean index of length {len(values)} for extent {n}")
        return PointsAxis(np.flatnonzero(values).astype(np.int64))
    if values.size == 0:
        return PointsAxis(np.empty(0, np.int64))
    if values.dtype.kind not in "iu":
        raise SelectionTypeError(f"Selection can't process {arg!r}")
    positions = values.astype(np.int64)
    positions = np.where(positions < 0, positions + n, positions)
    if positions.min() < 0:  # h5py refuses a negative index at once; one too large, later
        where = "empty dimension" if n == 0 else f"(0-{n - 1})"
        raise SelectionIndexError(f"Fancy indexing out of range for {where}")
    if len(positions) > 1 and not bool(np.all(np.diff(positions) > 0)):
        raise SelectionTypeError("Indexing elements must be in increasing order")
    return PointsAxis(positions)
