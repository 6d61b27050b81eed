"""The page in a real browser (Debian's chromium, headless, driven by Playwright; no browser
download) beside a real writer process and a real ``h5swmr view`` server.

One browser and one server for the module; each test opens its own page and saves a screenshot
in its tmp dir. Without /usr/bin/chromium the tests are skipped locally and fail under CI=true.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from h5swmr.view.browser import CHROMIUM, launch_chromium
from tests.view.pattern import DATASET, LIMIT, frame
from tests.view.processes import start_server, start_writer, stop

WAIT_MS = 60_000
"""Generous: only a failing test waits this long (the shared host can be very loaded)."""
BIG = (1024, 1024)
POINTS = [(0, 0), (5, 3), (17, 9), (31, 20), (40, 33), (63, 47), (22, 44), (50, 12)]
SNAP = """(points) => {
  const h = window.h5view.header;
  return {index: h && h.index, dataset: h && h.dataset, step: h && h.step,
          pixels: points.map(([x, y]) => window.h5view.pixelAt(x, y))};
}"""

if not Path(CHROMIUM).exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: CI must install chromium", pytrace=False)
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = launch_chromium(playwright, profile)
        try:
            yield context
        finally:
            context.close()


def write_shapes(path: Path) -> None:
    """An h5py file of other shapes: a big image stack, 3-D frames and 1-D frames."""
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset(
            "big", data=np.stack([frame(i, BIG) for i in range(2)]), chunks=(1, 256, 256)
        )
        f.create_dataset(
            "stack", data=np.stack([frame(i, (3, 40, 60)) + 100 * i for i in range(4)]).astype("f4")
        )
        f.create_dataset(
            "line",
            data=np.sin(np.arange(5 * 500).reshape(5, 500) / 40.0),
            maxshape=(None, 500),
        )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A writer streaming known frames at 10 Hz, a crashed file and an h5py file beside it, and
    the server showing all three."""
    folder = tmp_path_factory.mktemp("live")
    live_file, crashed_file = folder / "live.h5", folder / "crashed.h5"
    crashed = start_writer(crashed_file, 4, 50.0, "crash")
    crashed.wait(timeout=30)
    stop(crashed)
    write_shapes(folder / "shapes.h5")
    writer = start_writer(live_file, 3000, 10.0, "hold")
    server, url = start_server(str(live_file), str(crashed_file), str(folder / "shapes.h5"))
    try:
        yield url, live_file
    finally:
        stop(server)
        stop(writer)


def open_page(browser: Any, url: str) -> Any:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(url)
    page.wait_for_function("() => window.h5view && window.h5view.header", timeout=WAIT_MS)
    return page


def shoot(page: Any, path: Path) -> None:
    page.screenshot(path=str(path))
    assert not page.errors, page.errors


def set_gray(page: Any, lo: float, hi: float, scale: str = "linear") -> None:
    page.select_option("#cmap", "gray")
    page.select_option("#scale", scale)
    page.select_option("#auto", "manual")
    page.fill("#lo", str(lo))
    page.dispatch_event("#lo", "change")
    page.fill("#hi", str(hi))
    page.dispatch_event("#hi", "change")


def expected_gray(value: float, lo: float, hi: float, log: bool = False) -> int:
    if log:
        value = np.log10(value) if value > 0 else -np.inf
        lo, hi = np.log10(lo), np.log10(hi)
    return int(np.clip(np.floor((value - lo) * 255 / (hi - lo)), 0, 255))


def check_pixels(
    snap: dict[str, Any], image: np.ndarray, lo: float, hi: float, log: bool = False
) -> None:
    for (x, y), rgba in zip(POINTS, snap["pixels"], strict=True):
        if y >= image.shape[0] or x >= image.shape[1]:
            continue  # outside a smaller frame
        want = expected_gray(float(image[y, x]), lo, hi, log)
        assert rgba[3] == 255 and rgba[0] == rgba[1] == rgba[2], rgba
        assert abs(rgba[0] - want) <= 1, (x, y, image[y, x], rgba, want)


