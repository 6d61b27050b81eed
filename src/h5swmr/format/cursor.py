"""Bounded little-endian reads, so decoders never let struct or index errors escape."""

from __future__ import annotations

import struct
from typing import TypeAlias

from h5swmr.errors import TruncatedError

BytesLike: TypeAlias = bytes | bytearray | memoryview

_UINT = {size: struct.Struct("<" + code) for size, code in ((1, "B"), (2, "H"), (4, "I"), (8, "Q"))}


class ByteCursor:
    """Reads fields one after another from ``buf``; running past its end raises TruncatedError."""

    __slots__ = ("_buf", "offset", "what")

    def __init__(self, buf: BytesLike, what: str, offset: int = 0) -> None:
        self._buf = memoryview(buf).cast("B") if not isinstance(buf, bytes) else buf
        self.offset = offset
        self.what = what

    @property
    def remaining(self) -> int:
        return len(self._buf) - self.offset

    def _need(self, size: int) -> int:
        start = self.offset
        if size < 0 or start + size > len(self._buf):
            raise TruncatedError(
                f"{self.what}: needs {size} bytes at offset {start}, only {self.remaining} left",
                structure=self.what,
            )
        self.offset = start + size
        return start

    def read(self, size: int) -> bytes:
        start = self._need(size)
        return bytes(self._buf[start : start + size])

    def uint(self, size: int) -> int:
        """An unsigned little-endian integer of 1, 2, 4 or 8 bytes, or any other width."""
        start = self._need(size)
        packer = _UINT.get(size)
        if packer is not None:
            value: int = packer.unpack_from(self._buf, start)[0]
            return value
        return int.from_bytes(self._buf[start : start + size], "little")

    def u8(self) -> int:
        return self.uint(1)

    def u16(self) -> int:
        return self.uint(2)

    def u32(self) -> int:
        return self.uint(4)

    def u64(self) -> int:
        return self.uint(8)

    def unpack(self, layout: struct.Struct) -> tuple[int, ...]:
        start = self._need(layout.size)
        values: tuple[int, ...] = layout.unpack_from(self._buf, start)
        return values

    def skip(self, size: int) -> None:
        self._need(size)

    def cstring(self) -> bytes:
        """A NUL-terminated string; the NUL is consumed but not returned."""
        start, buf = self.offset, self._buf
        if isinstance(buf, bytes):
            end = buf.find(b"\x00", start)
        else:  # no find on a memoryview: look in growing windows, never copying the rest whole
            end, lo, window = -1, start, 64
            while lo < len(buf):
                hi = min(len(buf), start + window)
                found = bytes(buf[lo:hi]).find(b"\x00")
                if found >= 0:
                    end = lo + found
                    break
                lo, window = hi, 2 * window
        if end < 0:
            raise TruncatedError(f"{self.what}: string without NUL terminator", structure=self.what)
        self.offset = end + 1
        return bytes(buf[start:end])
