"""Servers a fault test owns: a PostgreSQL it may stop, a gunicorn gateway, a worker.

The machine's own servers (CI's second pass) are never stopped: a test that stops a server
starts its own embedded one here.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from infra.embedded import EmbeddedPostgres, die_with_parent, free_port, stop_process
from infra.migrate import upgrade
from shared.database import make_engine
from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]

# Tests that stop servers own them (embedded), so they need not run against the machine's
# servers too: CI's second pass (DATABASE_URL / REDIS_URL set) skips them, keeping the run short.
once = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL") or os.environ.get("REDIS_URL")),
    reason="owns its servers: runs once, in the embedded pass",
)


@contextlib.contextmanager
def own_postgres(directory: Path) -> Iterator[EmbeddedPostgres]:
    """An embedded PostgreSQL of this test alone, migrated, stopped at the end."""
    server = EmbeddedPostgres(directory / "pg", database="compound")
    server.start()
    try:
        engine = make_engine(server.url)
        upgrade(engine)
        engine.dispose()
        yield server
    finally:
        server.stop()


def wait_until_accepting(url: str, timeout: float = 30.0) -> None:
    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(libpq, connect_timeout=1).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def app_env(database_url: str, redis_url: str, master_key: str, **extra: str) -> dict[str, str]:
    """The environment of a gateway, worker or scheduler process of a test."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "COMPOUND_MASTER_KEYS": master_key,
        "COMPOUND_SECRET_KEY": TEST_SECRET,
        "COMPOUND_QUEUE_NAMESPACE": f"test-{uuid.uuid4().hex[:8]}",
        "COMPOUND_LOG_LEVEL": "INFO",
        **extra,
    }


@dataclass
class Gateway:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def worker_pids(self) -> list[int]:
        """The gunicorn workers (children of the master)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        raw: bytes | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on a connection of its own: (status, headers, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
            all_headers = {"Content-Type": "application/json", **(headers or {})}
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()


@contextlib.contextmanager
def gunicorn(env: Mapping[str, str], log_path: Path, workers: int = 2) -> Iterator[Gateway]:
    """gunicorn serving the gateway on a free port until the block ends."""
    port = free_port()
    full_env = {
        **env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "COMPOUND_WEB_WORKERS": str(workers),
        "COMPOUND_WEB_THREADS": "4",
    }
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "services" / "gateway" / "gunicorn_conf.py"),
                "services.gateway.wsgi:app",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )
    gateway = Gateway(port, proc, log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            with contextlib.suppress(OSError):
                if gateway.call("GET", "/healthz", timeout=1)[0] == 200:
                    break
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.05)
        yield gateway
    finally:
        stop_process(proc, signal.SIGTERM, timeout=15)


@contextlib.contextmanager
def workers(env: Mapping[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], ...]]:
    """A Dramatiq worker process and the scheduler (periodic catch-up), until the block ends."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "workers.actors", "-p", "1", "-t", "2"],
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent(signal.SIGTERM),
    )
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "scheduler"],
        cwd=ROOT,
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent(signal.SIGTERM),
    )
    try:
        yield worker, scheduler
    finally:
        for proc in (scheduler, worker):
            stop_process(proc, signal.SIGTERM, timeout=20)