def next_frame(page: Any, after: int) -> dict[str, Any]:
    page.wait_for_function(f"() => window.h5view.header.index > {after}", timeout=WAIT_MS)
    snap: dict[str, Any] = page.evaluate(SNAP, POINTS)
    return snap


def test_frames_advance_with_the_writer_and_match_the_data(
    browser: Any, live: Any, tmp_path: Path
) -> None:
    url, _ = live
    page = open_page(browser, url)
    assert page.locator("#writer").inner_text() == "writer running"
    set_gray(page, 0, LIMIT)
    first = next_frame(page, page.evaluate("window.h5view.header.index"))
    check_pixels(first, frame(first["index"]), 0, LIMIT)
    second = next_frame(page, first["index"])
    assert second["index"] > first["index"]
    assert second["pixels"] != first["pixels"]
    check_pixels(second, frame(second["index"]), 0, LIMIT)
    assert f"frame {second['index']} of " in page.locator("#frame-info").inner_text()
    # the tree's shape follows the frames
    page.wait_for_function(
        "(n) => parseInt(document.querySelector("
        "'#tree [data-path=\"/entry/data/data\"] .meta').textContent.slice(1)) > n",
        arg=second["index"],
        timeout=WAIT_MS,
    )
    shoot(page, tmp_path / "live.png")
    page.close()


def test_clicking_a_dataset_in_the_tree_shows_it(browser: Any, live: Any, tmp_path: Path) -> None:
    url, _ = live
    page = open_page(browser, url)
    set_gray(page, 0, LIMIT)
    page.click('#tree [data-path="/entry/data/other"]')
    page.wait_for_function(
        "() => window.h5view.header.dataset === '/entry/data/other'", timeout=WAIT_MS
    )
    assert page.input_value("#auto") != "manual"  # the last dataset's limits are not kept
    set_gray(page, 0, LIMIT)
    snap = page.evaluate(SNAP, [(x % 16, y % 16) for x, y in POINTS])
    assert snap["dataset"] == "/entry/data/other"
    image = frame(10 * snap["index"], (16, 16))  # the writer adds one every tenth frame
    for (x, y), rgba in zip(POINTS, snap["pixels"], strict=True):
        assert abs(rgba[0] - expected_gray(float(image[y % 16, x % 16]), 0, LIMIT)) <= 1
    assert "(None, 16, 16)" in page.locator("#details").inner_text()
    assert "float32" in page.locator("#details").inner_text()
    page.select_option("#auto", "0.1")  # the screenshot on automatic contrast, as it opens
    shoot(page, tmp_path / "other-dataset.png")
    page.close()


def test_the_slider_and_frame_box_show_earlier_frames(
    browser: Any, live: Any, tmp_path: Path
) -> None:
    url, _ = live
    page = open_page(browser, url)
    set_gray(page, 0, LIMIT)
    page.fill("#frame-box", "5")
    page.dispatch_event("#frame-box", "change")
    page.wait_for_function("() => window.h5view.header.index === 5", timeout=WAIT_MS)
    check_pixels(page.evaluate(SNAP, POINTS), frame(5), 0, LIMIT)
    assert page.locator("#follow").inner_text() == "follow"
    page.evaluate(
        "() => { const s = document.getElementById('slider'); s.value = '2';"
        " s.dispatchEvent(new Event('input')); }"
    )
    page.wait_for_function("() => window.h5view.header.index === 2", timeout=WAIT_MS)
    snap = page.evaluate(SNAP, POINTS)
    check_pixels(snap, frame(2), 0, LIMIT)
    # new frames keep arriving (the slider's end grows) but the page stays on frame 2
    count = page.evaluate("window.h5view.count")
    page.wait_for_function(f"() => window.h5view.count > {count}", timeout=WAIT_MS)
    assert page.evaluate("window.h5view.header.index") == 2
    shoot(page, tmp_path / "history.png")
    page.click("#follow")
    page.wait_for_function("() => window.h5view.header.index > 5", timeout=WAIT_MS)
    page.close()


