"""The weekly digest in Teams: in the person's personal chat with the bot at their chosen
hour, once per person and week, through the connector's 429s with a real Dramatiq worker,
neither lost nor doubled, each person's own digest only."""

from __future__ import annotations

import json
import random
import secrets
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import pytest
import requests

from shared.commands import Actor
from shared.commands.base import append
from shared.domain.weeks import iso_week_of, week_start
from shared.eventlog import AppendContext, NewEvent
from shared.i18n import format_week
from shared.msteams.digests import TeamsDigests
from shared.msteams.jobs import TEAMS_QUEUE, send_task
from shared.msteams.links import ConversationRef, TeamsLinks
from shared.projections import runtime
from shared.projections.digests import build_digests
from tests.msteams.conftest import TeamsWorld

pytestmark = pytest.mark.integration


def a_monday() -> datetime:
    """10:00 UTC on a Monday of a week no other test uses (digests are queued across tenants)."""
    week = f"{random.randint(2040, 2990)}-W{random.randint(2, 50):02d}"
    return datetime.combine(week_start(week), datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)


def queue(world: TeamsWorld, now: datetime) -> tuple[int, int]:
    broker = world.resources.broker
    return TeamsDigests(world.store).queue(now, lambda task: send_task("digest", task, broker))


def digests_sent(world: TeamsWorld) -> list[dict[str, Any]]:
    return [s for s in world.sent() if "Your week in Compound" in str(s["activity"].get("text"))]


def test_the_digest_comes_once_in_the_personal_chat(world: TeamsWorld):
    now = a_monday()
    week = iso_week_of(now - timedelta(weeks=1))
    aad = world.link("platform-1")
    world.link("payments-1")  # linked too, but their digest is theirs
    runtime(world.store).ensure()
    with world.store.engine.begin() as conn:
        build_digests(conn, world.org.tenant_id, week, 5)
    monday_9 = now.replace(hour=9)  # Monday 09:00 in UTC, the zone they joined with
    assert queue(world, monday_9 - timedelta(minutes=1)) == (0, 0)
    assert queue(world, monday_9)[0] == 2
    assert queue(world, monday_9 + timedelta(minutes=5)) == (0, 0)  # queued once
    tasks = world.drain()
    assert [k for k, _ in tasks] == ["digest", "digest"]
    for task in tasks:
        world.work().run(*task)  # a redelivery: the claim finds it sent
    mine = [s for s in digests_sent(world) if s["aad_object_id"] == aad]
    assert len(mine) == 1 and len(digests_sent(world)) >= 2
    card = json.dumps(mine[0]["activity"]["attachments"][0]["content"], ensure_ascii=False)
    assert f"Your week in Compound ({format_week(week)})" in card
    assert "http://compound.test/pulse" in card  # a member of Platform: the pulse is theirs


