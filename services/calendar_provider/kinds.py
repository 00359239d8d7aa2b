"""The other kinds of event real calendars hold, beside meetings: blocks that are not
meetings (focus time, out of office, working location, a personal appointment), all-day and
free events, declined and tentative invitations, a town hall of hundreds, meetings set in
other time zones, rooms, and a recurring series with a moved instance (an exception).

Each is in the generated calendars so that Compound's counting rules (docs/levers.md) meet
every shape Google and Microsoft send; see :func:`other_kinds`.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from services.calendar_provider.generator import (
    Attendee,
    Meeting,
    Profile,
    at_utc,
    short,
    week_meetings,
)

TOWN_HALL = 200


@lru_cache(maxsize=64)
def _crowd(monday: date) -> tuple[Attendee, ...]:
    """The town hall's audience of a week (the same for everyone: built once)."""
    tag = short(monday.isoformat())
    return tuple(
        Attendee(f"staff-{i}.{tag}@example.org", "accepted", i == 0) for i in range(TOWN_HALL)
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def with_exceptions(meetings: list[Meeting], monday: date) -> list[Meeting]:
    """Every third week the team sync's instance moves half an hour later: an exception of
    its series that keeps its instance id and its original start. A moved instance is held,
    never among the generator's random cancellations, so every window of three weeks or more
    has one."""
    if monday.isocalendar().week % 3:
        return meetings
    out = []
    for m in meetings:
        if m.series_id and m.series_id.endswith("teamsync"):
            shift = timedelta(minutes=30)
            m = replace(
                m,
                start=m.start + shift,
                end=m.end + shift,
                original_start=m.start,
                status="confirmed",
            )
        out.append(m)
    return out


def other_kinds(profile: Profile, monday: date) -> list[Meeting]:
    """The week's events that are not ordinary busy meetings, or that stretch the shapes.

    Parameters:
        profile: whose calendar (their colleagues are the other attendees).
        monday: the Monday of the ISO week.

    Returns:
        The events, deterministic per person and week.
    """
    me = profile.email
    rng = random.Random(hashlib.sha256(f"{me}|{monday.isoformat()}|kinds".encode()).digest())
    tag, week = short(me), monday.isocalendar().week
    team = profile.team()
    days = [monday + timedelta(days=i) for i in range(5)]
    out: list[Meeting] = []

    def add(key: str, start: datetime, end: datetime, summary: str, **extra: object) -> None:
        fields: dict[str, object] = {"organizer": me, "attendees": (), **extra}
        out.append(
            Meeting(
                id=f"{tag}w{monday.strftime('%G%V')}{key}",
                start=start,
                end=end,
                summary=summary,
                description=f"{summary}: details only the owner sees",
                **fields,  # type: ignore[arg-type]
            )
        )

    def invited(
        response: str, organizer: str, *others: str, room: str | None = None
    ) -> tuple[Attendee, ...]:
        return _invited(me, response, organizer, *others, room=room)

    add("fa", at_utc(days[1], 13), at_utc(days[1], 15), "Focus block: deep work",
        kind="focusTime")  # no one else, shown as busy  # fmt: skip
    add("wl", _midnight(days[0]), _midnight(days[1]), "Working location: home",
        kind="workingLocation", all_day=True, transparency="transparent")  # fmt: skip
    if week % 5 == 2:  # out of office for a day (a timed block over the whole day)
        add("oo", _midnight(days[4]), _midnight(days[4] + timedelta(days=1)),
            "Out of office (day off)", kind="outOfOffice")  # fmt: skip
    if week % 4 == 1:  # an all-day offsite shown as busy, with colleagues
        add("od", _midnight(days[2]), _midnight(days[3]), "Team offsite", all_day=True,
            organizer=team[0], attendees=invited("accepted", team[0], *team[1:4]),
            location="Harbour hotel, conference room B")  # fmt: skip
    vendor = f"sales-{rng.randrange(100)}@vendor.example"
    if week % 2:  # a declined and an unanswered invitation
        add("vd", at_utc(days[2], 15.5), at_utc(days[2], 16), "Vendor demo", organizer=vendor,
            attendees=invited("declined", vendor, team[0]))  # fmt: skip
        add("nr", at_utc(days[4], 10), at_utc(days[4], 10.5), "Vendor intro",
            organizer=vendor, attendees=invited("needsAction", vendor))  # fmt: skip
    else:  # an optional lunch shown as free, and a tentative critique
        add("ll", at_utc(days[3], 12), at_utc(days[3], 13), "Lunch & learn (optional)",
            organizer=team[-1], transparency="transparent", location="Room 4.01",
            attendees=invited("accepted", team[-1], *team[:3]))  # fmt: skip
        add("dc", at_utc(days[1], 16), at_utc(days[1], 16.5), "Design critique",
            organizer=team[-1], attendees=invited("tentative", team[-1], team[0]))  # fmt: skip
    if week % 4 == 3:  # a town hall of hundreds, organised by someone else
        crowd = _crowd(monday)
        own = Attendee(me, rng.choice(("accepted", "tentative")))
        add("th", at_utc(days[3], 16), at_utc(days[3], 17), "Town hall",
            organizer=crowd[0].email, attendees=(own, *crowd))  # fmt: skip
    add("ny", *_local(days[2], 10, 45, "America/New_York"), "Partner sync (New York)",
        zone="America/New_York", attendees=invited("accepted", me, f"partner@{tag}.example",
        room=f"room-nyc-{tag}@resource.calendar.google.com"))  # fmt: skip
    if week % 2 == 0:
        add("in", *_local(days[1], 13, 30, "Asia/Kolkata"), "Handover (Bangalore)",
            zone="Asia/Kolkata", attendees=invited("accepted", me, team[0]))  # fmt: skip
        add("rm", at_utc(days[0], 8.5), at_utc(days[0], 9), "Prep for the partner sync",
            attendees=invited("accepted", me,
            room=f"room-2.{tag}@resource.calendar.google.com"))  # fmt: skip
    if week % 4 == 0:
        add("dt", at_utc(days[2], 8), at_utc(days[2], 8.75), "Dentist appointment")  # alone
    return out


def _invited(
    me: str, response: str, organizer: str, *others: str, room: str | None = None
) -> tuple[Attendee, ...]:
    """``me`` (answering ``response``, unless organising), the organizer, the others and a
    room, each once."""
    people = [Attendee(me, "accepted" if organizer == me else response, organizer == me)]
    seen = {me}
    for other in (organizer, *others):
        if other not in seen:
            seen.add(other)
            people.append(Attendee(other, "accepted", other == organizer))
    if room:
        people.append(Attendee(room, "accepted", resource=True))
    return tuple(people)


def _local(day: date, hour: int, minutes: int, zone: str) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return start, start + timedelta(minutes=minutes)


def counts(listed: dict[str, Any], me: str) -> bool:
    """Whether an event of the admin listing (``Meeting.as_dict``) takes ``me``'s time by the
    counting rules of docs/levers.md: what a sync turns into ``MeetingObserved`` (for tests
    and the benchmark, which pick meetings to move)."""
    own = next((a[1] for a in listed["attendees"] if a[0] == me), "accepted")
    return (
        listed["status"] == "confirmed"
        and listed["kind"] == "default"
        and not listed["all_day"]
        and listed["transparency"] == "opaque"
        and own in ("accepted", "tentative")
        and any(a[0] != me and not a[3] for a in listed["attendees"])
    )


def calendar(profile: Profile, first_monday: date, weeks: int) -> list[Meeting]:
    """Every event of ``weeks`` ISO weeks from ``first_monday``: the meetings of
    :func:`week_meetings` (with this module's exceptions) and the :func:`other_kinds`."""
    out: list[Meeting] = []
    for i in range(weeks):
        monday = first_monday + timedelta(weeks=i)
        out.extend(with_exceptions(week_meetings(profile, monday), monday))
        out.extend(other_kinds(profile, monday))
    return out
