"""Reading one global heap collection, its size checked against the file before it is read."""

from __future__ import annotations

import numpy as np

from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError
from h5swmr.format.global_heap import GlobalHeapCollection, VariableLengthReference
from h5swmr.format.messages.datatype import StringCharset

_WHAT = "global heap collection"


def read_collection(src: FileSource, address: int) -> GlobalHeapCollection:
    head = src.read(address, GlobalHeapCollection.HEADER_SIZE, _WHAT)
    size = GlobalHeapCollection.encoded_size(head)
    src.check(address, size, _WHAT)
    return GlobalHeapCollection.decode(src.read(address, size, _WHAT), address=address)


def resolve_strings(src: FileSource, raw: np.ndarray, charset: StringCharset) -> np.ndarray:
    """The strings that ``raw``'s 16-byte references point at, as an object array of ``str``
    of the same shape (a 0-d array for a scalar); each collection is read and indexed once."""
    collections: dict[int, dict[int, bytes]] = {}
    encoding = "utf-8" if charset == StringCharset.UTF8 else "ascii"
    lengths, addresses, indices = VariableLengthReference.decode_many(
        np.ascontiguousarray(raw).tobytes()
    )
    texts = np.empty(len(lengths), dtype=object)
    for i, (length, address, index) in enumerate(zip(lengths, addresses, indices, strict=True)):
        if length == 0:
            texts[i] = ""
            continue
        objects = collections.get(address)
        if objects is None:
            collection = read_collection(src, address)
            objects = {o.index: o.data for o in collection.objects}
            collections[address] = objects
        data = objects.get(index)
        if data is None or len(data) < length:
            raise FormatError(
                f"{_WHAT} at {address}: no object {index} of {length} bytes",
                structure=_WHAT,
                address=address,
            )
        texts[i] = data[:length].decode(encoding, errors="surrogateescape")
    return texts.reshape(raw.shape)
