"""The compose file, proven without Docker: every Compound service's own command, with its own
environment from docker-compose.yml, runs as a native process against this test session's
PostgreSQL and Redis (the machine's when ``DATABASE_URL`` / ``REDIS_URL`` are set); its
healthcheck passes; one request goes gateway -> worker -> read model over HTTP.

Only what Docker itself would provide is replaced: the host names ``postgres`` and ``redis``
(by the test servers), the ports (by free ones, since services share this host) and the
address the processes listen on (127.0.0.1).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from infra.embedded import die_with_parent, free_port, stop_process
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing, generate_master_key
from shared.read_tokens import PositionTokens
from tests.conftest import make_org
from tests.deploy.compose import ROOT, environment, healthcheck_argv, load, native_argv, resolve

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            kind = response.headers.get("Content-Type", "")
            return response.status, json.loads(raw) if "json" in kind else raw.decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@dataclass
class Deployment:
    """The compose services of one test, as native processes."""

    variables: dict[str, str]
    database_url: str
    redis_url: str
    workdir: Path
    namespace: str = field(default_factory=lambda: f"compound-deploy-{uuid.uuid4().hex[:8]}")
    services: dict[str, Any] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.services = resolve(load()["services"], self.variables)

    def env(self, name: str) -> dict[str, str]:
        """The service's compose environment, with what Docker would provide replaced."""
        env = environment(self.services[name])
        compose_db = env.get("DATABASE_URL")
        if compose_db is not None:
            assert make_url(compose_db).host == "postgres", compose_db
            env["DATABASE_URL"] = self.database_url
        if env.get("REDIS_URL") is not None:
            assert env["REDIS_URL"] == "redis://redis:6379/0"
            env["REDIS_URL"] = self.redis_url
        if env.get("HOST") == "0.0.0.0":
            env["HOST"] = "127.0.0.1"
        for port in ("PORT", "COMPOUND_WORKER_METRICS_PORT", "COMPOUND_CALENDAR_PROVIDER_PORT"):
            if port in env:
                env[port] = str(free_port())
        if "COMPOUND_CALENDAR_PROVIDER_DATABASE" in env:
            env["COMPOUND_CALENDAR_PROVIDER_DATABASE"] = str(self.workdir / "calendar.sqlite3")
        return {
            "PATH": os.environ["PATH"],
            "HOME": str(self.workdir),
            "TMPDIR": str(self.workdir),
            "COMPOUND_DATA_DIR": str(self.workdir / "data"),
            # a Dramatiq namespace of this deployment's own (the compose default is "compound")
            "COMPOUND_QUEUE_NAMESPACE": self.namespace,
            **env,
        }

    def run_once(self, name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            native_argv(self.services[name]["command"]),
            env=self.env(name),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def start(self, name: str) -> dict[str, str]:
        env = self.env(name)
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.processes[name] = subprocess.Popen(
            native_argv(self.services[name]["command"]),
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )
        log.close()
        return env

    def healthy(self, name: str, env: dict[str, str]) -> bool:
        process = self.processes[name]
        assert process.poll() is None, f"{name} exited: {self.output(name)}"
        check = subprocess.run(
            healthcheck_argv(self.services[name]), env=env, cwd=ROOT, capture_output=True
        )
        return check.returncode == 0

    def output(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                stop_process(process, signal.SIGTERM, timeout=30)
            # Each service runs in a session of its own: whatever it forked (Dramatiq's worker
            # processes) goes with it, even when the service itself had already exited.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def empty_database(postgres_server_url: str) -> Iterator[str]:
    """A database with no schema at all: the migrate service must create it."""
    name = f"compound_deploy_{uuid.uuid4().hex[:10]}"
    admin = make_url(postgres_server_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def deployment(empty_database: str, redis_url: str, tmp_path: Path) -> Iterator[Deployment]:
    variables = {  # what an operator's .env holds
        "POSTGRES_PASSWORD": "not-used-natively",
        "COMPOUND_MASTER_KEYS": generate_master_key(),
        "COMPOUND_SECRET_KEY": uuid.uuid4().hex,
        "COMPOUND_WEB_WORKERS": "1",
        "WORKER_PROCESSES": "1",
        "COMPOUND_LOG_LEVEL": "WARNING",
        # the demo profile's calendar provider
        "COMPOUND_CALENDAR_LOCAL_CLIENT_SECRET": uuid.uuid4().hex,
        "COMPOUND_CALENDAR_PROVIDER_ADMIN_TOKEN": uuid.uuid4().hex,
    }
    deployment = Deployment(variables, empty_database, redis_url, tmp_path)
    yield deployment
    deployment.stop()
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{deployment.namespace}*"):
        client.delete(key)
    client.close()


def test_compose_services_run_natively_and_serve_one_request_end_to_end(
    deployment: Deployment,
):
    migrated = deployment.run_once("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "database at revision" in migrated.stdout

    gateway = deployment.start("gateway")
    worker = deployment.start("worker")
    deployment.start("scheduler")
    wait_until(lambda: deployment.healthy("gateway", gateway), "the gateway's healthcheck")
    wait_until(lambda: deployment.healthy("worker", worker), "the worker's healthcheck")
    base = f"http://127.0.0.1:{gateway['PORT']}"
    status, ready = wait_until(
        lambda: (r := http("GET", f"{base}/readyz"))[0] == 200 and r, "/readyz"
    )
    assert ready["checks"]["database"] == ready["checks"]["redis"] == "ok"

    # The scheduler holds its advisory lock in this deployment's database.
    with psycopg.connect(
        make_url(deployment.database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False),
        autocommit=True,
    ) as conn:
        wait_until(
            lambda: (
                conn.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                    "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
                ).fetchone()[0]  # type: ignore[index]
                >= 1
            ),
            "the scheduler's lock",
        )

    # An organisation, written with the deployment's master key, then one request over HTTP.
    engine = make_engine(deployment.database_url, pool_size=2)
    try:
        keys = deployment.variables["COMPOUND_MASTER_KEYS"]
        org = make_org(EventStore(engine, keyring=KeyRing([keys])), people_per_team=1)
    finally:
        engine.dispose()
    status, token = http(
        "POST",
        f"{base}/api/v1/auth/token",
        {"email": org.emails["platform-1"], "password": org.password},
    )
    assert status == 200, token
    bearer = token["access_token"]
    status, written = http(
        "POST",
        f"{base}/api/v1/actions",
        {"tactic": "relationship_deposit", "minutes": 5, "audience": "team"},
        bearer,
    )
    assert status == 201, written

    def projected() -> dict[str, Any] | None:
        url = f"{base}/api/v1/me/capital?min_position={written['position']}"
        status, body = http("GET", url, token=bearer)
        assert status == 200, body
        # Tokens are opaque; the tenant's last event reached is the action itself.
        return body if body["as_of_position"] == written["position"] else None

    capital = wait_until(projected, "the worker to project the action")
    assert capital["scores"]["relationships"]["value"] > 0

    # Metrics: the gateway's from the database and Redis, the worker's from Dramatiq.
    status, text = http("GET", f"{base}/metrics")
    assert status == 200
    gateway_metrics = samples(text)
    tokens = PositionTokens(deployment.variables["COMPOUND_SECRET_KEY"])
    position = tokens.open(org.tenant_id, written["position"])  # the action's, in the log
    assert gateway_metrics[("compound_events_appended_total", frozenset())] >= position
    assert gateway_metrics[("compound_up", frozenset({("component", "redis")}))] == 1.0
    lag = ("compound_projection_lag_events", frozenset({("projection", "capital")}))
    assert gateway_metrics[lag] == 0

    def worker_counted() -> bool:
        status, text = http("GET", f"http://127.0.0.1:{worker['COMPOUND_WORKER_METRICS_PORT']}/")
        return status == 200 and any(
            name == "dramatiq_messages_total"
            and ("actor_name", "catch_up_projection") in labels
            and value >= 1
            for (name, labels), value in samples(text).items()
        )

    wait_until(worker_counted, "the worker's Dramatiq metrics")

    deployment.stop()
    for name, process in deployment.processes.items():
        assert process.returncode is not None, f"{name} did not stop on SIGTERM"


def calendar_provider_command() -> str | None:
    """Why the calendar-provider service cannot run yet, or None when it can."""
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "calendar-provider", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        return "`compound calendar-provider` does not exist yet (issue: calendar provider)"
    return None


def test_calendar_provider_service_runs_natively(deployment: Deployment):
    missing = calendar_provider_command()
    if missing:
        pytest.skip(missing)
    env = deployment.start("calendar-provider")
    wait_until(
        lambda: deployment.healthy("calendar-provider", env), "the calendar provider's healthcheck"
    )
    base = f"http://127.0.0.1:{env['COMPOUND_CALENDAR_PROVIDER_PORT']}"
    status, _ = http("GET", f"{base}/calendar/v3/calendars/primary/events")
    assert status == 401  # the calendar API wants an OAuth access token
