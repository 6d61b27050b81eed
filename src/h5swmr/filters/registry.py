"""Which class implements each filter id, and h5py-style compression strings parsed once.

Adding a codec is one module plus one line in ``_FILTER_CLASSES`` (and, if users may name it on
the command line, one line in ``_COMPRESSION_SPECS``). Nothing here runs at import time beyond
building two constant tables; optional libraries are imported by the filter classes themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from h5swmr.errors import FilterError, FilterUnavailableError
from h5swmr.filters.base import Filter
from h5swmr.filters.deflate import DeflateFilter
from h5swmr.filters.fletcher32 import Fletcher32Filter
from h5swmr.filters.shuffle import ShuffleFilter
from h5swmr.format.constants import FilterId
from h5swmr.format.messages.filter_pipeline import FilterDescription

if TYPE_CHECKING:
    from h5swmr.filters.pipeline import FilterPipeline

_FILTER_CLASSES: Mapping[int, type[Filter]] = MappingProxyType(
    {
        FilterId.DEFLATE: DeflateFilter,
        FilterId.SHUFFLE: ShuffleFilter,
        FilterId.FLETCHER32: Fletcher32Filter,
    }
)

DEFAULT_DEFLATE_LEVEL = 4


def filter_class(filter_id: int) -> type[Filter]:
    """The class that implements ``filter_id``; FilterUnavailableError if h5swmr has none."""
    try:
        return _FILTER_CLASSES[filter_id]
    except KeyError:
        known = ", ".join(f"{int(i)} ({FilterId(i).name.lower()})" for i in _FILTER_CLASSES)
        try:
            label = f"{filter_id} ({FilterId(filter_id).name.lower()})"
        except ValueError:
            label = str(filter_id)
        raise FilterUnavailableError(
            f"filter id {label} is not supported by h5swmr; supported ids: {known}"
        ) from None


def filter_from_description(description: FilterDescription) -> Filter:
    """Rebuild one filter from its stored form (id and cd_values) in a pipeline message."""
    cls = filter_class(description.filter_id)
    return cls.from_cd_values(description.cd_values)


def _deflate(level: int | None) -> FilterPipeline:
    from h5swmr.filters.pipeline import FilterPipeline

    return FilterPipeline.deflate(DEFAULT_DEFLATE_LEVEL if level is None else level)


def _shuffle_deflate(level: int | None) -> FilterPipeline:
    from h5swmr.filters.pipeline import FilterPipeline

    return FilterPipeline.shuffle_deflate(DEFAULT_DEFLATE_LEVEL if level is None else level)


_COMPRESSION_SPECS: Mapping[str, Callable[[int | None], FilterPipeline]] = MappingProxyType(
    {
        "deflate": _deflate,
        "gzip": _deflate,
        "shuffle-deflate": _shuffle_deflate,
        "shuffle-gzip": _shuffle_deflate,
    }
)


def parse_compression(spec: str) -> FilterPipeline | None:
    """Parse a CLI compression string: ``none``, ``deflate[:level]`` (or ``gzip``),
    ``shuffle-deflate[:level]``. The level defaults to 4. None means no filters at all.
    """
    text = spec.strip().lower()
    name, sep, option = text.partition(":")
    if name == "none" and not sep:
        return None
    factory = _COMPRESSION_SPECS.get(name)
    if factory is None:
        accepted = ", ".join(["none", *(f"{n}[:level]" for n in _COMPRESSION_SPECS)])
        raise FilterError(f"compression {spec!r}: unknown; accepted: {accepted}")
    if not sep:
        return factory(None)
    try:
        level = int(option)
    except ValueError:
        raise FilterError(f"compression {spec!r}: level {option!r} is not an integer") from None
    return factory(level)
