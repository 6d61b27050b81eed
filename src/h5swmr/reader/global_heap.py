"""Reading one global heap collection, its size checked against the file before it is read."""

from __future__ import annotations

from h5swmr.access.source import FileSource
from h5swmr.format.global_heap import GlobalHeapCollection

_WHAT = "global heap collection"


def read_collection(src: FileSource, address: int) -> GlobalHeapCollection:
    head = src.read(address, GlobalHeapCollection.HEADER_SIZE, _WHAT)
    size = GlobalHeapCollection.encoded_size(head)
    src.check(address, size, _WHAT)
    return GlobalHeapCollection.decode(src.read(address, size, _WHAT), address=address)
