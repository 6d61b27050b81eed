"""Lazy imports of the optional codec libraries behind the ``codecs`` extra."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Final

from h5swmr.errors import FilterUnavailableError

INSTALL_HINT: Final = 'pip install "h5swmr[codecs]"'


def import_codec(module: str, filter_label: str) -> ModuleType:
    """Import ``module`` for the filter ``filter_label``, or raise FilterUnavailableError.

    Filters call this when they are created (so a missing library fails early, never as a silent
    fallback) and again where they use it (a cached import).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise FilterUnavailableError(
            f"{filter_label} needs the {module.partition('.')[0]!r} package, which is not"
            f" installed: {INSTALL_HINT}"
        ) from exc
