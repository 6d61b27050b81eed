"""ReorderBuffer: puts frames that arrive out of order back in ``image_id`` order, in bounded
memory and time, for an append-only dataset whose row i must hold image i.

Why a buffer and not a grid dataset: a streaming dataset is what live readers follow (its extent
grows frame by frame, each frame published with its metadata), and a compressed payload can only
be appended verbatim (``append_chunk``) to a stream. Detector frames arrive in order almost
always; the rare swap between two nearby frames is absorbed by a small window. A frame that does
not come within the window (``max_frames`` held) or in time (``timeout`` seconds) becomes a gap:
row ``image_id`` gets a placeholder and the series' ``received`` mask says 0 there, so a frame
never lands at a wrong index. One that arrives after its gap was written is "late": counted and
logged, not written (its row is already published). Memory stays below ``max_frames`` frames.

With ``fill_gaps=False`` (several receivers share the stream, so the ids a receiver does not see
went to another one) every frame is released at once, as it came: the master maps each frame by
the ``image_id`` stored with it, so no order is needed (and holding frames back would only delay
them: a receiver cannot tell a frame still to come from one sent to another receiver).

Pure: no clock of its own and no I/O; the caller passes ``now``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Released(Generic[T]):
    """Row ``image_id`` in order: ``item`` None is a gap placeholder."""

    image_id: int
    item: T | None


class ReorderBuffer(Generic[T]):
    def __init__(
        self, *, max_frames: int, timeout: float, fill_gaps: bool = True, first_id: int = 0
    ) -> None:
        if max_frames < 0 or timeout < 0:
            raise ValueError("max_frames and timeout must be >= 0")
        self.max_frames = max_frames
        self.timeout = timeout
        self.fill_gaps = fill_gaps
        self.next_id = first_id
        """The id the next released row has (fill_gaps) or one past the last released."""
        self._heap: list[tuple[int, float]] = []
        self._items: dict[int, T] = {}
        self._gap_ids: set[int] = set()
        self.late = 0
        self.duplicates = 0
        self.gaps = 0

    def __len__(self) -> int:
        return len(self._items)

    def push(self, image_id: int, item: T, now: float) -> list[Released[T]]:
        """Take frame ``image_id``; the rows that become ready, in order. With fill_gaps, a frame
        whose row was already released is refused: ``late`` counts one whose row is a gap,
        ``duplicates`` one already written (or held)."""
        if not self.fill_gaps:
            self.next_id = max(self.next_id, image_id + 1)
            return [Released(image_id, item)]
        if image_id in self._items:
            self.duplicates += 1
            return []
        if image_id < self.next_id:
            if image_id in self._gap_ids:  # its row is a placeholder already published
                self.late += 1
            else:  # its row holds it already
                self.duplicates += 1
            return []
        self._items[image_id] = item
        heapq.heappush(self._heap, (image_id, now))
        return self._release(now, force=False)

    def poll(self, now: float) -> list[Released[T]]:
        """Rows whose wait is over (the oldest held frame waited ``timeout`` seconds)."""
        return self._release(now, force=False)

    def drain(self, until: int | None = None) -> list[Released[T]]:
        """Everything held, in order (gaps between, with fill_gaps); with ``until``, gap rows up
        to ``until`` (exclusive) as well."""
        released = self._release(0.0, force=True)
        if self.fill_gaps and until is not None:
            while self.next_id < until:
                released.append(self._gap())
        return released

    def _gap(self) -> Released[T]:
        self.gaps += 1
        self._gap_ids.add(self.next_id)
        self.next_id += 1
        return Released(self.next_id - 1, None)

    def _release(self, now: float, *, force: bool) -> list[Released[T]]:
        released: list[Released[T]] = []
        while self._heap:
            lowest, arrived = self._heap[0]
            ready = lowest == self.next_id
            overdue = force or len(self._items) > self.max_frames or now - arrived >= self.timeout
            if not ready and not overdue:
                break
            if lowest > self.next_id:
                released.append(self._gap())  # give up on next_id: a gap, then look again
                continue
            heapq.heappop(self._heap)
            released.append(Released(lowest, self._items.pop(lowest)))
            self.next_id = max(self.next_id, lowest + 1)
        return released
