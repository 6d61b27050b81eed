"""File trouble as h5py's users expect it: an ``OSError``.

Below ``h5swmr.File`` a corrupt or truncated structure is a ``FormatError`` (a ``ValueError``)
and a chunk its filter cannot decode a ``FilterError``; h5py reports both as ``OSError`` ("Can't
read data"). The facade's entry points translate them into ``NotReadableError``, which is a
``FormatError`` and an ``OSError`` at once, with the original as its cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from h5swmr.errors import FilterError, FormatError, NotReadableError


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Run a read of ``what`` (a path, a dataset name), raising file trouble as OSError."""
    try:
        yield
    except FormatError as exc:
        if isinstance(exc, OSError):
            raise
        raise NotReadableError(
            _naming(what, exc), structure=exc.structure, address=exc.address
        ) from exc
    except FilterError as exc:
        raise NotReadableError(_naming(what, exc), structure="filtered chunk") from exc


def _naming(what: str, exc: Exception) -> str:
    """The message, led by ``what`` unless it names it already (one line, no repetition)."""
    text = str(exc)
    return text if what in text else f"{what}: {text}"
