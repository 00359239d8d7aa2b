"""Calendar sync: the first sync of 100 people x 26 weeks, and an incremental sync with one
changed meeting, against the local provider running as its own process (over HTTP, with
real OAuth tokens).

Targets (issue 24, which tightened issue 8's 2,000 events/s and 200 ms): first sync >= 5,000
calendar events/s into the log; an incremental sync with one changed meeting under 50 ms.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import requests
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import Engine

from bench.common import Context, Section, fmt_int, median, percentile, verdict
from services.calendar_provider.kinds import counts
from shared.calendar.connections import Connections, TokenCipher
from shared.calendar.providers import GOOGLE_SCOPE, configured_providers
from shared.calendar.settings import CalendarSettings
from shared.calendar.sync import CalendarSync
from shared.database import make_engine
from shared.eventlog import AppendContext, EventStore, KeyRing, generate_master_key

TITLE = "Calendar sync"
PEOPLE = 100
WEEKS = 26
THREADS = 4  # what `make run`'s worker runs
TARGET_RATE = 5_000
TARGET_INCREMENTAL_S = 0.050
PASSWORD = "bench-password"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Provider:
    """``compound calendar-provider`` in a process of its own, on a free loopback port."""

    def __init__(self, directory: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secrets.token_urlsafe(24)
        self.admin = secrets.token_urlsafe(24)
        self.redirect = "http://127.0.0.1:1/calendar/callback/local"
        env = {
            **os.environ,
            "COMPOUND_CALENDAR_PROVIDER_PORT": str(self.port),
            "COMPOUND_CALENDAR_PROVIDER_DATABASE": str(directory / "provider.sqlite3"),
            "COMPOUND_CALENDAR_LOCAL_CLIENT_ID": "bench",
            "COMPOUND_CALENDAR_LOCAL_CLIENT_SECRET": self.secret,
            "COMPOUND_CALENDAR_PROVIDER_ADMIN_TOKEN": self.admin,
            "COMPOUND_CALENDAR_PROVIDER_REDIRECT_URIS": self.redirect,
            "COMPOUND_CALENDAR_PROVIDER_PASSWORD": PASSWORD,
            "COMPOUND_CALENDAR_PROVIDER_WEEKS": str(WEEKS),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "calendar-provider"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the calendar provider did not start")

    def token(self, email: str) -> dict[str, object]:
        verifier = secrets.token_urlsafe(48)
        authorize = requests.post(
            f"{self.url}/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": "bench",
                "redirect_uri": self.redirect,
                "scope": GOOGLE_SCOPE,
                "state": "bench",
                "code_challenge": create_s256_code_challenge(verifier),
                "code_challenge_method": "S256",
            },
            data={"email": email, "password": PASSWORD, "decision": "allow"},
            allow_redirects=False,
            timeout=10,
        )
        code = authorize.headers["Location"].split("code=")[1].split("&")[0]
        response = requests.post(
            f"{self.url}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect,
                "code_verifier": verifier,
            },
            auth=("bench", self.secret),
            timeout=10,
        )
        response.raise_for_status()
        return dict(response.json())

    def warm(self, email: str) -> None:
        """Have the provider generate ``email``'s calendar now (it does so on the first
        request for it, and keeps it): a real provider has its calendars stored already, so
        the timed sync pays for serving them, not for making them up."""
        requests.get(
            f"{self.url}/admin/accounts/{email}/events",
            headers={"Authorization": f"Bearer {self.admin}"},
            timeout=30,
        ).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def run(ctx: Context) -> Section:
    engine = make_engine(ctx.database_url, pool_size=THREADS + 2)
    master = generate_master_key()
    store = EventStore(engine, keyring=KeyRing([master]))
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="compound-bench-calendar-") as tmp:
        provider = Provider(Path(tmp))
        try:
            phase = time.perf_counter()
            settings = CalendarSettings(
                local_url=provider.url,
                local_client_id="bench",
                local_client_secret=provider.secret,
                weeks_back=WEEKS,
                weeks_ahead=0,
            )
            connections = Connections(store, TokenCipher([master]))
            sync = CalendarSync(connections, configured_providers(settings), settings)
            tenant = uuid.uuid4()
            people = [
                (uuid.uuid4(), f"person-{i}-{uuid.uuid4().hex[:6]}@bench.test")
                for i in range(PEOPLE)
            ]
            ids = []
            for person, email in people:
                ids.append(
                    connections.connect(
                        tenant,
                        person,
                        "local",
                        provider.token(email),
                        AppendContext(actor="bench", source="bench"),
                    )
                )
            for _, email in people:
                provider.warm(email)
            timings["connect"] = time.perf_counter() - phase
            _progress(f"{PEOPLE} connections over OAuth; first sync with {THREADS} threads")

            processes = [psutil.Process(), psutil.Process(provider.process.pid)]
            server = _server(engine)
            cpu_before = [_cpu(p) for p in processes] + [_server_cpu(server)]
            phase = time.perf_counter()
            with ThreadPoolExecutor(THREADS) as pool:
                reports = list(pool.map(sync.sync, ids))
            first_seconds = time.perf_counter() - phase
            cpu_after = [_cpu(p) for p in processes] + [_server_cpu(server)]
            cpu = [after - before for after, before in zip(cpu_after, cpu_before, strict=True)]
            timings["first sync"] = first_seconds
            appended = sum(r.observed + r.cancelled for r in reports)
            rate = appended / first_seconds
            seen = sum(r.seen for r in reports)  # listed, counted or not (docs/levers.md)
            _progress(
                f"first sync: {fmt_int(appended)} events appended of {fmt_int(seen)} listed"
                f" in {first_seconds:.1f} s"
            )

            phase = time.perf_counter()
            latencies = []
            calls = max(ctx.rounds * 4, 10)
            for i in range(calls):
                (person, email), connection_id = people[i % PEOPLE], ids[i % PEOPLE]
                listing = requests.get(
                    f"{provider.url}/admin/accounts/{email}/events",
                    headers={"Authorization": f"Bearer {provider.admin}"},
                    timeout=10,
                ).json()["items"]
                past = datetime.now(UTC) - timedelta(hours=2)  # inside the synced window
                meeting = next(
                    m
                    for m in reversed(listing)
                    if counts(m, email) and datetime.fromisoformat(m["end"]) < past
                )
                start = datetime.fromisoformat(meeting["start"]) - timedelta(minutes=30)
                requests.patch(
                    f"{provider.url}/admin/accounts/{email}/events/{meeting['id']}",
                    json={
                        "start": start.isoformat(),
                        "end": (start + timedelta(minutes=45)).isoformat(),
                    },
                    headers={"Authorization": f"Bearer {provider.admin}"},
                    timeout=10,
                ).raise_for_status()
                began = time.perf_counter()
                report = sync.sync(connection_id)
                latencies.append(time.perf_counter() - began)
                assert report.observed == 1 and not report.full, report
            timings["incremental"] = time.perf_counter() - phase
        finally:
            provider.stop()
            engine.dispose()
    per_event = [seconds / max(appended, 1) for seconds in cpu]
    return _section(ctx, (appended, seen), first_seconds, rate, latencies, timings, per_event)


def _cpu(process: psutil.Process) -> float:
    """User and system CPU seconds of ``process`` (all its threads) so far."""
    times = process.cpu_times()
    return float(times.user + times.system)


def _server(engine: Engine) -> psutil.Process | None:
    """PostgreSQL's postmaster when it runs on this machine (the embedded server does), else
    None: a backend's parent."""
    with engine.connect() as conn:
        backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    try:
        postmaster = psutil.Process(psutil.Process(int(backend or 0)).ppid())
        return postmaster if postmaster.name().startswith("postgres") else None
    except psutil.Error:
        return None


