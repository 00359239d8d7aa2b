"""gunicorn with the gateway's settings names the address it listens at: with ``reuse_port``
the arbiter holds no socket, and its start-up line read "Listening at:  (pid)"."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

from infra.embedded import free_port

CONF = Path(__file__).parents[2] / "services" / "gateway" / "gunicorn_conf.py"
APP = """
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def read_lines(process: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    """Hand each line of the process's stderr on; an empty one when it ends."""
    assert process.stderr is not None
    for line in process.stderr:
        lines.put(line)
    lines.put("")


def first_line_with(lines: queue.Queue[str], text: str, timeout: float = 30) -> str:
    """The first line holding ``text`` (a silent process fails the test after ``timeout``
    instead of hanging it)."""
    seen: list[str] = []
    while True:
        line = lines.get(timeout=timeout)
        if not line or text in line:
            assert line, f"gunicorn ended without a line holding {text!r}: {seen}"
            return line
        seen.append(line)


def test_the_start_up_line_names_the_address(tmp_path: Path) -> None:
    (tmp_path / "tiny_wsgi.py").write_text(APP)
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "COMPOUND_WEB_WORKERS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONF), "tiny_wsgi:app"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # a process group of its own, gunicorn and its workers
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=read_lines, args=(process, lines), daemon=True)
    reader.start()
    try:
        line = first_line_with(lines, "Listening at:")
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # its workers too; only the log line matters
        process.wait(timeout=30)
        reader.join(timeout=30)
        assert process.stderr is not None
        process.stderr.close()
    assert f"Listening at: http://127.0.0.1:{port} ({process.pid})" in line, line
