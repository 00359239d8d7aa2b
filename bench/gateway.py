"""The gateway benchmark (issue 3): ``POST /api/v1/actions`` under load, and bulk imports.

The gateway runs as it does in production: gunicorn (``services/gateway/gunicorn_conf.py``,
gthread workers) in a child process, against the run's database and a Redis (embedded unless
``REDIS_URL`` is set), on a free port of 127.0.0.1. An organisation of ``USERS`` people is
created directly through ``OrganizationCommands`` beforehand; ``LOGINS`` of them log in
through ``POST /api/v1/auth/token``, the others get the same session token from
``create_token`` directly, and the load is spread over all their tokens, so no one reaches
the daily action limit (the default, 50) however long the run.

The load generator is ``wrk`` when it is installed (Debian package ``wrk``), else a small
asyncio client in this process (raw HTTP/1.1 over keep-alive connections). Both run on the
same machine as gunicorn and PostgreSQL, so they take their share of its CPUs.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
from argon2 import PasswordHasher

from bench import session_lookup
from bench.common import (
    Context,
    Section,
    fmt_int,
    median,
    percentile,
    redis_url,
    verdict,
)
from infra.embedded import die_with_parent, free_port, stop_process
from shared import security
from shared.commands import Actor, OrganizationCommands
from shared.database import make_engine
from shared.domain.tactics import AUDIENCES, TACTICS
from shared.eventlog import EventStore, KeyRing, generate_master_key

TITLE = "Gateway (issue 3)"
ROOT = Path(__file__).resolve().parent.parent

USERS = 1_000  # employees of the organisation, each with a bearer token
LOGINS = 50  # of them log in through the API (argon2 at 0.2 s of CPU each); the rest get
# their session token straight from ``create_token``, as the login does after the password
TEAMS = 5
WORKERS = 2  # COMPOUND_WEB_WORKERS: one per CPU of the benchmark machine
THREADS = 4  # COMPOUND_WEB_THREADS
CONNECTIONS = 8  # concurrent keep-alive connections of the closed-loop load: WORKERS * THREADS
WARMUP_SECONDS = 3.0
ROUND_SECONDS = 4.0  # per round of the closed-loop load: 5 rounds make 20 s
OPEN_RATE = 500  # requests/s of the open-loop load
OPEN_CONNECTIONS = 16
OPEN_SECONDS = 6.0
IMPORT_REQUESTS = 10
IMPORT_EVENTS = 5_000  # per request
NOTE_SHARE = 0.2

RATE_TARGET = 1_000  # requests/s, at least
P99_TARGET = 0.050  # seconds, at most
IMPORT_TARGET = 20_000  # events/s, at least

PASSWORD = "bench-password-" + "x" * 8
UNLIMITED = 1_000_000_000  # the daily action limit of the other benches' gateways: their
# loads log far more than a person's day holds (the limit's own tests check it)
ACTIONS = "/api/v1/actions"
IMPORT = "/api/v1/events:import"
LOGINS_PER_ADDRESS = 20  # the login endpoints allow 30 per minute per client address

_NOTES = (
    "Asked Sam for one piece of feedback on the deck.",
    "Summarised the decisions at the end of the planning meeting.",
    "Thanked Alex for the review.",
    "Shared the article on incident reviews with the team.",
)
_MINUTES = (5, 10, 10, 15, 15, 20, 30, 45, 60, 90)


def _progress(message: str) -> None:
    print(f"  [gateway] {message}", flush=True)


# -- the organisation -----------------------------------------------------------------------


@dataclass
class Org:
    tenant_id: uuid.UUID
    admin_email: str
    emails: list[str]  # the employees
    people: list[uuid.UUID]


def make_org(store: EventStore, users: int = LOGINS, logins: int | None = None) -> Org:
    """An admin, ``TEAMS`` teams and ``users`` employees who accepted their invitation.

    Parameters:
        store: the event store.
        users: how many employees.
        logins: the first ``logins`` employees get a real password hash; the others' is made
            with the cheapest argon2 parameters (they never log in). Default: all real.
    """
    commands = OrganizationCommands(store)
    suffix = uuid.uuid4().hex[:8]
    admin_email = f"admin-{suffix}@bench.test"
    tenant, admin = commands.create_organization(f"Bench {suffix}", admin_email, PASSWORD, "Admin")
    actor = Actor(tenant_id=tenant, person_id=admin, role="admin", source="bench")
    teams = [commands.create_team(actor, f"team {i + 1}") for i in range(TEAMS)]
    emails = [f"user-{i}-{suffix}@bench.test" for i in range(users)]

    def join(i: int) -> uuid.UUID:
        invitation = commands.invite(actor, emails[i], "employee", teams[i % TEAMS])
        commands.accept_invitation(tenant, invitation.person_id, f"User {i}", PASSWORD)
        return invitation.person_id

    real = users if logins is None else min(logins, users)
    with ThreadPoolExecutor(4) as pool:  # argon2 releases the GIL
        people = list(pool.map(join, range(real)))
        with _cheap_passwords():
            people += pool.map(join, range(real, users))
    return Org(tenant, admin_email, emails, people)


@contextlib.contextmanager
def _cheap_passwords() -> Iterator[None]:
    """Password hashes of this process with argon2's cheapest parameters, in the block (the
    hash keeps its parameters: a login would verify it as cheaply)."""
    saved = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    try:
        yield
    finally:
        security._hasher = saved


def session_tokens(store: EventStore, org: Org, people: Sequence[uuid.UUID]) -> list[str]:
    """A session token for each of ``people``, as ``POST /api/v1/auth/token`` creates it once
    the password is checked."""
    commands = OrganizationCommands(store)

    def mint(person: uuid.UUID) -> str:
        actor = Actor(tenant_id=org.tenant_id, person_id=person, role="employee", source="api")
        return commands.create_token(actor, "api login", kind="session")[1]

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(mint, people))


# -- the gateway process --------------------------------------------------------------------


@dataclass
class Gateway:
    port: int
    log_path: Path
    pid: int  # the gunicorn master; its children are the workers


@contextlib.contextmanager
def gateway(
    database_url: str,
    redis: str,
    master_key: str,
    tmpdir: Path,
    threads: int = THREADS,
    daily_limit: int | None = UNLIMITED,
) -> Iterator[Gateway]:
    """gunicorn serving ``services.gateway.wsgi:app`` on a free port, until the block ends
    (``daily_limit``: ``COMPOUND_DAILY_ACTION_LIMIT``; None, the default limit)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis,
        "COMPOUND_MASTER_KEYS": master_key,
        "COMPOUND_SECRET_KEY": secrets.token_hex(32),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "COMPOUND_LOG_LEVEL": "WARNING",
        "COMPOUND_WEB_WORKERS": str(WORKERS),
        "COMPOUND_WEB_THREADS": str(threads),
    }
    env.pop("COMPOUND_DAILY_ACTION_LIMIT", None)
    if daily_limit is not None:
        env["COMPOUND_DAILY_ACTION_LIMIT"] = str(daily_limit)
    log_path = tmpdir / "gunicorn.log"
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
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )
    try:
        _wait_healthy(proc, port, log_path)
        yield Gateway(port, log_path, proc.pid)
    finally:
        stop_process(proc, signal.SIGTERM, timeout=15)


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not answer /healthz in 30 s:\n{_tail(log_path)}")
        time.sleep(0.1)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- HTTP helpers (setup and imports) -------------------------------------------------------


