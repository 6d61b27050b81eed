"""``cli/progress.py``: progress lines and bar on a clock the test turns; pacing, no sleeping."""

from __future__ import annotations

import io

import pytest

from h5swmr.cli.progress import Pacer, Progress, duration_text


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (59.6, "1:00"), (75.2, "1:15"), (3725, "1:02:05")]
)
def test_duration_text(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_plain_lines_about_once_a_second() -> None:
    clock, out = Clock(), io.StringIO()
    progress = Progress("simulate", 100, 2_000_000, out, is_terminal=False, clock=clock)
    for done in range(1, 101):
        clock.now += 0.0625  # 16 frames/s, 32 MB/s
        progress.update(done)
    progress.finish(100)
    lines = out.getvalue().splitlines()
    assert len(lines) == 6  # 6.25 s of work, a line a second
    assert lines[0] == "simulate: 16/100 frames, 32.0 MB/s, ETA 0:05"
    assert "\r" not in out.getvalue()


def test_terminal_bar_redraws_one_line_and_ends_it() -> None:
    clock, out = Clock(), io.StringIO()
    progress = Progress("simulate", 10, 1_000_000, out, is_terminal=True, clock=clock)
    for done in range(1, 11):
        clock.now += 0.1
        progress.update(done)
    progress.finish(10)
    text = out.getvalue()
    assert text.count("\n") == 1
    assert text.endswith("\n")
    assert text.count("\r") >= 9
    last = text.rsplit("\r", 1)[1]
    assert "10/10 frames" in last
    assert "[" + "#" * 10 in last
    assert "ETA 0:00" in last


def test_terminal_bar_quiet_when_nothing_drawn() -> None:
    out = io.StringIO()
    Progress("simulate", 10, 1, out, is_terminal=True, clock=Clock()).finish(0)
    assert out.getvalue() == ""


def test_pacer_keeps_an_absolute_schedule() -> None:
    clock = Clock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    start = clock.now
    for index in range(5):
        pacer.wait(index)
        assert clock.now == pytest.approx(start + index / 10.0)
    clock.now += 1.0  # a stall: the next steps do not wait until the schedule is met
    pacer.wait(5)
    assert clock.now == pytest.approx(start + 1.4)


def test_pacer_rate_zero_never_waits() -> None:
    clock = Clock()
    pacer = Pacer(0.0, clock=clock, sleep=clock.sleep)
    for index in range(100):
        pacer.wait(index)
    assert clock.now == 100.0
