"""``compound run`` (what ``make run`` calls): up, ready, and everything down on Ctrl-C."""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests

from infra.demo_questions import QUESTION
from infra.embedded import free_port
from infra.seed import DEMO_LOGINS

pytestmark = pytest.mark.slow
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
MAIL = re.compile(r'href="/mailbox/([^"]+)"')
QUESTION_LINK = re.compile(r'href="([^"]*/f/[^"]+)"')


def processes_mentioning(marker: str) -> list[int]:
    """Live processes whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if marker in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def processes_started_for(data_dir: Path) -> list[int]:
    """Live processes whose environment names ``data_dir`` as ``COMPOUND_DATA_DIR``: every
    process ``compound run`` started, including those that forked from its apps."""
    marker = f"COMPOUND_DATA_DIR={data_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if marker in environ and state != "Z":
            found.append(int(entry.name))
    return found


def wait_for(predicate, timeout: float = 60.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def get(url: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def answers(url: str) -> bool:
    try:
        return get(url)[0] == 200
    except OSError:
        return False


_RUNS: list[subprocess.Popen[bytes]] = []


class Run:
    def __init__(self, data_dir: Path, port: int):
        self.data_dir, self.port = data_dir, port
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(COMPOUND_DATA_DIR=str(data_dir), PORT=str(port))
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log = data_dir / f"run-{time.monotonic_ns()}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "run"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _RUNS.append(self.process)
        wait_for(
            lambda: answers(self.url("/healthz")) or self.process.poll() is not None,
            # A first start initialises PostgreSQL, migrates and seeds the demo: about 15 s
            # alone, over 60 s on a machine CI's second pass (or anything else) also loads.
            timeout=240.0,
            what="/healthz",
        )
        assert self.process.poll() is None, self.output()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def runtime(self) -> dict[str, str]:
        return json.loads((self.data_dir / "runtime.json").read_text())

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"
    while _RUNS:  # a failed test must not leave a supervisor (and its children) running
        process = _RUNS.pop()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    for pid in processes_mentioning(str(tmp_path)) + processes_started_for(tmp_path / "data"):
        with contextlib.suppress(ProcessLookupError):  # never leave a server behind
            os.kill(pid, signal.SIGKILL)


def test_run_serves_and_ctrl_c_stops_everything(data_dir: Path):
    port = free_port()
    run = Run(data_dir, port)
    status, body = get(run.url("/readyz"))
    assert status == 200 and body["status"] == "ready"
    assert body["checks"]["database"] == body["checks"]["redis"] == "ok"
    assert body["checks"]["projections"]["capital"]["status"] == "live"
    assert processes_mentioning(str(data_dir))  # postgres and redis run from the data dir
    assert len(processes_started_for(data_dir)) >= 5  # gateway, worker, scheduler, provider
    with psycopg.connect(run.runtime()["database_url"].replace("+psycopg", "")) as conn:
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")

    run.process.send_signal(signal.SIGINT)
    assert run.process.wait(timeout=60) == 0
    assert "Stopped" in run.output()
    assert processes_mentioning(str(data_dir)) == []
    assert processes_started_for(data_dir) == []  # workers, scheduler, provider too
    assert not answers(run.url("/healthz"))
    assert not (data_dir / "runtime.json").exists()

    again = Run(data_dir, port)  # a second run reuses the data
    with psycopg.connect(again.runtime()["database_url"].replace("+psycopg", "")) as conn:
        assert conn.execute("SELECT note FROM kept").fetchone() == ("still here",)
    again.process.send_signal(signal.SIGTERM)
    assert again.process.wait(timeout=60) == 0


def test_a_killed_supervisor_leaves_no_process_behind(data_dir: Path):
    run = Run(data_dir, free_port())
    gateway_port = run.port
    run.process.kill()
    run.process.wait()
    wait_for(lambda: processes_mentioning(str(data_dir)) == [], what="servers to exit")
    wait_for(lambda: processes_started_for(data_dir) == [], what="every app process to exit")
    wait_for(lambda: not answers(f"http://127.0.0.1:{gateway_port}/healthz"), what="gateway")


def test_a_busy_port_is_a_clear_error(data_dir: Path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "COMPOUND_DATA_DIR": str(data_dir), "PORT": str(port)}
        result = subprocess.run(
            [sys.executable, "-m", "services.cli", "run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"port {port} is in use" in result.stderr


def test_run_mails_through_its_local_smtp_server(data_dir: Path):
    """Without COMPOUND_SMTP_HOST, ``compound run`` starts a mail server keeping mails in
    ``$COMPOUND_DATA_DIR/mailbox``: an invitation by the API and one by ``compound users
    invite`` beside it land there, their links under the gateway's own address, and the
    Mailbox page exists (for admins: anonymous callers are sent to log in)."""
    import mailbox

    run = Run(data_dir, free_port())
    base = run.url("")
    assert "Mail: a local SMTP server" in run.output()
    wait_for(lambda: "Demo logins" in run.output(), what="the demo logins")
    printed = run.output().split("Demo logins", 1)[1].split("\n", 1)[0]
    assert all(login in printed for login in DEMO_LOGINS.values()), printed
    login = json.dumps({"email": "admin@demo.test", "password": "compound-demo"}).encode()
    request = urllib.request.Request(
        run.url("/api/v1/auth/token"), login, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        token = json.loads(response.read())["access_token"]
    invite = urllib.request.Request(
        run.url("/api/v1/invitations"),
        json.dumps({"email": "api-invitee@demo.test"}).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(invite, timeout=10) as response:
        answer = json.loads(response.read())
    assert answer["mail"] == "sent" and answer["link"].startswith(f"{base}/invite/")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env.update(COMPOUND_DATA_DIR=str(data_dir))
    env = {k: v for k, v in env.items() if not k.startswith("COMPOUND_SMTP")}
    cli = subprocess.run(
        [sys.executable, "-m", "services.cli", "users", "invite", "cli-invitee@demo.test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert f": {base}/invite/" in cli.stdout and "invitation mail sent" in cli.stdout

    box = mailbox.Maildir(data_dir / "mailbox", create=False)
    recipients = [str(message["To"]) for message in box]  # the demo's digests among them
    assert recipients.count("api-invitee@demo.test") == recipients.count("cli-invitee@demo.test")
    assert recipients.count("cli-invitee@demo.test") == 1
    with urllib.request.urlopen(run.url("/mailbox"), timeout=5) as page:  # 404 would raise
        assert page.url.startswith(run.url("/login?next="))  # it exists: log in first

    # The demo leaves ada a question to answer: in her mailbox, its link opens it for her.
    ada = requests.Session()
    csrf = CSRF.search(ada.get(run.url("/login"), timeout=10).text)
    assert csrf is not None
    form = {"csrf_token": csrf.group(1), "email": "ada@demo.test", "password": "compound-demo"}
    assert ada.post(run.url("/login"), data=form, timeout=10).url.startswith(base)
    listing = ada.get(run.url("/mailbox"), timeout=10).text
    mails = [ada.get(run.url(f"/mailbox/{key}"), timeout=10).text for key in MAIL.findall(listing)]
    links = [link for mail in mails for link in QUESTION_LINK.findall(mail)]
    assert len(mails) <= 2 and len(links) == 1, mails  # her digest, her question: hers only
    question = ada.get(html.unescape(links[0]), timeout=10)
    assert question.status_code == 200 and QUESTION in question.text
    run.process.send_signal(signal.SIGINT)
    assert run.process.wait(timeout=60) == 0
