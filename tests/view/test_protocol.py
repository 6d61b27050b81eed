"""The page's requests are checked once, and anything malformed is refused by name."""

from __future__ import annotations

import json

import pytest

from h5swmr import InvalidArgumentError
from h5swmr.view.frames import Region
from h5swmr.view.protocol import MAX_MESSAGE, RoiRequest, ViewRequest, parse


def test_a_view_request_is_parsed() -> None:
    text = json.dumps(
        {
            "op": "view",
            "file": 1,
            "dataset": "/entry/data",
            "frame": None,
            "region": [0, 10, 5, 20],
            "size": [300, 400],
            "slice": [2],
        }
    )
    assert parse(text, 2) == ViewRequest(
        1, "/entry/data", None, Region(0, 10, 5, 20), (300, 400), (2,)
    )


def test_a_roi_request_is_parsed() -> None:
    assert parse('{"op": "roi", "rect": [1, 2, 3, 4]}', 1) == RoiRequest(Region(1, 2, 3, 4))
    assert parse('{"op": "roi", "rect": null}', 1) == RoiRequest(None)


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"op": "delete"}', "unknown op"),
        ('{"op": "view", "file": 3, "dataset": "/d"}', "file 3"),
        ('{"op": "view", "file": -1, "dataset": "/d"}', "file -1"),
        ('{"op": "view", "file": "../../etc/passwd", "dataset": "/d"}', "file"),
        ('{"op": "view", "file": 0, "dataset": "../secret"}', "dataset"),
        ('{"op": "view", "file": 0, "dataset": "/d", "size": [0, 10]}', "size"),
        ('{"op": "view", "file": 0, "dataset": "/d", "size": [1e9, 10]}', "size"),
        ('{"op": "view", "file": 0, "dataset": "/d", "frame": 1.5}', "frame"),
        ('{"op": "view", "file": 0, "dataset": "/d", "frame": true}', "frame"),
        ('{"op": "view", "file": 0, "dataset": "/d", "region": [5, 1, 0, 2]}', "empty"),
        ('{"op": "view", "file": 0, "dataset": "/d", "slice": [0,0,0,0,0,0,0,0,0]}', "slice"),
        ('{"op": "roi", "rect": "all"}', "rect"),
    ],
)
def test_malformed_requests_are_refused_by_name(message: str, field: str) -> None:
    with pytest.raises(InvalidArgumentError, match=field):
        parse(message, 2)


def test_long_messages_are_refused_before_parsing() -> None:
    with pytest.raises(InvalidArgumentError, match="bytes"):
        parse(" " * (MAX_MESSAGE + 1), 1)
