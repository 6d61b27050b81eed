"""GlobalHeapWriter: strings packed into collections, each collection written once."""

from __future__ import annotations

from h5swmr.format.global_heap import (
    MIN_COLLECTION_SIZE,
    GlobalHeapCollection,
    VariableLengthReference,
)
from h5swmr.storage.allocator import EofAllocator
from h5swmr.storage.commit import Write
from h5swmr.writer.heap import MAX_OBJECTS, GlobalHeapWriter


def _references(encoded: bytes) -> list[VariableLengthReference]:
    size = VariableLengthReference.SIZE
    return [
        VariableLengthReference.decode(encoded[i : i + size]) for i in range(0, len(encoded), size)
    ]


def _collections(writes: list[Write]) -> dict[int, GlobalHeapCollection]:
    return {address: GlobalHeapCollection.decode(data) for address, data in writes}


def test_short_strings_share_one_collection_until_published() -> None:
    allocator = EofAllocator(48)
    heap = GlobalHeapWriter(allocator)
    first = _references(heap.store([b"NXentry", b""]))
    second = _references(heap.store(["µm".encode()]))
    collections = _collections(heap.take_writes())
    assert len(collections) == 1
    (address, collection), *_ = collections.items()
    assert collection.size == MIN_COLLECTION_SIZE
    for ref, text in zip([*first, *second], [b"NXentry", b"", "µm".encode()], strict=True):
        assert ref.collection_address == address
        assert ref.length == len(text)
        assert collection.object(ref.object_index).data == text
    # published: the next string goes to a new collection, the old one is never written again
    (later,) = _references(heap.store([b"late"]))
    assert later.collection_address != address
    assert list(_collections(heap.take_writes())) == [later.collection_address]
    assert heap.take_writes() == []


def test_many_and_long_strings_span_collections() -> None:
    heap = GlobalHeapWriter(EofAllocator(48))
    items = [str(i).encode() for i in range(MAX_OBJECTS + 10)] + [b"x" * (3 << 20)]
    refs = _references(heap.store(items))
    collections = _collections(heap.take_writes())
    assert len(collections) >= 3
    for ref, item in zip(refs, items, strict=True):
        assert collections[ref.collection_address].object(ref.object_index).data == item
    assert all(len(c.objects) <= MAX_OBJECTS for c in collections.values())
