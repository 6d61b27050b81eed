"""CutAhead: every piece is cut before it is written, writes keep their order, and no error
leaves the helper thread still touching the caller's buffers."""

from __future__ import annotations

import os
import threading
import time

import pytest

from h5swmr.writer.cut_ahead import CutAhead


def _record(pieces: int, cut_ahead: CutAhead) -> tuple[list[int], list[tuple[str, int, str]]]:
    cut_done: list[int] = []
    events: list[tuple[str, int, str]] = []

    def cut(piece: int) -> None:
        time.sleep(0.001 * (piece % 3))  # uneven cuts, so the helper is sometimes behind
        events.append(("cut", piece, threading.current_thread().name))
        cut_done.append(piece)

    def write(piece: int) -> None:
        assert piece in cut_done
        events.append(("write", piece, threading.current_thread().name))

    cut_ahead.run(pieces, cut, write)
    return cut_done, events


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("pieces", [0, 1, 2, 5])
def test_each_piece_is_cut_then_written_in_order(enabled: bool, pieces: int) -> None:
    cut_ahead = CutAhead(enabled=enabled)
    try:
        for _ in range(3):  # the helper is reused from call to call
            cut_done, events = _record(pieces, cut_ahead)
            assert sorted(cut_done) == list(range(pieces))
            writes = [(piece, thread) for kind, piece, thread in events if kind == "write"]
            assert [piece for piece, _ in writes] == list(range(pieces))
            caller = threading.current_thread().name
            assert all(thread == caller for _, thread in writes)
            helper_cuts = {p for kind, p, thread in events if kind == "cut" and thread != caller}
            assert helper_cuts == (set(range(1, pieces)) if enabled and pieces > 1 else set())
    finally:
        cut_ahead.close()


def test_a_failed_cut_on_the_helper_is_raised_after_the_helper_is_done() -> None:
    cut_ahead = CutAhead(enabled=True)
    touched: list[int] = []

    def cut(piece: int) -> None:
        if piece == 2:
            raise ValueError("piece 2 is bad")
        time.sleep(0.002)
        touched.append(piece)

    written: list[int] = []
    with pytest.raises(ValueError, match="piece 2 is bad"):
        cut_ahead.run(6, cut, written.append)
    assert written == [0, 1]
    assert 3 not in touched  # pieces after a failure are not cut
    # the helper is idle and usable again
    _, events = _record(4, cut_ahead)
    assert [p for kind, p, _ in events if kind == "write"] == [0, 1, 2, 3]
    cut_ahead.close()


def test_a_failed_write_waits_for_the_helper_before_raising() -> None:
    cut_ahead = CutAhead(enabled=True)
    cuts_running = threading.Event()
    finished: list[int] = []

    def cut(piece: int) -> None:
        if piece:
            cuts_running.set()
            time.sleep(0.01)
        finished.append(piece)

    def write(piece: int) -> None:
        cuts_running.wait()
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        cut_ahead.run(4, cut, write)
    assert sorted(finished) == [0, 1, 2, 3]  # nothing still cuts into the caller's buffers
    cut_ahead.close()


def test_close_stops_the_helper_and_a_later_run_starts_it_again() -> None:
    cut_ahead = CutAhead(enabled=True)
    _record(3, cut_ahead)
    helpers = [t for t in threading.enumerate() if t.name == "h5swmr-cut"]
    assert helpers
    cut_ahead.close()
    assert not any(t.is_alive() for t in helpers)
    _record(3, cut_ahead)
    cut_ahead.close()
    cut_ahead.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_its_own_helper() -> None:
    cut_ahead = CutAhead(enabled=True)
    _record(3, cut_ahead)
    pid = os.fork()
    if pid == 0:  # the child: the parent's helper thread does not exist here
        ok = False
        try:
            _, events = _record(4, cut_ahead)
            ok = [p for kind, p, _ in events if kind == "write"] == [0, 1, 2, 3]
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    cut_ahead.close()
