"""The server over real sockets on 127.0.0.1: what it serves, what it refuses, and what the
WebSocket carries, for h5swmr files (live, closed, crashed), h5py files and VDS masters."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import h5py
import numpy as np
import pytest
from yarl import URL

from h5swmr import SwmrFileWriter
from h5swmr.view.frames import decode_message
from h5swmr.view.server import TOKEN_COOKIE, ViewServer, is_loopback
from tests.view.pattern import DATASET, frame
from tests.view.processes import child_env, start_writer, stop, writer

TIMEOUT = 20.0


def run(files: list[Path], body: Callable[[ViewServer, str], Awaitable[None]], **kw: Any) -> None:
    """Start a server on a free port, run ``body(server, base_url)``, stop the server."""

    async def main() -> None:
        server = ViewServer([str(f) for f in files], **kw)
        await server.start("127.0.0.1", 0)
        try:
            await asyncio.wait_for(body(server, f"http://127.0.0.1:{server.port}"), TIMEOUT * 2)
        finally:
            await server.stop()

    asyncio.run(main())


async def next_of(ws: aiohttp.ClientWebSocketResponse, kind: str, **match: Any) -> Any:
    """The next message of ``kind`` (binary frames are decoded) whose fields equal ``match``."""
    while True:
        message = await ws.receive(timeout=TIMEOUT)
        if message.type == aiohttp.WSMsgType.BINARY:
            await ws.send_json({"op": "ack"})  # as the page does: the next frame comes then
            header, data = decode_message(message.data)
            if kind == "frame" and all(header.get(k) == v for k, v in match.items()):
                return header, data
        elif message.type == aiohttp.WSMsgType.TEXT:
            parsed = json.loads(message.data)
            if parsed["type"] == kind and all(parsed.get(k) == v for k, v in match.items()):
                return parsed
        else:
            raise AssertionError(f"socket ended: {message}")


def view(dataset: str = DATASET, frame_index: int | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "op": "view",
        "file": 0,
        "dataset": dataset,
        "frame": frame_index,
        "size": [512, 512],
        **kw,
    }


async def following_pages(
    http: aiohttp.ClientSession, base: str, count: int
) -> list[aiohttp.ClientWebSocketResponse]:
    """``count`` pages following the dataset's newest frame on a 64x64 canvas."""
    sockets = [await http.ws_connect(base + "/ws") for _ in range(count)]
    for ws in sockets:
        await ws.send_json(view(size=[64, 64]))
    return sockets


@pytest.fixture
def closed_file(tmp_h5: Path) -> Path:
    proc = start_writer(tmp_h5, 12, 0.0, "close")
    proc.wait(timeout=60)
    stop(proc)
    return tmp_h5


def test_page_and_modules_are_served_and_nothing_else(closed_file: Path) -> None:
    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/") as response:
                assert response.status == 200
                assert "h5swmr view" in await response.text()
                assert "default-src 'self'" in response.headers["Content-Security-Policy"]
            async with http.get(base + "/static/app.js") as response:
                assert response.status == 200
                assert response.content_type == "text/javascript"
            for path in [
                "/static/../server.py",
                "/static/%2e%2e/server.py",
                "/static/..%2fserver.py",
                "/static/..%2F..%2F..%2Fpyproject.toml",
                "/static/server.py",
                "/static/",
                "/../../etc/passwd",
                "/" + str(closed_file),
            ]:
                url = URL(base + path, encoded=True)
                async with http.get(url) as response:
                    assert response.status == 404, path
                    assert b"root:" not in await response.read()

    run([closed_file], body)


def test_a_token_is_required_when_set(closed_file: Path) -> None:
    async def body(server: ViewServer, base: str) -> None:
        # unsafe: keep cookies of a bare IP address, as a browser does
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            for path in ["/", "/static/app.js", "/?token=wrong"]:
                async with http.get(base + path) as response:
                    assert response.status == 403, path
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await http.ws_connect(base + "/ws")
            async with http.get(base + "/?token=s3cret") as response:
                assert response.status == 200
                assert response.cookies[TOKEN_COOKIE].value == "s3cret"
            # the cookie the page received now opens the rest
            async with http.get(base + "/static/app.js") as response:
                assert response.status == 200
            async with http.ws_connect(base + "/ws") as ws:
                hello = await next_of(ws, "hello")
                assert hello["files"][0]["name"] == closed_file.name

    run([closed_file], body, token="s3cret")
    assert not is_loopback("0.0.0.0") and is_loopback("127.0.0.1") and is_loopback("::1")


def test_a_websocket_from_another_site_is_refused(closed_file: Path) -> None:
    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
                await http.ws_connect(base + "/ws", origin="http://evil.example")
            assert caught.value.status == 403

    run([closed_file], body)


