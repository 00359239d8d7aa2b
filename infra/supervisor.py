"""``compound run``: everything up on one machine, and everything down on Ctrl-C.

Starts the embedded PostgreSQL and Redis (unless ``DATABASE_URL`` / ``REDIS_URL`` are set),
migrates, then starts the app processes and waits. Ctrl-C (SIGINT) or SIGTERM stops every
process it started, apps first and servers last. Children run in sessions of their own with
a parent-death signal, so a supervisor killed outright still leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.demo_calendars import connect_demo_calendars, new_secret, provider_environment
from infra.demo_msteams import msteams_environment
from infra.demo_questions import ask_the_demo_employee
from infra.demo_slack import slack_environment
from infra.embedded import (
    EmbeddedPostgres,
    EmbeddedRedis,
    die_with_parent,
    free_port,
    stop_process,
)
from infra.mail_server import MAILBOX_DIR, LocalMailServer
from infra.migrate import upgrade
from shared.eventlog import generate_master_key
from shared.settings import Settings

RUNTIME_FILE = "runtime.json"
MAIL_SETTINGS = (
    "COMPOUND_SMTP_HOST",
    "COMPOUND_SMTP_PORT",
    "COMPOUND_SMTP_STARTTLS",
    "COMPOUND_DEMO_MAILBOX",
    "COMPOUND_PUBLIC_URL",
)
"""What ``compound`` commands beside a ``make run`` take from it, to mail as it does."""


class StartupError(RuntimeError):
    """``compound run`` could not start; the message says what to do."""


@dataclass
class AppProcess:
    name: str
    argv: list[str]
    ready_url: str | None = None
    process: subprocess.Popen[bytes] | None = None


def master_keys_for(settings: Settings) -> str:
    """``COMPOUND_MASTER_KEYS``, or a key kept in the data directory for local runs."""
    if settings.master_keys:
        return ",".join(settings.master_keys)
    return _local_secret(settings.data_dir / "master.key", generate_master_key)


def secret_key_for(settings: Settings) -> str:
    """``COMPOUND_SECRET_KEY``, or one kept in the data directory for local runs."""
    if settings.secret_key:
        return settings.secret_key
    return _local_secret(settings.data_dir / "secret.key", lambda: secrets.token_hex(32))


def _local_secret(path: Path, make: Callable[[], str]) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(make() + "\n")
    return path.read_text().strip()


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class Supervisor:
    """Starts servers and app processes, watches them, stops them in reverse order."""

    def __init__(self, settings: Settings, say: Callable[[str], None] = print):
        self.settings = settings
        self.say = say
        self.postgres: EmbeddedPostgres | None = None
        self.redis: EmbeddedRedis | None = None
        self.mail: LocalMailServer | None = None
        self.apps: list[AppProcess] = []
        self.demo_logins: dict[str, str] = {}
        self.seeded_now: uuid.UUID | None = None  # the demo organisation this run seeded
        self.env = dict(os.environ)
        self._stopping = False
        self._stop_requested = False

    def start(self) -> None:
        s = self.settings
        if not port_is_free(s.port):
            raise StartupError(f"port {s.port} is in use: stop what uses it, or set PORT")
        s.data_dir.mkdir(parents=True, exist_ok=True)
        if s.database_url:
            self.env["DATABASE_URL"] = s.database_url
            self.say(f"PostgreSQL: {_redact(s.database_url)} (DATABASE_URL)")
        else:
            self.say(f"PostgreSQL: starting the embedded server in {s.data_dir / 'postgres'}")
            self.postgres = EmbeddedPostgres(s.data_dir / "postgres").start()
            self.env["DATABASE_URL"] = self.postgres.url
        if s.redis_url:
            self.env["REDIS_URL"] = s.redis_url
            self.say(f"Redis: {_redact(s.redis_url)} (REDIS_URL)")
        else:
            self.say(f"Redis: starting the embedded server in {s.data_dir / 'redis'}")
            self.redis = EmbeddedRedis(s.data_dir / "redis").start()
            self.env["REDIS_URL"] = self.redis.url
        self._start_mail()
        self.env["COMPOUND_MASTER_KEYS"] = master_keys_for(s)
        self.env["COMPOUND_SECRET_KEY"] = secret_key_for(s)
        self.env["COMPOUND_DATA_DIR"] = str(s.data_dir)
        self.env["PORT"] = str(s.port)
        self.env.update(
            provider_environment(
                self.env, s.data_dir, s.port, lambda path: _local_secret(path, new_secret)
            )
        )
        self.env.update(
            slack_environment(
                self.env, s.data_dir, s.port, lambda path: _local_secret(path, new_secret)
            )
        )
        self.env.update(
            msteams_environment(
                self.env, s.data_dir, s.port, lambda path: _local_secret(path, new_secret)
            )
        )
        provider_port = int(self.env["COMPOUND_CALENDAR_PROVIDER_PORT"])
        if not port_is_free(provider_port):
            raise StartupError(
                f"port {provider_port} (calendar provider) is in use: stop what uses it, "
                "or set COMPOUND_CALENDAR_PROVIDER_PORT"
            )

        from shared import bootstrap  # not at import: every `compound` command imports us

        engine = bootstrap.engine(self.env["DATABASE_URL"], pool_size=1)
        try:
            upgrade(engine)
            store = bootstrap.event_store(Settings.from_env(self.env), shared_engine=engine)
            bootstrap.projection_runtime(store)  # registers the projections, once
        finally:
            engine.dispose()
        self.say("Database migrated")
        self._seed_if_empty()
        self._write_runtime()

        base = f"http://127.0.0.1:{s.port}"
        self.apps = [
            AppProcess(
                "gateway",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    str(Path(__file__).parents[1] / "services" / "gateway" / "gunicorn_conf.py"),
                    "services.gateway.wsgi:app",
                ],
                ready_url=f"{base}/healthz",
            ),
            AppProcess(
                "worker",
                # `compound worker` prepares the metrics environment, then execs Dramatiq.
                [sys.executable, "-m", "services.cli", "worker", "--processes", "1", "-t", "4"],
            ),
            AppProcess("scheduler", [sys.executable, "-m", "services.cli", "scheduler"]),
            AppProcess(
                "calendar-provider",
                [sys.executable, "-m", "services.cli", "calendar-provider"],
                ready_url=f"{self.env['COMPOUND_CALENDAR_LOCAL_URL']}/healthz",
            ),
            AppProcess(
                "slack-stand-in",  # the Slack Web API stand-in (docs/chat.md)
                [sys.executable, "-m", "services.cli", "slack-stand-in"],
                ready_url=f"http://127.0.0.1:{self.env['COMPOUND_SLACK_STAND_IN_PORT']}/healthz",
            ),
            AppProcess(
                "msteams-stand-in",  # the Bot Framework connector stand-in (docs/chat.md)
                [sys.executable, "-m", "services.cli", "msteams-stand-in"],
                ready_url=f"http://127.0.0.1:{self.env['COMPOUND_MSTEAMS_STAND_IN_PORT']}/healthz",
            ),
        ]
        for app in self.apps:
            app.process = subprocess.Popen(
                app.argv,
                env=self.env,
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )
        for app in self.apps:
            if app.ready_url:
                self._wait_http(app, app.ready_url)
        if self._stop_requested:
            return
        self._connect_demo_calendars(base)
        self._ask_demo_question(base)
        self.say(f"Compound is up at {base}  (Ctrl-C stops everything)")
        if self.demo_logins:
            logins = ", ".join(f"{email} ({role})" for role, email in self.demo_logins.items())
            self.say(f"Demo logins (password {self.settings.demo_password!r}): {logins}")

    def _start_mail(self) -> None:
        """A local SMTP server keeping mails for the demo's Mailbox page, unless
        ``COMPOUND_SMTP_HOST`` names a server."""
        s = self.settings
        self.env["COMPOUND_PUBLIC_URL"] = s.public_url
        if s.smtp_host:
            self.say(f"Mail: {s.smtp_host}:{s.smtp_port} (COMPOUND_SMTP_HOST)")
            return
        self.mail = LocalMailServer(s.data_dir / MAILBOX_DIR, free_port(s.port + 25)).start()
        self.env.update(self.mail.environment())
        self.say(
            f"Mail: a local SMTP server on 127.0.0.1:{self.mail.port} keeps every mail in "
            f"{self.mail.maildir}; admins read them at {s.public_url}/mailbox"
        )

    def _seed_if_empty(self) -> None:
        """A new database gets the demo organisation, so every page has something to show."""
        from infra.seed import DEMO_LOGINS, database_is_empty, demo_exists, seed_demo
        from shared import bootstrap

        store = bootstrap.event_store(Settings.from_env(self.env), pool_size=2)
        try:
            if database_is_empty(store):
                self.say("Seeding the demo organisation ...")
                seeded = seed_demo(
                    store,
                    self.env["COMPOUND_SECRET_KEY"],
                    self.settings.demo_password,
                    say=self.say,
                    calendars=False,  # meetings come from the provider's synced calendars
                )
                self.demo_logins = seeded.logins
                self.seeded_now = seeded.tenant_id
            elif demo_exists(store):
                self.demo_logins = dict(DEMO_LOGINS)
            if self.demo_logins:
                from infra.demo_sso import connect_demo_sso

                connect_demo_sso(store, self.env, self.say)
        finally:
            store.engine.dispose()

    def _connect_demo_calendars(self, base: str) -> None:
        """The demo's meetings come from calendars synced from the local provider."""
        if not self.demo_logins:
            return
        from shared import bootstrap

        engine = bootstrap.engine(self.env["DATABASE_URL"], pool_size=1)
        try:
            connect_demo_calendars(
                engine, self.env, base, self.settings.demo_password, say=self.say
            )
        except (OSError, RuntimeError) as err:  # the demo runs on without calendars
            self.say(f"Demo calendars not connected: {err}")
        finally:
            engine.dispose()

    def _ask_demo_question(self, base: str) -> None:
        """A freshly seeded demo: a team-mate asks Ada a question (infra/demo_questions.py)."""
        if self.seeded_now is None:
            return
        from shared import bootstrap

        engine = bootstrap.engine(self.env["DATABASE_URL"], pool_size=1)
        try:
            ask_the_demo_employee(
                engine, self.seeded_now, base, self.settings.demo_password, say=self.say
            )
        except OSError as err:  # requests errors too; the demo runs on without the question
            self.say(f"Demo question not asked: {err}")
        finally:
            engine.dispose()

    def catch_signals(self) -> None:
        """From here on SIGINT and SIGTERM ask for an orderly stop (see :meth:`wait`)."""

        def _request_stop(signum: int, _frame: object) -> None:
            self._stop_requested = True

        signal.signal(signal.SIGINT, _request_stop)
        signal.signal(signal.SIGTERM, _request_stop)

    def wait(self) -> int:
        """Block until a signal asks to stop (0) or an app process dies (1)."""
        while not self._stop_requested:
            for app in self.apps:
                if app.process is not None and app.process.poll() is not None:
                    self.say(f"{app.name} exited with {app.process.returncode}; stopping")
                    return 1
            time.sleep(0.2)
        self.say("Stopping ...")
        return 0

    def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        for app in reversed(self.apps):
            if app.process is not None:
                stop_process(app.process, signal.SIGTERM, timeout=15)
                # Each app leads a session of its own: whatever it forked and left behind
                # (a Dramatiq worker process, a gunicorn worker) goes with it.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(app.process.pid, signal.SIGKILL)
        if self.mail is not None:
            self.mail.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.stop()
        (self.settings.data_dir / RUNTIME_FILE).unlink(missing_ok=True)
        self.say("Stopped")

    def _write_runtime(self) -> None:
        """Tell other ``compound`` commands on this machine where the servers are."""
        runtime = {
            "pid": os.getpid(),
            "database_url": self.env["DATABASE_URL"],
            "redis_url": self.env["REDIS_URL"],
            "mail": {name: self.env[name] for name in MAIL_SETTINGS if name in self.env},
        }
        path = self.settings.data_dir / RUNTIME_FILE
        path.write_text(json.dumps(runtime, indent=2))
        path.chmod(0o600)

    def _wait_http(self, app: AppProcess, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert app.process is not None
            if app.process.poll() is not None:
                raise StartupError(f"{app.name} exited with {app.process.returncode} at start")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise StartupError(f"{app.name} did not answer {url} within {timeout:.0f}s")


def runtime_urls(settings: Settings) -> dict[str, str]:
    """The server URLs of a running ``compound run`` on this data directory, if any, and
    its mail settings (so ``compound users invite`` mails through its SMTP server)."""
    path = settings.data_dir / RUNTIME_FILE
    try:
        runtime = json.loads(path.read_text())
        os.kill(int(runtime["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return {}
    mail = {str(k): str(v) for k, v in dict(runtime.get("mail") or {}).items()}
    return {**mail, "DATABASE_URL": runtime["database_url"], "REDIS_URL": runtime["redis_url"]}


def _redact(url: str) -> str:
    if "@" in url and ":" in url.split("@", 1)[0].split("//", 1)[-1]:
        scheme, rest = url.split("//", 1)
        user = rest.split(":", 1)[0]
        return f"{scheme}//{user}:***@{rest.split('@', 1)[1]}"
    return url


def run(settings: Settings) -> int:
    supervisor = Supervisor(settings)
    supervisor.catch_signals()  # before anything starts: no signal may kill us half-way
    try:
        supervisor.start()
        return supervisor.wait()
    except StartupError as err:
        print(f"compound run: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        supervisor.stop()
