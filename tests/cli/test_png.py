"""``cli/png.py``: PNG bytes checked chunk by chunk (signature, IHDR, CRCs, IDAT), colours."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from h5swmr.cli.detector import SyntheticDetector
from h5swmr.cli.font import GLYPH_HEIGHT, text_mask
from h5swmr.cli.png import (
    GAP,
    MAX_SIDE,
    NAN_RGB,
    PAD,
    SIGNATURE,
    ColourScale,
    as_image,
    colour_bar_height,
    colour_indices,
    encode_png,
    enlargement,
    image_size,
    number_text,
    render,
    viridis_table,
    write_atomic,
    write_frame_png,
)

TITLE_ROWS = GLYPH_HEIGHT + 2 * PAD
"""The title band over images narrower than 512 pixels (text at scale 1)."""


def parse_png(data: bytes) -> tuple[dict[str, Any], np.ndarray[Any, Any]]:
    """Checks signature, chunk CRCs and order; returns IHDR fields, text, and the RGB pixels."""
    assert data[:8] == SIGNATURE
    position, chunks = 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        position += 12 + length
    assert position == len(data)
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    assert (depth, colour, compression, filtering, interlace) == (8, 2, 0, 0, 0)
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(raw) == height * (1 + 3 * width)
    rows = np.frombuffer(raw, np.uint8).reshape(height, 1 + 3 * width)
    assert not rows[:, 0].any()  # filter type None on every row
    text = dict(body.split(b"\0", 1) for kind, body in chunks if kind == b"tEXt")
    info = {"width": width, "height": height, "text": text}
    return info, rows[:, 1:].reshape(height, width, 3)


def test_viridis_table_runs_dark_blue_to_yellow() -> None:
    table = viridis_table()
    assert table.shape == (256, 3)
    assert table.dtype == np.uint8
    assert tuple(table[0]) == (68, 1, 84)
    assert tuple(table[-1]) == (253, 231, 37)
    assert len({tuple(rgb) for rgb in table}) > 200
    brightness = table.astype(int).sum(axis=1)
    assert brightness[-1] > brightness[128] > brightness[0]


def test_encode_png_round_trips_pixels_and_text() -> None:
    rgb = np.random.default_rng(1).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    info, pixels = parse_png(encode_png(rgb, {"Title": "frame 3"}))
    assert (info["width"], info["height"]) == (5, 7)
    assert info["text"] == {b"Title": b"frame 3"}
    np.testing.assert_array_equal(pixels, rgb)


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.uint16)])
def test_encode_png_refuses_non_rgb8(bad: np.ndarray[Any, Any]) -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(bad)


@pytest.mark.parametrize(
    ("shape", "image_shape"),
    [((30, 40), (30, 40)), ((3, 30, 40), (30, 40)), ((50,), (1, 50)), ((2, 3, 30, 40), (30, 40))],
)
def test_as_image_2d_first_plane_or_row(
    shape: tuple[int, ...], image_shape: tuple[int, int]
) -> None:
    frame = np.arange(np.prod(shape)).reshape(shape)
    image = as_image(frame)
    assert image.shape == image_shape
    if len(shape) == 3:
        np.testing.assert_array_equal(image, frame[0])


def test_large_frames_are_decimated_to_max_side() -> None:
    image = as_image(np.zeros((MAX_SIDE * 2 + 1, 300), np.uint8))  # every 3rd pixel
    assert image.shape == (-(-(MAX_SIDE * 2 + 1) // 3), 100)
    assert max(image.shape) <= MAX_SIDE


def test_render_colours_scale_and_bar() -> None:
    frame = np.array([[0, 5, 10], [10, 0, 5]], dtype=np.uint16)
    rgb, low, high = render(frame)
    table = viridis_table()
    assert (low, high) == (0.0, 10.0)  # the percentiles are values the frame holds
    down, across = enlargement(2, 3)
    assert (down, across) == (86, 86)  # 3 pixels across become 258 >= MIN_WIDTH
    rows = 2 * down
    assert (rgb.shape[1], rgb.shape[0]) == image_size((2, 3))
    image = rgb[TITLE_ROWS : TITLE_ROWS + rows]
    assert tuple(image[0, 0]) == tuple(table[0])
    assert tuple(image[0, -1]) == tuple(table[255])
    assert tuple(image[-1, 0]) == tuple(table[255])
    assert (rgb[TITLE_ROWS + rows : TITLE_ROWS + rows + GAP] == 255).all()
    bar = rgb[TITLE_ROWS + rows + GAP :][: colour_bar_height(rows)]
    assert tuple(bar[0, 0]) == tuple(table[0])
    assert tuple(bar[-1, -1]) == tuple(table[255])
    numbers = rgb[TITLE_ROWS + rows + GAP + colour_bar_height(rows) :]
    assert (numbers[:, :, 0] == 0).any()  # tick marks and numbers in black on white
    assert _has_text(numbers, "10", at_right=True)
    assert _has_text(numbers, "0", at_right=False)


def _has_text(strip: np.ndarray[Any, Any], text: str, *, at_right: bool, ink: int = 0) -> bool:
    """``text`` drawn in grey level ``ink`` somewhere in the left or right end of ``strip``."""
    inked = (strip == ink).all(axis=2)
    mask = text_mask(text)
    height, width = mask.shape
    cols = (
        range(strip.shape[1] - width - 2, strip.shape[1] - width + 1)
        if at_right
        else range(PAD + 1)
    )
    return any(
        (inked[top : top + height, left : left + width] == mask).all()
        for top in range(strip.shape[0] - height + 1)
        for left in cols
    )


def test_one_hot_pixel_does_not_flatten_a_poisson_frame() -> None:
    """The issue's flat purple square: min-max scaling put every count under 1 % of the scale."""
    frame = np.random.default_rng(2).poisson(10.0, (64, 64)).astype(np.uint16)
    frame[5, 5] = 65535
    _, low, high = render(frame)
    assert high < 40  # the 99.5th percentile of Poisson(10), not the hot pixel
    indices = colour_indices(frame, low, high)
    assert np.std(indices) > 30  # the noise spreads over the colours
    assert indices[5, 5] == 255  # clipped to the top colour


