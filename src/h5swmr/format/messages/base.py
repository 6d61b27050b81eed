"""The contract every object header message follows."""

from __future__ import annotations

from typing import ClassVar, Protocol, Self

from h5swmr.format.constants import MessageFlags, MessageType
from h5swmr.format.cursor import BytesLike


class Message(Protocol):
    """An object header message: its type, default flags and its body bytes (no message header)."""

    TYPE: ClassVar[MessageType]
    FLAGS: ClassVar[MessageFlags]

    def encode(self) -> bytes: ...

    @classmethod
    def decode(cls, buf: BytesLike) -> Self: ...
