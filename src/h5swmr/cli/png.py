"""A frame as a PNG image a person can read, written with numpy, zlib and struct only.

The image is 8-bit RGB: a dark title band naming the file, dataset and frame; the frame in
viridis colours (NaN pixels grey); after a white gap a colour bar, with tick marks and the values
they stand for. The colour scale runs from the 0.5th to the 99.5th percentile of the frame's
values, so a few hot pixels (or a dead module) do not flatten everything else into one colour;
values outside are clipped to the ends. ``log=True`` spreads the scale logarithmically (for
counts: log(1 + counts above the low end)), showing faint rings beside bright spots. Frames
narrower than ``MIN_WIDTH`` pixels are enlarged by whole pixels so that the text fits; wider
than ``MAX_SIDE`` ones are shown every n-th pixel. The scale is also stored in the PNG's text
chunks (``Title``, ``Comment``) and printed by ``watch``.
"""

from __future__ import annotations

import math
import os
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from h5swmr.cli.font import GLYPH_HEIGHT, fit_text, text_mask, text_width

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IHDR = struct.Struct(">IIBBBBB")  # width, height, bit depth, colour type, compression, filter, ...
_LENGTH = struct.Struct(">I")
_RGB = 2  # PNG colour type: truecolour
ZLIB_LEVEL = 3
"""Fast: watch rewrites the image about once a second."""

MAX_SIDE = 1024
"""Larger frames are shown every n-th pixel, so the image is at most this many pixels across."""
MIN_WIDTH = 256
"""Narrower frames are enlarged (each pixel a square of pixels) to at least this width."""
MIN_HEIGHT = 16
"""Flatter frames (a 1-D frame is one row) get their rows repeated to this height."""
GAP = 2
"""White rows between the image and the colour bar."""
NAN_RGB = (128, 128, 128)
CLIP_PERCENTILES = (0.5, 99.5)
"""The colour scale's ends, as percentiles of the frame's finite values."""
PAD = 3
"""Pixels around text, at text scale 1."""
TICK = 3
"""Rows of a tick mark under the colour bar, at text scale 1."""

# viridis (matplotlib) at 0, 1/8, ..., 1; the 256-entry table interpolates between them
_VIRIDIS_ANCHORS = np.array(
    [
        (68, 1, 84),
        (72, 40, 120),
        (62, 73, 137),
        (49, 104, 142),
        (38, 130, 142),
        (31, 158, 137),
        (53, 183, 121),
        (110, 206, 88),
        (253, 231, 37),
    ],
    dtype=np.float64,
)


def viridis_table(n: int = 256) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """``n`` x 3 uint8 colours from dark blue to yellow."""
    at = np.linspace(0.0, 1.0, len(_VIRIDIS_ANCHORS))
    where = np.linspace(0.0, 1.0, n)
    channels = [np.interp(where, at, _VIRIDIS_ANCHORS[:, c]) for c in range(3)]
    return np.rint(np.stack(channels, axis=1)).astype(np.uint8)


_TABLE = viridis_table()