def _post(
    port: int,
    path: str,
    body: bytes,
    token: str | None = None,
    source: str | None = None,
    timeout: float = 60,
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(source, 0) if source else None
    )
    try:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def login_all(port: int, emails: Sequence[str]) -> list[str]:
    """A bearer token per e-mail through ``POST /api/v1/auth/token``.

    The endpoint is limited to 30 logins a minute per client address, so the logins come
    from several loopback addresses (127.0.0.0/8 all reaches the gateway on 127.0.0.1), a
    random block per run in case ``REDIS_URL`` keeps the limiter's counters across runs.
    """
    first = random.randrange(2, 250 - len(emails) // LOGINS_PER_ADDRESS)

    def login(item: tuple[int, str]) -> str:
        i, email = item
        source = f"127.0.0.{first + i // LOGINS_PER_ADDRESS}"
        body = orjson.dumps({"email": email, "password": PASSWORD})
        status, raw = _post(port, "/api/v1/auth/token", body, source=source)
        if status != 200:
            raise RuntimeError(f"login of {email} answered {status}: {raw[:300]!r}")
        return str(orjson.loads(raw)["access_token"])

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(login, enumerate(emails)))


# -- the load: requests ---------------------------------------------------------------------


def action_bodies(count: int, seed: int = 3) -> list[bytes]:
    """Request bodies of ``POST /api/v1/actions``; about one in five carries a note."""
    rng = random.Random(seed)
    return [
        orjson.dumps(
            {
                "tactic": "regular_signaling",
                "minutes": 10,
                "audience": "team",
                "note": rng.choice(_NOTES) if rng.random() < NOTE_SHARE else None,
            }
        )
        for _ in range(count)
    ]


