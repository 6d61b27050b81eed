"""Dense link storage: link messages in a fractal heap, found through a v2 B-tree name index."""

from __future__ import annotations

from h5swmr.errors import UnsupportedError
from h5swmr.format.messages.link import LinkMessage
from h5swmr.format.messages.link_info import LinkInfoMessage
from h5swmr.reader.source import FileSource


def read_dense_link_messages(src: FileSource, info: LinkInfoMessage) -> list[LinkMessage]:
    raise UnsupportedError(
        f"{src.path!r}: dense group storage (fractal heap at {info.fractal_heap_address}) "
        "is not supported"
    )
