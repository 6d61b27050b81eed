"""Which class implements each filter id: what a stored pipeline message is rebuilt from.

Adding a codec is one module plus one line in ``_FILTER_CLASSES`` (and, if users may name it on
the command line, one line in ``compression.py``). Nothing here runs at import time beyond
building a constant table; optional libraries are imported by the filter classes themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from h5swmr.errors import FilterUnavailableError
from h5swmr.filters.base import Filter
from h5swmr.filters.bitshuffle import BitshuffleFilter
from h5swmr.filters.blosc import BloscFilter
from h5swmr.filters.deflate import DeflateFilter
from h5swmr.filters.fletcher32 import Fletcher32Filter
from h5swmr.filters.lz4 import LZ4Filter
from h5swmr.filters.shuffle import ShuffleFilter
from h5swmr.filters.zstd import ZstdFilter
from h5swmr.format.constants import FilterId
from h5swmr.format.messages.filter_pipeline import FilterDescription

_FILTER_CLASSES: Mapping[int, type[Filter]] = MappingProxyType(
    {
        FilterId.DEFLATE: DeflateFilter,
        FilterId.SHUFFLE: ShuffleFilter,
        FilterId.FLETCHER32: Fletcher32Filter,
        FilterId.BLOSC: BloscFilter,
        FilterId.LZ4: LZ4Filter,
        FilterId.BITSHUFFLE: BitshuffleFilter,
        FilterId.ZSTD: ZstdFilter,
    }
)


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
