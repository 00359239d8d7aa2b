"""Rebuilding ``msteams_links`` from the log (``compound msteams rebuild``; docs/chat.md,
"Linking a Teams account").

The table is written in the transaction that appends its event, so it never drifts; it is
nonetheless a read model of the log, and this is its rebuild: every ``TeamsAccountLinked`` /
``TeamsAccountUnlinked`` / ``PersonErased`` of every organisation folded in log order, then
the table replaced in one transaction.

Not rebuilt, and why: ``msteams_conversations`` holds the Bot Framework's addresses of the
personal chats, which no event says (each comes back with the person's next message);
``msteams_digest_sends`` records what the Connector accepted.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.database import as_psycopg
from shared.eventlog import EventStore, RecordedEvent

TYPES = ("TeamsAccountLinked", "TeamsAccountUnlinked", "PersonErased")
PAGE = 5000
Links = dict[tuple[str, str], tuple[uuid.UUID, uuid.UUID, datetime]]
"""(Azure AD tenant, object id) -> (tenant, person, linked at)."""


def apply(links: Links, event: RecordedEvent) -> None:
    """Fold one event into ``links``."""
    data = event.data
    person = uuid.UUID(str(data["person_id"]))
    if event.type == "PersonErased":
        for key in [k for k, v in links.items() if v[1] == person]:
            del links[key]
    elif event.erased:  # its personal fields were shredded with the person
        return
    elif event.type == "TeamsAccountLinked":
        key = (str(data["aad_tenant_id"]), str(data["aad_object_id"]))
        links[key] = (event.tenant_id, person, event.recorded_at)
    elif event.type == "TeamsAccountUnlinked":
        links.pop((str(data["aad_tenant_id"]), str(data["aad_object_id"])), None)


def rebuild(store: EventStore) -> int:
    """Replace ``msteams_links`` with what the log says; returns how many links."""
    links: Links = {}
    after = 0
    while True:
        page = store.read_all(after, PAGE, types=TYPES)
        for event in page:
            apply(links, event)
        if len(page) < PAGE:
            break
        after = page[-1].position
    with store.engine.begin() as db:
        pg = as_psycopg(db)
        pg.execute("DELETE FROM msteams_links")
        with pg.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO msteams_links (aad_tenant_id, aad_object_id, tenant_id, person_id, "
                "linked_at) VALUES (%s, %s, %s, %s, %s)",
                [(t, o, *rest) for (t, o), rest in links.items()],
            )
    return len(links)
