"""The SCIM benchmark (issue 21): provisioning through ``/scim/v2`` as identity providers do
it, one request at a time.

The gateway runs under gunicorn as in production (:func:`bench.gateway.gateway`), with the
per-token rate limit raised (``COMPOUND_SCIM_RATE_LIMIT``) so that the server's speed is
measured, not the limit. One keep-alive HTTP connection sends, each round:

* ``USERS_PER_ROUND`` ``POST /scim/v2/Users`` (a User with userName, externalId, name, e-mail);
* the same number of Entra-style pairs: ``GET /Users?filter=userName eq "..."`` then ``POST``;
* ``GROUPS_PER_ROUND`` ``POST /scim/v2/Groups`` of ``GROUP_SIZE`` members each.

Target: at least 200 users/s for the plain creations (sequential requests).
"""

from __future__ import annotations

import http.client
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

from bench.common import Context, Section, fmt_int, median, redis_url, verdict
from bench.gateway import Cpu, CpuMeter, gateway
from shared.commands import OrganizationCommands, system_actor
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing, generate_master_key
from shared.scim import tokens

TITLE = "SCIM provisioning (issue 21)"
USERS_PER_ROUND = 500
GROUPS_PER_ROUND = 50
GROUP_SIZE = 10
TARGET_USERS_PER_SECOND = 200
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def _progress(message: str) -> None:
    print(f"  [scim] {message}", flush=True)


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Client:
    """Sequential SCIM requests over one keep-alive connection."""

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/scim+json",
        }

    def send(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        payload = orjson.dumps(body) if body is not None else None
        self.conn.request(method, "/scim/v2" + path, body=payload, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status != expect:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
        return orjson.loads(data) if data else None

    def create_user(self, name: str) -> str:
        body = {
            "schemas": [USER],
            "userName": f"{name}@bench.example.com",
            "externalId": name,
            "name": {"givenName": "Bench", "familyName": name},
            "emails": [{"value": f"{name}@bench.example.com", "primary": True}],
            "active": True,
        }
        return str(self.send("POST", "/Users", body, 201)["id"])

    def close(self) -> None:
        self.conn.close()


def _users(client: Client, prefix: str, n: int, lookup: bool) -> tuple[float, list[str]]:
    ids = []
    started = time.perf_counter()
    for i in range(n):
        name = f"{prefix}-{i}"
        if lookup:
            found = client.send(
                "GET", "/Users?filter=" + quote(f'userName eq "{name}@bench.example.com"')
            )
            assert found["totalResults"] == 0
        ids.append(client.create_user(name))
    return n / (time.perf_counter() - started), ids


def _groups(client: Client, prefix: str, members: list[str]) -> float:
    started = time.perf_counter()
    for g in range(GROUPS_PER_ROUND):
        chunk = members[g * GROUP_SIZE : (g + 1) * GROUP_SIZE]
        body = {
            "schemas": [GROUP],
            "displayName": f"{prefix} group {g}",
            "members": [{"value": m} for m in chunk],
        }
        client.send("POST", "/Groups", body, 201)
    return GROUPS_PER_ROUND / (time.perf_counter() - started)


def run(ctx: Context) -> Section:
    master_key = generate_master_key()
    engine = make_engine(ctx.database_url, pool_size=2)
    store = EventStore(engine, keyring=KeyRing([master_key]))
    timings: dict[str, float] = {}
    phase = time.perf_counter()
    suffix = uuid.uuid4().hex[:8]
    tenant, _ = OrganizationCommands(store).create_organization(
        f"Scim {suffix}", f"admin-{suffix}@bench.example.com", "bench-password-1", "Admin"
    )
    _, token = tokens.issue(store, system_actor(tenant, source="bench"))
    plain: list[float] = []
    plain_cpu: list[Cpu] = []
    entra: list[float] = []
    groups: list[float] = []
    with tempfile.TemporaryDirectory(prefix="compound-bench-scim-") as tmp:
        tmpdir = Path(tmp)
        with (
            redis_url(tmpdir) as redis,
            _environment(COMPOUND_SCIM_RATE_LIMIT="100000000"),
            gateway(ctx.database_url, redis, master_key, tmpdir) as gw,
        ):
            timings["start"] = time.perf_counter() - phase
            phase = time.perf_counter()
            client = Client(gw.port, token)
            meter = CpuMeter(gw.pid, ctx.libpq_url)
            try:
                _users(client, "warm", 50, lookup=True)  # pools, prepared statements
                for r in range(ctx.rounds):
                    with meter.measure(plain_cpu):
                        rate, ids = _users(client, f"u{r}", USERS_PER_ROUND, lookup=False)
                    plain.append(rate)
                    entra.append(_users(client, f"e{r}", USERS_PER_ROUND, lookup=True)[0])
                    groups.append(_groups(client, f"g{r}", ids))
                    _progress(f"round {r + 1}: {rate:.0f} users/s")
            finally:
                client.close()
            timings["measurement"] = time.perf_counter() - phase
    engine.dispose()
    passed = median(plain) >= TARGET_USERS_PER_SECOND
    gateway_us = [c.gateway / USERS_PER_ROUND * 1e6 for c in plain_cpu]
    postgres_us = [c.postgres / USERS_PER_ROUND * 1e6 for c in plain_cpu]
    rows = [
        (
            "`POST /scim/v2/Users`, sequential",
            f"{fmt_int(median(plain))} users/s",
            f"{fmt_int(min(plain))} to {fmt_int(max(plain))}",
            f"≥ {TARGET_USERS_PER_SECOND} users/s",
            verdict(passed),
        ),
        (
            "CPU per created user (µs): gunicorn / PostgreSQL backends",
            f"{fmt_int(median(gateway_us))} / {fmt_int(median(postgres_us))}",
            f"{fmt_int(min(gateway_us))} to {fmt_int(max(gateway_us))} / "
            f"{fmt_int(min(postgres_us))} to {fmt_int(max(postgres_us))}",
            "",
            "",
        ),
        (
            "`GET /Users?filter=userName eq` then `POST`, sequential (Entra)",
            f"{fmt_int(median(entra))} users/s",
            f"{fmt_int(min(entra))} to {fmt_int(max(entra))}",
            "",
            "",
        ),
        (
            f"`POST /scim/v2/Groups` of {GROUP_SIZE} members, sequential",
            f"{fmt_int(median(groups))} groups/s",
            f"{fmt_int(min(groups))} to {fmt_int(max(groups))}",
            "",
            "",
        ),
    ]
    method = (
        f"Method: gunicorn as in production, one keep-alive connection; per round "
        f"{USERS_PER_ROUND} creations, {USERS_PER_ROUND} lookup-then-create pairs and "
        f"{GROUPS_PER_ROUND} groups of {GROUP_SIZE} (after 50 untimed pairs); the organisation "
        f"grows by {2 * USERS_PER_ROUND} people a round. Median over {ctx.rounds} rounds."
    )
    return Section.build(
        TITLE,
        passed,
        [(("Measurement", "Median", "Range", "Target", ""), rows)],
        method,
        timings,
        ctx.machine.markdown(),
        {
            "users_per_second": plain,
            "gateway_cpu_us_per_user": gateway_us,
            "postgres_cpu_us_per_user": postgres_us,
            "entra_users_per_second": entra,
            "groups_per_second": groups,
        },
    )
