"""The weekly digest as a Slack direct message (Block Kit), and when it is due.

Pure: no I/O. The message says what the e-mailed digest says (shared/projections/digests.py):
the person's own nudges and, for a manager, those of the teams they lead, from released weeks
only; each list holds at most :data:`shared.domain.nudges.MAX_NUDGES`. A person who answers
their team's pulse also gets the reminder, a link to the portal's pulse page. It is written
in the current locale: the caller sets the recipient's (``use_locale``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.domain.nudges import MAX_NUDGES
from shared.domain.weeks import week_start
from shared.domain.working_hours import DAYS
from shared.i18n import format_week, gettext
from shared.projections.digests import nudge_texts

DEFAULT_DAY = 0
"""Monday (an index of :data:`DAYS`): when a person never chose."""
DEFAULT_HOUR = 9
"""09:00 in the person's zone."""
LATE = timedelta(days=7)
"""A digest not delivered within a week of its due moment is not sent any more (the next
week's is due by then): older weeks are never sent retroactively, as by e-mail."""


@dataclass(frozen=True)
class DigestTime:
    """When a person's digest reaches them in Slack: ``day`` (0 = Monday), ``hour``, zone."""

    day: int = DEFAULT_DAY
    hour: int = DEFAULT_HOUR
    time_zone: str = "UTC"
    chosen: bool = False

    @property
    def day_name(self) -> str:
        return DAYS[self.day]


def due_at(week: str, when: DigestTime) -> datetime:
    """The moment (UTC) the digest of ``week`` is due: the chosen day and hour of the week
    after it, on the wall clock of the chosen zone (a wall time a DST change skips is read
    as the offset before the change, as :mod:`zoneinfo` does).

    Parameters:
        week: the ISO week the digest is about (``"2026-W49"``).
        when: the person's choice.

    Returns:
        An aware UTC datetime.
    """
    day = week_start(week) + timedelta(days=7 + when.day)
    local = datetime.combine(day, time(when.hour), tzinfo=ZoneInfo(when.time_zone))
    return local.astimezone(UTC)


def is_due(week: str, when: DigestTime, now: datetime) -> bool:
    """Whether the digest of ``week`` should go out at ``now``: its moment has come and it is
    not more than :data:`LATE` past it."""
    moment = due_at(week, when)
    return moment <= now < moment + LATE


def _mrkdwn(text: str) -> str:
    """``text`` with Slack's three control characters escaped (``&``, ``<``, ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _nudge_blocks(nudges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    blocks = []
    for nudge in nudges[:MAX_NUDGES]:
        suggestion, why, step = nudge_texts(nudge)
        body = f"*{_mrkdwn(suggestion)}*\n{_mrkdwn(why)}\n_{_mrkdwn(step)}_"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}})
    return blocks


def digest_message(
    digest: dict[str, Any], portal_url: str, pulse: bool
) -> tuple[str, list[dict[str, Any]]]:
    """The direct message of a weekly digest.

    Parameters:
        digest: as :func:`shared.projections.digests.digest_for` builds it (``week``,
            ``nudges``, ``teams``).
        portal_url: the portal's public address (no trailing slash).
        pulse: whether to remind the person of their team's pulse.

    Returns:
        The plain text (notifications, and clients without blocks) and the blocks.
    """
    heading = gettext("Your week in Compound (%(week)s)", week=format_week(str(digest["week"])))
    own: list[dict[str, Any]] = list(digest.get("nudges") or [])
    teams: list[dict[str, Any]] = list(digest.get("teams") or [])
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": heading[:150]}}
    ]
    blocks.extend(_nudge_blocks(own))
    if not own:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "plain_text", "text": gettext("No nudge this week.")},
            }
        )
    for team in teams:
        name = gettext("Team %(name)s", name=_mrkdwn(str(team["name"])))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{name}*"}})
        blocks.extend(_nudge_blocks(list(team["nudges"])))
    if pulse:
        answer_it = _mrkdwn(gettext("answer it on the portal"))
        link = f"<{portal_url}/pulse|{answer_it}>"
        pulse_text = gettext("This week's pulse takes a minute: %(link)s (anonymous).", link=link)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": pulse_text}})
    when = _mrkdwn(gettext("Change when it comes"))
    change = f"<{portal_url}/slack|{when}>"
    only_you = gettext("Only you see this message. %(change)s", change=change)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": only_you}]})
    first = nudge_texts(own[0])[0] if own else gettext("no nudge this week")
    text = gettext("%(heading)s: %(first)s", heading=heading, first=first)
    return text[:3000], blocks
