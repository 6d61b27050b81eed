"""Groups of libhdf5's default format: a symbol table message -> v1 B-tree -> symbol table nodes,
names in a local heap."""

from __future__ import annotations

from typing import TYPE_CHECKING

from h5swmr.errors import UnsupportedError
from h5swmr.format.cursor import BytesLike
from h5swmr.reader.source import FileSource

if TYPE_CHECKING:
    from h5swmr.reader.groups import Link


def read_symbol_table_links(src: FileSource, body: BytesLike) -> dict[str, Link]:
    raise UnsupportedError(f"{src.path!r}: symbol-table groups are not supported yet")
