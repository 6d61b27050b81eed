"""Attribute info message, type 0x0015 (spec §IV.A.2.v; libhdf5 H5Oainfo.c).

An object in the latest format may carry one. Attributes stay in the object header (compact
storage, undefined fractal-heap address) until there are more than the object's compact limit
(8 by default) or one is too large for a header message; libhdf5 then moves every attribute
into a fractal heap indexed by name in a v2 B-tree (dense storage).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from h5swmr.format.constants import MessageType
from h5swmr.format.messages.dense_info import DenseStorageInfo


@dataclass(frozen=True, slots=True)
class AttributeInfoMessage(DenseStorageInfo):
    """Where an object's attributes live; the defaults describe compact storage. The maximum
    creation index takes 16 bits here (64 in the link info message)."""

    TYPE: ClassVar[MessageType] = MessageType.ATTRIBUTE_INFO
    WHAT: ClassVar[str] = "attribute info message"
    MAX_INDEX: ClassVar[struct.Struct] = struct.Struct("<H")

    @property
    def is_dense(self) -> bool:
        return not self.is_compact
