"""The order of a flush: what SWMR readers need on disk before each thing that points at it.

Every part of the writer adds its writes to the named phase of a CommitPlan they belong to (chunk
indexes in ``commit(plan)``; a dataset's header is the Write its ``commit_header`` returns), and
``CommitPlan.phases`` hands them out in the one order a commit may have
(shared/docs/hdf5-swmr-format.md, "commit order"):

1. chunk index leaf blocks (extensible-array data blocks and pages, fixed-array pages) and the
   attribute blocks of dataset headers;
2. their parents (extensible-array super blocks; the fixed-array data block, whose page bitmap
   says which pages are written);
3. extensible-array index blocks;
4. chunk index headers: an extensible array's commit point is its header's ``max_index_set``;
5. dataset object headers (the dims a reader trusts, rewritten in place);
6. group headers (new links to what is now complete);
7. the superblock (its end of file covers everything above), last, when it changed: its end of
   file runs ahead of the allocated end (the writer's EOF reserve), so most commits leave it.

The chunk bytes themselves are written before the commit starts (``ChunkSink``, through the
same storage ``OrderedWriter`` that then writes these phases).
"""

from __future__ import annotations

from h5swmr.storage.commit import Write
from h5swmr.storage.file import Buffer


class CommitPlan:
    """The writes of one commit, by phase: each part of the writer adds its writes to the phase
    they belong to, in any order; ``phases`` hands them out in the order above.

    One plan serves every commit of a writer (``clear`` empties it), so a flush allocates no
    more lists than the phases it writes.
    """

    __slots__ = (
        "_phases",
        "_superblock",
        "group_headers",
        "index_blocks",
        "index_headers",
        "leaves",
        "object_headers",
        "parents",
    )

    def __init__(self) -> None:
        self.leaves: list[Write] = []
        """Index blocks that hold elements (extensible-array data blocks and pages, fixed-array
        pages) and attribute blocks: nothing points at them yet."""
        self.parents: list[Write] = []
        """Blocks that point at leaves: extensible-array super blocks, fixed-array data blocks."""
        self.index_blocks: list[Write] = []
        """Extensible-array index blocks."""
        self.index_headers: list[Write] = []
        """Chunk index headers: each index's commit point."""
        self.object_headers: list[Write] = []
        """Dataset object headers, rewritten in place."""
        self.group_headers: list[Write] = []
        self._superblock: list[Write] = []
        self._phases = [
            self.leaves,
            self.parents,
            self.index_blocks,
            self.index_headers,
            self.object_headers,
            self.group_headers,
            self._superblock,
        ]
        """The phases in commit order, made once (parts add to the lists, never replace them)."""

    def clear(self) -> None:
        if any(self._phases):  # most commits fill two or three phases
            for phase in self._phases:
                phase.clear()

    def phases(self, superblock: Buffer | None) -> list[list[Write]]:
        """Every write, phase by phase, the superblock (None: unchanged) alone in the last."""
        if superblock is not None:  # emptied with the others once written
            self._superblock.append((0, superblock))
        return self._phases
