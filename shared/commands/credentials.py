"""A person's credentials: their password and their API tokens (only hashes are stored)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select

from shared.commands.base import Actor, append
from shared.commands.organization_core import OrganizationCore, check_password
from shared.directory import AccessToken, Person
from shared.domain.errors import InvalidInput, NotFound, Text
from shared.domain.scopes import SCOPES, TOKEN_DAYS_DEFAULT, scopes_of_role, token_errors
from shared.eventlog import EventStore, NewEvent
from shared.security import hash_password, new_token

SESSION_TOKEN_HOURS = 12


class CredentialCommands(OrganizationCore):
    """Passwords and tokens (part of :class:`shared.commands.organization.OrganizationCommands`)."""

    def set_password(self, actor: Actor, new_password: str) -> None:
        """Change the actor's own password.

        Parameters:
            actor: the person (not the system).
            new_password: the new password, in clear (only its argon2 hash is appended).

        Raises:
            InvalidInput: the password is too short.
        """
        check_password(new_password)
        assert actor.person_id is not None
        with self.store.engine.begin() as conn:
            append(
                self.store,
                conn,
                actor,
                f"person-{actor.person_id}",
                [
                    NewEvent(
                        "PasswordSet",
                        {
                            "person_id": str(actor.person_id),
                            "password_hash": hash_password(new_password),
                        },
                    ),
                ],
            )

    def sign_out_everywhere(self, actor: Actor) -> None:
        """End every session and token of the actor ("log out everywhere"): the directory's
        ``credentials_valid_after`` moves to this event's time.

        Parameters:
            actor: the person (not the system).
        """
        assert actor.person_id is not None
        with self.store.engine.begin() as conn:
            append(
                self.store,
                conn,
                actor,
                f"person-{actor.person_id}",
                [NewEvent("SignedOutEverywhere", {"person_id": str(actor.person_id)})],
                key=None,
            )

    def create_token(
        self,
        actor: Actor,
        name: str,
        kind: str = "personal",
        now: datetime | None = None,
        scopes: Sequence[str] | None = None,
        days: int = TOKEN_DAYS_DEFAULT,
    ) -> tuple[uuid.UUID, str]:
        """A new API token for the actor. Only its hash is stored.

        Parameters:
            actor: the person the token acts for (not the system).
            name: a label the person chooses.
            kind: ``personal`` (``scopes``, expires after ``days``) or ``session`` (every
                scope of the role, expires after :data:`SESSION_TOKEN_HOURS`).
            now: the current time (default: the clock).
            scopes: a personal token's scopes (default: every scope of the person's role, as
                the directory has it).
            days: a personal token's lifetime in days.

        Returns:
            ``(token id, token)``: the token itself is shown once and never again.

        Raises:
            InvalidInput: a scope the person's role may not hold, or a lifetime beyond
                :data:`shared.domain.scopes.TOKEN_DAYS_MAX` days (messages per field).
        """
        assert actor.person_id is not None
        token_id = uuid.uuid4()
        token, digest = new_token()
        now = now or datetime.now().astimezone()
        granted: list[str] | None = None
        with self.store.engine.begin() as conn:
            if kind == "session":
                expires = now + timedelta(hours=SESSION_TOKEN_HOURS)
            else:
                # The directory's role, not the actor's: a scope is checked against the truth.
                role = conn.execute(
                    select(Person.role).where(Person.id == actor.person_id)
                ).scalar_one()
                asked = sorted(scopes_of_role(role)) if scopes is None else list(scopes)
                errors = token_errors(role, asked, days)
                if errors:
                    raise InvalidInput(Text("The token cannot be made."), errors)
                granted = [s for s in SCOPES if s in asked]
                expires = now + timedelta(days=days)
            append(
                self.store,
                conn,
                actor,
                f"person-{actor.person_id}",
                [
                    NewEvent(
                        "AccessTokenCreated",
                        {
                            "token_id": str(token_id),
                            "person_id": str(actor.person_id),
                            "name": name,
                            "kind": kind,
                            "token_hash": digest,
                            "expires_at": expires.isoformat(),
                            **({"scopes": granted} if granted is not None else {}),
                        },
                    ),
                ],
                key=None,
            )
        return token_id, token

    def revoke_token(self, actor: Actor, token_id: uuid.UUID) -> None:
        """Revoke one of the actor's tokens (an admin may revoke anyone's).

        Parameters:
            actor: the token's owner, or an admin.
            token_id: the token.

        Raises:
            NotFound: no such token in the organisation, or it is someone else's.
        """
        with self.store.engine.begin() as conn:
            token = conn.execute(
                select(AccessToken).where(
                    AccessToken.id == token_id, AccessToken.tenant_id == actor.tenant_id
                )
            ).first()
            if token is None or (token.person_id != actor.person_id and not actor.is_admin):
                raise NotFound(Text("You have no token %(id)s.", id=str(token_id)))
            append(
                self.store,
                conn,
                actor,
                f"person-{token.person_id}",
                [
                    NewEvent(
                        "AccessTokenRevoked",
                        {"token_id": str(token_id), "person_id": str(token.person_id)},
                    ),
                ],
            )


def personal_tokens(conn: Connection, person_id: uuid.UUID) -> list[Any]:
    """A person's personal tokens that still work, the newest first.

    Parameters:
        conn: a connection.
        person_id: the person.

    Returns:
        Rows of ``id, name, scopes, created_at, expires_at`` (``scopes`` None: every scope):
        not revoked, not expired, made after the person's credentials last ended.
    """
    return list(conn.execute(_personal_tokens(), {"person_id": person_id}).all())


@lru_cache(maxsize=1)
def _personal_tokens() -> Any:
    """:func:`personal_tokens`' statement, built once (building the ``select`` costs more
    than running it); the person is its ``person_id`` parameter."""
    person: Any = bindparam("person_id")
    valid_after = (
        select(Person.credentials_valid_after).where(Person.id == person).scalar_subquery()
    )
    return (
        select(
            AccessToken.id,
            AccessToken.name,
            AccessToken.scopes,
            AccessToken.created_at,
            AccessToken.expires_at,
        )
        .where(
            AccessToken.person_id == person,
            AccessToken.kind == "personal",
            AccessToken.revoked_at.is_(None),
            or_(AccessToken.expires_at.is_(None), AccessToken.expires_at > func.now()),
            or_(valid_after.is_(None), AccessToken.created_at > valid_after),
        )
        .order_by(AccessToken.created_at.desc())
    )


def sign_out_people(
    store: EventStore, conn: Connection, actor: Actor, people: Iterable[uuid.UUID]
) -> int:
    """End every session and token of each of ``people`` (``SignedOutEverywhere`` each, in
    the caller's transaction): an organisation's rule for logging in just became stricter
    (a second factor or single sign-on required), so their next login must follow it.

    Returns:
        How many people were signed out.
    """
    count = 0
    for person_id in people:
        append(
            store,
            conn,
            actor,
            f"person-{person_id}",
            [NewEvent("SignedOutEverywhere", {"person_id": str(person_id)})],
            key=None,
        )
        count += 1
    return count