def test_log_scale_and_limits_change_the_pixels(browser: Any, live: Any, tmp_path: Path) -> None:
    url, _ = live
    page = open_page(browser, url)
    page.fill("#frame-box", "7")
    page.dispatch_event("#frame-box", "change")
    page.wait_for_function("() => window.h5view.header.index === 7", timeout=WAIT_MS)
    set_gray(page, 1, LIMIT)
    linear = page.evaluate(SNAP, POINTS)
    check_pixels(linear, frame(7), 1, LIMIT)
    set_gray(page, 1, LIMIT, "log")
    log = page.evaluate(SNAP, POINTS)
    check_pixels(log, frame(7), 1, LIMIT, log=True)
    assert log["pixels"] != linear["pixels"]
    set_gray(page, 200, 400)
    narrow = page.evaluate(SNAP, POINTS)
    check_pixels(narrow, frame(7), 200, 400)
    assert narrow["pixels"] != linear["pixels"]
    page.select_option("#cmap", "magma")
    page.select_option("#scale", "linear")
    page.select_option("#auto", "1")
    page.evaluate("() => document.getElementById('cmap').dispatchEvent(new Event('change'))")
    shoot(page, tmp_path / "magma-auto.png")
    page.close()


def test_a_crashed_writer_is_shown_with_the_recover_hint(
    browser: Any, live: Any, tmp_path: Path
) -> None:
    url, _ = live
    page = open_page(browser, url)
    page.select_option("#file", "1")
    page.wait_for_function(
        "() => document.getElementById('writer').textContent.includes('gone')", timeout=WAIT_MS
    )
    assert "h5swmr recover" in page.locator("#writer-detail").inner_text()
    page.wait_for_function("() => (window.h5view.header || {}).file === 1", timeout=WAIT_MS)
    shoot(page, tmp_path / "crashed.png")
    page.close()


def test_roi_is_drawn_and_plotted(browser: Any, live: Any, tmp_path: Path) -> None:
    url, _ = live
    page = open_page(browser, url)
    page.click("#roi-mode")
    box = page.locator("#image").bounding_box()
    assert box is not None
    x0, y0 = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + 80, y0 + 60, steps=4)
    page.mouse.up()
    index = page.evaluate("window.h5view.header.index")
    page.wait_for_function(f"() => window.h5view.header.index > {index + 2}", timeout=WAIT_MS)
    page.wait_for_function(
        f"() => window.h5view.roiPoints.some((p) => p[0] > {index + 2})", timeout=WAIT_MS
    )
    points = page.evaluate("window.h5view.roiPoints")
    assert [p[0] for p in points] == sorted(p[0] for p in points)  # by frame, as they arrive
    assert all(p[2] is not None and 0 <= p[2] < LIMIT for p in points)  # means of the pattern
    shoot(page, tmp_path / "roi.png")
    page.close()


def test_other_pages_carry_on_when_one_vanishes(browser: Any, live: Any, tmp_path: Path) -> None:
    url, _ = live
    pages = [open_page(browser, url) for _ in range(3)]
    pages[1].close()  # mid-stream
    pages[2].evaluate("() => window.stop()")  # stops loading; its socket may be cut
    pages[2].close(run_before_unload=False)
    page = pages[0]
    index = page.evaluate("window.h5view.header.index")
    page.wait_for_function(f"() => window.h5view.header.index > {index + 2}", timeout=WAIT_MS)
    assert page.evaluate("window.h5view.connected")
    shoot(page, tmp_path / "survivor.png")
    page.close()


