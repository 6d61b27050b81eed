"""Dense storage of links and attributes: their messages in a fractal heap, found through a
v2 B-tree name index.

Managed objects live in direct blocks under a tree of indirect blocks (the root one's rows of
direct blocks first, then rows of child indirect blocks as the heap grows); huge objects (an
attribute over the heap's managed size) lie in the file on their own.
"""

from __future__ import annotations

from h5swmr.access.btree_v2 import read_header, records
from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.btree_v2 import (
    ATTRIBUTE_NAME_RECORD_SIZE,
    ATTRIBUTE_NAME_RECORDS,
    HUGE_OBJECT_RECORD_SIZE,
    HUGE_OBJECT_RECORDS,
    LINK_NAME_RECORDS,
    decode_attribute_name_record,
    decode_huge_object_record,
    link_name_record_heap_id,
    link_name_record_size,
)
from h5swmr.format.constants import UNDEFINED_ADDRESS, MessageFlags
from h5swmr.format.fractal_heap import (
    FractalHeapHeader,
    HeapId,
    IndirectBlock,
    check_direct_block,
)
from h5swmr.format.messages.attribute_info import AttributeInfoMessage
from h5swmr.format.messages.link import LinkMessage
from h5swmr.format.messages.link_info import LinkInfoMessage

MAX_INDIRECT_BLOCKS = 1 << 16
MAX_ROWS = 64


class _Heap:
    def __init__(self, src: FileSource, address: int) -> None:
        self._src = src
        self.header = src.block(
            address,
            FractalHeapHeader.SIZE,
            lambda b: FractalHeapHeader.decode(b, address=address),
            "fractal heap header",
        )
        self._blocks: dict[int, bytes] = {}
        self._huge_objects: dict[int, tuple[int, int]] | None = None
        self._layout = self._block_layout()

    def _block_layout(self) -> list[tuple[int, int, int]]:
        """(heap offset, size, address) of every direct block."""
        h = self.header
        if h.root_rows == 0:
            return [(0, h.start_block_size, h.root_address)]
        blocks: list[tuple[int, int, int]] = []
        self._walk_indirect(h.root_address, h.root_rows, 0, blocks, set())
        return blocks

    def _walk_indirect(
        self,
        address: int,
        rows: int,
        offset: int,
        blocks: list[tuple[int, int, int]],
        seen: set[int],
    ) -> None:
        h = self.header
        if address in seen or len(seen) >= MAX_INDIRECT_BLOCKS or rows > MAX_ROWS:
            raise FormatError(f"fractal heap: indirect block at {address} loops or is too deep")
        seen.add(address)
        block = self._src.block(
            address,
            IndirectBlock.size(h, rows),
            lambda b: IndirectBlock.decode(b, h, rows, address=address),
            "fractal heap indirect block",
        )
        for position, child in enumerate(block.children):
            row = position // h.table_width
            size = h.row_block_size(row)
            if child != UNDEFINED_ADDRESS:
                if row < h.direct_rows:
                    blocks.append((offset, size, child))
                else:
                    self._walk_indirect(child, h.indirect_rows(size), offset, blocks, seen)
            offset += size

    def read(self, heap_id: HeapId) -> bytes:
        if heap_id.tiny is not None:
            return heap_id.tiny
        if heap_id.huge:
            return self._huge(heap_id)
        for offset, size, address in self._layout:
            if offset <= heap_id.offset < offset + size:
                within = heap_id.offset - offset
                if within + heap_id.length > size:
                    break
                return self._direct(address, size)[within : within + heap_id.length]
        raise FormatError(f"fractal heap: object at offset {heap_id.offset} is in no block")

    def _huge(self, heap_id: HeapId) -> bytes:
        address, length = heap_id.offset, heap_id.length
        if heap_id.key is not None:
            if self._huge_objects is None:
                self._huge_objects = self._read_huge_index()
            found = self._huge_objects.get(heap_id.key)
            if found is None:
                raise FormatError(f"fractal heap: huge object {heap_id.key} is not in its index")
            address, length = found
        self._src.check(address, length, "fractal heap huge object")
        return self._src.read(address, length, "fractal heap huge object")

    def _read_huge_index(self) -> dict[int, tuple[int, int]]:
        """Key -> (address, length) of every huge object, from the heap's v2 B-tree."""
        tree = read_header(self._src, self.header.huge_btree_address)
        if tree.tree_type != HUGE_OBJECT_RECORDS or tree.record_size != HUGE_OBJECT_RECORD_SIZE:
            raise FormatError(
                f"fractal heap: huge-object index of type {tree.tree_type} "
                f"with {tree.record_size}-byte records"
            )
        found = {}
        for raw in records(self._src, tree):
            address, length, key = decode_huge_object_record(raw)
            found[key] = (address, length)
        return found

    def _direct(self, address: int, size: int) -> bytes:
        if address not in self._blocks:

            def load() -> bytes:
                data = self._src.read(address, size, "fractal heap direct block")
                check_direct_block(data, self.header, address=address)
                return data

            self._blocks[address] = self._src.retried(load, "fractal heap direct block")
        return self._blocks[address]


def read_dense_link_messages(src: FileSource, info: LinkInfoMessage) -> list[LinkMessage]:
    """The link messages of a dense group, in name-index order."""
    heap = _Heap(src, info.fractal_heap_address)
    tree = read_header(src, info.name_index_address)
    if tree.tree_type != LINK_NAME_RECORDS or tree.record_size != link_name_record_size(
        heap.header.id_length
    ):
        raise FormatError(f"dense group: name index of type {tree.tree_type}")
    return [
        LinkMessage.decode(heap.read(HeapId.decode(link_name_record_heap_id(raw), heap.header)))
        for raw in records(src, tree)
    ]


def read_dense_attribute_bodies(src: FileSource, info: AttributeInfoMessage) -> list[bytes]:
    """The attribute message bodies of an object with dense attribute storage."""
    heap = _Heap(src, info.fractal_heap_address)
    tree = read_header(src, info.name_index_address)
    if tree.tree_type != ATTRIBUTE_NAME_RECORDS or tree.record_size != ATTRIBUTE_NAME_RECORD_SIZE:
        raise FormatError(
            f"dense attributes: name index of type {tree.tree_type} with "
            f"{tree.record_size}-byte records"
        )
    bodies = []
    for raw in records(src, tree):
        heap_id, flags = decode_attribute_name_record(raw)
        if flags & MessageFlags.SHARED:
            raise UnsupportedError("dense attributes: a shared attribute message")
        bodies.append(heap.read(HeapId.decode(heap_id, heap.header)))
    return bodies
