"""Rebuilding ``slack_links`` and ``slack_digest_times`` from the log (``compound slack
rebuild``; docs/chat.md, "What the log holds and what it does not").

Both tables are written in the transaction that appends their event, so they never drift;
they are nonetheless read models of the log, and this is their rebuild: every
``SlackAccountLinked`` / ``SlackAccountUnlinked`` / ``SlackAppUninstalled`` /
``SlackDigestTimeSet`` / ``PersonErased`` of every organisation folded in log order, then the
tables replaced in one transaction.

Not rebuilt, and why: ``slack_installations`` holds the bot token, which is never in the log
(its loss means installing again, and a link of a workspace no longer installed is left out);
``slack_digest_sends`` records what Slack accepted, which no event says (the digests' own
``sent_at`` is alike).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from shared.database import as_psycopg
from shared.domain.working_hours import DAYS
from shared.eventlog import EventStore, RecordedEvent

TYPES = (
    "SlackAccountLinked",
    "SlackAccountUnlinked",
    "SlackAppUninstalled",
    "SlackDigestTimeSet",
    "PersonErased",
)
PAGE = 5000


@dataclass
class Fold:
    """The links and digest times the events so far leave."""

    links: dict[tuple[str, str], tuple[uuid.UUID, uuid.UUID, datetime]] = field(
        default_factory=dict
    )
    """(team, Slack user) -> (tenant, person, linked at)."""
    times: dict[uuid.UUID, tuple[uuid.UUID, int, int, str]] = field(default_factory=dict)
    """person -> (tenant, day, hour, zone)."""

    def apply(self, event: RecordedEvent) -> None:
        data = event.data
        if event.type == "SlackAppUninstalled":
            self.links = {k: v for k, v in self.links.items() if k[0] != data["team_id"]}
            return
        person = uuid.UUID(str(data["person_id"]))
        if event.type == "PersonErased":
            self.links = {k: v for k, v in self.links.items() if v[1] != person}
            self.times.pop(person, None)
        elif event.erased:  # its personal fields were shredded with the person
            return
        elif event.type == "SlackAccountLinked":
            link = (event.tenant_id, person, event.recorded_at)
            self.links[(data["team_id"], data["slack_user_id"])] = link
        elif event.type == "SlackAccountUnlinked":
            self.links.pop((data["team_id"], data["slack_user_id"]), None)
        elif event.type == "SlackDigestTimeSet":
            day = DAYS.index(data["day"])
            self.times[person] = (event.tenant_id, day, int(data["hour"]), data["time_zone"])


def fold(store: EventStore) -> Fold:
    """Every Slack link and digest time event of the log, folded."""
    state, after = Fold(), 0
    while True:
        page = store.read_all(after, PAGE, types=TYPES)
        for event in page:
            state.apply(event)
        if len(page) < PAGE:
            return state
        after = page[-1].position


def rebuild(store: EventStore) -> tuple[int, int]:
    """Replace ``slack_links`` and ``slack_digest_times`` with what the log says.

    Returns:
        ``(links, digest times)`` written.
    """
    state = fold(store)
    with store.engine.begin() as db:
        pg = as_psycopg(db)
        installed = {r[0] for r in pg.execute("SELECT team_id FROM slack_installations")}
        links = [(t, u, *rest) for (t, u), rest in state.links.items() if t in installed]
        pg.execute("DELETE FROM slack_links")
        pg.execute("DELETE FROM slack_digest_times")
        with pg.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO slack_links (team_id, slack_user_id, tenant_id, person_id, "
                "linked_at) VALUES (%s, %s, %s, %s, %s)",
                links,
            )
            cursor.executemany(
                "INSERT INTO slack_digest_times (person_id, tenant_id, day, hour, time_zone) "
                "VALUES (%s, %s, %s, %s, %s)",
                [(p, *rest) for p, rest in state.times.items()],
            )
    return len(links), len(state.times)
