"""The weekly digest as Slack direct messages: at each person's chosen day and hour in their
zone, once per person and week, through the stand-in's rate limits (429 and Retry-After),
never lost nor doubled, and only the person's own digest."""

from __future__ import annotations

import json
import random
import secrets
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import pytest
import requests

from shared.chat.digests import SlackDigests, candidate_weeks
from shared.chat.jobs import SLACK_QUEUE, send_task
from shared.commands import Actor
from shared.commands.base import append
from shared.domain.weeks import iso_week_of, week_start
from shared.eventlog import AppendContext, NewEvent
from shared.i18n import format_week
from shared.projections import runtime
from shared.projections.digests import build_digests
from tests.slack.conftest import SlackWorld, csrf_of, link, login

pytestmark = pytest.mark.integration


def a_monday() -> datetime:
    """10:00 UTC on a Monday of a week no other test uses (digests are queued across tenants)."""
    week = f"{random.randint(2040, 2990)}-W{random.randint(2, 50):02d}"
    return datetime.combine(week_start(week), datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)


@pytest.fixture
def worker(world: SlackWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[dramatiq.Worker]:
    """A real Dramatiq worker on the Slack queue (its retries, its threads)."""
    import workers.slack

    monkeypatch.setattr(workers.slack, "slack_work", world.work)
    running = dramatiq.Worker(world.resources.broker, queues={SLACK_QUEUE}, worker_threads=8)
    running.start()
    yield running
    running.stop()


def set_limit(world: SlackWorld, method: str, calls: int | None, seconds: float = 1.0) -> None:
    body = {"method": method, "calls": calls, "seconds": seconds}
    post_limits(world, body)


def post_limits(world: SlackWorld, body: dict[str, Any]) -> None:
    response = requests.post(f"{world.stand_in.url}/_stand_in/limits", json=body, timeout=10)
    assert response.status_code == 200


def rate_limited(world: SlackWorld) -> int:
    return int(
        requests.get(f"{world.stand_in.url}/_stand_in/sent", timeout=10).json()["rate_limited"]
    )


def build(world: SlackWorld, week: str) -> None:
    runtime(world.store).ensure()  # the read models the digest reads
    with world.store.engine.begin() as conn:
        build_digests(conn, world.org.tenant_id, week, 5)


def digests_sent(world: SlackWorld) -> list[dict]:
    return [
        s for s in world.sent()
        if s["method"] == "chat.postMessage"
        and "Your week in Compound" in str(s["args"].get("text"))
    ]  # fmt: skip


def queue(world: SlackWorld, now: datetime) -> tuple[int, int]:
    broker = world.resources.broker
    return SlackDigests(world.store).queue(now, lambda task: send_task("digest", task, broker))


def test_the_digest_comes_at_the_chosen_hour_in_the_persons_zone_once(world: SlackWorld):
    now = a_monday()
    week = iso_week_of(now - timedelta(weeks=1))
    user_id = link(world, "platform-1")
    person = world.org.people["platform-1"]
    # Kiritimati is UTC+14 all year: Tuesday 08:00 there is Monday 18:00 UTC
    with world.store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE people SET time_zone = 'Pacific/Kiritimati' WHERE id = %s", (person,)
        )
    client = login(world.app, world.org.emails["platform-1"], world.org.password)
    answer = client.post(
        "/slack/digest-time", data={"csrf_token": csrf_of(client), "day": "tue", "hour": "8"}
    )
    assert answer.status_code == 302
    build(world, week)
    tuesday_8 = now.replace(hour=18)  # Monday 18:00 UTC
    assert queue(world, tuesday_8 - timedelta(minutes=1)) == (0, 0)
    assert world.drain() == []
    assert queue(world, tuesday_8)[0] == 1
    assert queue(world, tuesday_8 + timedelta(minutes=5)) == (0, 0)  # queued once
    tasks = world.drain()
    assert [k for k, _ in tasks] == ["digest"]
    world.work().run(*tasks[0])  # a redelivery: the claim finds it sent
    sent = digests_sent(world)
    assert len(sent) == 1
    assert sent[0]["args"]["channel"] == "D" + user_id[1:]  # the person's direct messages
    assert f"Your week in Compound ({format_week(week)})" in sent[0]["args"]["text"]
    blocks = json.dumps(sent[0]["args"]["blocks"])
    assert "/pulse|answer it on the portal" in blocks  # a member of Platform: the pulse is theirs
    (chosen,) = world.events(("SlackDigestTimeSet",))
    assert chosen.data == {
        "person_id": str(person), "day": "tue", "hour": 8, "time_zone": "Pacific/Kiritimati"
    }  # fmt: skip
    # the week after, the digest of a week no longer built is not sent
    assert queue(world, now + timedelta(weeks=1, hours=9)) == (0, 0)


