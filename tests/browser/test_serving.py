"""The browser tests' server leaves no file open when a client drops its connection."""

from __future__ import annotations

import gc
import socket
import struct
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest
from flask import Flask

from tests.browser.serving import read_whole, serving


def test_read_whole_gives_the_bytes_and_closes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "icon.svg"
    path.write_bytes(b"<svg/>")
    file = path.open("rb")
    assert read_whole(file) == [b"<svg/>"]
    assert file.closed


def test_dropped_connections_leave_no_static_file_open(tmp_path: Path) -> None:
    """Clients that reset the connection mid-answer (as Chromium does with a favicon) made
    werkzeug skip closing the response, and the open file's ResourceWarning failed whatever
    test ran at the next garbage collection."""
    (tmp_path / "icon.svg").write_bytes(b"<svg/>")
    app = Flask(__name__, static_folder=str(tmp_path), static_url_path="/static")
    unraisable: list[object] = []
    before = threading.active_count()
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        mp.setattr(sys, "unraisablehook", unraisable.append)
        warnings.simplefilter("error", ResourceWarning)
        with serving(app) as base:
            port = int(base.rsplit(":", 1)[1])
            for _ in range(40):
                with socket.create_connection(("127.0.0.1", port)) as client:
                    client.sendall(b"GET /static/icon.svg HTTP/1.1\r\nHost: x\r\n\r\n")
                    client.recv(1024)  # the answer has begun: the file is open
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        deadline = time.monotonic() + 10
        while threading.active_count() > before and time.monotonic() < deadline:
            time.sleep(0.01)  # the handler threads end on their own; nothing to wait on
        gc.collect()
    assert not unraisable
