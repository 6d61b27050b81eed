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
from h5swmr.filters.bitshuffle import BitshuffleFilter
from h5swmr.filters.blosc import BloscFilter
from h5swmr.filters.deflate import DeflateFilter
from h5swmr.filters.fletcher32 import Fletcher32Filter
from h5swmr.filters.lz4 import LZ4Filter
from h5swmr.filters.shuffle import ShuffleFilter
from h5swmr.filters.zstd import ZstdFilter
from h5swmr.format.constants import FilterId
from h5swmr.format.messages.filter_pipeline import FilterDescription

if TYPE_CHECKING:
    from h5swmr.filters.pipeline import FilterPipeline

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

DEFAULT_DEFLATE_LEVEL = 4
DEFAULT_ZSTD_LEVEL = 3


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


def _no_level(name: str, build: Callable[[], FilterPipeline]) -> Callable[[str], FilterPipeline]:
    def parse(option: str) -> FilterPipeline:
        if option:
            raise FilterError(f"compression {name!r} takes no options, got {option!r}")
        return build()

    return parse


def _zstd(option: str) -> FilterPipeline:
    from h5swmr.filters.pipeline import FilterPipeline

    return FilterPipeline.zstd(_level(option, DEFAULT_ZSTD_LEVEL))


def _bszstd(option: str) -> FilterPipeline:
    from h5swmr.filters.pipeline import FilterPipeline

    return FilterPipeline.bitshuffle_zstd(_level(option, DEFAULT_ZSTD_LEVEL))


def _lz4() -> FilterPipeline:
    from h5swmr.filters.pipeline import FilterPipeline

    return FilterPipeline.lz4()


def _bslz4() -> FilterPipeline:
    from h5swmr.filters.pipeline import FilterPipeline

    return FilterPipeline.bitshuffle_lz4()


def _blosc(option: str) -> FilterPipeline:
    from h5swmr.filters.pipeline import FilterPipeline

    parts = option.split(":") if option else []
    if len(parts) > 3:
        raise FilterError(f"blosc options {option!r}: expected cname[:clevel[:shuffle]]")
    cname = parts[0] if parts else "lz4"
    clevel = _level(parts[1], 5) if len(parts) > 1 else 5
    shuffle = parts[2] if len(parts) > 2 else "byte"
    return FilterPipeline.blosc(cname, clevel, shuffle)  # type: ignore[arg-type]


def _level(option: str, default: int) -> int:
    if option == "":
        return default
    try:
        return int(option)
    except ValueError:
        raise FilterError(f"level {option!r} is not an integer") from None


_COMPRESSION_SPECS: Mapping[str, Callable[[int | None], FilterPipeline]] = MappingProxyType(
    {
        "deflate": _deflate,
        "gzip": _deflate,
        "shuffle-deflate": _shuffle_deflate,
        "shuffle-gzip": _shuffle_deflate,
    }
)

_CODEC_SPECS: Mapping[str, tuple[str, Callable[[str], FilterPipeline]]] = MappingProxyType(
    {
        "lz4": ("lz4", _no_level("lz4", _lz4)),
        "bslz4": ("bslz4", _no_level("bslz4", _bslz4)),
        "zstd": ("zstd[:level]", _zstd),
        "bszstd": ("bszstd[:level]", _bszstd),
        "blosc": ("blosc[:cname[:clevel[:shuffle]]]", _blosc),
    }
)


def parse_compression(spec: str) -> FilterPipeline | None:
    """Parse a CLI compression string: ``none``, ``deflate[:level]`` (or ``gzip``),
    ``shuffle-deflate[:level]`` (level 4 by default), ``lz4``, ``bslz4`` (bitshuffle + LZ4),
    ``zstd[:level]``, ``bszstd[:level]`` (level 3 by default), and
    ``blosc[:cname[:clevel[:shuffle]]]`` (lz4, 5, byte by default; shuffle byte, bit or none).
    None means no filters at all.
    """
    text = spec.strip().lower()
    name, sep, option = text.partition(":")
    if name == "none" and not sep:
        return None
    codec = _CODEC_SPECS.get(name)
    if codec is not None:
        if sep and not option:
            raise FilterError(f"compression {spec!r}: empty option after ':'")
        try:
            return codec[1](option)
        except FilterError as exc:
            raise FilterError(f"compression {spec!r}: {exc}") from exc
    factory = _COMPRESSION_SPECS.get(name)
    if factory is None:
        accepted = ", ".join(
            [
                "none",
                *(f"{n}[:level]" for n in _COMPRESSION_SPECS),
                *(form for form, _ in _CODEC_SPECS.values()),
            ]
        )
        raise FilterError(f"compression {spec!r}: unknown; accepted: {accepted}")
    if not sep:
        return factory(None)
    try:
        level = int(option)
    except ValueError:
        raise FilterError(f"compression {spec!r}: level {option!r} is not an integer") from None
    return factory(level)