@pytest.mark.parametrize(
    ("day", "hour", "field"),
    [("funday", "9", "day"), ("mon", "24", "hour"), ("mon", "-1", "hour"), ("mon", "9x", "hour"),
     ("mon", "", "hour"), ("mon", "0009", "hour"), ("", "", "day")],
)  # fmt: skip
def test_a_wrong_time_is_said_next_to_its_field_and_writes_nothing(world, day, hour, field):
    client = login(world.app, world.org.emails["platform-1"], world.org.password)
    answer = client.post(
        "/slack/digest-time", data={"csrf_token": csrf_of(client), "day": day, "hour": hour}
    )
    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.get_data(as_text=True)
    assert world.events(("SlackDigestTimeSet",)) == []
    with world.store.engine.connect() as db:
        rows = db.exec_driver_sql(
            "SELECT count(*) FROM slack_digest_times WHERE tenant_id = %s",
            (world.org.tenant_id,),
        ).scalar()
    assert rows == 0


def test_only_ones_own_digest_and_a_manager_alone_gets_a_teams_nudges(world: SlackWorld):
    now = a_monday()
    week = iso_week_of(now - timedelta(weeks=1))
    employee, manager = link(world, "platform-1"), link(world, "platform-manager")
    build(world, week)
    assert queue(world, now)[0] == 2
    world.drain()
    by_channel = {s["args"]["channel"]: s for s in digests_sent(world)}
    assert set(by_channel) == {"D" + employee[1:], "D" + manager[1:]}
    with world.store.engine.connect() as db:
        digests: dict[uuid.UUID, dict[str, Any]] = dict(
            db.exec_driver_sql(
                "SELECT person_id, digest FROM weekly_digests WHERE week = %s AND tenant_id = %s",
                (week, world.org.tenant_id),
            ).all()
        )
    for who, user_id in (("platform-1", employee), ("platform-manager", manager)):
        blocks = json.dumps(by_channel["D" + user_id[1:]]["args"]["blocks"])
        digest = digests[world.org.people[who]]
        for nudge in digest["nudges"]:
            assert json.dumps(nudge["suggestion"])[1:-1] in blocks
        assert ("*Team " in blocks) == bool(digest["teams"])
    assert digests[world.org.people["platform-1"]]["teams"] == []  # never a team's figure
    assert "/pulse" not in json.dumps(by_channel["D" + manager[1:]]["args"]["blocks"])


def test_the_scheduler_job_queues_what_is_due_and_nothing_without_the_slack_app(world):
    from dataclasses import replace

    from shared.chat.settings import SlackSettings
    from workers.scheduler import slack_digests

    now = a_monday()
    link(world, "platform-1")
    build(world, iso_week_of(now - timedelta(weeks=1)))
    settings = world.resources.settings
    off = replace(settings, slack=SlackSettings())
    assert slack_digests(world.store.engine, off, now) == 0
    assert slack_digests(world.store.engine, settings, now.replace(hour=8)) == 0  # before 09:00
    assert slack_digests(world.store.engine, settings, now) == 1
    assert [kind for kind, _ in world.drain()] == ["digest"]
    assert len(digests_sent(world)) == 1


def test_a_lost_task_is_sent_again_after_30_minutes_and_still_goes_out_once(world):
    now = a_monday()
    link(world, "platform-1")
    build(world, iso_week_of(now - timedelta(weeks=1)))
    assert queue(world, now) == (1, 0)
    discard(world)  # the task is lost
    assert queue(world, now + timedelta(minutes=29)) == (0, 0)
    assert queue(world, now + timedelta(minutes=31)) == (0, 1)
    assert [kind for kind, _ in world.drain()] == ["digest"]
    assert queue(world, now + timedelta(minutes=62)) == (0, 0)  # sent: never again
    assert len(digests_sent(world)) == 1


def discard(world: SlackWorld) -> None:
    """Take the queued tasks off the queue and run none (a worker died with them)."""
    consumer = world.resources.broker.consume(SLACK_QUEUE, prefetch=50, timeout=200)
    try:
        for message in consumer:
            if message is None:
                break
            consumer.ack(message)
    finally:
        consumer.close()


