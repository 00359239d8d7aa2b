"""Confirmation links: what the party an item names receives, and who holds one.

Two kinds of link reach a named party:

- the item's page (``/confirm/outcomes/<id>``, ``/confirm/actions/<id>``, a feedback
  request's ``/f/<token>``): it answers for whoever is logged in as the named person. The
  API gives this link to the owner, and chat messages carry it.
- the same page with an address token, mailed to the named address only: signed
  (``COMPOUND_SECRET_KEY``), bound to the item and the address (a digest of it), expiring
  after :data:`LINK_DAYS` days and used once. The owner never sees it.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from flask_babel.speaklater import LazyString
from flask_login import current_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from services.gateway.links import public_url_for
from services.gateway.msteams.notify import offer_in_teams
from services.gateway.resources import resources
from services.gateway.slack.notify import offer_in_slack
from shared.commands.journal_core import Written
from shared.commands.verification import named_in
from shared.domain.errors import Gone, NotFound
from shared.domain.tactics import TACTICS
from shared.domain.verification import Named, Witness
from shared.eventlog import RecordedEvent
from shared.i18n import N_, gettext, lazy_gettext, ngettext, use_locale
from shared.i18n.preferences import recipient_locale
from shared.notify import Message, deliver

LINK_DAYS = 30
"""How long a mailed confirmation link works."""
FEEDBACK_LINK_DAYS = 61
"""A feedback request's mailed link: its request's own expiry (60 days at most) governs."""
PAGES = {"outcome": "confirm.outcome", "action": "confirm.action", "feedback": "feedback.answer"}
OUTCOME_NAMES = {
    "invitation": N_("invitation"),
    "assignment": N_("assignment"),
    "recognition": N_("recognition"),
    "useful_feedback": N_("useful feedback"),
    "new_responsibility": N_("new responsibility"),
    "sponsorship": N_("sponsorship"),
}
"""An outcome's kind inside a sentence, translated where shown."""
LINK_EXPIRED = N_("This confirmation link has expired.")
LINK_INVALID = N_("This confirmation link is not valid.")


def outcome_name(kind: str) -> str:
    """An outcome's kind in the current language, for a sentence."""
    return gettext(OUTCOME_NAMES[kind]) if kind in OUTCOME_NAMES else kind.replace("_", " ")


def tactic_name(tactic: str) -> str:
    """A tactic's label in the current language (its code when unknown)."""
    found = TACTICS.get(tactic)
    return gettext(found.label) if found else tactic


def _serializer(kind: str) -> URLSafeTimedSerializer:
    secret = resources().settings.require_secret_key()
    return URLSafeTimedSerializer(secret, salt=f"confirm-{kind}")


def address_digest(email: str) -> str:
    """A digest of an address (a token names it without carrying it in the clear)."""
    return hashlib.sha256(email.strip().casefold().encode()).hexdigest()[:32]


def address_token(kind: str, tenant_id: uuid.UUID, item: uuid.UUID, email: str) -> str:
    """A mailed link's token: the item and the address it was sent to, signed.

    Parameters:
        kind: ``outcome``, ``action`` or ``feedback``.
        tenant_id: the item's organisation.
        item: the outcome, action or request id.
        email: the address the link is mailed to.

    Returns:
        The token (URL-safe).
    """
    return str(_serializer(kind).dumps([str(tenant_id), str(item), address_digest(email)]))


def token_claims(kind: str, token: str) -> tuple[uuid.UUID, uuid.UUID, str]:
    """The organisation, item and address digest a token names.

    Raises:
        NotFound: the token is not one Compound signed for ``kind`` (tampered).
        Gone: the token is older than :data:`LINK_DAYS` (:data:`FEEDBACK_LINK_DAYS`).
    """
    try:
        days = FEEDBACK_LINK_DAYS if kind == "feedback" else LINK_DAYS
        tenant, item, digest = _serializer(kind).loads(token, max_age=days * 86400)
        return uuid.UUID(tenant), uuid.UUID(item), str(digest)
    except SignatureExpired:
        raise Gone(gettext(LINK_EXPIRED)) from None
    except (BadSignature, ValueError, TypeError):
        raise NotFound(gettext(LINK_INVALID)) from None


def party_address(tenant_id: uuid.UUID, named: Named) -> str | None:
    """Where a named party's mail goes: the address named, or the person's."""
    if named.email is not None:
        return named.email
    assert named.person_id is not None
    person = resources().journal.person_of(tenant_id, named.person_id)
    return person.email if person is not None else None


