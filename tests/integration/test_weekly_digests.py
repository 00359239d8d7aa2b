"""The scheduler's weekly digest job: last week's digests built once per organisation and
mailed once, whenever the job runs (a scheduler down on Monday catches up later)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from shared.eventlog import EventStore
from shared.notify import LoggingMailer, Tally
from shared.projections import runtime
from shared.settings import Settings
from tests.conftest import make_org
from workers.scheduler import weekly_digests

pytestmark = pytest.mark.integration


def test_last_weeks_digests_are_built_and_mailed_once(store: EventStore):
    runtime(store).ensure()
    org = make_org(store, people_per_team=2)
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday of 2026-W48: W47 has just ended
    mailer = LoggingMailer()
    settings = Settings.from_env()

    built, mailed = weekly_digests(store.engine, settings, mailer, now)

    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT week, sent_at IS NOT NULL AS sent, digest FROM weekly_digests "
                "WHERE tenant_id = :t"
            ),
            {"t": org.tenant_id},
        ).all()
    assert {r.week for r in rows} == {"2026-W47"}
    assert len(rows) == len(org.people)  # every active person, managers and admin included
    assert built >= len(rows)  # other organisations of the session are built too
    assert all(r.sent for r in rows)  # mailed, or marked done when there is nothing to say
    with_something = [r for r in rows if r.digest["nudges"] or r.digest["teams"]]
    assert with_something  # a newcomer is nudged to start small
    ours = {org.emails[w] for w in org.emails}
    assert len([m for m in mailer.sent if m.to in ours]) == len(with_something)
    assert (mailed.logged, mailed.sent, mailed.failed) == (len(mailer.sent), 0, 0)
    for message in (m for m in mailer.sent if m.to in ours):  # in English, its default
        assert message.subject == "Compound: your week (Week 47, 16\u2009\u2013\u200922 Nov)"

    again = weekly_digests(store.engine, settings, mailer, now.replace(hour=8))
    assert again == (0, Tally())  # built once, mailed once
    later = weekly_digests(
        store.engine, settings, LoggingMailer(), datetime(2026, 11, 30, tzinfo=UTC)
    )
    assert later[0] >= len(org.people)  # the next Monday: the next week
