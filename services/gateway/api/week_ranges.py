"""The range of ISO weeks a read asks for (``?from=&to=``), bounded (issue 18, bounded work):
at most :data:`MAX_WEEKS` weeks, each end inside the organisation's span (its creation minus
two years to now plus a day, :func:`shared.domain.bounds.tenant_span`). A read then walks
those weeks and the rows that exist in them, never the weeks between a far-off request and
the organisation's data. Beyond either bound: 422 naming the field, nothing read."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection

from shared.commands.journal_core import organisation_span
from shared.domain.bounds import span_errors
from shared.domain.errors import InvalidInput, Text
from shared.domain.weeks import label_index, utc_week_index, week_label

MAX_WEEKS = 104
"""The most weeks one read may ask for (two years)."""


def requested_weeks(
    conn: Connection,
    tenant_id: uuid.UUID,
    first: str | None,
    last: str | None,
    now: datetime,
    default_weeks: int,
) -> tuple[int, int]:
    """The week indexes a read of an organisation's weeks covers.

    Parameters:
        conn: a database connection (the organisation's creation time is read).
        tenant_id: the organisation.
        first: the ``from`` week asked for (an existing ISO week), or None.
        last: the ``to`` week asked for, or None for this week.
        now: the current time.
        default_weeks: how many weeks up to ``last`` when ``first`` is not given (those
            before the organisation's span left out).

    Returns:
        ``(first, last)`` week indexes, ``first <= last``, at most :data:`MAX_WEEKS` apart.

    Raises:
        InvalidInput: ``from`` or ``to`` outside the organisation's span, or more than
            :data:`MAX_WEEKS` weeks; ``errors`` names ``from`` or ``to``.
    """
    span = organisation_span(conn, tenant_id, now)
    errors: dict[str, list[str]] = {}
    for name, week in (("from", first), ("to", last)):
        if week is not None:
            wrong = span_errors("week", week, span)
            if wrong:
                errors[name] = wrong
    if errors:
        raise InvalidInput(Text("The weeks asked for are out of range."), errors)
    end = label_index(last) if last is not None else utc_week_index(now)
    if first is not None:
        start = label_index(first)
    else:
        start = max(end - default_weeks + 1, utc_week_index(span.low))
    if end - start + 1 > MAX_WEEKS:
        earliest = week_label(end - MAX_WEEKS + 1)
        message = Text(
            "Ask for at most %(max)d weeks at a time (from %(earliest)s on).",
            max=MAX_WEEKS,
            earliest=earliest,
        )
        raise InvalidInput(
            Text("Ask for at most %(max)d weeks at a time.", max=MAX_WEEKS), {"from": [message]}
        )
    return start, end