def test_frames_are_the_data_and_the_tree_opens_on_the_nexus_default(closed_file: Path) -> None:
    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(base + "/ws") as ws:
            tree = await next_of(ws, "tree")
            assert tree["default"] == DATASET
            node = next(n for n in tree["nodes"] if n["path"] == DATASET)
            assert node["shape"] == [12, 48, 64]
            assert node["chunks"] == [1, 48, 64]
            assert node["ratio"] == 1.0
            assert next(n for n in tree["nodes"] if n["path"] == "/entry/data")["attrs"] == {
                "NX_class": "NXdata",
                "signal": "data",
            }
            status = await next_of(ws, "status")
            assert status["writer"]["state"] == "closed"
            await ws.send_json(view())
            header, data = await next_of(ws, "frame")
            assert (header["index"], header["count"], header["step"]) == (11, 12, 1)
            np.testing.assert_array_equal(data, frame(11))
            await ws.send_json(view(frame_index=3))
            header, data = await next_of(ws, "frame", index=3)
            np.testing.assert_array_equal(data, frame(3))
            # a region, binned: rows 8..40, columns 0..64 into 16 x 32 pixels
            await ws.send_json(view(frame_index=4, region=[8, 40, 0, 64], size=[16, 32]))
            header, data = await next_of(ws, "frame", index=4, step=2)
            expected = frame(4)[8:40].reshape(16, 2, 32, 2).astype(np.float64).mean(axis=(1, 3))
            np.testing.assert_allclose(data, expected)

    run([closed_file], body)


def test_bad_requests_get_an_error_and_the_page_carries_on(closed_file: Path) -> None:
    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(base + "/ws") as ws:
            await ws.send_str("{not json")
            assert "not JSON" in (await next_of(ws, "error"))["message"]
            await ws.send_json({"op": "view", "file": 7, "dataset": "/x"})
            assert "file 7" in (await next_of(ws, "error"))["message"]
            await ws.send_json(view(dataset="/no/such/dataset"))
            await ws.send_json(view(frame_index=2))
            _, data = await next_of(ws, "frame", index=2)
            np.testing.assert_array_equal(data, frame(2))

    run([closed_file], body)


def test_roi_sums_follow_the_frames(closed_file: Path) -> None:
    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(base + "/ws") as ws:
            await ws.send_json({"op": "roi", "rect": [2, 6, 10, 20]})
            await ws.send_json(view())
            points: dict[int, list[float]] = {}
            while len(points) < 12:
                for index, total, mean in (await next_of(ws, "roi"))["points"]:
                    points[index] = [total, mean]
            for index, (total, mean) in points.items():
                cut = frame(index)[2:6, 10:20].astype(np.float64)
                assert total == cut.sum() and mean == pytest.approx(cut.mean())

    run([closed_file], body)


def test_many_pages_and_pages_that_vanish(tmp_h5: Path) -> None:
    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http:
            sockets = await following_pages(http, base, 16)
            for ws in sockets:
                await next_of(ws, "frame")
            # a quarter vanish without a closing handshake, mid-stream
            for ws in sockets[:4]:
                connection = ws._response.connection
                assert connection is not None and connection.transport is not None
                connection.transport.abort()
            survivors = sockets[4:]
            firsts = [(await next_of(ws, "frame"))[0]["index"] for ws in survivors]
            later = [(await next_of(ws, "frame"))[0]["index"] for ws in survivors]
            assert all(b > a for a, b in zip(firsts, later, strict=True))
            deadline = asyncio.get_running_loop().time() + TIMEOUT
            while len(server.sessions) > len(survivors):
                assert asyncio.get_running_loop().time() < deadline, len(server.sessions)
                await asyncio.sleep(0.05)
            for ws in survivors:
                await ws.close()

    with writer(tmp_h5, 10_000, 20.0):
        run([tmp_h5], body)


DRAWING = (0.0, 0.13, 0.13)


def test_pages_following_a_fast_writer_are_shown_the_same_frames(tmp_h5: Path) -> None:
    """Every following page gets the newest frame of the last look at the file, so a frame is
    read, binned and packed once for all of them, also for pages slower than the update period
    (they get fewer frames, the same ones)."""

    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http:
            sockets = await following_pages(http, base, 3)
            for ws in sockets:
                await next_of(ws, "frame")

            async def indices(ws: aiohttp.ClientWebSocketResponse, drawing: float) -> list[int]:
                """Indices of 8 frames, each acknowledged ``drawing`` seconds after it came
                (pages that draw at different speeds)."""
                found: list[int] = []
                while len(found) < 8:
                    message = await ws.receive(timeout=TIMEOUT)
                    if message.type == aiohttp.WSMsgType.BINARY:
                        found.append(decode_message(message.data)[0]["index"])
                        await asyncio.sleep(drawing)
                        await ws.send_json({"op": "ack"})
                return found

            # two pages take longer than an update period to draw: out of step with the first
            seen = await asyncio.gather(
                *(indices(ws, d) for ws, d in zip(sockets, DRAWING, strict=True))
            )
            total = sum(len(s) for s in seen)
            assert len(set().union(*seen)) <= 0.6 * total, seen
            for ws in sockets:
                await ws.close()

    with writer(tmp_h5, 10_000, 200.0):
        run([tmp_h5], body)