def show(page: Any, file: int, path: str) -> None:
    page.select_option("#file", str(file))
    page.wait_for_selector(f'#tree [data-path="{path}"]', timeout=WAIT_MS)
    page.click(f'#tree [data-path="{path}"]')
    page.wait_for_function(
        f"() => (window.h5view.header || {{}}).dataset === '{path}'", timeout=WAIT_MS
    )


def test_zoom_and_pan_ask_for_full_resolution(browser: Any, live: Any, tmp_path: Path) -> None:
    url, _ = live
    page = open_page(browser, url)
    show(page, 2, "/big")
    header = page.evaluate("window.h5view.header")
    assert header["step"] >= 2 and header["region"] == [0, 1024, 0, 1024]  # binned to the canvas
    box = page.locator("#image").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(6):
        page.mouse.wheel(0, -300)
    page.wait_for_function("() => window.h5view.header.step === 1", timeout=WAIT_MS)
    region = page.evaluate("window.h5view.header.region")
    assert region[1] - region[0] < 1024 and region[3] - region[2] < 1024
    # pan: drag left by 200 pixels shows columns further right
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 200, y, steps=5)
    page.mouse.up()
    page.wait_for_function(f"() => window.h5view.header.region[2] > {region[2]}", timeout=WAIT_MS)
    page.mouse.move(x, y)
    readout = page.locator("#cursor").inner_text()
    found = re.match(r"x (\d+), y (\d+): (\S+)$", readout)
    assert found, readout
    col, row, value = int(found[1]), int(found[2]), float(found[3])
    assert value == frame(1, BIG)[row, col]
    shoot(page, tmp_path / "zoomed.png")
    page.close()


def test_slices_of_3d_frames_and_lines_of_1d_frames(
    browser: Any, live: Any, tmp_path: Path
) -> None:
    url, _ = live
    page = open_page(browser, url)
    show(page, 2, "/stack")
    page.wait_for_selector("#slice input", timeout=WAIT_MS)
    page.fill("#slice input", "2")
    page.dispatch_event("#slice input", "change")
    page.wait_for_function("() => window.h5view.header.slice[0] === 2", timeout=WAIT_MS)
    set_gray(page, 300, 1300)
    snap = page.evaluate(SNAP, POINTS)
    check_pixels(snap, (frame(3, (3, 40, 60)) + 300)[2].astype("f4"), 300, 1300)
    shoot(page, tmp_path / "slice.png")
    show(page, 2, "/line")
    assert page.evaluate("window.h5view.header.kind") == "line"
    assert page.evaluate("window.h5view.header.dims") == [500]
    assert not page.is_visible("#cmap")  # colours and limits are for images
    shoot(page, tmp_path / "line.png")
    page.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_page_recovers_after_the_server_restarts(
    browser: Any, live: Any, tmp_path: Path
) -> None:
    _, live_file = live
    port = str(free_port())
    server, url = start_server(str(live_file), "--port", port)
    page = open_page(browser, url)
    try:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
        page.wait_for_function("() => !window.h5view.connected", timeout=WAIT_MS)
        assert "retrying" in page.locator("#connection").inner_text()
        shoot(page, tmp_path / "disconnected.png")
        index = page.evaluate("window.h5view.header.index")
        server, _ = start_server(str(live_file), "--port", port)
        page.wait_for_function("() => window.h5view.connected", timeout=WAIT_MS)
        page.wait_for_function(f"() => window.h5view.header.index > {index}", timeout=WAIT_MS)
        shoot(page, tmp_path / "reconnected.png")
    finally:
        page.close()
        stop(server)


@pytest.fixture(autouse=True)
def _keep_shots(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """Copy the screenshots to $H5SWMR_VIEW_SHOTS when set (for a person to look at)."""
    yield
    target = os.environ.get("H5SWMR_VIEW_SHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in tmp_path.glob("*.png"):
            shutil.copy(shot, Path(target) / shot.name)


_ = (DATASET, subprocess)
