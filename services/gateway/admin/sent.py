"""What an invitation form sent, kept for its own page (post-redirect-get).

A form that invites (one person, a confirmed list, a resent invitation) records its events
and mails first, then keeps the outcome here: each address, whether it was mailed and its
link, and the list's skipped rows. It answers with a redirect to a page that reads this
outcome, so a reload shows it again and sends nothing. The outcome lives in Redis for
:data:`SENT_SECONDS` under the admin's own key (another admin, or another organisation, finds
nothing); the log keeps the invitations themselves.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from flask import render_template, url_for

from services.gateway.admin.blueprint import bp
from services.gateway.portal.forms import me
from services.gateway.resources import resources
from shared.invitation_rows import Row

SENT_SECONDS = 3600
log = logging.getLogger("compound.admin")


def _key(result: str) -> str:
    user = me()
    return f"compound:admin:sent:{user.tenant_id}:{user.person_id}:{result}"


def keep_sent(sent: list[dict[str, Any]], skipped: list[Row], person: Any = None) -> str:
    """Keep what was sent and give the URL of its page.

    Parameters:
        sent: one outcome per invitation (``row``, ``mail``, ``link``).
        skipped: the list's rows with problems.
        person: for a resent invitation, the person's id: the URL is then their page.

    Returns:
        Where to redirect. Redis unavailable: the page says the outcome is not kept and
        that the people page has every invitation (the invitations themselves were recorded).
    """
    outcome = {
        "sent": [{"email": s["row"].email, "mail": s["mail"], "link": s["link"]} for s in sent],
        "skipped": [{"line": r.line, "email": r.email, "messages": r.messages} for r in skipped],
    }
    result = secrets.token_urlsafe(12)
    try:
        resources().redis.set(_key(result), json.dumps(outcome), ex=SENT_SECONDS)
    except Exception as err:  # the invitations are recorded and mailed: say so without links
        log.warning("the invitation outcome was not kept: %s", type(err).__name__)
    if person is not None:
        return url_for("console.person_page", person_id=person, sent=result)
    return url_for("console.invited", result=result)


def read_sent(result: str) -> dict[str, Any] | None:
    """The outcome kept under ``result`` for this admin (None: unknown or expired)."""
    try:
        raw: Any = resources().redis.get(_key(result))
    except Exception:
        return None
    return None if raw is None else dict(json.loads(raw))


@bp.get("/invite/sent/<result>")
def invited(result: str) -> Any:
    """The result of an invitation form: who was invited, how, and each link."""
    outcome = read_sent(result)
    if outcome is None:
        return render_template("admin/invited.html", sent=[], skipped=[], expired=True), 404
    return render_template(
        "admin/invited.html", sent=outcome["sent"], skipped=outcome["skipped"], expired=False
    )
