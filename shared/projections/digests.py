"""The weekly digest: each person's nudges of an ISO week in one row (``weekly_digests``).

An employee's come from their own capital; a manager's also from each team they lead (that
team's latest released week, at most one week before the digest's: managers read releases
only, docs/privacy.md; a hidden or noisy number never triggers or appears in a nudge). At
most three nudges per person and per team. The rows are derived data:
``build_digests`` recomputes a week from the read models (so it can be rebuilt at any
time), and ``send_digests`` mails the unsent ones through :mod:`shared.notify`.

Each digest is mailed in its recipient's language (``recipient_locale``: their own setting,
else their organisation's default); its nudges are stored in English with the message and
values of their reason, and written in that language when sent (``in_language``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text

from shared.directory.callers import active_people
from shared.domain.nudges import employee_nudges, in_language
from shared.domain.weeks import week_index, week_start
from shared.i18n import format_number, format_week, gettext, use_locale
from shared.i18n.preferences import recipient_locale
from shared.notify import Mailer, Message, Tally, deliver
from shared.projections.capital import read_capital
from shared.releases.reads import read_team_releases


def employee_week_nudges(
    conn: Connection, tenant_id: Any, person_id: Any, week: str
) -> list[dict[str, Any]]:
    """An employee's nudges of ``week``: what the portal shows as "this week's nudges".

    Parameters:
        conn: a connection.
        tenant_id, person_id: whose nudges.
        week: an ISO week (``"2026-W49"``); their capital is read as of its Sunday.

    Returns:
        At most three nudges, each citing its number and the seed's step.
    """
    sunday = week_start(week) + timedelta(days=6)
    return employee_nudges(read_capital(conn, tenant_id, person_id, sunday))


def digest_for(
    conn: Connection, tenant_id: Any, person_id: Any, week: str, k: int
) -> dict[str, Any]:
    """One person's digest of ``week``: their own nudges and those of the teams they lead.

    Parameters:
        conn: a connection.
        tenant_id, person_id: whose digest.
        week: an ISO week.
        k: the organisation's k-anonymity threshold (a hidden number never triggers or
            appears in a team's nudge).

    Returns:
        ``{"week", "nudges", "teams"}``; each team with its id, name and nudges (teams
        without nudges left out).
    """
    index = week_index(week_start(week))
    teams = []
    for team_id, name in conn.execute(
        text(
            "SELECT t.id, t.name FROM team_members m JOIN teams t ON t.id = m.team_id "
            "WHERE m.person_id = :p AND m.is_manager AND m.tenant_id = :t ORDER BY t.name"
        ),
        {"p": person_id, "t": tenant_id},
    ):
        view = read_team_releases(conn, tenant_id, team_id, index - 1, index, k)
        released = [w for w in view["weeks"] if w["released"]]
        nudges = released[-1]["nudges"] if released else []
        if nudges:
            teams.append({"team_id": str(team_id), "name": name, "nudges": nudges})
    nudges = employee_week_nudges(conn, tenant_id, person_id, week)
    return {"week": week, "nudges": nudges, "teams": teams}


def build_digests(conn: Connection, tenant_id: Any, week: str, k: int) -> int:
    """(Re)build the digests of every active person of the organisation for ``week``.

    Parameters:
        conn: a connection inside the caller's transaction.
        tenant_id: the organisation.
        week: an ISO week.
        k: the organisation's k-anonymity threshold.

    Returns:
        How many digests were written.
    """
    count = 0
    for person_id in active_people(conn, tenant_id):
        digest = digest_for(conn, tenant_id, person_id, week, k)
        conn.execute(
            text(
                "INSERT INTO weekly_digests (tenant_id, person_id, week, digest) "
                "VALUES (:t, :p, :w, CAST(:d AS jsonb)) ON CONFLICT (person_id, week) "
                "DO UPDATE SET digest = excluded.digest, built_at = now()"
            ),
            {"t": tenant_id, "p": person_id, "w": week, "d": json.dumps(digest)},
        )
        count += 1
    return count


def read_digest(conn: Connection, person_id: Any, week: str) -> dict[str, Any] | None:
    """A person's stored digest of ``week``.

    Parameters:
        conn: a connection.
        person_id: whose digest.
        week: an ISO week.

    Returns:
        The digest as :func:`digest_for` built it, or None when none was built.
    """
    row = conn.execute(
        text("SELECT digest FROM weekly_digests WHERE person_id = :p AND week = :w"),
        {"p": person_id, "w": week},
    ).first()
    return None if row is None else dict(row.digest)


def nudge_texts(nudge: dict[str, Any]) -> tuple[str, str, str]:
    """A stored nudge's suggestion, reason and step in the current locale
    (:func:`shared.domain.nudges.in_language`: its reason from ``because_text`` and
    ``because_args``, its numbers written as the locale writes them).

    Returns:
        ``(suggestion, "Why: ...", "From the playbook: ...")``.
    """
    shown = in_language(nudge, gettext, format_number)
    return (
        str(shown["suggestion"]),
        gettext("Why: %(reason)s.", reason=shown["because"]),
        gettext("From the playbook: %(step)s", step=shown["step"]),
    )


def subject(week: str) -> str:
    """The digest mail's subject, in the current locale."""
    return gettext("Compound: your week (%(week)s)", week=format_week(week))


def render(digest: dict[str, Any]) -> str:
    """The digest as a plain-text mail body in the current locale: each nudge with its
    number and its step.

    Parameters:
        digest: a digest as :func:`digest_for` builds it.

    Returns:
        The mail's body.
    """
    week = format_week(str(digest["week"]))
    lines = [gettext("Your week in Compound (%(week)s)", week=week), ""]

    def block(nudges: list[dict[str, Any]]) -> None:
        for nudge in nudges:
            suggestion, why, step = nudge_texts(nudge)
            lines.extend([f"* {suggestion}", f"  {why}", f"  {step}", ""])

    block(digest["nudges"])
    for team in digest["teams"]:
        lines.extend([gettext("Team %(name)s:", name=team["name"]), ""])
        block(team["nudges"])
    return "\n".join(lines)


def send_digests(engine: Engine, mailer: Mailer, week: str) -> Tally:
    """Mail every unsent digest of ``week`` that has something to say.

    Each row is marked sent in its own transaction once the server accepted it (or it was
    logged without SMTP settings, or found empty). A delivery that fails leaves its row
    unsent: the next run (the scheduler checks hourly) tries it again, and the
    others of this run go on.

    Parameters:
        engine: the database.
        mailer: the delivery (:mod:`shared.notify`).
        week: an ISO week.

    Returns:
        How many digests were sent, logged (no SMTP settings) and failed.
    """
    tally = Tally()
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT d.tenant_id, d.person_id, d.digest, p.email FROM weekly_digests d "
                "JOIN people p ON p.id = d.person_id "
                "WHERE d.week = :w AND d.sent_at IS NULL AND p.email IS NOT NULL"
            ),
            {"w": week},
        ).all()
    for row in rows:
        digest = dict(row.digest)
        if digest["nudges"] or digest["teams"]:
            with engine.connect() as conn:
                locale = recipient_locale(conn, row.tenant_id, row.person_id)
            with use_locale(locale):
                message = Message(row.email, subject(week), render(digest))
            outcome = deliver(mailer, message, "digest")
            tally.add(outcome)
            if outcome == "failed":
                continue
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE weekly_digests SET sent_at = now() WHERE person_id = :p AND week = :w"
                ),
                {"p": row.person_id, "w": week},
            )
    return tally
