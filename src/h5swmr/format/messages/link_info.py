"""Link info message, type 0x0002 (spec §IV.A.2.c; libhdf5 H5Olinfo.c).

A group in the latest format has one. Compact storage (link messages in the object header)
is marked by an undefined fractal-heap address.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from h5swmr.format.constants import MessageType
from h5swmr.format.messages.dense_info import DenseStorageInfo


@dataclass(frozen=True, slots=True)
class LinkInfoMessage(DenseStorageInfo):
    """Where a group's links live; the defaults describe compact storage, no creation order."""

    TYPE: ClassVar[MessageType] = MessageType.LINK_INFO
    WHAT: ClassVar[str] = "link info message"
    MAX_INDEX: ClassVar[struct.Struct] = struct.Struct("<Q")