def raw_requests(port: int, tokens: Sequence[str], per_token: int = 5) -> list[bytes]:
    """Whole HTTP/1.1 requests, tokens round-robin, bodies from :func:`action_bodies`."""
    bodies = action_bodies(len(tokens) * per_token)
    return [
        (
            f"POST {ACTIONS} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {tokens[i % len(tokens)]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for i, body in enumerate(bodies)
    ]


@dataclass
class Load:
    """One timed run of the load."""

    tool: str
    requests: int  # completed responses
    errors: int  # responses other than 201, and socket errors or timeouts
    seconds: float
    p50: float  # seconds
    p99: float
    max: float
    offered: float = 0.0  # requests/s asked for (open loop), 0 for closed loop

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


# -- the load: wrk --------------------------------------------------------------------------

_WRK_SCRIPT = """\
-- generated by bench/gateway.py
local tokens = {%(tokens)s}
local bodies = {%(bodies)s}
local reqs = {}
local n = 0

function init(args)
  for i, body in ipairs(bodies) do
    local token = tokens[(i - 1) %% #tokens + 1]
    reqs[i] = wrk.format("POST", "%(path)s", {
      ["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "application/json",
    }, body)
  end
end

function request()
  n = n %% #reqs + 1
  return reqs[n]
end

function done(summary, latency, requests)
  local e = summary.errors
  local line = "BENCH requests=%%d duration_us=%%d errors=%%d p50_us=%%d p99_us=%%d max_us=%%d\\n"
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(line, summary.requests, summary.duration, errors,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_script(path: Path, tokens: Sequence[str]) -> Path:
    bodies = action_bodies(len(tokens) * 5)
    path.write_text(
        _WRK_SCRIPT
        % {
            "tokens": ", ".join(_lua_string(t) for t in tokens),
            "bodies": ", ".join(_lua_string(b.decode()) for b in bodies),
            "path": ACTIONS,
        }
    )
    return path


def run_wrk(wrk: str, script: Path, port: int, connections: int, seconds: float) -> Load:
    out = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}{ACTIONS}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    match = re.search(r"^BENCH (.*)$", out, re.MULTILINE)
    if not match:
        raise RuntimeError(f"no result from wrk:\n{out}")
    values = {k: int(v) for k, v in (kv.split("=") for kv in match.group(1).split())}
    return Load(
        "wrk",
        values["requests"],
        values["errors"],
        values["duration_us"] / 1e6,
        values["p50_us"] / 1e6,
        values["p99_us"] / 1e6,
        values["max_us"] / 1e6,
    )


# -- the load: asyncio ----------------------------------------------------------------------


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one request, read its response whole; returns the status (0: closed)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    match = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
    if match:
        await reader.readexactly(int(match.group(1)))
    if re.search(rb"\r\nconnection:\s*close", head, re.IGNORECASE):
        return -status
    return status


async def _closed_loop(
    port: int, requests: Sequence[bytes], connections: int, seconds: float
) -> Load:
    latencies: list[float] = []
    errors = 0
    clock = time.perf_counter

    async def client(offset: int, deadline: float) -> None:
        nonlocal errors
        i = offset
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while clock() < deadline:
                t0 = clock()
                try:
                    status = await _exchange(reader, writer, requests[i % len(requests)])
                except (OSError, asyncio.IncompleteReadError):
                    status = 0
                latencies.append(clock() - t0)
                if abs(status) != 201:
                    errors += 1
                if status <= 0:  # reconnect
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                i += connections
        finally:
            writer.close()

    start = clock()
    clients = asyncio.gather(*(client(c, start + seconds) for c in range(connections)))
    await asyncio.wait_for(clients, seconds + 30)  # a server that stops answering fails
    wall = clock() - start
    return Load(
        "asyncio",
        len(latencies),
        errors,
        wall,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        max(latencies),
    )


async def _open_loop(
    port: int, requests: Sequence[bytes], connections: int, rate: float, seconds: float
) -> Load:
    """Request ``i`` is due at ``start + i / rate`` on connection ``i % connections``; its
    latency counts from when it was due, so a slow response delays (and is charged to) the
    requests queued behind it on its connection: no coordinated omission. Requests still
    unsent after twice the planned duration are dropped (the rate is then below ``rate``)."""
    latencies: list[float] = []
    errors = 0
    clock = time.perf_counter
    total = int(rate * seconds)

    async def client(offset: int, start: float) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in range(offset, total, connections):
                if clock() > give_up:  # far behind: the server cannot keep this rate
                    break
                due = start + i / rate
                delay = due - clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    status = await _exchange(reader, writer, requests[i % len(requests)])
                except (OSError, asyncio.IncompleteReadError):
                    status = 0
                latencies.append(clock() - due)
                if abs(status) != 201:
                    errors += 1
                if status <= 0:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    start = clock() + 0.2  # after the connections are open
    give_up = start + 2 * seconds
    clients = asyncio.gather(*(client(c, start) for c in range(connections)))
    await asyncio.wait_for(clients, 2 * seconds + 30)
    wall = clock() - start
    return Load(
        "asyncio",
        len(latencies),
        errors,
        wall,
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        max(latencies),
        offered=rate,
    )


def closed_loop(port: int, requests: Sequence[bytes], connections: int, seconds: float) -> Load:
    return asyncio.run(_closed_loop(port, requests, connections, seconds))


def open_loop(
    port: int, requests: Sequence[bytes], connections: int, rate: float, seconds: float
) -> Load:
    return asyncio.run(_open_loop(port, requests, connections, rate, seconds))


# -- imports --------------------------------------------------------------------------------


def import_bodies(people: Sequence[uuid.UUID], requests: int, seed: int = 4) -> list[bytes]:
    """``requests`` bodies of ``IMPORT_EVENTS`` ``MicroActionLogged`` events over ``people``."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    tactics = tuple(TACTICS)
    bodies = []
    for _ in range(requests):
        events = []
        for _ in range(IMPORT_EVENTS):
            person = rng.choice(people)
            moment = now - timedelta(minutes=rng.randrange(60, 60 * 24 * 90))
            events.append(
                {
                    "type": "MicroActionLogged",
                    "data": {
                        "action_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "person_id": str(person),
                        "tactic": rng.choice(tactics),
                        "minutes": rng.choice(_MINUTES),
                        "audience": rng.choice(AUDIENCES),
                        "note": rng.choice(_NOTES) if rng.random() < NOTE_SHARE else None,
                    },
                    "occurred_at": moment.isoformat().replace("+00:00", "Z"),
                }
            )
        bodies.append(orjson.dumps({"events": events}))
    return bodies


def import_once(port: int, token: str, body: bytes) -> float:
    """One import request; returns its wall time in seconds."""
    start = time.perf_counter()
    status, raw = _post(port, IMPORT, body, token=token, timeout=120)
    elapsed = time.perf_counter() - start
    if status != 201 or orjson.loads(raw)["imported"] != IMPORT_EVENTS:
        raise RuntimeError(f"import answered {status}: {raw[:500]!r}")
    return elapsed


# -- where the CPU goes -----------------------------------------------------------------------

_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process so far; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _HZ
    except (OSError, IndexError, ValueError):
        return 0.0


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all CPUs, /proc/stat)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / _HZ


