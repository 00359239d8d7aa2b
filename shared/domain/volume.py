"""The daily volume limit on logged actions (issue #19, "Bad input"): a sane day holds at
most so many micro-actions per person; beyond it the log is refused, whole, with 429.

Pure: the caller counts what the log already holds per person and day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from shared.domain.errors import DomainError, plural_text

DEFAULT_DAILY_ACTION_LIMIT = 50


class TooManyActions(DomainError):
    """More actions for one person and day than the limit allows (HTTP 429)."""

    status, title, kind = 429, "Too Many Requests", "daily-limit"


def over_limit(
    logged: Mapping[tuple[str, date], int], new: Iterable[tuple[str, date]], limit: int
) -> dict[tuple[str, date], int]:
    """The (person, day) pairs that would hold more than ``limit`` actions.

    Parameters:
        logged: (person, UTC day) -> actions the log holds already.
        new: (person, UTC day) of each action to log.
        limit: the most actions a person may log for one day.

    Returns:
        (person, day) -> the total it would reach, for those over the limit only.
    """
    adding = Counter(new)
    totals = {key: logged.get(key, 0) + count for key, count in adding.items()}
    return {key: total for key, total in totals.items() if total > limit}


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def weeks_settle(
    logged: Mapping[tuple[str, date], int], new: Iterable[tuple[str, date]], limit: int
) -> bool:
    """Whether every day of ``new`` stays within ``limit`` by its week alone: a day holds at
    most its week's actions, so a week whose total (logged plus new) is within the limit
    needs no count per day (which means reading each action's sealed time).

    Parameters:
        logged: (person, Monday) -> actions the log holds in that week.
        new: (person, UTC day) of each action to log.
        limit: the most actions a person may log for one day.

    Returns:
        True when no day can go over; False when days must be counted.
    """
    adding = Counter((person, week_of(day)) for person, day in new)
    return all(logged.get(key, 0) + count <= limit for key, count in adding.items())


def refuse(over: Mapping[tuple[str, date], int], limit: int, field: str) -> TooManyActions:
    """The error naming the limit and each day over it.

    Parameters:
        over: what :func:`over_limit` found (not empty).
        limit: the limit.
        field: the request field the messages are keyed by.

    Returns:
        A :class:`TooManyActions` to raise.
    """
    days = ", ".join(sorted(day.isoformat() for _, day in over))
    return TooManyActions(
        plural_text(
            "At most %(num)d action per person per day (COMPOUND_DAILY_ACTION_LIMIT): "
            "nothing was written.",
            "At most %(num)d actions per person per day (COMPOUND_DAILY_ACTION_LIMIT): "
            "nothing was written.",
            limit,
        ),
        {
            field: [
                plural_text(
                    "The daily limit of %(num)d action would be exceeded on %(days)s.",
                    "The daily limit of %(num)d actions would be exceeded on %(days)s.",
                    limit,
                    days=days,
                )
            ]
        },
    )
