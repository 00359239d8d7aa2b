"""The language a chat message is written in (shared/i18n/README.md, "Which language").

A person's own setting, then the language their chat client reports (Teams sends each
activity's ``locale``, as a browser sends ``Accept-Language``), then their organisation's
default, then English. Someone not linked to a person yet gets their client's language, or
the organisation's default of the workspace they write from.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from shared.i18n.preferences import language_settings
from shared.i18n.selection import select_locale


def chat_locale(
    engine: Engine,
    tenant_id: uuid.UUID | None,
    person_id: uuid.UUID | None = None,
    client_locale: str | None = None,
) -> str:
    """The locale to write to one chat user in.

    Parameters:
        engine: the database (the settings are read from the log).
        tenant_id: their organisation (None: not known).
        person_id: the person they are linked to (None: not linked).
        client_locale: the language tag their client reported (``de-DE``), if any.

    Returns:
        One of :data:`shared.i18n.LOCALES`.
    """
    if tenant_id is None:
        return select_locale(None, client_locale, None)
    with engine.connect() as conn:
        chosen, organisation = language_settings(conn, tenant_id, person_id)
    return select_locale(chosen, client_locale, organisation)