@dataclass
class Cpu:
    """CPU seconds used during a measurement, by whom (Linux ``/proc``; zeros elsewhere)."""

    seconds: float  # wall time
    gateway: float  # gunicorn master and workers
    busiest: float  # the gunicorn worker that used the most
    postgres: float  # the backends serving the run's database
    generator: float  # wrk, or this process for the asyncio client
    machine: float  # everything, all CPUs

    @property
    def others(self) -> float:
        """The rest of the machine: PostgreSQL's background processes, the kernel's network
        work not charged to a process, and anything else running on it."""
        return max(0.0, self.machine - self.gateway - self.postgres - self.generator)


class CpuMeter:
    """Samples the CPU time of the gateway, the database's backends and the load generator."""

    def __init__(self, gateway_pid: int, libpq_url: str):
        self.gateway_pid = gateway_pid
        self.libpq_url = libpq_url

    def _pids(self) -> tuple[list[int], list[int]]:
        gateway = [self.gateway_pid]
        with contextlib.suppress(OSError, ValueError):
            path = Path(f"/proc/{self.gateway_pid}/task/{self.gateway_pid}/children")
            gateway += [int(p) for p in path.read_text().split()]
        with psycopg.connect(self.libpq_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        return gateway, [int(r[0]) for r in rows]

    @contextlib.contextmanager
    def measure(self, into: list[Cpu]) -> Iterator[None]:
        """Append the CPU used inside the block to ``into``."""
        gateway, backends = self._pids()
        pids = gateway + backends
        before = {p: _proc_cpu(p) for p in pids}
        times, machine, start = os.times(), _machine_busy(), time.perf_counter()
        yield
        wall = time.perf_counter() - start
        after, times2, machine2 = {p: _proc_cpu(p) for p in pids}, os.times(), _machine_busy()
        used = {p: max(0.0, after[p] - before[p]) for p in pids}
        generator = sum(times2[:4]) - sum(times[:4])  # this process and its waited children
        into.append(
            Cpu(
                wall,
                sum(used[p] for p in gateway),
                max(used[p] for p in gateway),
                sum(used[p] for p in backends),
                generator,
                machine2 - machine,
            )
        )


# -- the section ----------------------------------------------------------------------------


def _count_actions(libpq_url: str, tenant: uuid.UUID) -> tuple[int, int]:
    """The organisation's ``MicroActionLogged`` events, and the most of one person."""
    with psycopg.connect(libpq_url) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(n), 0), coalesce(max(n), 0) FROM (SELECT count(*) AS n "
            "FROM events WHERE tenant_id = %s AND type = 'MicroActionLogged' "
            "GROUP BY stream_id) AS per_person",
            (tenant,),
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def run(ctx: Context) -> Section:
    rounds = ctx.rounds
    timings: dict[str, float] = {}
    master_key = generate_master_key()
    wrk = shutil.which("wrk")
    engine = make_engine(ctx.database_url, pool_size=4)
    closed_cpu: list[Cpu] = []
    open_cpu: list[Cpu] = []
    with tempfile.TemporaryDirectory(prefix="compound-bench-gateway-") as tmp:
        tmpdir = Path(tmp)
        try:
            phase = time.perf_counter()
            store = EventStore(engine, keyring=KeyRing([master_key]))
            org = make_org(store, USERS, LOGINS)
            minted = session_tokens(store, org, org.people[LOGINS:])
            _progress(f"organisation with {len(org.emails)} employees created")
            with (
                redis_url(tmpdir) as redis,
                gateway(ctx.database_url, redis, master_key, tmpdir, daily_limit=None) as gw,
            ):
                tokens = login_all(gw.port, org.emails[:LOGINS]) + minted
                (admin_token,) = login_all(gw.port, [org.admin_email])
                timings["setup"] = time.perf_counter() - phase
                _progress(f"gunicorn on port {gw.port}, {len(tokens)} tokens")

                phase = time.perf_counter()
                lookup = session_lookup.measure(
                    gw.port,
                    engine,
                    (org.tenant_id, org.people[0]),
                    (org.emails[0], PASSWORD, tokens[0]),
                    rounds,
                )
                _progress(
                    f"session look-up {_ms(lookup.lookup_p50)}; GET /api/v1/me "
                    f"{_ms(lookup.cookie_p50)} with the cookie, {_ms(lookup.token_p50)} with "
                    "the token"
                )
                timings["session look-up"] = time.perf_counter() - phase

                phase = time.perf_counter()
                requests = raw_requests(gw.port, tokens)
                script = wrk_script(tmpdir / "actions.lua", tokens)

                def load(seconds: float) -> Load:
                    if wrk:
                        return run_wrk(wrk, script, gw.port, CONNECTIONS, seconds)
                    return closed_loop(gw.port, requests, CONNECTIONS, seconds)

                warm = load(WARMUP_SECONDS)
                answered = warm.requests
                _progress(f"actions: warm-up {fmt_int(warm.rate)} requests/s")
                meter = CpuMeter(gw.pid, ctx.libpq_url)  # after the warm-up: pools are full
                closed: list[Load] = []
                for i in range(rounds):
                    with meter.measure(closed_cpu):
                        closed.append(load(ROUND_SECONDS))
                    c, cpu = closed[-1], closed_cpu[-1]
                    _progress(
                        f"actions: round {i + 1}/{rounds}: {fmt_int(c.rate)} requests/s, "
                        f"p50 {_ms(c.p50)}, p99 {_ms(c.p99)}, errors {c.errors}; "
                        f"CPUs busy {cpu.machine / cpu.seconds:.2f}, "
                        f"of which other work {cpu.others / cpu.seconds:.2f}"
                    )
                timings["closed loop"] = time.perf_counter() - phase

                phase = time.perf_counter()
                with meter.measure(open_cpu):
                    opened = open_loop(gw.port, requests, OPEN_CONNECTIONS, OPEN_RATE, OPEN_SECONDS)
                _progress(
                    f"actions at {OPEN_RATE}/s: {fmt_int(opened.rate)} requests/s, "
                    f"p50 {_ms(opened.p50)}, p99 {_ms(opened.p99)}, errors {opened.errors}"
                )
                timings["open loop"] = time.perf_counter() - phase
                answered += sum(x.requests for x in closed) + opened.requests
                written = (*_count_actions(ctx.libpq_url, org.tenant_id), answered)

                phase = time.perf_counter()
                bodies = import_bodies(org.people, IMPORT_REQUESTS + 1)
                import_seconds = []
                import_error: str | None = None
                try:
                    import_once(gw.port, admin_token, bodies[0])  # warm-up
                    for i, body in enumerate(bodies[1:]):
                        import_seconds.append(import_once(gw.port, admin_token, body))
                        _progress(
                            f"import: request {i + 1}/{IMPORT_REQUESTS}: "
                            f"{fmt_int(IMPORT_EVENTS / import_seconds[-1])} events/s"
                        )
                except RuntimeError as err:  # the section reports it (FAIL), the run goes on
                    import_error = str(err)[:300]
                    _progress(import_error)
                timings["import"] = time.perf_counter() - phase
        finally:
            engine.dispose()
    results = Results(
        closed, closed_cpu, opened, open_cpu[0], import_seconds, written, lookup, import_error
    )
    return _section(ctx, results, timings, "wrk" if wrk else "asyncio")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


def _span(values: list[float], fmt: Any) -> str:
    return f"{fmt(min(values))} to {fmt(max(values))}"


@dataclass
class Results:
    closed: list[Load]
    closed_cpu: list[Cpu]
    opened: Load
    open_cpu: Cpu
    import_seconds: list[float]
    written: tuple[int, int, int]  # MicroActionLogged events, most of one person, answered
    lookup: session_lookup.Lookup
    import_error: str | None = None  # why imports could not be measured


def _cpu_rows(cpu: list[Cpu], requests: int) -> list[tuple[str, ...]]:
    wall = sum(c.seconds for c in cpu)
    parts = [
        ("gunicorn (master and workers)", sum(c.gateway for c in cpu)),
        ("of which its busiest worker", sum(c.busiest for c in cpu)),
        ("PostgreSQL backends of the run's database", sum(c.postgres for c in cpu)),
        ("load generator", sum(c.generator for c in cpu)),
        ("everything else (PostgreSQL background, kernel, other work)",
         sum(c.others for c in cpu)),
        ("whole machine", sum(c.machine for c in cpu)),
    ]  # fmt: skip
    return [
        (name, f"{used / wall:.2f}", f"{used / requests * 1e6:,.0f} µs") for name, used in parts
    ]


def _section(ctx: Context, r: Results, timings: dict[str, float], tool: str) -> Section:
    closed, opened = r.closed, r.opened
    rate = median([x.rate for x in closed])
    p50 = median([x.p50 for x in closed])
    p99 = median([x.p99 for x in closed])
    errors = sum(x.errors for x in closed) + opened.errors
    import_rates = [IMPORT_EVENTS / s for s in r.import_seconds]
    import_rate = median(import_rates) if import_rates else 0.0
    ok_rate, ok_p99 = rate >= RATE_TARGET, p99 <= P99_TARGET
    ok_import, ok_errors = import_rate >= IMPORT_TARGET, errors == 0
    cpus = ctx.machine.cpus
    achieved = f"one round, at {fmt_int(opened.rate)} requests/s"

    header = ("Measurement", "Median", "Range over rounds", "Target", "Result")
    closed_name = f"`POST {ACTIONS}`, {CONNECTIONS} connections ({tool})"
    open_name = f"`POST {ACTIONS}`, open loop at {OPEN_RATE} requests/s (asyncio)"
    rows = [
        (f"{closed_name}: throughput", f"{fmt_int(rate)} requests/s",
         _span([x.rate for x in closed], fmt_int), f"≥ {fmt_int(RATE_TARGET)} requests/s",
         verdict(ok_rate)),
        (f"{closed_name}: p50 latency", _ms(p50), _span([x.p50 for x in closed], _ms), "", ""),
        (f"{closed_name}: p99 latency", _ms(p99), _span([x.p99 for x in closed], _ms),
         f"≤ {_ms(P99_TARGET)}", verdict(ok_p99)),
        (f"{open_name}: p50 latency", _ms(opened.p50), achieved, "", ""),
        (f"{open_name}: p99 latency", _ms(opened.p99), achieved, "", ""),
        (f"`POST {ACTIONS}`: responses other than 201 (all rounds)", fmt_int(errors), "",
         "0", verdict(ok_errors)),
    ]  # fmt: skip
    if r.import_seconds:
        rows += [
            (f"`POST {IMPORT}` ({fmt_int(IMPORT_EVENTS)} events/request, admin)",
             f"{fmt_int(import_rate)} events/s", _span(import_rates, fmt_int),
             f"≥ {fmt_int(IMPORT_TARGET)} events/s", verdict(ok_import)),
            (f"`POST {IMPORT}`: time per request", _ms(median(r.import_seconds)),
             _span(r.import_seconds, _ms), "", ""),
        ]  # fmt: skip
    else:
        rows.append(
            (f"`POST {IMPORT}` ({fmt_int(IMPORT_EVENTS)} events/request, admin)",
             f"not measured: {r.import_error}", "", f"≥ {fmt_int(IMPORT_TARGET)} events/s",
             verdict(False))
        )  # fmt: skip
    ok_lookup = r.lookup.lookup_p50 <= session_lookup.LOOKUP_TARGET
    rows += [
        ("Session look-up (`shared.sessions.caller_for`): p50", _ms(r.lookup.lookup_p50), "",
         f"≤ {_ms(session_lookup.LOOKUP_TARGET)}", verdict(ok_lookup)),
        ("`GET /api/v1/me` with a portal session cookie: p50 latency",
         _ms(r.lookup.cookie_p50), "", "", ""),
        ("`GET /api/v1/me` with a bearer token: p50 latency", _ms(r.lookup.token_p50), "", "",
         ""),
    ]  # fmt: skip
    passed = ok_rate and ok_p99 and ok_import and ok_errors and ok_lookup
    cpu_header = ("CPU during the closed-loop rounds", f"Cores busy (of {cpus})", "Per request")
    cpu_rows = _cpu_rows(r.closed_cpu, sum(x.requests for x in closed))
    open_busy = r.open_cpu.machine / r.open_cpu.seconds
    open_others = r.open_cpu.others / r.open_cpu.seconds
    generator = (
        "`wrk`, one thread, with a generated Lua script\n  that cycles through prepared "
        "requests; latency percentiles are wrk's own"
        if tool == "wrk"
        else "the asyncio client of `bench/gateway.py`, one\n  process, raw HTTP/1.1 over "
        "asyncio streams (`wrk` is not installed: `apt-get install wrk` to use it)"
    )
    method = f"""\
How it was measured, in one run, against one gunicorn started for it:

* The gateway: `python -m gunicorn -c services/gateway/gunicorn_conf.py
  services.gateway.wsgi:app` as a child process on a free port of 127.0.0.1, with
  `COMPOUND_WEB_WORKERS={WORKERS}`, `COMPOUND_WEB_THREADS={THREADS}` (gthread),
  `COMPOUND_LOG_LEVEL=WARNING`, the run's database and a Redis (embedded unless `REDIS_URL` is
  set). Load generator, gunicorn and PostgreSQL share the machine's {cpus} CPUs.
* The organisation: an admin and {fmt_int(USERS)} employees in {TEAMS} teams, created through
  `OrganizationCommands`. {LOGINS} of them log in with `POST /api/v1/auth/token`; that
  endpoint allows 30 logins a minute per client address, so the logins come from several
  loopback addresses. The others get the same session token from `create_token` directly
  (their password hashes use argon2's cheapest parameters: they never log in).
* The daily action limit is the default (`COMPOUND_DAILY_ACTION_LIMIT` unset, 50): the load is
  spread over enough people that no one reaches it, as in a real organisation, so each
  action's week count reads that person's few actions of the week (until December 2026 the
  bench set the limit to 10^9 over 50 people, whose weeks grew to hundreds of actions).
* Closed loop: {CONNECTIONS} keep-alive connections, each sending its next request as soon as
  the last one is answered, round-robin over the {fmt_int(USERS)} tokens, body `{{"tactic":
  "regular_signaling", "minutes": 10, "audience": "team", "note": ...}}` with a short note on
  about {NOTE_SHARE:.0%} of them. After a {WARMUP_SECONDS:g} s warm-up, {ctx.rounds} rounds of
  {ROUND_SECONDS:g} s; throughput is answered requests per second, latency from sending a
  request to reading its whole response; percentiles per round, then the median over rounds.
  Load generator: {generator}.
* Open loop: {OPEN_RATE} requests/s for {OPEN_SECONDS:g} s over {OPEN_CONNECTIONS} connections
  from the asyncio client, request *i* due at *i*/{OPEN_RATE} s and its latency counted from
  then (no coordinated omission). The machine's CPUs were {open_busy:.2f} busy on average, of
  which {open_others:.2f} by everything else.
* {fmt_int(r.written[0])} `MicroActionLogged` events of the organisation were in the log
  afterwards (at most {fmt_int(r.written[1])} of one person), for {fmt_int(r.written[2])}
  answered requests, warm-up included (a few more when requests were in flight as a round
  ended).
* Import: {IMPORT_REQUESTS} sequential requests (after one untimed) of
  {fmt_int(IMPORT_EVENTS)} `MicroActionLogged` events each over the {fmt_int(USERS)}
  employees, about {NOTE_SHARE:.0%} with a note, as the admin; events/s is
  {fmt_int(IMPORT_EVENTS)} over the request's wall time (upload, validation, encryption,
  `append_batch`, response).
* Session look-up (issue #20, `bench/session_lookup.py`): {ctx.rounds} rounds of
  {session_lookup.REQUESTS_PER_ROUND} calls of `shared.sessions.caller_for` (the statement a
  request with a session cookie runs) from this process, after an untimed round; then `GET
  /api/v1/me` over one keep-alive connection, alternating rounds as many with an employee's
  session cookie (logged in through the login page) and with their bearer token. Medians
  of the rounds' medians.
* CPU: from `/proc` (user + system time) of gunicorn's processes, of the PostgreSQL backends
  of the run's database and of the load generator, against the whole machine's busy time.
  "Everything else" includes other work on the machine, so a large figure there means the
  run shared its CPUs and its figures are low."""
    raw = {
        "tool": tool,
        "closed_loop": [vars(x) | {"rate": x.rate} for x in closed],
        "closed_loop_cpu": [vars(c) for c in r.closed_cpu],
        "open_loop": vars(opened) | {"rate": opened.rate},
        "open_loop_cpu": vars(r.open_cpu),
        "import_seconds": r.import_seconds,
        "import_events_per_s": import_rates,
        "actions_written": r.written,
        "phase_seconds": timings,
        "session_lookup": vars(r.lookup),
    }
    return Section.build(
        TITLE,
        passed,
        [(header, rows), (cpu_header, cpu_rows)],
        method,
        timings,
        ctx.machine.markdown(),
        raw,
    )
