"""The writer's options (writer/options.py), checked once where the user gives them: defaults,
h5py-style spellings, and every bad value refused by name before any file is touched."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from h5swmr import Durability, SwmrFileWriter
from h5swmr.errors import InvalidArgumentError
from h5swmr.writer.options import CreateOptions, Settings


def _parse(**options: Any) -> Settings:
    return Settings.parse(cast(CreateOptions, options))


def test_defaults_and_spellings() -> None:
    settings = _parse()
    assert settings.durability is Durability.NONE
    assert 1 <= settings.workers <= 4
    assert (settings.flush_every, settings.flush_interval, settings.watchdog) == (None, None, None)
    assert (settings.alignment_threshold, settings.alignment_interval) == (1, 1)
    assert not (settings.nexus or settings.create_dirs or settings.overwrite or settings.direct_io)
    given = _parse(
        durability=Durability.FLUSH.value, workers=0, flush_every=10, flush_interval=2,
        watchdog=0.5, alignment_threshold=1 << 20, alignment_interval=4096, nexus=True,
        temp_suffix=".part", create_dirs=1, overwrite=True, direct_io=True,
    )  # fmt: skip
    assert given == Settings(
        Durability.FLUSH, 0, 10, 2.0, 0.5, 1 << 20, 4096, True, ".part", True, True, True
    )
    assert isinstance(given.flush_interval, float)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workres": 2}, r"unknown writer options \['workres'\]"),
        ({"durability": "always"}, "durability 'always': use one of"),
        ({"workers": -1}, "workers must be an integer >= 0, not -1"),
        ({"workers": True}, "workers must be an integer >= 0, not True"),
        ({"flush_every": 0}, "flush_every must be None or an integer >= 1, not 0"),
        ({"flush_interval": 0}, "flush_interval must be None or a number of seconds > 0"),
        ({"watchdog": float("inf")}, "watchdog must be None or a number of seconds > 0"),
        ({"watchdog": "1"}, "watchdog must be None or a number of seconds > 0, not '1'"),
        ({"alignment_interval": 0}, "alignment_interval must be an integer >= 1, not 0"),
        ({"alignment_threshold": 1.5}, "alignment_threshold must be an integer >= 1"),
        ({"temp_suffix": "a/b"}, "temp_suffix 'a/b': a file name ending"),
        ({"direct_io": 1}, "direct_io must be True or False, not 1"),
    ],
)
def test_bad_options_are_named_and_no_file_is_made(
    tmp_h5: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        _parse(**options)
    with pytest.raises(InvalidArgumentError, match=message):
        SwmrFileWriter.create(tmp_h5, **options)
    assert not tmp_h5.exists()
