"""``h5swmr`` itself: --help that teaches (examples, exit codes), usage errors, exit codes."""

from __future__ import annotations

import argparse

import pytest

from h5swmr.cli import main as cli_main
from h5swmr.cli.command import Command
from h5swmr.cli.main import COMMANDS, main
from tests.cli.conftest import run_h5swmr


def test_top_level_help_lists_commands_examples_and_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in ("simulate", "watch", "ls", "recover", "bench"):
        assert f"    {name} " in out
    assert "examples:" in out
    assert "exit codes:" in out
    for code in ("0 ", "1 ", "2 ", "130 ", "141 "):
        assert f"\n  {code}" in out


@pytest.mark.parametrize("name", [command.name for command in COMMANDS])
def test_each_command_help_has_examples(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: h5swmr {name}")
    assert "examples:\n" in out
    assert f"  h5swmr {name} " in out
    assert "--debug" in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "required"),
        (["frobnicate"], "invalid choice"),
        (["ls", "x.h5", "--no-such"], "unrecognized"),
    ],
)
def test_usage_errors_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: h5swmr")
    assert message in err


def test_runs_as_a_module_with_exit_codes() -> None:
    assert run_h5swmr("--help").returncode == 0
    usage = run_h5swmr("ls")
    assert usage.returncode == 2
    assert "usage: h5swmr ls" in usage.stderr
    error = run_h5swmr("ls", "/no/such/file.h5")
    assert error.returncode == 1
    assert error.stderr.startswith("h5swmr ls: error: ")
    assert error.stderr.count("\n") == 1
    assert error.stdout == ""


def _unexpected(args: argparse.Namespace) -> int:
    return 1 // 0  # stands for any bug or unforeseen failure below the CLI


@pytest.mark.parametrize("debug", [False, True])
def test_any_other_exception_is_one_line_and_exit_1(
    debug: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = Command("broken", "a command that fails unexpectedly", lambda p: None, _unexpected)
    monkeypatch.setattr(cli_main, "COMMANDS", (*COMMANDS, broken))
    assert main(["broken", *(["--debug"] if debug else [])]) == 1
    err = capsys.readouterr().err
    last = err.splitlines()[-1]
    assert last.startswith("h5swmr broken: error: unexpected ZeroDivisionError: ")
    assert "--debug" in last
    if debug:
        assert "Traceback (most recent call last)" in err
    else:
        assert err.count("\n") == 1
