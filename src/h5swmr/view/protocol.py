"""What the page may ask of the server, parsed and checked once at the boundary.

The page sends small JSON text messages over the WebSocket:

- ``{"op": "view", "file": 0, "dataset": "/entry/data/data", "frame": null, "region": null,
  "size": [480, 640], "slice": []}``: show a dataset of file 0 (files by position in the list the
  server was given, so the page cannot name any other file), following the latest frame
  (``frame`` null) or one frame, the whole plane or rows/columns ``[y0, y1, x0, x1]``, binned to
  ``size`` (height, width) pixels, 3-D+ frames cut at ``slice``;
- ``{"op": "roi", "rect": [y0, y1, x0, x1]}`` (or ``null``): follow the sum and mean of a rectangle;
- ``{"op": "ack"}`` once a frame (binary message) is handled: the server sends the next frame
  only then, so frames never queue up in a page slower than the display rate (its latency stays
  its drawing time, instead of growing with a backlog).

Anything else raises ``InvalidArgumentError`` naming the field; the server answers with an
``error`` message and carries on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from h5swmr.errors import InvalidArgumentError
from h5swmr.view.frames import MAX_SIDE, Region

MAX_MESSAGE = 4096
"""Bytes of one message from the page; anything longer is refused before parsing."""
MAX_PATH = 1024
MAX_SLICE = 8


@dataclass(frozen=True, slots=True)
class ViewRequest:
    file: int
    dataset: str
    frame: int | None
    region: Region | None
    size: tuple[int, int]
    slice: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RoiRequest:
    rect: Region | None


@dataclass(frozen=True, slots=True)
class Ack:
    """The page has handled one more frame."""


Request = ViewRequest | RoiRequest | Ack


def parse(text: str | bytes, n_files: int) -> Request:
    """A message from the page, checked; ``n_files`` is how many files the server shows."""
    if len(text) > MAX_MESSAGE:
        raise InvalidArgumentError(f"message of {len(text)} bytes; at most {MAX_MESSAGE}")
    try:
        message = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(f"message is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise InvalidArgumentError("message is not a JSON object")
    op = message.get("op")
    if op == "view":
        return _view(message, n_files)
    if op == "ack":
        return Ack()
    if op == "roi":
        rect = message.get("rect")
        return RoiRequest(None if rect is None else _region(rect, "rect"))
    raise InvalidArgumentError(f"unknown op {op!r}; expected 'view', 'roi' or 'ack'")


def _view(message: dict[str, Any], n_files: int) -> ViewRequest:
    file = _integer(message.get("file"), "file")
    if not 0 <= file < n_files:
        raise InvalidArgumentError(f"file {file}: the server shows files 0 to {n_files - 1}")
    dataset = message.get("dataset")
    if not isinstance(dataset, str) or not dataset.startswith("/") or len(dataset) > MAX_PATH:
        raise InvalidArgumentError(f"dataset {dataset!r}: expected an absolute path in the file")
    frame = message.get("frame")
    frame = None if frame is None else _integer(frame, "frame")
    region = message.get("region")
    size = message.get("size", [512, 512])
    if not isinstance(size, list) or len(size) != 2:
        raise InvalidArgumentError(f"size {size!r}: expected [height, width]")
    height, width = (_integer(s, "size") for s in size)
    if not (1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        raise InvalidArgumentError(f"size {size!r}: each side 1 to {MAX_SIDE}")
    cut = message.get("slice", [])
    if not isinstance(cut, list) or len(cut) > MAX_SLICE:
        raise InvalidArgumentError(f"slice {cut!r}: expected up to {MAX_SLICE} indices")
    return ViewRequest(
        file,
        dataset,
        frame,
        None if region is None else _region(region, "region"),
        (height, width),
        tuple(_integer(i, "slice") for i in cut),
    )


def _region(value: object, name: str) -> Region:
    if not isinstance(value, list) or len(value) != 4:
        raise InvalidArgumentError(f"{name} {value!r}: expected [y0, y1, x0, x1]")
    y0, y1, x0, x1 = (_integer(v, name) for v in value)
    if y1 <= y0 or x1 <= x0:
        raise InvalidArgumentError(f"{name} {value!r}: empty")
    return Region(y0, y1, x0, x1)


def _integer(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 1 << 62:
        raise InvalidArgumentError(f"{name} {value!r}: expected an integer")
    return value
