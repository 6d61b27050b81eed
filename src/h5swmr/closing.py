"""``Closing``: the context-manager protocol of every h5swmr object that holds a file or workers.

Writers, readers, rollover and distributed writers all end a ``with`` block by calling their
``close()``, whether the block ended normally or by an exception (a writer's ``close`` is what
clears the consistency flags, so it must run on an error too). One base class says that once. It
imports nothing from h5swmr, so every layer may use it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class Closing(ABC):
    """A resource closed at the end of a ``with`` block, normal or not; ``close()`` does the work.

    ``__exit__`` never swallows the exception that ended the block. Slotted and stateless, so a
    subclass keeps its own ``__slots__`` or ``__dict__`` as it had.
    """

    __slots__ = ()

    @abstractmethod
    def close(self) -> object:
        """Release what the object holds; a second call does nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