def test_simulated_rings_stand_out_in_the_png_despite_hot_pixels(tmp_path: Path) -> None:
    """simulate's frame (with hot pixels at 65535) as watch writes it: ring pixels are bright,
    background dark, in the PNG's own pixels; also on the log scale."""
    detector = SyntheticDetector((256, 256), "uint16", seed=0)
    frame = detector.frame(3)
    assert frame.max() == 65535  # hot pixels are there
    ring = (detector.expected > 50) & (frame < 1000)
    background = (detector.expected > 0) & (detector.expected < 6) & (frame < 1000)
    assert ring.sum() > 500 and background.sum() > 5000
    for log in (False, True):
        out = tmp_path / f"log{log}.png"
        write_frame_png(out, frame, "sim:/entry/data/data frame 3", log=log)
        _, pixels = parse_png(out.read_bytes())
        image = pixels[TITLE_ROWS : TITLE_ROWS + 256].astype(int)
        brightness = image.sum(axis=2)  # viridis brightens from blue to yellow
        assert brightness[ring].mean() > brightness[background].mean() + 150, log
        title = pixels[:TITLE_ROWS]
        assert (title == 0).mean() > 0.5  # white text on black: dataset path and frame index
        assert _has_text(title, "sim:/entry/data/data frame 3", at_right=False, ink=255)


def test_log_scale_ends_and_ticks() -> None:
    scale = ColourScale(0.0, 999.0, log=True)
    np.testing.assert_allclose(scale.fraction(np.array([0.0, 999.0, -5.0, 5000.0])), [0, 1, 0, 1])
    assert scale.fraction(np.array([31.0]))[0] == pytest.approx(0.5, abs=0.01)  # sqrt(1000)
    assert scale.value_at(0.5) == pytest.approx(30.6, abs=0.1)
    assert ColourScale(0.0, 999.0).value_at(0.5) == 499.5


@pytest.mark.parametrize(
    ("value", "text"), [(0.0, "0"), (65535.0, "65535"), (0.125, "0.125"), (1.5e7, "1.5e+07")]
)
def test_number_text(value: float, text: str) -> None:
    assert number_text(value) == text


def test_render_constant_and_nan_frames() -> None:
    rgb, low, high = render(np.full((4, 4), 7.0))
    assert low == high == 7.0
    image = rgb[TITLE_ROWS : TITLE_ROWS + 4 * enlargement(4, 4)[0]]
    assert len({tuple(p) for p in image.reshape(-1, 3)}) == 1
    frame = np.arange(16, dtype=np.float32).reshape(4, 4)
    frame[1, 1] = np.nan
    rgb, low, high = render(frame)
    assert (low, high) == (0.0, 15.0)
    k = enlargement(4, 4)[0]
    assert tuple(rgb[TITLE_ROWS + k + 1, k + 1]) == NAN_RGB
    rgb, low, high = render(np.full((2, 2), np.nan))
    assert (rgb[TITLE_ROWS : TITLE_ROWS + 2 * enlargement(2, 2)[0]] == NAN_RGB).all()


@pytest.mark.parametrize(
    ("shape", "dtype"), [((32, 48), "uint16"), ((2, 20, 10), "float32"), ((64,), "int8")]
)
def test_write_frame_png_is_decodable(shape: tuple[int, ...], dtype: str, tmp_path: Path) -> None:
    frame = np.random.default_rng(0).integers(0, 100, shape).astype(dtype)
    out = tmp_path / "latest.png"
    low, high = write_frame_png(out, frame, "test:frame 0")
    info, pixels = parse_png(out.read_bytes())
    assert (info["width"], info["height"]) == image_size(shape)
    assert info["text"][b"Title"] == b"test:frame 0"
    values = frame[np.isfinite(frame)]
    assert float(values.min()) <= low <= high <= float(values.max())
    assert pixels.shape == (info["height"], info["width"], 3)
    assert list(tmp_path.iterdir()) == [out]  # the temp file was renamed, not left behind
    assert out.stat().st_mode & 0o644 == 0o644


def test_write_atomic_replaces_and_cleans_up_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    write_atomic(out, b"one")
    write_atomic(out, b"two")
    assert out.read_bytes() == b"two"
    with pytest.raises(TypeError):
        write_atomic(out, "not bytes")  # type: ignore[arg-type]
    assert out.read_bytes() == b"two"
    assert list(tmp_path.iterdir()) == [out]
