"""Dense storage of links and attributes: their messages in a fractal heap, found through a
v2 B-tree name index.

Supports a root direct block, or a root indirect block whose used rows hold direct blocks
(groups up to thousands of links); deeper heaps raise UnsupportedError.
"""

from __future__ import annotations

from h5swmr.errors import FormatError, UnsupportedError
from h5swmr.format.constants import MessageFlags
from h5swmr.format.fractal_heap import (
    FractalHeapHeader,
    HeapId,
    IndirectBlock,
    check_direct_block,
)
from h5swmr.format.messages.attribute_info import AttributeInfoMessage
from h5swmr.format.messages.link import LinkMessage
from h5swmr.format.messages.link_info import LinkInfoMessage
from h5swmr.reader.btree_v2 import read_header, records
from h5swmr.reader.source import FileSource

LINK_NAME_RECORDS = 5
ATTRIBUTE_NAME_RECORDS = 8
ATTRIBUTE_HEAP_ID_SIZE = 8
"""An attribute name record: heap ID, message flags (1), creation order (4), name hash (4)."""


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
        self._layout = self._block_layout()

    def _block_layout(self) -> list[tuple[int, int, int]]:
        """(heap offset, size, address) of every direct block."""
        h = self.header
        if h.root_rows == 0:
            return [(0, h.start_block_size, h.root_address)]
        if h.root_rows > h.direct_rows:
            raise UnsupportedError("fractal heap: nested indirect blocks are not supported")
        root = self._src.block(
            h.root_address,
            IndirectBlock.size(h, h.root_rows),
            lambda b: IndirectBlock.decode(b, h, h.root_rows, address=h.root_address),
            "fractal heap indirect block",
        )
        blocks, offset = [], 0
        for position, child in enumerate(root.children):
            size = h.row_block_size(position // h.table_width)
            blocks.append((offset, size, child))
            offset += size
        return blocks

    def read(self, heap_id: HeapId) -> bytes:
        if heap_id.tiny is not None:
            return heap_id.tiny
        for offset, size, address in self._layout:
            if offset <= heap_id.offset < offset + size:
                within = heap_id.offset - offset
                if within + heap_id.length > size:
                    break
                return self._direct(address, size)[within : within + heap_id.length]
        raise FormatError(f"fractal heap: object at offset {heap_id.offset} is in no block")

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
    if tree.tree_type != LINK_NAME_RECORDS or tree.record_size != 4 + heap.header.id_length:
        raise FormatError(f"dense group: name index of type {tree.tree_type}")
    return [
        LinkMessage.decode(heap.read(HeapId.decode(raw[4:], heap.header)))
        for raw in records(src, tree)
    ]


def read_dense_attribute_bodies(src: FileSource, info: AttributeInfoMessage) -> list[bytes]:
    """The attribute message bodies of an object with dense attribute storage."""
    heap = _Heap(src, info.fractal_heap_address)
    tree = read_header(src, info.name_index_address)
    if tree.tree_type != ATTRIBUTE_NAME_RECORDS or tree.record_size != ATTRIBUTE_HEAP_ID_SIZE + 9:
        raise FormatError(
            f"dense attributes: name index of type {tree.tree_type} with "
            f"{tree.record_size}-byte records"
        )
    bodies = []
    for raw in records(src, tree):
        if raw[ATTRIBUTE_HEAP_ID_SIZE] & MessageFlags.SHARED:
            raise UnsupportedError("dense attributes: a shared attribute message")
        bodies.append(heap.read(HeapId.decode(raw[:ATTRIBUTE_HEAP_ID_SIZE], heap.header)))
    return bodies
