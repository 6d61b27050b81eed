"""Pure-Python SWMR reader: open an HDF5 file that a writer is still appending to, and follow it."""

from __future__ import annotations

from h5swmr.reader.file import SwmrFileReader

__all__ = ["SwmrFileReader"]
