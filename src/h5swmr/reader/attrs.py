"""``AttributeManager``: an object's attributes as a read-only Mapping, h5py's ``obj.attrs``.

Values are h5py's types: ``str`` for a variable-length string, a numpy scalar for a scalar
attribute, a numpy array otherwise. They come from the object's header in the reader's current
snapshot, read again after each ``refresh()``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from h5swmr.errors import DatasetNotFoundError
from h5swmr.reader.failures import reading

if TYPE_CHECKING:
    from h5swmr.reader.file import SwmrFileReader


class AttributeManager(Mapping[str, object]):
    """Read-only ``attrs``: ``attrs["x"]``, ``in``, ``keys()``, ``items()``, ``get()``."""

    def __init__(self, reader: SwmrFileReader, path: str) -> None:
        self._reader = reader
        self._path = path

    def _values(self) -> dict[str, object]:
        with reading(self._path):
            return self._reader.attrs(self._path)

    def __getitem__(self, name: str) -> object:
        values = self._values()
        if name not in values:
            raise DatasetNotFoundError(
                f"Can't open attribute {name!r} of {self._path!r} (no such attribute)",
                dataset=self._path,
            )
        return values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())

    def __contains__(self, name: object) -> bool:
        return name in self._values()

    def __repr__(self) -> str:
        return f'<Attributes of HDF5 object at "{self._path}">'
