"""Slack installations (a workspace serving one organisation, its bot token sealed under the
master keys) and account links (a Slack user of that workspace is a person).

Each command changes its row and appends its event in one transaction, as calendar
connections do (shared/calendar/connections.py). A workspace belongs to the organisation
that installed it first; another organisation installing it is refused, so a request from
one workspace can only ever reach people of one organisation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from shared.calendar.connections import TokenCipher
from shared.database import as_psycopg
from shared.domain.errors import Conflict, NotFound
from shared.eventlog import AppendContext, EventStore, NewEvent
from shared.eventlog.crypto import DB
from shared.eventlog.events_chat import installation_stream, link_stream
from shared.i18n import gettext


@dataclass(frozen=True)
class Installation:
    """A workspace the app serves, for one organisation."""

    team_id: str
    tenant_id: uuid.UUID
    team_name: str
    bot_user_id: str
    bot_token: str


@dataclass(frozen=True)
class Link:
    """A Slack user of an installed workspace, tied to a person."""

    team_id: str
    slack_user_id: str
    tenant_id: uuid.UUID
    person_id: uuid.UUID


class Installations:
    """The installation and link rows, and the commands that change them.

    Parameters:
        store: appends the Slack events.
        cipher: seals bot tokens at rest (the master keys).
    """

    def __init__(self, store: EventStore, cipher: TokenCipher):
        self.store = store
        self.engine: Engine = store.engine
        self.cipher = cipher

    # -- reads ---------------------------------------------------------------------------------

    def get(self, team_id: str) -> Installation | None:
        """The installation of workspace ``team_id``, or None."""
        with self.engine.connect() as db:
            row = (
                as_psycopg(db)
                .execute(
                    "SELECT team_id, tenant_id, team_name, bot_user_id, bot_token "
                    "FROM slack_installations WHERE team_id = %s",
                    (team_id,),
                )
                .fetchone()
            )
            db.rollback()
        if row is None:
            return None
        token = self.cipher.open(bytes(row[4]))["access_token"]
        return Installation(row[0], row[1], row[2], row[3], str(token))

    def of_tenant(self, tenant_id: uuid.UUID) -> list[tuple[str, str]]:
        """``(team_id, team_name)`` of every workspace serving the organisation."""
        return self._rows(
            "SELECT team_id, team_name FROM slack_installations WHERE tenant_id = %s "
            "ORDER BY team_name",
            (tenant_id,),
        )

    def link_of(self, team_id: str, slack_user_id: str) -> Link | None:
        """The person Slack user ``slack_user_id`` of ``team_id`` is, or None."""
        rows = self._rows(
            "SELECT team_id, slack_user_id, tenant_id, person_id FROM slack_links "
            "WHERE team_id = %s AND slack_user_id = %s",
            (team_id, slack_user_id),
        )
        return Link(*rows[0]) if rows else None

    def links_of_person(self, person_id: uuid.UUID) -> list[Link]:
        """Every Slack account tied to the person."""
        rows = self._rows(
            "SELECT team_id, slack_user_id, tenant_id, person_id FROM slack_links "
            "WHERE person_id = %s ORDER BY team_id",
            (person_id,),
        )
        return [Link(*r) for r in rows]

    def _rows(self, sql: str, args: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self.engine.connect() as db:
            rows = as_psycopg(db).execute(sql, args).fetchall()
            db.rollback()
        return [tuple(r) for r in rows]

    # -- commands ------------------------------------------------------------------------------

    def install(
        self,
        tenant_id: uuid.UUID,
        team_id: str,
        team_name: str,
        bot_user_id: str,
        bot_token: str,
        context: AppendContext,
    ) -> None:
        """Keep a workspace's bot token (sealed) and append ``SlackAppInstalled``.

        Installing again for the same organisation renews the token.

        Parameters:
            tenant_id: the organisation whose admin installed the app.
            team_id: the Slack workspace.
            team_name: its name.
            bot_user_id: the app's bot user there.
            bot_token: the bot token (``xoxb-``) from ``oauth.v2.access``.
            context: the admin's append context (``actor`` is their person id).

        Raises:
            Conflict: the workspace serves another organisation.
        """
        sealed = self.cipher.seal({"access_token": bot_token})
        with self.engine.begin() as db:
            row = (
                as_psycopg(db)
                .execute(
                    "INSERT INTO slack_installations (team_id, tenant_id, team_name, bot_user_id, "
                    "bot_token, installed_by) VALUES (%s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (team_id) DO UPDATE SET team_name = excluded.team_name, "
                    "bot_user_id = excluded.bot_user_id, bot_token = excluded.bot_token, "
                    "installed_at = now() WHERE slack_installations.tenant_id = excluded.tenant_id "
                    "RETURNING team_id",
                    (team_id, tenant_id, team_name, bot_user_id, sealed, context.actor),
                )
                .fetchone()
            )
            if row is None:
                raise Conflict(
                    gettext("This Slack workspace is connected to another organisation.")
                )
            self.store.append_in(
                db,
                tenant_id,
                installation_stream(tenant_id),
                None,
                [
                    NewEvent(
                        "SlackAppInstalled",
                        {
                            "team_id": team_id,
                            "team_name": team_name,
                            "bot_user_id": bot_user_id,
                            "installed_by": context.actor,
                        },
                    )
                ],
                context,
            )

    def uninstall(self, team_id: str, reason: str, context: AppendContext) -> bool:
        """Forget a workspace: its bot token and every link of it; append
        ``SlackAppUninstalled`` (which ends those links: no ``SlackAccountUnlinked`` each).

        Parameters:
            team_id: the workspace.
            reason: ``uninstalled`` or ``revoked`` (Slack's events), ``admin``.
            context: who acts (``system`` for Slack's events).

        Returns:
            ``False`` when it was not installed (a retried event).
        """
        with self.engine.begin() as db:
            row = (
                as_psycopg(db)
                .execute(
                    "DELETE FROM slack_installations WHERE team_id = %s RETURNING tenant_id",
                    (team_id,),
                )
                .fetchone()
            )
            if row is None:
                return False
            self.store.append_in(
                db,
                row[0],
                installation_stream(row[0]),
                None,
                [NewEvent("SlackAppUninstalled", {"team_id": team_id, "reason": reason})],
                context,
            )
        return True

    def link(
        self,
        installation: Installation,
        slack_user_id: str,
        person_id: uuid.UUID,
        context: AppendContext,
    ) -> bool:
        """Tie a Slack user to a person and append ``SlackAccountLinked``.

        The caller has checked the Slack account's verified e-mail address and the person's
        confirmation (services/gateway/slack/accounts.py).

        Parameters:
            installation: the workspace (of the person's organisation).
            slack_user_id: the Slack user.
            person_id: the person confirming.
            context: the person's append context.

        Returns:
            ``False`` when this exact link exists already (nothing appended).

        Raises:
            Conflict: the Slack user is another person's, or the person has another account
                in this workspace.
        """
        with self.engine.begin() as db:
            pg = as_psycopg(db)
            found = pg.execute(
                "SELECT slack_user_id, person_id FROM slack_links WHERE team_id = %s "
                "AND (slack_user_id = %s OR person_id = %s) FOR UPDATE",
                (installation.team_id, slack_user_id, person_id),
            ).fetchall()
            if any(tuple(r) == (slack_user_id, person_id) for r in found):
                return False
            if found:
                raise Conflict(
                    gettext("This Slack account, or yours in this workspace, is linked already.")
                )
            pg.execute(
                "INSERT INTO slack_links (team_id, slack_user_id, tenant_id, person_id) "
                "VALUES (%s, %s, %s, %s)",
                (installation.team_id, slack_user_id, installation.tenant_id, person_id),
            )
            data = {
                "person_id": person_id,
                "team_id": installation.team_id,
                "slack_user_id": slack_user_id,
            }
            self._append_link(db, installation.tenant_id, "SlackAccountLinked", data, context)
        return True

    def unlink(self, link: Link, by: str, context: AppendContext) -> bool:
        """Untie a Slack user from its person and append ``SlackAccountUnlinked``.

        Parameters:
            link: the link to end.
            by: ``person`` (from the portal) or ``slack`` (``/compound unlink``).
            context: the person's append context.

        Returns:
            ``False`` when the link had ended already.
        """
        with self.engine.begin() as db:
            gone = (
                as_psycopg(db)
                .execute(
                    "DELETE FROM slack_links WHERE team_id = %s AND slack_user_id = %s "
                    "AND person_id = %s RETURNING person_id",
                    (link.team_id, link.slack_user_id, link.person_id),
                )
                .fetchone()
            )
            if gone is None:
                return False
            data = {
                "person_id": link.person_id,
                "team_id": link.team_id,
                "slack_user_id": link.slack_user_id,
                "by": by,
            }
            self._append_link(db, link.tenant_id, "SlackAccountUnlinked", data, context)
        return True

    def _append_link(
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
    """Erasure: drop the person's links, digest time and digest deliveries in the erasing
    transaction. The link events' Slack user ids are shredded with the person's key; these
    rows hold them in the clear."""
    pg = as_psycopg(db)
    pg.execute("DELETE FROM slack_links WHERE person_id = %s", (person_id,))
    pg.execute("DELETE FROM slack_digest_times WHERE person_id = %s", (person_id,))
    pg.execute("DELETE FROM slack_digest_sends WHERE person_id = %s", (person_id,))


def require(installation: Installation | None, tenant_id: uuid.UUID) -> Installation:
    """``installation`` if it serves ``tenant_id``.

    Raises:
        NotFound: no installation, or one of another organisation (said alike: another
            tenant learns nothing about the workspace).
    """
    if installation is None or installation.tenant_id != tenant_id:
        raise NotFound(gettext("This Slack workspace is not connected to your organisation."))
    return installation
