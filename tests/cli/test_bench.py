"""``h5swmr bench``: the repository's bench_write.py from a checkout, else the built-in subset."""

from __future__ import annotations

import argparse
import re

import pytest

from h5swmr.cli.bench import NOTE, find_script, has_h5py, script_arguments, selected
from h5swmr.cli.main import main

ROW = re.compile(r"^\| small-u16-f100: 64x64 uint16, 2000 fr, flush/100 \| [0-9,]+ \| [0-9,]+ \|$")


def test_builtin_subset_prints_a_table_and_the_note(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--builtin", "--only", "small-u16-f100"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert "| workload | h5swmr fr/s | h5swmr MB/s |" in lines
    assert [line for line in lines if ROW.match(line)]
    assert NOTE in captured.out
    assert NOTE in captured.err
    assert "h5py" in NOTE


def test_builtin_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--builtin", "--list"]) == 0
    out = capsys.readouterr().out
    assert "small-u16-f100     64x64 uint16, 2000 fr, flush/100" in out
    assert "large-u16          1024x1024 uint16, 50 fr, flush/frame" in out
    assert main(["bench", "--builtin", "--list", "--full"]) == 0
    assert "1024x1024 uint16, 500 fr" in capsys.readouterr().out


def test_unknown_workload_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--builtin", "--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert "usage: h5swmr bench" in err
    assert "no built-in workload matches nope" in err


def test_selected_by_prefix() -> None:
    assert [w.name for w in selected(["mid"])] == ["mid-f32", "mid-f32-k16"]
    assert len(selected(None)) == 6


def test_script_arguments_default_to_quick() -> None:
    args = argparse.Namespace(full=False, only=None, repeat=None, list=False)
    assert script_arguments(args) == ["--quick"]
    args = argparse.Namespace(full=True, only=["small", "mid"], repeat=2, list=True)
    assert script_arguments(args) == ["--only", "small", "mid", "--repeat", "2", "--list"]


def test_quick_and_full_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--full"]) == 2
    assert "not allowed with" in capsys.readouterr().err


@pytest.mark.skipif(find_script() is None or not has_h5py(), reason="needs the checkout and h5py")
def test_from_the_checkout_runs_bench_write_side_by_side(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "--only", "small-u16-f100"]) == 0
    captured = capsys.readouterr()
    assert "bench_write.py --quick --only small-u16-f100" in captured.err
    row = next(line for line in captured.out.splitlines() if line.startswith("| small-u16-f100:"))
    assert "h5py ok, h5swmr ok, pwrite ok" in row
    assert NOTE not in captured.out
