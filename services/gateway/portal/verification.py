"""What the portal shows and asks of verification: the colleagues one may name, a named
party read from a form (a colleague, or an address outside), and each item's proof state
(confirmed, declined, awaiting its named party, or self-reported)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import bindparam, select

from services.gateway.api.schemas import Party
from services.gateway.portal.forms import FormState, connection, me
from services.gateway.resources import resources
from shared.commands.verification import CONFIRMABLE, named_in
from shared.directory import Person
from shared.eventlog.named_items import answers_in
from shared.i18n import N_, gettext

COLLEAGUES_SHOWN = 300
PROOF_LABELS = {
    "confirmed": N_("✓ Confirmed"),
    "declined": N_("✗ Declined"),
    "awaiting": N_("Awaiting confirmation"),
    "self": N_("Self-reported"),
}


_COLLEAGUES = (
    select(Person.id, Person.display_name, Person.email)
    .where(
        Person.tenant_id == bindparam("tenant_id"),
        Person.id != bindparam("person_id"),
        Person.status == "active",
    )
    .order_by(Person.display_name, Person.email)
    .limit(COLLEAGUES_SHOWN)
)
"""Built once: building the statement took longer than running it."""


def colleagues(conn: Any = None) -> list[tuple[str, str]]:
    """The people of my organisation I may name: (id, name or address), by name."""
    user = me()
    with connection(conn) as conn:
        rows = conn.execute(
            _COLLEAGUES, {"tenant_id": user.tenant_id, "person_id": user.person_id}
        ).all()
    return [(str(r.id), r.display_name or r.email or gettext("A colleague")) for r in rows]


def party_from_form(form: Any, field: str, state: FormState) -> Any:
    """The party a form names: ``<field>`` (a colleague's id) or ``<field>_email``.

    Parameters:
        form: the posted form.
        field: ``confirmer``, ``counterpart`` or ``colleague``.
        state: where a message for ``field`` goes.

    Returns:
        A person id, an address, or None (nobody named, or invalid: see ``state.errors``).
    """
    person = (form.get(field) or "").strip()
    email = (form.get(f"{field}_email") or "").strip()
    if person and email:
        state.errors[field] = [gettext("Choose a colleague or give an address, not both.")]
        return None
    if not (person or email):
        return None
    try:
        return Party().deserialize(person or email)
    except ValidationError as err:
        state.errors[field] = [str(m) for m in err.messages]
        return None


def with_proof(kind: str, items: list[dict[str, Any]], conn: Any = None) -> list[dict[str, Any]]:
    """Mark each of my actions or outcomes with its proof state (``item["proof"]``).

    Parameters:
        kind: ``action`` or ``outcome``.
        items: my items with their event's data merged in (``recent``).
        conn: the page's connection (None: a new one).

    Returns:
        The same items; ``proof`` is a key of :data:`PROOF_LABELS`.
    """
    _, confirm_type, id_field = CONFIRMABLE[kind]
    ids = [str(i["id"]) for i in items]
    with connection(conn) as conn:
        answers = answers_in(resources().store, conn, me().person_id, confirm_type, id_field, ids)
    for item in items:
        answer = answers.get(str(item["id"]))
        if answer is not None:
            item["proof"] = "confirmed" if answer else "declined"
        elif named_in(kind, item) is not None:
            item["proof"] = "awaiting"
        else:
            item["proof"] = "self"
    return items
