"""h5py-style compression strings (``"gzip"``, ``"zstd:5"``, ...) parsed once into a pipeline.

Strings live only at the user boundary (the CLI, benchmarks): everything below takes Filter
objects. Adding a name is one line in ``_COMPRESSION_SPECS`` or ``_CODEC_SPECS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from h5swmr.errors import FilterError
from h5swmr.filters.pipeline import FilterPipeline

DEFAULT_DEFLATE_LEVEL = 4
DEFAULT_ZSTD_LEVEL = 3


def _deflate(level: int | None) -> FilterPipeline:
    return FilterPipeline.deflate(DEFAULT_DEFLATE_LEVEL if level is None else level)


def _shuffle_deflate(level: int | None) -> FilterPipeline:
    return FilterPipeline.shuffle_deflate(DEFAULT_DEFLATE_LEVEL if level is None else level)


def _no_level(name: str, build: Callable[[], FilterPipeline]) -> Callable[[str], FilterPipeline]:
    def parse(option: str) -> FilterPipeline:
        if option:
            raise FilterError(f"compression {name!r} takes no options, got {option!r}")
        return build()

    return parse


def _zstd(option: str) -> FilterPipeline:
    return FilterPipeline.zstd(_level(option, DEFAULT_ZSTD_LEVEL))


def _bszstd(option: str) -> FilterPipeline:
    return FilterPipeline.bitshuffle_zstd(_level(option, DEFAULT_ZSTD_LEVEL))


def _lz4(option: str) -> FilterPipeline:
    if option == "":
        return FilterPipeline.lz4()
    try:
        block_size = int(option)
    except ValueError:
        raise FilterError(f"lz4 block size {option!r} is not an integer of bytes") from None
    return FilterPipeline.lz4(block_size)


def _bslz4() -> FilterPipeline:
    return FilterPipeline.bitshuffle_lz4()


def _blosc(option: str) -> FilterPipeline:
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
        "lz4": ("lz4[:block_size]", _lz4),
        "bslz4": ("bslz4", _no_level("bslz4", _bslz4)),
        "zstd": ("zstd[:level]", _zstd),
        "bszstd": ("bszstd[:level]", _bszstd),
        "blosc": ("blosc[:cname[:clevel[:shuffle]]]", _blosc),
    }
)


def parse_compression(spec: str) -> FilterPipeline | None:
    """Parse a CLI compression string: ``none``, ``deflate[:level]`` (or ``gzip``),
    ``shuffle-deflate[:level]`` (level 4 by default), ``lz4[:block_size]`` (bytes; 256 KiB by
    default, 0 for hdf5plugin's one block per chunk), ``bslz4`` (bitshuffle + LZ4),
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
