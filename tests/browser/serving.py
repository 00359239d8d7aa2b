"""The gateway served by werkzeug in a thread, for tests that drive it with a real browser.

Chromium drops connections it no longer wants (a favicon, a page left mid-load). werkzeug's
development server then reads the socket in a ``finally`` block, that read raises
``ConnectionResetError``, and the response's iterable is never closed: a static file's
``FileWrapper`` stays open until garbage collection, whose ``ResourceWarning`` fails the
test that happens to be running (the suite turns warnings into errors). gunicorn, which
serves the gateway everywhere else, closes the iterable. Here each file is read whole and
closed before the response starts (``wsgi.file_wrapper``, PEP 3333), so nothing is left
open whatever the browser does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from werkzeug.serving import make_server


def read_whole(file: IO[bytes], block_size: int = 8192) -> Iterable[bytes]:
    """A ``wsgi.file_wrapper`` that holds nothing open: the file's bytes, file closed."""
    with file:
        return [file.read()]


def closing_files(app: Any) -> Any:
    def wrapped(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ["wsgi.file_wrapper"] = read_whole
        return app(environ, start_response)

    return wrapped


@contextmanager
def serving(app: Any, port: int = 0) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (``port`` 0: any free one); yields the base URL."""
    server = make_server("127.0.0.1", port, closing_files(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