def as_image(frame: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The 2-D array shown for a frame: 2-D as is, 3-D its first plane, 1-D a single row,
    every n-th pixel of larger frames (at most ``MAX_SIDE`` across)."""
    if frame.ndim == 0:
        image = frame.reshape(1, 1)
    elif frame.ndim == 1:
        image = frame.reshape(1, -1)
    else:
        image = frame.reshape(-1, *frame.shape[-2:])[0] if frame.ndim > 2 else frame
    step = max(1, -(-max(image.shape) // MAX_SIDE))
    return image[::step, ::step]


def enlargement(rows: int, cols: int) -> tuple[int, int]:
    """How many times each pixel is repeated down and across: ``MIN_WIDTH`` wide at least (in
    whole pixels, never past ``MAX_SIDE``), ``MIN_HEIGHT`` high at least."""
    across = max(1, min(-(-MIN_WIDTH // cols), MAX_SIDE // max(rows, cols)))
    return max(across, -(-MIN_HEIGHT // rows)), across


def text_scale(width: int) -> int:
    """Text is drawn twice as large on images 512 pixels wide or more."""
    return 2 if width >= 512 else 1


def colour_bar_height(image_height: int) -> int:
    """Rows of the colour bar under an image ``image_height`` rows high."""
    return max(8, min(32, image_height // 10))


def _band_height(scale: int) -> int:
    """Rows of the title band, and of the row of numbers under the colour bar."""
    return (GLYPH_HEIGHT + 2 * PAD) * scale


def image_size(frame_shape: tuple[int, ...]) -> tuple[int, int]:
    """(width, height) of the PNG that ``render`` makes for a frame of ``frame_shape``."""
    rows, cols = as_image(np.empty(frame_shape, dtype=np.uint8)).shape
    down, across = enlargement(rows, cols)
    rows, cols = rows * down, cols * across
    scale = text_scale(cols)
    bands = 2 * _band_height(scale) + TICK * scale
    return cols, rows + GAP + colour_bar_height(rows) + bands


@dataclass(frozen=True, slots=True)
class ColourScale:
    """Values ``low`` .. ``high`` onto colours 0 .. 255, linearly or logarithmically."""

    low: float
    high: float
    log: bool = False
    unit: float = 1.0
    """For ``log``: the step above ``low`` that counts as one (1 for counts)."""

    @classmethod
    def of(cls, image: np.ndarray[Any, Any], *, log: bool = False) -> ColourScale:
        """The scale of ``image``: its ``CLIP_PERCENTILES`` (values it holds), or its finite
        minimum and maximum when those coincide, e.g. on a mostly constant frame."""
        finite = image[np.isfinite(image)] if image.dtype.kind == "f" else image.ravel()
        if not finite.size:
            return cls(0.0, 0.0, log)
        low_at, high_at = CLIP_PERCENTILES
        low = float(np.percentile(finite, low_at, method="lower"))
        high = float(np.percentile(finite, high_at, method="higher"))
        if not high > low:
            low, high = float(finite.min()), float(finite.max())
        unit = 1.0 if image.dtype.kind in "biu" or high - low >= 1000 else (high - low) / 1000
        return cls(low, high, log, unit if unit > 0 else 1.0)

    def fraction(self, values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """Where each value lies between the ends: 0 at ``low`` or below, 1 at ``high``."""
        span = self.high - self.low
        if not span > 0 or not np.isfinite(span):
            return np.zeros(values.shape)
        above: np.ndarray[Any, Any] = np.clip(values.astype(np.float64) - self.low, 0.0, span)
        if self.log:
            return np.log1p(above / self.unit) / math.log1p(span / self.unit)
        return above / span

    def value_at(self, fraction: float) -> float:
        """The value shown at ``fraction`` of the colour bar."""
        span = self.high - self.low
        if self.log and span > 0:
            return self.low + self.unit * math.expm1(fraction * math.log1p(span / self.unit))
        return self.low + fraction * span


def colour_indices(
    image: np.ndarray[Any, Any], low: float, high: float, *, log: bool = False
) -> np.ndarray[Any, np.dtype[np.intp]]:
    """Each value's index into the 256-colour table (0 for ``low`` and below, 255 for ``high``
    and above; NaN 0)."""
    scale = ColourScale(low, high, log, 1.0)
    return _indices(scale, image)


def _indices(scale: ColourScale, image: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    with np.errstate(invalid="ignore"):
        scaled = scale.fraction(image) * 255.0
    return np.nan_to_num(np.rint(scaled), nan=0.0).astype(np.intp)


def number_text(value: float) -> str:
    """A tick's number, short: whole numbers as such up to 6 digits, else 3 significant ones."""
    if not math.isfinite(value):
        return str(value)
    if value == round(value) and abs(value) < 1e6:
        return str(round(value))
    return f"{value:.3g}"


def render(
    frame: np.ndarray[Any, Any], *, log: bool = False, label: str = ""
) -> tuple[np.ndarray[Any, Any], float, float]:
    """RGB rows (height x width x 3, uint8) of the picture, and the colour scale's ends."""
    image = as_image(frame)
    if image.dtype.kind == "c":
        image = np.abs(image)
    scale = ColourScale.of(image, log=log)
    rgb = _TABLE[_indices(scale, image)]
    if image.dtype.kind == "f":
        rgb[np.isnan(image)] = NAN_RGB
    down, across = enlargement(*image.shape)
    rgb = np.repeat(np.repeat(rgb, down, axis=0), across, axis=1)
    rows, cols = rgb.shape[:2]
    size = text_scale(cols)
    title = np.zeros((_band_height(size), cols, 3), dtype=np.uint8)
    _draw(title, fit_text(label, cols - 2 * PAD * size, size), PAD * size, size, ink=255)
    gap = np.full((GAP, cols, 3), 255, dtype=np.uint8)
    where = np.linspace(0, 255, cols).astype(np.intp) if cols > 1 else np.array([255])
    bar = np.repeat(_TABLE[where][None], colour_bar_height(rows), axis=0)
    numbers = np.full((TICK * size + _band_height(size), cols, 3), 255, dtype=np.uint8)
    _ticks(numbers, scale, size)
    return np.concatenate([title, rgb, gap, bar, numbers]), scale.low, scale.high


