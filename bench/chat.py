"""Slack: the acknowledgement of Slack's requests under load, and a weekly digest of 10,000
direct messages through the Web API stand-in's rate limits (issue 23).

* **Acknowledgement**: the gateway (gunicorn, as ``bench/gateway.py`` starts it) with the
  Slack app configured; signed requests as Slack sends them (``/compound`` and modal
  submissions of linked people, each queuing its work in Redis) sent open-loop at
  :data:`ACK_RATE` a second for :data:`ACK_SECONDS`; the time to each answer, client side.
  Target: p99 under 300 ms (Slack waits 3 s).
* **Digest**: :data:`DIGEST_PEOPLE` linked people with a built digest; the scheduler's
  :meth:`SlackDigests.queue` queues each once and every task is sent twice more (as
  redeliveries would); a real Dramatiq worker (``python -m dramatiq workers.slack``) sends
  them to the stand-in, which allows :data:`WORKSPACE_LIMIT` ``chat.postMessage`` calls a
  second per workspace (Slack publishes no figure for that limit: the stand-in's own) and 5
  in 5 seconds per channel (Slack's "1 per second, short bursts allowed"), answering 429 with
  ``Retry-After`` past either. Targets: none lost, none doubled, no channel over its limit.

``.venv/bin/python -m bench --only chat`` runs this section alone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
import requests
from werkzeug.serving import make_server

from bench.common import Context, Section, median, percentile, redis_url, verdict
from infra.embedded import die_with_parent, free_port, stop_process
from infra.slack_stand_in import Limit, create_stand_in
from shared.calendar.connections import TokenCipher
from shared.chat.digests import SlackDigests
from shared.chat.installations import Installations
from shared.chat.signing import sign
from shared.commands import Actor, OrganizationCommands
from shared.commands.base import append
from shared.database import as_psycopg, make_engine
from shared.domain.weeks import iso_week_of, week_start
from shared.eventlog import AppendContext, EventStore, KeyRing, NewEvent, generate_master_key
from shared.eventlog.events_chat import link_stream

TITLE = "Slack: acknowledgement and the weekly digest"
ROOT = Path(__file__).resolve().parent.parent
ACK_RATE = 50
ACK_SECONDS = 20
ACK_TARGET_MS = 300.0
ACK_PEOPLE = 20
DIGEST_PEOPLE = 10_000
DUPLICATES = 2
"""Each digest task is sent this many more times (redeliveries): none may double."""
WORKSPACE_LIMIT = Limit(calls=100, seconds=1.0)
WORKER_THREADS = 8
SIGNING_SECRET = "bench-" + secrets.token_hex(8)
CLIENT_ID = "compound-bench"
NUDGE = {
    "rule": "relationship_deposit",
    "because": "no relationship deposit in the last 2 weeks",
    "value": None,
    "suggestion": "Send a thank-you note or do a one-minute check-in with a teammate.",
    "step": "Relationship deposits: brief interactions that build reciprocity.",
}


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` on a threaded WSGI server of a free loopback port, until the block ends."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def seed(
    store: EventStore, master_key: str, team_id: str, people: int
) -> tuple[uuid.UUID, dict[uuid.UUID, str]]:
    """An organisation with the app installed in ``team_id`` and ``people`` employees who
    joined and linked a Slack account: the events of the real flow (the directory applied as
    the commands apply it), appended 500 people a transaction."""
    commands = OrganizationCommands(store)
    suffix = secrets.token_hex(4)
    tenant, admin = commands.create_organization(
        f"Slack bench {suffix}", f"admin-{suffix}@bench.test", "bench-password-1", "Admin"
    )
    installations = Installations(store, TokenCipher((master_key,)))
    context = AppendContext(actor=str(admin), source="bench")
    installations.install(tenant, team_id, "Bench", "UBENCH", f"xoxb-{team_id}", context)
    actor = Actor(tenant_id=tenant, person_id=admin, role="admin", source="bench")
    linked: dict[uuid.UUID, str] = {}
    for start in range(0, people, 500):
        with store.engine.begin() as db:
            for n in range(start, min(people, start + 500)):
                person, user_id = uuid.uuid4(), f"U{n:06d}{suffix.upper()}"
                invited = {"person_id": str(person), "email": f"p{n}-{suffix}@bench.test",
                           "role": "employee", "team_id": None}  # fmt: skip
                joined = {"person_id": str(person), "display_name": f"P{n}", "time_zone": "UTC"}
                events = [NewEvent("PersonInvited", invited), NewEvent("PersonJoined", joined)]
                append(store, db, actor, f"person-{person}", events)
                as_psycopg(db).execute(
                    "INSERT INTO slack_links (team_id, slack_user_id, tenant_id, person_id) "
                    "VALUES (%s, %s, %s, %s)",
                    (team_id, user_id, tenant, person),
                )
                link = {"person_id": person, "team_id": team_id, "slack_user_id": user_id}
                event = NewEvent("SlackAccountLinked", link)
                store.append_in(db, tenant, link_stream(person), None, [event], context)
                linked[person] = user_id
    return tenant, linked


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` for the block (what the child processes inherit)."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def slack_request(url: str, team_id: str, user_id: str, n: int) -> tuple[str, bytes, str]:
    """The ``n``-th request of the load: ``/compound`` or a valid modal submission (each
    body unique, so no signature repeats)."""
    if n % 2 == 0:
        fields = {"team_id": team_id, "user_id": user_id, "command": "/compound", "text": "",
                  "trigger_id": f"{n}.bench.{secrets.token_hex(4)}"}  # fmt: skip
        return f"{url}/slack/commands", urlencode(fields).encode(), "commands"
    values = {
        "tactic": {
            "value": {"type": "radio_buttons", "selected_option": {"value": "learning_bit"}}
        },
        "minutes": {"value": {"type": "number_input", "value": "10"}},
        "audience": {"value": {"type": "radio_buttons", "selected_option": {"value": "team"}}},
        "note": {"value": {"type": "plain_text_input", "value": None}},
    }
    payload = {"type": "view_submission", "team": {"id": team_id}, "user": {"id": user_id},
               "view": {"id": f"VBENCH{n}{secrets.token_hex(3).upper()}",
                        "callback_id": "compound_log", "state": {"values": values}}}  # fmt: skip
    body = urlencode({"payload": orjson.dumps(payload).decode()}).encode()
    return f"{url}/slack/interactivity", body, "interactivity"


def acknowledgements(url: str, team_id: str, users: list[str]) -> dict[str, list[float]]:
    """Open-loop load: request ``n`` leaves at ``n / ACK_RATE`` seconds whatever the answers
    before it; milliseconds to each answer, per endpoint. Every answer must be 200."""
    total = ACK_RATE * ACK_SECONDS
    timings: dict[str, list[float]] = {"commands": [], "interactivity": []}
    local = threading.local()
    lock = threading.Lock()
    started = time.perf_counter() + 0.5

    def one(n: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        target, body, kind = slack_request(url, team_id, users[n % len(users)], n)
        time.sleep(max(0.0, started + n / ACK_RATE - time.perf_counter()))
        headers = {**sign(SIGNING_SECRET, body, int(time.time())),
                   "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
        t0 = time.perf_counter()
        answer = session.post(target, data=body, headers=headers, timeout=10)
        took = (time.perf_counter() - t0) * 1000
        if answer.status_code != 200 or b"response_action" in answer.content:
            raise RuntimeError(f"{kind}: {answer.status_code} {answer.text[:200]}")
        with lock:
            timings[kind].append(took)

    with ThreadPoolExecutor(max_workers=64) as pool:
        for future in [pool.submit(one, n) for n in range(total)]:
            future.result()
    return timings


@contextlib.contextmanager
def slack_worker(env: dict[str, str], tmpdir: Path) -> Iterator[Path]:
    """``python -m dramatiq workers.slack`` (the Slack actor), until the block ends."""
    log_path = tmpdir / "slack-worker.log"
    command = [sys.executable, "-m", "dramatiq", "workers.slack", "--processes", "1",
               "--threads", str(WORKER_THREADS)]  # fmt: skip
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=die_with_parent(signal.SIGTERM),
        )  # fmt: skip
    try:
        yield log_path
    finally:
        stop_process(proc, signal.SIGTERM, timeout=30)


def digest(store: EventStore, tenant: uuid.UUID, broker: Any, now: datetime) -> tuple[int, float]:
    """Build the digest rows, queue them (each task sent 1 + :data:`DUPLICATES` times) and
    wait until every row is sent; (rows queued, seconds from the first task to the last
    row sent)."""
    from shared.chat.jobs import send_task

    week = iso_week_of(now - timedelta(weeks=1))
    body = json.dumps({"week": week, "nudges": [NUDGE], "teams": []})
    with store.engine.begin() as db:
        as_psycopg(db).execute(
            "INSERT INTO weekly_digests (tenant_id, person_id, week, digest) SELECT tenant_id, "
            "person_id, %s, %s::jsonb FROM slack_links WHERE tenant_id = %s",
            (week, body, tenant),
        )
    started = time.perf_counter()
    queued, _ = SlackDigests(store).queue(
        now, lambda task: [send_task("digest", task, broker) for _ in range(1 + DUPLICATES)]
    )
    deadline = time.monotonic() + 1800
    while True:
        with store.engine.connect() as db:
            left = db.exec_driver_sql(
                "SELECT count(*) FROM slack_digest_sends WHERE tenant_id = %s "
                "AND status = 'queued'",
                (tenant,),
            ).scalar()
        if not left:
            return queued, time.perf_counter() - started
        if time.monotonic() > deadline:
            raise RuntimeError(f"{left} digests still queued after 30 minutes")
        time.sleep(0.25)


def run(ctx: Context) -> Section:
    from dramatiq.brokers.redis import RedisBroker

    from bench.gateway import gateway

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the stand-in's line per request
    started = time.perf_counter()
    key = generate_master_key()
    engine = make_engine(ctx.database_url, pool_size=4)
    store = EventStore(engine, keyring=KeyRing([key]))
    stand_in = create_stand_in(CLIENT_ID, "", Limit(calls=1_000_000, seconds=60))
    state = stand_in.extensions["slack_stand_in"]
    state.limits["chat.postMessage"] = WORKSPACE_LIMIT
    ack_team, digest_team = (
        "T0ACK" + secrets.token_hex(3).upper(),
        "T0DIG" + secrets.token_hex(3).upper(),
    )
    with (
        tempfile.TemporaryDirectory(prefix="compound-bench-chat-") as tmp,
        redis_url(Path(tmp)) as redis,
        serve(stand_in) as stand_in_url,
    ):
        for team in (ack_team, digest_team):
            state.add_team(team, team)
            state.tokens[f"xoxb-{team}"] = team
        _, ack_users = seed(store, key, ack_team, ACK_PEOPLE)
        digest_tenant, digest_users = seed(store, key, digest_team, DIGEST_PEOPLE)
        seeding = time.perf_counter() - started
        env = {
            "DATABASE_URL": ctx.database_url,
            "REDIS_URL": redis,
            "COMPOUND_MASTER_KEYS": key,
            "COMPOUND_QUEUE_NAMESPACE": "bench-chat-" + secrets.token_hex(4),
            "COMPOUND_SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "COMPOUND_SLACK_API_URL": f"{stand_in_url}/api/",
            "COMPOUND_SECRET_KEY": secrets.token_hex(32),
            "COMPOUND_LOG_LEVEL": "WARNING",
        }
        with environment(env):
            phase = time.perf_counter()
            load = os.getloadavg()[0]
            with gateway(ctx.database_url, redis, key, Path(tmp)) as gw:
                timings = acknowledgements(
                    f"http://127.0.0.1:{gw.port}", ack_team, list(ack_users.values())
                )
            acking = time.perf_counter() - phase
            broker = RedisBroker(url=redis, namespace=env["COMPOUND_QUEUE_NAMESPACE"])
            phase = time.perf_counter()
            with slack_worker(env, Path(tmp)):
                monday = week_start(iso_week_of(datetime.now(UTC)))
                now = datetime.combine(monday, datetime.min.time(), tzinfo=UTC)
                now += timedelta(hours=10)  # past everyone's Monday 09:00 (UTC)
                queued, took = digest(store, digest_tenant, broker, now)
            digesting = time.perf_counter() - phase
    engine.dispose()
    phases = {"seeding": seeding, "acknowledgements": acking, "digest": digesting}
    section = report(ctx, timings, state, digest_team, digest_users, queued, took, phases)
    cpus = os.cpu_count()
    note = f"Load average (1 min) when the acknowledgements began: {load:.1f} on {cpus} CPUs."
    section.raw["load_average"] = round(load, 1)
    section.markdown = section.markdown.replace(
        "\n\nPhase durations:", f"\n\n{note}\n\nPhase durations:", 1
    )
    return section


def report(
    ctx: Context,
    timings: dict[str, list[float]],
    state: Any,
    team: str,
    users: dict[uuid.UUID, str],
    queued: int,
    took: float,
    phases: dict[str, float],
) -> Section:
    every = [t for samples in timings.values() for t in samples]
    ack_rows, raw, passed = [], {}, True
    for kind, samples in [*timings.items(), ("all", every)]:
        p50, p99 = median(samples), percentile(samples, 0.99)
        ok = p99 < ACK_TARGET_MS
        passed = passed and ok
        raw[f"ack_{kind}"] = {"requests": len(samples), "median_ms": round(p50, 1),
                              "p99_ms": round(p99, 1)}  # fmt: skip
        ack_rows.append((f"`/slack/{kind}`" if kind != "all" else "all", str(len(samples)),
                         f"{p50:.1f} ms", f"{p99:.1f} ms", verdict(ok)))  # fmt: skip
    posts = [s for s in state.sent if s["team_id"] == team and s["method"] == "chat.postMessage"]
    per_channel = Counter(s["args"]["channel"] for s in posts)
    expected = {"D" + user_id[1:] for user_id in users.values()}
    lost = len(expected - set(per_channel))
    doubled = sum(n - 1 for n in per_channel.values() if n > 1)
    strangers = len(set(per_channel) - expected)
    rate = len(posts) / took if took else 0.0
    digest_ok = lost == 0 and doubled == 0 and strangers == 0 and queued == len(users)
    passed = passed and digest_ok
    raw["digest"] = {"people": len(users), "queued": queued, "delivered": len(per_channel),
                     "lost": lost, "doubled": doubled, "rate_limited": state.rate_limited_in[team],
                     "seconds": round(took, 1), "per_second": round(rate, 1)}  # fmt: skip
    digest_rows = [
        ("people linked, digest due", f"{len(users):,}", ""),
        ("tasks sent (each 1 + duplicates)", f"{queued * (1 + DUPLICATES):,}", ""),
        ("direct messages delivered", f"{len(per_channel):,}", ""),
        ("lost / doubled / to anyone else", f"{lost} / {doubled} / {strangers}",
         verdict(digest_ok)),
        ("429 answers waited out", f"{state.rate_limited_in[team]:,}", ""),
        ("time, first task to last sent", f"{took:.1f} s", ""),
        ("messages a second (stand-in's limit)",
         f"{rate:.1f} ({WORKSPACE_LIMIT.calls:g} per {WORKSPACE_LIMIT.seconds:g} s)", ""),
    ]  # fmt: skip
    method = (
        f"Method: acknowledgement: gunicorn serving the gateway with the Slack app configured; "
        f"{ACK_RATE} signed requests a second for {ACK_SECONDS} s, open-loop (each leaves on "
        "time whatever the answers before it), half `/compound` and half valid modal "
        f"submissions of {ACK_PEOPLE} linked people, each answered after queuing its work in "
        "Redis; the time to each answer is taken by the client over loopback HTTP. Target: p99 "
        f"under {ACK_TARGET_MS:.0f} ms (Slack waits 3 s). Digest: {DIGEST_PEOPLE:,} linked "
        "people with a built digest; `SlackDigests.queue` (the scheduler's job) queues each "
        f"once and each task is sent {1 + DUPLICATES} times (redeliveries); one Dramatiq "
        f"worker process (`workers.slack`, {WORKER_THREADS} threads) posts them to the Slack "
        f"stand-in, which allows {WORKSPACE_LIMIT.calls:g} `chat.postMessage` a second per "
        "workspace (Slack does not publish this figure; the stand-in's assumption) and 5 in "
        "5 s per channel (Slack's documented 1 a second, bursts allowed), answering 429 with "
        "`Retry-After` past either. Targets: every person exactly one message, in their own "
        "direct messages. At Slack's real workspace limit the same digest takes longer; the "
        "job spreads it anyway, each person at their own hour."
    )
    return Section.build(
        TITLE,
        passed,
        [
            (("Endpoint", "Requests", "Median", "p99", f"< {ACK_TARGET_MS:.0f} ms"), ack_rows),
            (("Digest of direct messages", "", "Target"), digest_rows),
        ],
        method,
        phases,
        ctx.machine.markdown(),
        raw,
    )