def _server_cpu(server: psutil.Process | None) -> float:
    """CPU seconds of the whole PostgreSQL server so far: the postmaster, its live processes
    and those it reaped (a pool's overflow connections come and go); NaN without one."""
    if server is None:
        return math.nan
    times = server.cpu_times()
    total = _cpu(server) + times.children_user + times.children_system
    for child in server.children():
        with contextlib.suppress(psutil.Error):  # ended meanwhile: counted as reaped
            total += _cpu(child)
    return float(total)


def _progress(message: str) -> None:
    print(f"  [calendar] {message}", flush=True)


def _section(
    ctx: Context,
    events: tuple[int, int],
    seconds: float,
    rate: float,
    latencies: list[float],
    timings: dict[str, float],
    cpu_per_event: list[float],
) -> Section:
    appended, listed = events  # events appended to the log; listed by the provider
    incremental = median(latencies)
    rate_ok = rate >= TARGET_RATE
    incremental_ok = incremental <= TARGET_INCREMENTAL_S
    rows = [
        (
            f"First sync, {PEOPLE} people x {WEEKS} weeks ({fmt_int(appended)} meetings)",
            f"{fmt_int(rate)} events/s ({seconds:.1f} s)",
            f">= {fmt_int(TARGET_RATE)} events/s",
            verdict(rate_ok),
        ),
        (
            f"Incremental sync, one moved meeting (median of {len(latencies)})",
            f"{incremental * 1000:.0f} ms (p95 {percentile(latencies, 0.95) * 1000:.0f} ms)",
            f"<= {TARGET_INCREMENTAL_S * 1000:.0f} ms",
            verdict(incremental_ok),
        ),
        (
            "CPU per appended event, first sync: this process / the provider / PostgreSQL",
            " / ".join(
                "n/a" if math.isnan(seconds) else f"{seconds * 1e6:.0f} µs"
                for seconds in cpu_per_event
            ),
            "(for ratios on a loaded machine)",
            "",
        ),
        (
            "Events listed by the provider in the first sync (counted or not)",
            f"{fmt_int(listed)} ({fmt_int(listed / seconds)}/s)",
            "",
            "",
        ),
    ]
    method = f"""How it is measured: the local provider runs as its own process
(`compound calendar-provider`) and serves {WEEKS} weeks of generated meetings per person;
{PEOPLE} people get real OAuth tokens from it (authorization code with PKCE), and it generates
their calendars then (outside the timing: a real provider has them stored). The first sync
runs every connection through `CalendarSync.sync` on {THREADS} threads (as the worker does),
over HTTP with pages of 250 events; the rate is the events appended to the log over the
wall-clock time of the whole phase; the CPU per event is the user and system time of the
syncing process (all its threads), of the provider and of the PostgreSQL server (all its
processes, when it runs on this machine) over that phase. Each incremental
sync follows a move of one meeting through the provider's admin API and is timed from the
call to its return (one HTTP page, one transaction)."""
    raw = {
        "first_sync_events": appended,
        "first_sync_listed": listed,
        "first_sync_seconds": seconds,
        "first_sync_events_per_s": rate,
        "incremental_seconds": latencies,
        "phase_seconds": timings,
        "first_sync_cpu_seconds_per_event": {
            "sync": cpu_per_event[0],
            "provider": cpu_per_event[1],
            "postgresql": cpu_per_event[2],
        },
    }
    return Section.build(
        TITLE,
        rate_ok and incremental_ok,
        [(("Measure", "Result", "Target", "Verdict"), rows)],
        method,
        timings,
        ctx.machine.markdown(),
        raw,
    )
