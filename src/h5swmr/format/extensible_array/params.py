"""Creation parameters of an extensible array and the block geometry that follows from them."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from h5swmr.errors import FormatError


@dataclass(frozen=True, slots=True)
class SuperBlockInfo:
    """Geometry of super block ``index``: how many data blocks it has and how big they are."""

    index: int
    n_data_blocks: int
    data_block_elements: int
    start_index: int
    """Array index of the first element of this super block, the index block's elements excluded."""
    start_data_block: int
    """Number of data blocks in all earlier super blocks."""


@dataclass(frozen=True, slots=True)
class ExtensibleArrayParams:
    """libhdf5's five creation parameters (H5Dpkg.h H5D_EARRAY_*), defaults as libhdf5's."""

    max_nelmts_bits: int = 32
    idx_blk_elmts: int = 4
    sup_blk_min_data_ptrs: int = 4
    data_blk_min_elmts: int = 16
    max_dblk_page_nelmts_bits: int = 10

    def __post_init__(self) -> None:
        def is_power_of_two(n: int) -> bool:
            return n > 0 and n & (n - 1) == 0

        if not (
            0 < self.max_nelmts_bits <= 64
            and 0 < self.idx_blk_elmts <= 255
            and is_power_of_two(self.sup_blk_min_data_ptrs)
            and self.sup_blk_min_data_ptrs >= 2
            and is_power_of_two(self.data_blk_min_elmts)
            and 0 < self.max_dblk_page_nelmts_bits <= self.max_nelmts_bits
            and self.data_blk_min_elmts.bit_length() - 1 < self.max_nelmts_bits
            and self.n_super_blocks >= self.index_block_super_blocks
        ):
            raise FormatError(f"invalid extensible array parameters {self}", structure="EA params")

    @property
    def n_super_blocks(self) -> int:
        return 1 + self.max_nelmts_bits - (self.data_blk_min_elmts.bit_length() - 1)

    @property
    def array_offset_size(self) -> int:
        """Width in bytes of the block-offset field of super and data blocks."""
        return (self.max_nelmts_bits + 7) // 8

    @property
    def page_elements(self) -> int:
        return 1 << self.max_dblk_page_nelmts_bits

    @property
    def index_block_super_blocks(self) -> int:
        """Super blocks whose data blocks hang directly off the index block."""
        return 2 * (self.sup_blk_min_data_ptrs.bit_length() - 1)

    @property
    def index_block_data_block_addresses(self) -> int:
        return 2 * (self.sup_blk_min_data_ptrs - 1)

    @property
    def index_block_super_block_addresses(self) -> int:
        return self.n_super_blocks - self.index_block_super_blocks

    @property
    def max_elements(self) -> int:
        return 1 << self.max_nelmts_bits

    def super_block(self, index: int) -> SuperBlockInfo:
        return _super_blocks(self)[index]

    def super_blocks(self) -> tuple[SuperBlockInfo, ...]:
        return _super_blocks(self)

    def locate(self, element: int) -> tuple[SuperBlockInfo, int, int]:
        """Where array element ``element`` (>= idx_blk_elmts) lives.

        Returns the super block, the data block's number within that super block and the
        element's position within that data block (H5EA__lookup_elmt, H5EA__dblock_sblk_idx).
        """
        j = element - self.idx_blk_elmts
        if j < 0 or element >= self.max_elements:
            raise FormatError(f"element {element} is not in a data block", structure="EA")
        s = (j // self.data_blk_min_elmts + 1).bit_length() - 1
        info = _super_blocks(self)[s]
        within = j - info.start_index
        return info, within // info.data_block_elements, within % info.data_block_elements

    def is_paged(self, info: SuperBlockInfo) -> bool:
        return info.data_block_elements > self.page_elements

    def pages_per_data_block(self, info: SuperBlockInfo) -> int:
        return info.data_block_elements // self.page_elements if self.is_paged(info) else 0

    def data_block_offset(self, info: SuperBlockInfo, data_block: int) -> int:
        """The block-offset field libhdf5 stores in a data block.

        For data blocks that hang off the index block, libhdf5 multiplies the block's position in
        the index block's list (not within its super block) by the block size; readers ignore the
        field, and h5swmr copies the quirk so its bytes match libhdf5's.
        """
        if info.index < self.index_block_super_blocks:
            return info.start_index + (info.start_data_block + data_block) * (
                info.data_block_elements
            )
        return info.start_index + data_block * info.data_block_elements


@functools.cache
def _super_blocks(params: ExtensibleArrayParams) -> tuple[SuperBlockInfo, ...]:
    infos = []
    start_index = start_data_block = 0
    for s in range(params.n_super_blocks):
        n_data_blocks = 1 << (s // 2)
        elements = (1 << ((s + 1) // 2)) * params.data_blk_min_elmts
        infos.append(SuperBlockInfo(s, n_data_blocks, elements, start_index, start_data_block))
        start_index += n_data_blocks * elements
        start_data_block += n_data_blocks
    return tuple(infos)
