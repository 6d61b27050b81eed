"""The one read path into an HDF5 file: the reader, ``open_append`` and ``recover`` all use it.

- ``source``: FileSource, bounded positional reads that never reach past the file's end, and
  retries of checksummed blocks that a SWMR writer may be rewriting;
- ``object_headers``: an object header (version 1 or 2) with all its continuation chunks;
- ``chunk_index`` and the lookups below it (``extensible_array``, ``fixed_array``, ``btree_v1``,
  ``btree_v2``): a chunk's record from its position in the chunk grid.

It sits below ``writer`` and ``reader`` and above ``storage`` and ``format``; it never imports
``filters`` (decoding chunk data is the reader's job, not part of finding it).
"""
