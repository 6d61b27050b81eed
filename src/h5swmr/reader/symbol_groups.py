"""Groups of libhdf5's default format: a symbol table message -> v1 B-tree of group nodes ->
symbol table nodes (SNOD), whose entries name links by offset into the group's local heap."""

from __future__ import annotations

from h5swmr.access.btree_v1 import leaves
from h5swmr.access.source import FileSource
from h5swmr.format.btree_v1 import GROUP_NODE
from h5swmr.format.cursor import BytesLike
from h5swmr.format.local_heap import LocalHeap, heap_string
from h5swmr.format.symbol_table import SymbolTableMessage, SymbolTableNode
from h5swmr.reader.links import Link

SOFT_LINK_CACHE = 2
"""Cache type of an entry whose scratch pad holds the heap offset of a soft link's target."""


def read_symbol_table_links(src: FileSource, body: BytesLike) -> dict[str, Link]:
    table = SymbolTableMessage.decode(body)
    heap = LocalHeap.decode(src.read(table.heap_address, LocalHeap.SIZE, "local heap"))
    names = src.read(heap.data_address, heap.data_size, "local heap data")
    links = {}
    for _, node_address in leaves(src, table.btree_address, GROUP_NODE):
        head = src.read(node_address, SymbolTableNode.HEAD_SIZE, "symbol table node")
        raw = src.read(node_address, SymbolTableNode.used_size(head), "symbol table node")
        for entry in SymbolTableNode.decode(raw, address=node_address).entries:
            name = heap_string(names, entry.name_offset)
            if entry.cache_type == SOFT_LINK_CACHE:
                target = heap_string(names, entry.soft_link_offset)
                links[name] = Link(name, "soft", target=target)
            else:
                links[name] = Link(name, "hard", entry.object_address)
    return links