def test_a_person_unlinked_after_queueing_is_dropped_and_nothing_is_sent(world: SlackWorld):
    now = a_monday()
    week = iso_week_of(now - timedelta(weeks=1))
    user_id = link(world, "platform-1")
    build(world, week)
    assert queue(world, now)[0] == 1
    (found,) = world.installations.links_of_person(world.org.people["platform-1"])
    world.installations.unlink(found, "person", AppendContext(actor="test"))
    world.drain()
    assert [s for s in digests_sent(world) if s["args"]["channel"] == "D" + user_id[1:]] == []
    with world.store.engine.connect() as db:
        status = db.exec_driver_sql(
            "SELECT status FROM slack_digest_sends WHERE person_id = %s AND week = %s",
            (world.org.people["platform-1"], week),
        ).scalar()
    assert status == "dropped"


@contextmanager
def many_linked_people(world: SlackWorld, n: int) -> Iterator[dict[uuid.UUID, str]]:
    """``n`` employees of Platform who joined and linked a Slack account (the events of the
    real flow, the directory applied as the commands apply it, 250 people a transaction; no
    password, which would take argon2 a third of a second each). They leave afterwards, so
    the session's later digest builds do not carry them."""
    tenant = world.org.tenant_id
    admin = Actor(tenant_id=tenant, person_id=world.org.admin, role="admin", source="test")
    installation = world.installations.get(world.team_id)
    assert installation is not None
    suffix = secrets.token_hex(4)
    people: dict[uuid.UUID, str] = {}
    for start in range(0, n, 250):
        with world.store.engine.begin() as conn:
            for i in range(start, min(n, start + 250)):
                person, user_id = uuid.uuid4(), f"U{i:05d}{suffix.upper()}"
                invited = {
                    "person_id": str(person),
                    "email": f"p{i}-{suffix}@demo.test",
                    "role": "employee",
                    "team_id": str(world.org.teams["platform"]),
                }
                joined = {"person_id": str(person), "display_name": f"P{i}", "time_zone": "UTC"}
                events = [NewEvent("PersonInvited", invited), NewEvent("PersonJoined", joined)]
                append(world.store, conn, admin, f"person-{person}", events)
                people[person] = user_id
        for person in list(people)[start:]:
            context = AppendContext(actor=str(person))
            world.installations.link(installation, people[person], person, context)
    try:
        yield people
    finally:
        with world.store.engine.begin() as conn:
            for person in people:
                left = [NewEvent("PersonLeft", {"person_id": str(person)})]
                append(world.store, conn, admin, f"person-{person}", left)


@pytest.fixture
def thousand(world: SlackWorld) -> Iterator[dict[uuid.UUID, str]]:
    with many_linked_people(world, 1000) as people:
        yield people


def test_a_digest_to_1000_people_through_429s_is_neither_lost_nor_doubled(
    world: SlackWorld, worker: dramatiq.Worker, thousand: dict[uuid.UUID, str]
):
    now = a_monday()
    week = iso_week_of(now - timedelta(weeks=1))
    people = thousand
    with world.store.engine.begin() as conn:  # the digest rows as the scheduler builds them
        for person in people:
            conn.exec_driver_sql(
                "INSERT INTO weekly_digests (tenant_id, person_id, week, digest) "
                "VALUES (%s, %s, %s, %s::jsonb)",
                (world.org.tenant_id, person, week, json.dumps({"week": week, "nudges": [],
                                                               "teams": []})),
            )  # fmt: skip
    before = rate_limited(world)
    set_limit(world, "chat.postMessage", 40, 1.0)  # 40 a second: 429s for 8 threads
    post_limits(world, {"method": "chat.postMessage", "refuse_every": 7})  # and injected ones
    broker = world.resources.broker
    try:
        queued, _ = SlackDigests(world.store).queue(
            now, lambda task: [send_task("digest", task, broker) for _ in range(2)]
        )  # each task twice: as a redelivery would
        assert queued == len(people)
        broker.join(SLACK_QUEUE, timeout=180_000)
        worker.join()
    finally:
        set_limit(world, "chat.postMessage", None)
        post_limits(world, {"method": "chat.postMessage", "refuse_every": 0})
    assert rate_limited(world) - before >= 1000 // 7  # 429s were answered, and waited out
    channels = Counter(s["args"]["channel"] for s in digests_sent(world))
    assert channels == Counter({"D" + user_id[1:]: 1 for user_id in people.values()})
    with world.store.engine.connect() as db:
        statuses = Counter(
            status
            for (status,) in db.exec_driver_sql(
                "SELECT status FROM slack_digest_sends WHERE tenant_id = %s AND week = %s",
                (world.org.tenant_id, week),
            ).all()
        )
    assert statuses == {"sent": len(people)}
    assert candidate_weeks(now)[-1] == week
