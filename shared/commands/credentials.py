"""A person's credentials: their password and their API tokens (only hashes are stored)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from shared.commands.base import Actor, append
from shared.commands.organization_core import OrganizationCore, check_password
from shared.directory import AccessToken
from shared.domain.errors import NotFound
from shared.eventlog import NewEvent
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

    def create_token(
        self, actor: Actor, name: str, kind: str = "personal", now: datetime | None = None
    ) -> tuple[uuid.UUID, str]:
        """A new API token for the actor. Only its hash is stored.

        Parameters:
            actor: the person the token acts for (not the system).
            name: a label the person chooses.
            kind: ``personal`` (no expiry) or ``session`` (expires after
                :data:`SESSION_TOKEN_HOURS`).
            now: the current time (default: the clock).

        Returns:
            ``(token id, token)``: the token itself is shown once and never again.
        """
        assert actor.person_id is not None
        token_id = uuid.uuid4()
        token, digest = new_token()
        expires = None
        if kind == "session":
            expires = (now or datetime.now().astimezone()) + timedelta(hours=SESSION_TOKEN_HOURS)
        with self.store.engine.begin() as conn:
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
                            "expires_at": expires.isoformat() if expires else None,
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
                raise NotFound(f"no token {token_id}")
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