def _ticks(strip: np.ndarray[Any, Any], scale: ColourScale, size: int) -> None:
    """Tick marks at the top of ``strip`` and the values they stand for under them: 5 ticks
    where the numbers fit, else 3, else the two ends."""
    cols = strip.shape[1]
    for count in (5, 3, 2):
        fractions = [k / (count - 1) for k in range(count)]
        texts = [number_text(scale.value_at(f)) for f in fractions]
        widest = max(text_width(t, size) for t in texts) + 2 * PAD * size
        if widest * count <= cols or count == 2:
            break
    for fraction, text in zip(fractions, texts, strict=True):
        x = min(cols - 1, round(fraction * (cols - 1)))
        strip[: TICK * size, max(0, x - size // 2) : x + (size + 1) // 2] = 0
        width = text_width(text, size)
        left = min(max(0, x - width // 2), max(0, cols - width))
        _draw(strip, text, left, size, top=(TICK + PAD) * size, ink=0)


def _draw(
    canvas: np.ndarray[Any, Any], text: str, left: int, size: int, *, top: int = 0, ink: int
) -> None:
    """Draw ``text`` on ``canvas`` in grey level ``ink``, cut at the canvas's right edge."""
    mask = text_mask(text, size)
    top = top or PAD * size
    mask = mask[: canvas.shape[0] - top, : max(0, canvas.shape[1] - left)]
    region = canvas[top : top + mask.shape[0], left : left + mask.shape[1]]
    region[mask] = ink


def encode_png(rgb: np.ndarray[Any, Any], text: dict[str, str] | None = None) -> bytes:
    """PNG bytes of ``rgb`` (height x width x 3 uint8), with optional Latin-1 text chunks."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"encode_png: need height x width x 3 uint8, got {rgb.shape} {rgb.dtype}")
    height, width = rgb.shape[:2]
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # filter type 0 (None) per row
    rows[:, 1:] = rgb.reshape(height, 3 * width)
    parts = [SIGNATURE, _chunk(b"IHDR", _IHDR.pack(width, height, 8, _RGB, 0, 0, 0))]
    for key, value in (text or {}).items():
        parts.append(_chunk(b"tEXt", key.encode("latin-1") + b"\0" + value.encode("latin-1")))
    parts.append(_chunk(b"IDAT", zlib.compress(rows.tobytes(), ZLIB_LEVEL)))
    parts.append(_chunk(b"IEND", b""))
    return b"".join(parts)


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(body, zlib.crc32(kind))
    return _LENGTH.pack(len(body)) + kind + body + _LENGTH.pack(crc)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step: a viewer never sees half an image."""
    directory = path.resolve().parent
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:  # name the user's path, not the temporary file's
        raise OSError(exc.errno, f"cannot write the image: {exc.strerror}", str(path)) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        Path(temp).chmod(0o644)  # mkstemp's 0600 would hide the image from a web server
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_frame_png(
    path: Path,
    frame: np.ndarray[Any, Any],
    title: str,
    *,
    log: bool = False,
    label: str | None = None,
) -> tuple[float, float]:
    """Write ``frame`` as a PNG at ``path`` (atomically); returns the colour scale (low, high).

    ``label`` is the text drawn in the picture's title band (default ``title``, which goes into
    the PNG's ``Title`` chunk in full).
    """
    rgb, low, high = render(frame, log=log, label=title if label is None else label)
    kind = "log" if log else "linear"
    text = {
        "Title": title,
        "Comment": f"viridis {kind} scale {low:g} (left) to {high:g} (right), "
        f"the {CLIP_PERCENTILES[0]:g} and {CLIP_PERCENTILES[1]:g} percentiles",
    }
    write_atomic(path, encode_png(rgb, text))
    return low, high