def token_witness(kind: str, token: str, item: RecordedEvent) -> Witness:
    """The holder of a mailed link, as a witness of the item the link names.

    Parameters:
        kind: ``outcome``, ``action`` or ``feedback``.
        token: the link's address token.
        item: the item's event (the link must name it).

    Returns:
        A witness holding the named address (and the named person, when a person is named).

    Raises:
        NotFound: the token is tampered, names another item, or another address.
        Gone: it has expired.
    """
    tenant, item_id, digest = token_claims(kind, token)
    named = named_in(kind, item.data)
    address = party_address(tenant, named) if named else None
    if tenant != item.tenant_id or str(item_id) != _item_id(kind, item) or address is None:
        raise NotFound(gettext(LINK_INVALID))
    if address_digest(address) != digest:
        raise NotFound(gettext(LINK_INVALID))
    assert named is not None
    return Witness(tenant, named.person_id, address)


def session_witness(tenant_id: uuid.UUID) -> Witness | None:
    """The logged-in person as a witness, when they belong to ``tenant_id``."""
    if not current_user.is_authenticated or current_user.tenant_id != tenant_id:
        return None
    return Witness(tenant_id, current_user.person_id, current_user.email)


def _item_id(kind: str, item: RecordedEvent) -> str:
    return str(item.data[{"outcome": "outcome_id", "action": "action_id"}.get(kind, "request_id")])


def page_link(kind: str, **values: Any) -> str:
    """The item's page for its named party (absolute URL)."""
    return public_url_for(PAGES[kind], **values)


def mail_party(
    kind: str, item: RecordedEvent, page: dict[str, Any], what: str | LazyString
) -> None:
    """Mail the named party a link with an address token; log, never raise, on failure.

    Parameters:
        kind: ``outcome``, ``action`` or ``feedback``.
        item: the item's event (its payload names the party).
        page: the page's URL values (``item_id=...`` or ``token=...``).
        what: one line saying what is asked, for the mail's body (lazy: written in the
            party's language, theirs if they are a person who chose one, else their
            organisation's default).
    """
    named = named_in(kind, item.data)
    if named is None:
        return
    address = party_address(item.tenant_id, named)
    if address is None:
        return
    token = address_token(kind, item.tenant_id, uuid.UUID(_item_id(kind, item)), address)
    link = page_link(kind, t=token, **page)
    with resources().engine.connect() as conn:
        locale = recipient_locale(conn, item.tenant_id, named.person_id)
    with use_locale(locale):
        if kind == "feedback":
            answer = gettext(
                "Answer with one click (the link works once, until the question expires):"
            )
        else:
            answer = ngettext(
                "Answer with one click (the link works once, for %(num)d day):",
                "Answer with one click (the link works once, for %(num)d days):",
                LINK_DAYS,
            )
        body = f"{what}\n\n{answer}\n{link}\n"
        subject = gettext("Compound: a colleague asks you to confirm")
    message = Message(address, subject, body)
    # The item is written either way; a lost mail is re-sent by asking again.
    deliver(resources().mailer, message, "confirmation")


def announce(
    kind: str, written: Written, page: dict[str, Any], what: str | LazyString
) -> str | None:
    """After an item was written: mail its named party, and give the owner its page link.

    Parameters:
        kind: ``outcome``, ``action`` or ``feedback``.
        written: the command's result (its last event is the item's).
        page: the page's URL values (``item_id=...`` or ``token=...``).
        what: one line saying what is asked, for the mail's body.

    Returns:
        The page's link (no address token), or None when the item names nobody.
    """
    store = resources().store
    with resources().engine.connect() as conn:
        found = store.read_positions(conn, [written.position])
    if not found or named_in(kind, found[0].data) is None:
        return None
    mail_party(kind, found[0], page, what)
    offer_in_slack(kind, found[0])
    offer_in_teams(kind, found[0])
    return page_link(kind, **page)


def asked_to_confirm(body: dict[str, Any]) -> LazyString:
    """The mail's line saying what a named party is asked (no private note in it), written
    when the mail is, in the party's language."""
    if "question" in body:
        return lazy_gettext(
            "A colleague asks you one question: %(question)s", question=body["question"]
        )
    if "kind" in body:
        return lazy_gettext(
            "A colleague recorded an outcome (%(kind)s) and named you.",
            kind=LazyString(outcome_name, body["kind"]),
        )
    tactic = body.get("tactic", "")
    if tactic not in TACTICS:
        return lazy_gettext("A colleague logged a relationship action for you.")
    return lazy_gettext(
        "A colleague logged an action for you: %(tactic)s.",
        tactic=LazyString(tactic_name, tactic),
    )
