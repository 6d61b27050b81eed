"""The order of a flush: what SWMR readers need on disk before each thing that points at it.

Every part of the writer hands its writes in as named records; ``CommitPlan.phases`` puts them in
the one order a commit may have (shared/docs/hdf5-swmr-format.md, "commit order"):

1. chunk index leaf blocks (extensible-array data blocks and pages, fixed-array pages) and the
   attribute blocks of dataset headers;
2. their parents (extensible-array super blocks, the fixed-array data block with its bitmap);
3. extensible-array index blocks;
4. chunk index headers: an index's commit point (``max_index_set``, the fixed array's bitmap);
5. dataset object headers (the dims a reader trusts, rewritten in place);
6. group headers (new links to what is now complete);
7. the superblock (its end of file covers everything above), last.

The chunk bytes themselves are written before the commit starts (``ChunkSink``).
"""

from __future__ import annotations

from typing import NamedTuple

from h5swmr.storage.commit import Write


class IndexWrites(NamedTuple):
    """What a chunk index writes at a commit, by phase (children before their parents)."""

    leaves: list[Write]
    """Blocks that hold elements: extensible-array data blocks and pages, fixed-array pages."""
    parents: list[Write]
    """Blocks that point at leaves: extensible-array super blocks, the fixed-array data block."""
    index_block: list[Write]
    """The extensible array's index block (a fixed array has none)."""
    header: list[Write]
    """The index header: the index's commit point."""


class CommitPlan:
    """The writes of one commit, collected in any order and handed out in the order above."""

    __slots__ = ("_groups", "_header", "_index_block", "_leaves", "_objects", "_parents")

    def __init__(self) -> None:
        self._leaves: list[Write] = []
        self._parents: list[Write] = []
        self._index_block: list[Write] = []
        self._header: list[Write] = []
        self._objects: list[Write] = []
        self._groups: list[Write] = []

    def add_index(self, writes: IndexWrites) -> None:
        self._leaves += writes.leaves
        self._parents += writes.parents
        self._index_block += writes.index_block
        self._header += writes.header

    def add_attribute_blocks(self, writes: list[Write]) -> None:
        """Continuation blocks of attributes: nothing points at them until their header does."""
        self._leaves += writes

    def add_object_header(self, write: Write | None) -> None:
        if write is not None:
            self._objects.append(write)

    def add_group_headers(self, writes: list[Write]) -> None:
        self._groups += writes

    def phases(self, superblock: bytes) -> list[list[Write]]:
        """Every write, phase by phase, the superblock alone in the last."""
        return [
            self._leaves,
            self._parents,
            self._index_block,
            self._header,
            self._objects,
            self._groups,
            [(0, superblock)],
        ]
