"""ReorderBuffer: rows in image_id order, gaps for frames that do not come, bounded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from h5swmr.receive.reorder import Released, ReorderBuffer


def rows(released: list[Released[str]]) -> list[tuple[int, str | None]]:
    return [(r.image_id, r.item) for r in released]


def test_in_order_frames_pass_at_once() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(max_frames=4, timeout=1.0)
    assert rows(buffer.push(0, "a", 0.0)) == [(0, "a")]
    assert rows(buffer.push(1, "b", 0.0)) == [(1, "b")]
    assert len(buffer) == 0


def test_a_swap_is_put_back_in_order() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(max_frames=4, timeout=1.0)
    assert buffer.push(1, "b", 0.0) == []
    assert rows(buffer.push(0, "a", 0.1)) == [(0, "a"), (1, "b")]
    assert buffer.gaps == 0


def test_a_full_window_gives_up_on_the_missing_frame() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(max_frames=2, timeout=10.0)
    assert buffer.push(1, "b", 0.0) == []
    assert buffer.push(2, "c", 0.0) == []
    assert rows(buffer.push(3, "d", 0.0)) == [(0, None), (1, "b"), (2, "c"), (3, "d")]
    assert buffer.gaps == 1
    assert buffer.push(0, "a", 0.0) == [] and buffer.late == 1  # its row is written


def test_a_gap_is_written_after_the_timeout() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(max_frames=16, timeout=1.0)
    buffer.push(2, "c", 5.0)
    assert buffer.poll(5.5) == []
    assert rows(buffer.poll(6.0)) == [(0, None), (1, None), (2, "c")]


def test_duplicates_and_drain() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(max_frames=16, timeout=1.0)
    buffer.push(3, "d", 0.0)
    buffer.push(3, "d", 0.0)
    assert buffer.duplicates == 1
    assert rows(buffer.push(0, "a", 0.0)) == [(0, "a")]
    assert buffer.push(0, "a", 0.0) == [] and buffer.duplicates == 2 and buffer.late == 0
    assert rows(buffer.drain(until=6)) == [
        (1, None),
        (2, None),
        (3, "d"),
        (4, None),
        (5, None),
    ]


def test_without_gap_filling_frames_pass_as_they_come() -> None:
    buffer: ReorderBuffer[str] = ReorderBuffer(max_frames=16, timeout=1.0, fill_gaps=False)
    assert rows(buffer.push(4, "e", 0.0)) == [(4, "e")]
    assert rows(buffer.push(2, "c", 0.0)) == [(2, "c")]
    assert buffer.drain(until=10) == []


@given(st.permutations(range(30)), st.integers(0, 8), st.sets(st.integers(0, 29), max_size=5))
def test_no_frame_ever_lands_at_a_wrong_row(order: list[int], window: int, lost: set[int]) -> None:
    buffer: ReorderBuffer[int] = ReorderBuffer(max_frames=window, timeout=1e9)
    out: list[Released[int]] = []
    for image_id in order:
        if image_id not in lost:
            out += buffer.push(image_id, image_id, 0.0)
        assert len(buffer) <= window
    out += buffer.drain(until=30)
    assert [r.image_id for r in out] == list(range(30))  # one row per id, in order
    written = {r.image_id for r in out if r.item is not None}
    assert all(r.item in (None, r.image_id) for r in out)
    assert written | lost | set(range(30)) == set(range(30))
    assert len(written) + buffer.gaps == 30
    assert buffer.late == 30 - len(lost) - len(written)
    assert buffer.duplicates == 0