def test_pages_woken_together_share_one_render(tmp_h5: Path) -> None:
    """Pages woken by the same look ask for the same frame at the same moment: it is read,
    binned and packed once for all of them (the header's ``sent`` is stamped by that one
    render), not once per page."""

    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http:
            sockets = await following_pages(http, base, 6)
            sent: dict[int, set[float]] = {}
            for _ in range(5):
                for ws in sockets:
                    header = (await next_of(ws, "frame"))[0]
                    sent.setdefault(header["index"], set()).add(header["sent"])
            assert all(len(stamps) == 1 for stamps in sent.values()), sent
            for ws in sockets:
                await ws.close()

    with writer(tmp_h5, 10_000, 50.0):
        run([tmp_h5], body)


def test_a_crashed_writer_is_shown_as_gone(tmp_h5: Path) -> None:
    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(base + "/ws") as ws:
            await next_of(ws, "status", file=0)
            proc = start_writer_later.pop()
            proc.wait(timeout=30)
            while True:
                status = await next_of(ws, "status")
                if status["writer"]["state"] == "gone":
                    assert "h5swmr recover" in status["writer"]["detail"]
                    break
            await ws.send_json(view())
            header, data = await next_of(ws, "frame")
            np.testing.assert_array_equal(data, frame(header["index"]))

    start_writer_later = [start_writer(tmp_h5, 5, 20.0, "crash")]
    run([tmp_h5], body)


def test_h5py_files_and_vds_masters(tmp_path: Path) -> None:
    parts = []
    for k in range(2):
        part = tmp_path / f"part{k}.h5"
        with h5py.File(part, "w", libver="latest") as f:
            f.create_dataset(
                "data",
                data=np.stack([frame(2 * k + i) for i in range(2)]),
                maxshape=(None, 48, 64),
                chunks=(1, 48, 64),
                compression="gzip",
            )
        parts.append(part)
    master = tmp_path / "master.h5"
    layout = h5py.VirtualLayout(shape=(4, 48, 64), dtype="uint16")
    for k, part in enumerate(parts):
        layout[2 * k : 2 * k + 2] = h5py.VirtualSource(part.name, "data", shape=(2, 48, 64))
    with h5py.File(master, "w", libver="latest") as f:
        f.create_virtual_dataset("data", layout)

    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(base + "/ws") as ws:
            trees: dict[int, dict[str, Any]] = {}
            while len(trees) < 2:
                tree = await next_of(ws, "tree")
                trees[tree["file"]] = tree
            gz = next(n for n in trees[0]["nodes"] if n["path"] == "/data")
            assert gz["filters"] == "deflate(level=4)" and gz["ratio"] > 1
            assert next(n for n in trees[1]["nodes"] if n["path"] == "/data")["virtual"]
            for file in (0, 1):
                await ws.send_json({**view("/data", 1), "file": file})
                _, data = await next_of(ws, "frame", file=file, index=1)
                np.testing.assert_array_equal(data, frame(1))
            await ws.send_json({**view("/data", 3), "file": 1})
            _, data = await next_of(ws, "frame", file=1, index=3)
            np.testing.assert_array_equal(data, frame(3))

    run([parts[0], master], body)


def test_damaged_and_missing_files_are_reported_and_the_rest_is_served(
    tmp_path: Path, closed_file: Path
) -> None:
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 8)
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(closed_file.read_bytes()[:1000])
    later = tmp_path / "later.h5"

    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(base + "/ws") as ws:
            errors: dict[int, str] = {}
            while len(errors) < 3 or 3 not in errors:
                status = await next_of(ws, "status")
                if status["error"]:
                    errors[status["file"]] = status["error"]
            assert str(garbage) in errors[0]
            assert str(truncated) in errors[1]
            assert "No such file" in errors[3]
            assert 2 not in errors
            await ws.send_json({**view(frame_index=1), "file": 2})
            _, data = await next_of(ws, "frame", file=2, index=1)
            np.testing.assert_array_equal(data, frame(1))
            # a file that appears later is shown once a writer makes it
            proc = start_writer(later, 3, 50.0, "close")
            try:
                tree = await next_of(ws, "tree", file=3)
                assert tree["default"] == DATASET
            finally:
                proc.wait(timeout=30)
                stop(proc)

    run([garbage, truncated, closed_file, later], body)


