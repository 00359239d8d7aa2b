"""``make run``: the demo organisation signs in through the local provider's OpenID Connect
side with no setup, and the demo passwords keep working."""

from __future__ import annotations

import contextlib
import html
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from infra.embedded import free_port
from tests.e2e.test_compound_run import answers, processes_started_for, wait_for

pytestmark = pytest.mark.slow
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_CONTINUE = re.compile(r'<a href="([^"]+)" data-sso-continue>')
STARTUP_SECONDS = 300  # seeding the demo on a busy 2-CPU machine takes minutes


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``compound run`` on a free port with a data directory of its own; stopped after."""
    data_dir, port = tmp_path / "data", free_port(0)
    data_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(COMPOUND_DATA_DIR=str(data_dir), PORT=str(port))
    log = data_dir / "run.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run"], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: answers(f"{base}/healthz") or process.poll() is not None,
            timeout=STARTUP_SECONDS,
            what="/healthz",
        )
        assert process.poll() is None, log.read_text(errors="replace")
        yield base, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pid in processes_started_for(data_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _login_form(http: requests.Session, base: str, email: str, password: str) -> requests.Response:
    token = _CSRF.search(http.get(f"{base}/login", timeout=10).text)
    assert token
    return http.post(
        f"{base}/login",
        data={"csrf_token": token.group(1), "email": email, "password": password},
        allow_redirects=False,
        timeout=10,
    )


def test_the_demo_signs_in_with_sso_and_passwords_keep_working(demo: tuple[str, Path]) -> None:
    base, log = demo
    said = log.read_text(errors="replace")
    assert "Single sign-on: @demo.test signs in through the local provider" in said

    http = requests.Session()
    routed = _login_form(http, base, "ada@demo.test", "")
    assert routed.status_code == 200, routed.text
    found = _CONTINUE.search(routed.text)
    assert found
    authorize = html.unescape(found.group(1))
    assert "/oidc/authorize?" in authorize and "code_challenge_method=S256" in authorize
    signed = http.post(
        authorize,
        data={"email": "ada@demo.test", "password": "compound-demo"},
        allow_redirects=False,
        timeout=10,
    )
    assert signed.status_code == 302, signed.text
    back = http.get(signed.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302 and back.headers["Location"] == "/"
    assert "ada@demo.test" in http.get(f"{base}/account", timeout=10).text

    other = requests.Session()  # a demo password still logs in
    password = _login_form(other, base, "grace@demo.test", "compound-demo")
    assert password.status_code == 302 and password.headers["Location"] == "/"
