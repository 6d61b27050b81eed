"""Sources other than a path (reader/streams.py): an open binary file, ``io.BytesIO``, and an
fsspec HTTP file read by range requests from a server the test runs on 127.0.0.1 (port 0),
counting the bytes it sends."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import h5py
import numpy as np
import pytest

import h5swmr


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 frames of 64x64 u2 (3.2 MB), one frame per chunk, plus a deflate copy."""
    path = tmp_path_factory.mktemp("sources") / "big.h5"
    data = np.arange(400 * 64 * 64, dtype="<u2").reshape(400, 64, 64)
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("plain", data=data, chunks=(1, 64, 64), maxshape=(None, 64, 64))
        f.create_dataset("packed", data=data, chunks=(1, 64, 64), compression="gzip")
        f.attrs["note"] = "remote"
    return path


def test_open_file_object_and_bytesio(big_file: Path) -> None:
    with big_file.open("rb") as handle:
        f = h5swmr.File(handle)
        np.testing.assert_array_equal(f["plain"][7, 1:3], h5py.File(big_file)["plain"][7, 1:3])
        f.close()
        assert not handle.closed  # the caller's object stays the caller's
    f = h5swmr.File(io.BytesIO(big_file.read_bytes()))
    assert f["packed"][399, 63, 63] == (400 * 64 * 64 - 1) % 65536
    assert f.attrs["note"] == "remote"


class _RangeHandler(BaseHTTPRequestHandler):
    """GET with Range (206) and HEAD, counting the body bytes sent."""

    root: Path
    sent: list[int]

    def log_message(self, *args: object) -> None:
        pass

    def _file(self) -> Path:
        return self.root / self.path.lstrip("/")

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(self._file().stat().st_size))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()

    def do_GET(self) -> None:
        data = self._file().read_bytes()
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if match:
            start = int(match[1])
            stop = min(int(match[2]) + 1 if match[2] else len(data), len(data))
            body = data[start:stop]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{len(data)}")
        else:
            body = data
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(body)
        self.sent.append(len(body))


@pytest.fixture
def http_url(big_file: Path) -> Iterator[tuple[str, list[int]]]:
    sent: list[int] = []
    handler = type("Handler", (_RangeHandler,), {"root": big_file.parent, "sent": sent})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{big_file.name}", sent
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_fsspec_http_reads_only_what_it_needs(
    big_file: Path, http_url: tuple[str, list[int]]
) -> None:
    fsspec = pytest.importorskip("fsspec")
    url, sent = http_url
    size = big_file.stat().st_size
    with fsspec.open(url, "rb", block_size=16 * 1024, cache_type="bytes") as remote:
        f = h5swmr.File(remote)
        with h5py.File(big_file, "r") as theirs:
            np.testing.assert_array_equal(f["plain"][123], theirs["plain"][123])
            np.testing.assert_array_equal(
                f["packed"][200, 5:9, ::7], theirs["packed"][200, 5:9, ::7]
            )
        assert f.filename == url
        f.close()
    fetched = sum(sent)
    assert 0 < fetched < size // 10, (fetched, size)