def test_a_live_h5py_swmr_writer_is_followed(tmp_h5: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reader.h5py_live_writer",
            str(tmp_h5),
            "400",
            "0.02",
            "gzip",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.stdout.readline()  # the first frame is flushed

        async def body(server: ViewServer, base: str) -> None:
            async with aiohttp.ClientSession() as http, http.ws_connect(base + "/ws") as ws:
                assert (await next_of(ws, "tree"))["default"] == "/frames"
                status = await next_of(ws, "status")
                while status["writer"]["state"] != "running":
                    status = await next_of(ws, "status")
                await ws.send_json(view("/frames"))
                first, data = await next_of(ws, "frame")
                np.testing.assert_array_equal(data, np.full((64, 64), first["index"]))
                while True:  # frames arrive while libhdf5 writes them
                    header, data = await next_of(ws, "frame")
                    np.testing.assert_array_equal(data, np.full((64, 64), header["index"]))
                    if header["index"] > first["index"]:
                        break

        run([tmp_h5], body)
    finally:
        stop(proc)


def test_a_page_gets_its_next_frame_only_after_acknowledging_the_last(tmp_h5: Path) -> None:
    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http:
            silent = await http.ws_connect(base + "/ws")
            await silent.send_json(view(size=[64, 64]))
            while (await silent.receive(timeout=TIMEOUT)).type != aiohttp.WSMsgType.BINARY:
                pass  # its first frame; it never acknowledges it
            async with http.ws_connect(base + "/ws") as ws:
                await ws.send_json(view(size=[64, 64]))
                first = (await next_of(ws, "frame"))[0]["index"]
                while (await next_of(ws, "frame"))[0]["index"] < first + 3:
                    pass  # the acknowledging page goes on
            binary = 0
            end = asyncio.get_running_loop().time() + 1.0  # what reached it meanwhile, and more
            with contextlib.suppress(TimeoutError):
                while (left := end - asyncio.get_running_loop().time()) > 0:
                    message = await silent.receive(timeout=left)
                    binary += message.type == aiohttp.WSMsgType.BINARY
            assert binary == 0
            await silent.send_json({"op": "ack"})
            await next_of(silent, "frame")  # and now it gets the newest
            await silent.close()

    with writer(tmp_h5, 10_000, 20.0):
        run([tmp_h5], body)


def test_string_datasets_are_listed_and_a_page_that_opens_one_is_told_why_not(
    tmp_h5: Path,
) -> None:
    """Per-frame file names (S16) and 2x2 strings per frame: the tree lists them, the default
    stays the image, and viewing one is an error the page shows; the page carries on."""
    with SwmrFileWriter.create(tmp_h5) as writer:
        image = writer.create_streaming_dataset("/image", "<u2", (48, 64))
        name = writer.create_streaming_dataset("/name", "S16", ())
        grid = writer.create_streaming_dataset("/grid", "S4", (2, 2))
        writer.start_swmr()
        for i in range(3):
            writer.append_frame(image, frame(i), metadata={name: f"f{i}.tif"})
            writer.append_frame(grid, np.full((2, 2), b"ab", "S4"))

    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(base + "/ws") as ws:
            tree = await next_of(ws, "tree")
            assert tree["default"] == "/image"
            assert next(n for n in tree["nodes"] if n["path"] == "/name")["dtype"] == "|S16"
            for path in ("/name", "/grid"):
                await ws.send_json(view(path))
                message = (await next_of(ws, "error"))["message"]
                assert message.startswith(path) and "holds no numbers to show" in message
            await ws.send_json(view("/image", 1))
            _, data = await next_of(ws, "frame", index=1)
            np.testing.assert_array_equal(data, frame(1))

    run([tmp_h5], body)


def test_a_dataset_of_records_is_listed_and_viewing_it_is_an_error(tmp_h5: Path) -> None:
    status = np.dtype([("frame", "<u8"), ("t", "<f8")])
    with SwmrFileWriter.create(tmp_h5) as writer:
        image = writer.create_streaming_dataset(DATASET, "u2", (48, 64))
        meta = writer.create_streaming_dataset("/entry/status", status, ())
        writer.start_swmr()
        for i in range(3):
            writer.append_frame(image, frame(i), metadata={meta: (i, i / 2)})

    async def body(server: ViewServer, base: str) -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(base + "/ws") as ws:
            tree = await next_of(ws, "tree")
            assert tree["default"] == DATASET
            node = next(n for n in tree["nodes"] if n["path"] == "/entry/status")
            assert node["shape"] == [3]
            await ws.send_json(view(dataset="/entry/status", frame_index=1))
            assert "no numbers to show" in (await next_of(ws, "error"))["message"]
            await ws.send_json(view(frame_index=2))
            _, data = await next_of(ws, "frame", index=2)
            np.testing.assert_array_equal(data, frame(2))

    run([tmp_h5], body)
