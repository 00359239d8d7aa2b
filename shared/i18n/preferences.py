"""Where the language settings live: a person's own choice (``LanguageChosen`` in their
``preferences-<person id>`` stream) and their organisation's default (the ``default_locale``
of its latest ``OrganizationSettingsChanged``). Both are read from the log itself, in one
round trip; nothing else keeps them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from shared.commands.base import Actor, append
from shared.domain.errors import InvalidInput
from shared.eventlog import EventStore, NewEvent
from shared.i18n.catalogue import LOCALES
from shared.i18n.selection import language_columns, select_locale

_BOTH = text("SELECT " + language_columns("CAST(:p AS text)", "CAST(:o AS text)"))


def language_settings(
    conn: Connection, tenant_id: Any, person_id: Any | None
) -> tuple[str | None, str | None]:
    """``(the person's choice or None, the organisation's default or None)``."""
    row = conn.execute(
        _BOTH, {"p": str(person_id) if person_id else None, "o": str(tenant_id)}
    ).one()
    return (row.chosen or None), (row.organisation or None)


def recipient_locale(conn: Connection, tenant_id: Any, person_id: Any) -> str:
    """The language to write to a person in when there is no browser to ask (e-mails, chat
    messages, digests): their choice, else their organisation's default, else English."""
    chosen, organisation = language_settings(conn, tenant_id, person_id)
    return select_locale(chosen, None, organisation)


def choose_language(store: EventStore, actor: Actor, locale: str) -> None:
    """Record the actor's own language (``""``: automatic).

    Raises:
        InvalidInput: not ``""``, ``en``, ``de`` or ``fr``.
    """
    if locale not in ("", *LOCALES):
        raise InvalidInput(
            "unknown language", {"locale": [f"Choose automatic or one of {', '.join(LOCALES)}."]}
        )
    person_id = actor.person_id
    if person_id is None:
        raise InvalidInput("only a person has a language", {"locale": ["Log in first."]})
    with store.engine.begin() as conn:
        append(
            store,
            conn,
            actor,
            f"preferences-{person_id}",
            [
                NewEvent(
                    "LanguageChosen",
                    {"person_id": str(person_id), "locale": locale},
                )
            ],
        )
