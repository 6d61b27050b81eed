"""Reading one global heap collection, its size checked against the file before it is read."""

from __future__ import annotations

import numpy as np

from h5swmr.errors import FormatError
from h5swmr.format.global_heap import GlobalHeapCollection, VariableLengthReference
from h5swmr.format.messages.datatype import StringCharset
from h5swmr.reader.source import FileSource

_WHAT = "global heap collection"


def read_collection(src: FileSource, address: int) -> GlobalHeapCollection:
    head = src.read(address, GlobalHeapCollection.HEADER_SIZE, _WHAT)
    size = GlobalHeapCollection.encoded_size(head)
    src.check(address, size, _WHAT)
    return GlobalHeapCollection.decode(src.read(address, size, _WHAT), address=address)


def resolve_strings(src: FileSource, raw: np.ndarray, charset: StringCharset) -> np.ndarray:
    """The strings that ``raw``'s 16-byte references point at, as an object array of ``str``
    of the same shape (a 0-d array for a scalar); each collection is read once."""
    collections: dict[int, GlobalHeapCollection] = {}
    encoding = "utf-8" if charset == StringCharset.UTF8 else "ascii"
    flat = np.ascontiguousarray(raw).reshape(-1)
    texts = np.empty(flat.shape, dtype=object)
    for i, element in enumerate(flat):
        ref = VariableLengthReference.decode(element.tobytes())
        if ref.length == 0:
            texts[i] = ""
            continue
        collection = collections.get(ref.collection_address)
        if collection is None:
            collection = read_collection(src, ref.collection_address)
            collections[ref.collection_address] = collection
        data = collection.object(ref.object_index).data
        if len(data) < ref.length:
            raise FormatError(
                f"string of {ref.length} bytes in a heap object of {len(data)}",
                structure=_WHAT,
                address=ref.collection_address,
            )
        texts[i] = data[: ref.length].decode(encoding, errors="surrogateescape")
    return texts.reshape(raw.shape)