@pytest.fixture
def worker(world: TeamsWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[dramatiq.Worker]:
    """A real Dramatiq worker on the Teams queue (its retries, its threads)."""
    import workers.msteams

    work = world.work()
    monkeypatch.setattr(workers.msteams, "teams_work", lambda: work)
    running = dramatiq.Worker(world.resources.broker, queues={TEAMS_QUEUE}, worker_threads=8)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def thousand(world: TeamsWorld) -> Iterator[dict[uuid.UUID, str]]:
    """1,000 employees of Platform who joined, linked a Teams account and wrote to the bot
    (the events of the real flow, 250 people a transaction; no password, which would take
    argon2 a third of a second each). They leave afterwards."""
    tenant = world.org.tenant_id
    admin = Actor(tenant_id=tenant, person_id=world.org.admin, role="admin", source="test")
    links, suffix = TeamsLinks(world.store), secrets.token_hex(4)
    people: dict[uuid.UUID, str] = {}
    for start in range(0, 1000, 250):
        with world.store.engine.begin() as conn:
            for i in range(start, start + 250):
                person = uuid.uuid4()
                invited = {
                    "person_id": str(person),
                    "email": f"p{i}-{suffix}@demo.test",
                    "role": "employee",
                    "team_id": str(world.org.teams["platform"]),
                }
                joined = {"person_id": str(person), "display_name": f"P{i}", "time_zone": "UTC"}
                events = [NewEvent("PersonInvited", invited), NewEvent("PersonJoined", joined)]
                append(world.store, conn, admin, f"person-{person}", events)
                people[person] = str(uuid.uuid4())
    state = world.state
    for person, aad in people.items():
        links.link(world.aad_tenant_id, aad, tenant, person, AppendContext(actor=str(person)))
        with state.lock:
            state.users[aad] = {"aadObjectId": aad, "id": f"29:{aad}", "name": aad,
                                "email": "", "tenantId": world.aad_tenant_id}  # fmt: skip
            conversation = state.personal(aad)
        ref = ConversationRef(world.aad_tenant_id, aad, f"29:{aad}", "28:bot", conversation,
                              world.service_url)  # fmt: skip
        links.remember(ref)
    try:
        yield people
    finally:
        with world.store.engine.begin() as conn:
            for person in people:
                left = [NewEvent("PersonLeft", {"person_id": str(person)})]
                append(world.store, conn, admin, f"person-{person}", left)


def limits(world: TeamsWorld, body: dict[str, Any]) -> None:
    answer = requests.post(f"{world.stand_in.url}/_stand_in/limits", json=body, timeout=10)
    assert answer.status_code == 200


def rate_limited(world: TeamsWorld) -> int:
    body = requests.get(f"{world.stand_in.url}/_stand_in/sent", timeout=10).json()
    return int(body["rate_limited"])


def test_a_digest_to_1000_people_through_429s_is_neither_lost_nor_doubled(
    world: TeamsWorld, worker: dramatiq.Worker, thousand: dict[uuid.UUID, str]
):
    now = a_monday()
    week = iso_week_of(now - timedelta(weeks=1))
    with world.store.engine.begin() as conn:  # the digest rows as the scheduler builds them
        for person in thousand:
            conn.exec_driver_sql(
                "INSERT INTO weekly_digests (tenant_id, person_id, week, digest) "
                "VALUES (%s, %s, %s, %s::jsonb)",
                (world.org.tenant_id, person, week,
                 json.dumps({"week": week, "nudges": [], "teams": []})),
            )  # fmt: skip
    before = rate_limited(world)
    limits(world, {"refuse_every": 7})  # every 7th message answered 429, Retry-After: 1
    broker = world.resources.broker
    try:
        queued, _ = TeamsDigests(world.store).queue(
            now, lambda task: [send_task("digest", task, broker) for _ in range(2)]
        )  # each task twice: as a redelivery would
        assert queued == len(thousand)
        broker.join(TEAMS_QUEUE, timeout=240_000)
        worker.join()
    finally:
        limits(world, {"refuse_every": 0})
    assert rate_limited(world) - before >= 1000 // 7  # 429s were answered, and waited out
    ours = set(thousand.values())
    received = Counter(
        s["aad_object_id"] for s in digests_sent(world) if s["aad_object_id"] in ours
    )
    assert received == Counter({aad: 1 for aad in thousand.values()})
    with world.store.engine.connect() as db:
        statuses = Counter(
            status
            for (status,) in db.exec_driver_sql(
                "SELECT status FROM msteams_digest_sends WHERE tenant_id = %s AND week = %s",
                (world.org.tenant_id, week),
            ).all()
        )
    assert statuses == {"sent": len(thousand)}


def test_a_teams_nudges_reach_its_manager_alone(world: TeamsWorld):
    now = a_monday()
    week = iso_week_of(now - timedelta(weeks=1))
    manager, employee = world.link("platform-manager"), world.link("platform-1")
    nudge = {"suggestion": "Share one decision in the open", "because": "few saw the work",
             "step": "Post the why of one decision"}  # fmt: skip
    rows = {
        "platform-manager": {"week": week, "nudges": [],
                             "teams": [{"name": "Platform", "nudges": [nudge]}]},
        "platform-1": {"week": week, "nudges": [], "teams": []},
    }  # fmt: skip
    with world.store.engine.begin() as conn:
        for who, digest in rows.items():
            conn.exec_driver_sql(
                "INSERT INTO weekly_digests (tenant_id, person_id, week, digest) "
                "VALUES (%s, %s, %s, %s::jsonb)",
                (world.org.tenant_id, world.org.people[who], week, json.dumps(digest)),
            )
    assert queue(world, now)[0] == 2
    world.drain()
    cards = {
        s["aad_object_id"]: json.dumps(s["activity"]["attachments"][0]["content"])
        for s in digests_sent(world)
        if s["aad_object_id"] in (manager, employee)
    }
    assert "Team Platform" in cards[manager] and "Share one decision" in cards[manager]
    assert "Team Platform" not in cards[employee] and "Share one decision" not in cards[employee]
