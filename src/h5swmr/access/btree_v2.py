"""Walking a v2 B-tree (depth first, bounded) and decoding its chunk records (types 10 and 11)."""

from __future__ import annotations

from collections.abc import Iterator

from h5swmr.access.source import FileSource
from h5swmr.errors import FormatError
from h5swmr.format.btree_v2 import (
    CHUNK_FILTERED,
    CHUNK_UNFILTERED,
    BTreeV2Header,
    BTreeV2Node,
    chunk_record_size,
    decode_chunk_record,
)
from h5swmr.format.chunk_records import ChunkRecord


def read_header(src: FileSource, address: int) -> BTreeV2Header:
    return src.block(
        address,
        BTreeV2Header.SIZE,
        lambda b: BTreeV2Header.decode(b, address=address),
        "v2 B-tree header",
    )


def records(src: FileSource, header: BTreeV2Header) -> Iterator[bytes]:
    """Every record of the tree; never more than the header's total, never a node twice."""
    if not header.total_records:
        return
    src.check(0, header.total_records * header.record_size, "v2 B-tree records")
    seen: set[int] = set()
    stack = [(header.root_address, header.depth, header.root_records)]
    while stack:
        address, level, count = stack.pop()
        if address in seen:
            raise FormatError(f"v2 B-tree: node at address {address} reached twice")
        seen.add(address)
        node = _node(src, header, address, level, count)
        yield from node.records
        stack.extend((child, level - 1, n) for child, n in reversed(node.children))


def chunk_records(src: FileSource, address: int, rank: int) -> dict[tuple[int, ...], ChunkRecord]:
    """Scaled chunk coordinates -> record, for a dataset's v2 B-tree chunk index."""
    header = read_header(src, address)
    if header.tree_type not in (CHUNK_UNFILTERED, CHUNK_FILTERED):
        raise FormatError(f"v2 B-tree chunk index of record type {header.tree_type}")
    filtered = header.tree_type == CHUNK_FILTERED
    size_width = header.record_size - chunk_record_size(rank, 0, filtered=True) if filtered else 0
    if (filtered and not 1 <= size_width <= 8) or (
        not filtered and header.record_size != chunk_record_size(rank, 0, filtered=False)
    ):
        raise FormatError(f"v2 B-tree: {header.record_size}-byte chunk records for rank {rank}")
    found = {}
    for raw in records(src, header):
        scaled, chunk_address, size, mask = decode_chunk_record(
            raw, rank, size_width, filtered=filtered
        )
        found[scaled] = ChunkRecord(chunk_address, size, mask)
    return found


def _node(
    src: FileSource, header: BTreeV2Header, address: int, level: int, count: int
) -> BTreeV2Node:
    def decode(buf: bytes) -> BTreeV2Node:
        return BTreeV2Node.decode(buf, header, level, count, address=address)

    src.check(address, 1, "v2 B-tree node")
    return src.block(address, min(header.node_size, src.size - address), decode, "v2 B-tree node")
