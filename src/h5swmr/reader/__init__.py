"""Pure-Python SWMR reader: open an HDF5 file that a writer is still appending to, and follow it."""

from __future__ import annotations

from h5swmr.reader.file import SwmrFileReader
from h5swmr.reader.group import ExternalLink, File, Group, HardLink, SoftLink
from h5swmr.reader.h5dataset import Dataset

__all__ = ["Dataset", "ExternalLink", "File", "Group", "HardLink", "SoftLink", "SwmrFileReader"]
