"""Append-only space allocation at the end of the file.

Space is never freed or reused while a file is written: a SWMR reader may still hold an old index
block that points at old space (libhdf5 does the same under SWMR).
"""

from __future__ import annotations

import math
from typing import Final

PAGE_SIZE: Final = 4096
"""Blocks rewritten in place stay inside one page of this size: a killed write cannot tear them."""


class EofAllocator:
    """Hands out addresses at the end of allocated space (the EOA libhdf5 stores as the EOF)."""

    __slots__ = ("align_interval", "align_threshold", "eoa")

    def __init__(self, eoa: int, *, align_threshold: int = 1, align_interval: int = 1) -> None:
        self.eoa = eoa
        self.align_threshold = align_threshold
        """Blocks of at least this many bytes start at a multiple of ``align_interval`` (as
        libhdf5's H5Pset_alignment: chunks on Lustre stripe or GPFS block boundaries)."""
        self.align_interval = align_interval

    def allocate(self, size: int, *, within_page: bool = False) -> int:
        """Address of ``size`` fresh bytes.

        With ``within_page``, a block that fits in one page is placed so it does not cross a page
        boundary: the pages of an in-place rewrite are then written by the kernel in one piece.
        """
        if size < 0:
            raise ValueError(f"cannot allocate {size} bytes")
        address = self.eoa
        if within_page and size <= PAGE_SIZE:  # before alignment: it keeps rewrites untorn
            page_end = (address // PAGE_SIZE + 1) * PAGE_SIZE
            if address + size > page_end:
                address = page_end
        elif self.align_interval > 1 and size >= self.align_threshold:
            address += -address % self.align_interval
        self.eoa = address + size
        return address

    def allocate_pages(self, size: int) -> int:
        """Address of ``size`` fresh bytes in whole pages of their own: the block starts on a page
        boundary (and on the alignment interval, if it applies) and the space runs to the next
        one (``padded_size``), so it can be written with ``O_DIRECT`` and no other block
        shares its pages."""
        if size < 0:
            raise ValueError(f"cannot allocate {size} bytes")
        interval = PAGE_SIZE
        if self.align_interval > 1 and size >= self.align_threshold:
            interval = math.lcm(PAGE_SIZE, self.align_interval)
        address = self.eoa + (-self.eoa % interval)
        self.eoa = address + padded_size(size)
        return address

    def allocate_each(self, count: int, size: int) -> list[int]:
        """Addresses of ``count`` blocks of ``size`` bytes: one run, unless alignment applies to
        blocks of that size, which then each start on an alignment boundary."""
        if self.align_interval > 1 and size >= self.align_threshold:
            return [self.allocate(size) for _ in range(count)]
        base = self.allocate(count * size)
        return [base + i * size for i in range(count)]

    def allocate_page_aligned_at(self, size: int, offset: int) -> int:
        """Address of ``size`` fresh bytes whose byte ``offset`` starts a page."""
        address = self.eoa + (-(self.eoa + offset)) % PAGE_SIZE
        self.eoa = address + size
        return address


def padded_size(size: int) -> int:
    """``size`` rounded up to whole pages."""
    return size + (-size % PAGE_SIZE)


def crosses_page(address: int, size: int) -> bool:
    """Whether bytes ``[address, address + size)`` lie in more than one page."""
    return size > 0 and address // PAGE_SIZE != (address + size - 1) // PAGE_SIZE
