"""``h5swmr receive`` and ``simulate --publish``: arguments, usage errors, the idle stop."""

from __future__ import annotations

from pathlib import Path

import pytest

from h5swmr.cli.main import main
from h5swmr.receive import Publisher


def test_help_names_the_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["receive", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Stream V2" in out and "--frames-per-file" in out and "--receivers" in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["receive", "detector:31001"], "give an endpoint like tcp://HOST:31001"),
        (["receive", "tcp://127.0.0.1:1", "--flush-every", "0"], "--flush-every"),
        (["simulate", "--frames", "3"], "give OUT.h5, or --publish ENDPOINT"),
    ],
)
def test_usage_errors_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(arguments) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-o", "s.h5", "--frames-per-file", "10"], "needs >= 1 and a {part} field"),
        (["-o", "s{nope}.h5"], "output template 's{nope}.h5'"),
        (["--receivers", "2", "-o", "s{series_id}.h5"], "needs a {receiver} field"),
    ],
)
def test_bad_templates_exit_1_with_one_line(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["receive", "tcp://127.0.0.1:1", *arguments]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_idle_timeout_stops_a_receiver_that_got_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    publisher = Publisher("tcp://127.0.0.1:*", linger=0)
    try:
        assert main(["receive", publisher.endpoint, "--idle-timeout", "0.2", "-q"]) == 0
    finally:
        publisher.close()
    assert "receive: 0 series, 0 messages" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
