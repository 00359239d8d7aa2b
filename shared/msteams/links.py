"""Teams links (a Teams user, by Azure AD tenant and object id, is a person) and the
conversation references of the bot's personal conversations (where proactive messages go).

Each link command changes its row and appends its event in one transaction, as Slack's do
(shared/chat/installations.py). A conversation reference is not an event: it is the Bot
Framework's address of the one-to-one chat, refreshed from each activity the user sends.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from shared.database import as_psycopg
from shared.domain.errors import Conflict
from shared.eventlog import AppendContext, EventStore, NewEvent
from shared.eventlog.crypto import DB
from shared.eventlog.events_msteams import link_stream
from shared.i18n import gettext


@dataclass(frozen=True)
class TeamsLink:
    """A Teams user tied to a person."""

    aad_tenant_id: str
    aad_object_id: str
    tenant_id: uuid.UUID
    person_id: uuid.UUID


@dataclass(frozen=True)
class ConversationRef:
    """The bot's personal conversation with a Teams user (the Bot Framework's reference)."""

    aad_tenant_id: str
    aad_object_id: str
    user_id: str
    bot_id: str
    conversation_id: str
    service_url: str


_LINK = "SELECT aad_tenant_id, aad_object_id, tenant_id, person_id FROM msteams_links "
_REF = (
    "SELECT aad_tenant_id, aad_object_id, user_id, bot_id, conversation_id, service_url "
    "FROM msteams_conversations "
)


class TeamsLinks:
    """The link and conversation rows, and the commands that change them.

    Parameters:
        store: appends the link events.
    """

    def __init__(self, store: EventStore):
        self.store = store
        self.engine: Engine = store.engine

    def _rows(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self.engine.connect() as db:
            rows = as_psycopg(db).execute(sql, args).fetchall()
            db.rollback()
        return [tuple(r) for r in rows]

    def link_of(self, aad_tenant_id: str, aad_object_id: str) -> TeamsLink | None:
        """The person the Teams user is, or None."""
        rows = self._rows(
            _LINK + "WHERE aad_tenant_id = %s AND aad_object_id = %s",
            (aad_tenant_id, aad_object_id),
        )
        return TeamsLink(*rows[0]) if rows else None

    def links_of_person(self, person_id: uuid.UUID) -> list[TeamsLink]:
        """Every Teams account tied to the person."""
        rows = self._rows(_LINK + "WHERE person_id = %s ORDER BY aad_tenant_id", (person_id,))
        return [TeamsLink(*r) for r in rows]

    def conversation_of(self, link: TeamsLink) -> ConversationRef | None:
        """Where a proactive message to the linked user goes, or None (they never wrote)."""
        rows = self._rows(
            _REF + "WHERE aad_tenant_id = %s AND aad_object_id = %s",
            (link.aad_tenant_id, link.aad_object_id),
        )
        return ConversationRef(*rows[0]) if rows else None

    def remember(self, ref: ConversationRef) -> None:
        """Keep (or refresh) the reference of a personal conversation."""
        with self.engine.begin() as db:
            as_psycopg(db).execute(
                "INSERT INTO msteams_conversations (aad_tenant_id, aad_object_id, user_id, "
                "bot_id, conversation_id, service_url) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (aad_tenant_id, aad_object_id) DO UPDATE SET "
                "user_id = excluded.user_id, bot_id = excluded.bot_id, "
                "conversation_id = excluded.conversation_id, "
                "service_url = excluded.service_url, updated_at = now()",
                (
                    ref.aad_tenant_id,
                    ref.aad_object_id,
                    ref.user_id,
                    ref.bot_id,
                    ref.conversation_id,
                    ref.service_url,
                ),
            )

    def link(
        self,
        aad_tenant_id: str,
        aad_object_id: str,
        tenant_id: uuid.UUID,
        person_id: uuid.UUID,
        context: AppendContext,
    ) -> bool:
        """Tie a Teams user to a person and append ``TeamsAccountLinked``.

        The caller has checked the Teams account's e-mail address and the person's
        confirmation (services/gateway/msteams/accounts.py).

        Returns:
            ``False`` when this exact link exists already (nothing appended).

        Raises:
            Conflict: the Teams user is another person's, or the person has another account
                in this Azure AD tenant.
        """
        with self.engine.begin() as db:
            pg = as_psycopg(db)
            found = pg.execute(
                "SELECT aad_object_id, person_id FROM msteams_links WHERE aad_tenant_id = %s "
                "AND (aad_object_id = %s OR person_id = %s) FOR UPDATE",
                (aad_tenant_id, aad_object_id, person_id),
            ).fetchall()
            if any(tuple(r) == (aad_object_id, person_id) for r in found):
                return False
            if found:
                raise Conflict(
                    gettext("This Teams account, or yours in this organisation, is linked already.")
                )
            pg.execute(
                "INSERT INTO msteams_links (aad_tenant_id, aad_object_id, tenant_id, person_id) "
                "VALUES (%s, %s, %s, %s)",
                (aad_tenant_id, aad_object_id, tenant_id, person_id),
            )
            data = {
                "person_id": person_id,
                "aad_tenant_id": aad_tenant_id,
                "aad_object_id": aad_object_id,
            }
            self._append(db, tenant_id, "TeamsAccountLinked", data, context)
        return True

    def unlink(self, link: TeamsLink, by: str, context: AppendContext) -> bool:
        """Untie a Teams user from its person and append ``TeamsAccountUnlinked``.

        Parameters:
            link: the link to end.
            by: ``person`` (from the portal) or ``teams`` ("unlink" sent to the bot).
            context: the person's append context.

        Returns:
            ``False`` when the link had ended already.
        """
        with self.engine.begin() as db:
            gone = (
                as_psycopg(db)
                .execute(
                    "DELETE FROM msteams_links WHERE aad_tenant_id = %s AND aad_object_id = %s "
                    "AND person_id = %s RETURNING person_id",
                    (link.aad_tenant_id, link.aad_object_id, link.person_id),
                )
                .fetchone()
            )
            if gone is None:
                return False
            data = {
                "person_id": link.person_id,
                "aad_tenant_id": link.aad_tenant_id,
                "aad_object_id": link.aad_object_id,
                "by": by,
            }
            self._append(db, link.tenant_id, "TeamsAccountUnlinked", data, context)
        return True

    def _append(
        self,
        db: DB,
        tenant_id: uuid.UUID,
        event_type: str,
        data: dict[str, object],
        context: AppendContext,
    ) -> None:
        stream = link_stream(data["person_id"])
        self.store.append_in(db, tenant_id, stream, None, [NewEvent(event_type, data)], context)


def forget_person(db: DB, person_id: uuid.UUID) -> None:
    """Erasure: drop the person's Teams links and their conversation references in the
    erasing transaction (the link events' object ids are shredded with the person's key)."""
    pg = as_psycopg(db)
    pg.execute(
        "DELETE FROM msteams_conversations c USING msteams_links l WHERE l.person_id = %s "
        "AND c.aad_tenant_id = l.aad_tenant_id AND c.aad_object_id = l.aad_object_id",
        (person_id,),
    )
    pg.execute("DELETE FROM msteams_links WHERE person_id = %s", (person_id,))
