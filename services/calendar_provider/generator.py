"""Deterministic demo calendars: the same person and week always give the same meetings.

A week's meetings depend only on the account's e-mail, its profile (manager, colleagues) and
the ISO week, so every run of the provider serves the same calendars. They look like real
ones on purpose (titles, descriptions, attendee addresses), so that a test can prove Compound
keeps none of it: daily stand-ups and a weekly 1:1 with the manager (recurring series), team
meetings, 1:1s with colleagues, large all-hands, after-hours calls and a few cancellations.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

TOPICS = (
    "Roadmap review",
    "Incident retro",
    "Pricing experiment",
    "Hiring debrief",
    "Quarterly planning",
    "Architecture deep-dive",
    "Customer escalation",
    "Budget check-in",
)


@dataclass(frozen=True)
class Attendee:
    email: str
    response: str = "accepted"  # accepted | tentative | declined | needsAction
    organizer: bool = False
    resource: bool = False  # a meeting room, not a person

    @property
    def google(self) -> dict[str, Any]:
        """Its entry in a Google event's ``attendees`` as another person's calendar lists
        it; made once and shared by every listing (never to be changed)."""
        found: dict[str, Any] | None = self.__dict__.get("_google")
        if found is None:  # (functools.cached_property takes a lock per class on each miss)
            found = {"email": self.email, "responseStatus": self.response}
            if self.organizer:
                found["organizer"] = True
            if self.resource:
                found["resource"] = True
            self.__dict__["_google"] = found
        return found


@dataclass(frozen=True)
class Meeting:
    """One event of a calendar, in the provider's own terms (both API shapes derive from it)."""

    id: str
    start: datetime
    end: datetime
    summary: str
    description: str
    organizer: str
    attendees: tuple[Attendee, ...]
    series_id: str | None = None
    status: str = "confirmed"  # or "cancelled"
    revision: int = 0
    kind: str = "default"  # Google's eventType: default | outOfOffice | focusTime | workingLocation
    all_day: bool = False  # start and end are midnights; served as dates
    transparency: str = "opaque"  # "transparent": shown as free
    zone: str = "UTC"  # the event's time zone (IANA), as its organiser set it
    location: str = ""
    original_start: datetime | None = None  # an instance of a series moved from its slot
    updated: datetime | None = None  # last modification (generated ones: before the window)

    @property
    def etag(self) -> str:
        found: str | None = self.__dict__.get("_etag")
        if found is None:  # once per meeting, without cached_property's lock
            digest = hashlib.sha256(
                f"{self.id}|{self.revision}|{self.start}|{self.end}|{self.status}".encode()
            )
            found = self.__dict__["_etag"] = f'"{int(digest.hexdigest()[:12], 16)}"'
        return found

    def moved(self, start: datetime, end: datetime) -> Meeting:
        original = self.original_start or (self.start if self.series_id else None)
        return replace(
            self,
            start=start,
            end=end,
            revision=self.revision + 1,
            original_start=original,
            updated=datetime.now(UTC),
        )

    def cancelled(self) -> Meeting:
        original = self.original_start or (self.start if self.series_id else None)
        return replace(
            self,
            status="cancelled",
            revision=self.revision + 1,
            original_start=original,
            updated=datetime.now(UTC),
        )

    @property
    def last_modified(self) -> datetime:
        """``updated`` / ``lastModifiedDateTime``: when it last changed."""
        return self.updated or self.start - timedelta(days=60)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "summary": self.summary,
            "description": self.description,
            "organizer": self.organizer,
            "attendees": [[a.email, a.response, a.organizer, a.resource] for a in self.attendees],
            "series_id": self.series_id,
            "status": self.status,
            "revision": self.revision,
            "kind": self.kind,
            "all_day": self.all_day,
            "transparency": self.transparency,
            "zone": self.zone,
            "location": self.location,
            "original_start": self.original_start.isoformat() if self.original_start else None,
            "updated": self.updated.isoformat() if self.updated else None,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Meeting:
        return cls(
            id=raw["id"],
            start=datetime.fromisoformat(raw["start"]),
            end=datetime.fromisoformat(raw["end"]),
            summary=raw["summary"],
            description=raw["description"],
            organizer=raw["organizer"],
            attendees=tuple(Attendee(*a) for a in raw["attendees"]),
            series_id=raw.get("series_id"),
            status=raw.get("status", "confirmed"),
            revision=int(raw.get("revision", 0)),
            kind=raw.get("kind", "default"),
            all_day=bool(raw.get("all_day", False)),
            transparency=raw.get("transparency", "opaque"),
            zone=raw.get("zone", "UTC"),
            location=raw.get("location", ""),
            original_start=_maybe_time(raw.get("original_start")),
            updated=_maybe_time(raw.get("updated")),
        )


def _maybe_time(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


@dataclass(frozen=True)
class Profile:
    """Who a person meets: their manager and colleagues (else made-up addresses)."""

    email: str
    manager: str | None = None
    colleagues: tuple[str, ...] = field(default_factory=tuple)

    def team(self) -> tuple[str, ...]:
        if self.colleagues:
            return self.colleagues
        tag = short(self.email)
        return tuple(f"colleague-{i}.{tag}@example.org" for i in range(1, 7))

    def boss(self) -> str:
        return self.manager or f"manager.{short(self.email)}@example.org"


def short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def at_utc(day: date, hour: float) -> datetime:
    minutes = round(hour * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=UTC)


def week_meetings(profile: Profile, monday: date) -> list[Meeting]:
    """The meetings of ``profile`` in the ISO week starting ``monday`` (UTC working hours)."""
    me = profile.email
    rng = random.Random(hashlib.sha256(f"{me}|{monday.isoformat()}".encode()).digest())
    team = profile.team()
    boss = profile.boss()
    tag = short(me)
    week = monday.strftime("%G%V")
    meetings: list[Meeting] = []

    def add(
        key: str,
        day: date,
        start_hour: float,
        minutes: int,
        summary: str,
        organizer: str,
        others: tuple[str, ...],
        series: str | None = None,
    ) -> None:
        start = at_utc(day, start_hour)
        responses = ("accepted", "accepted", "accepted", "tentative", "needsAction", "declined")
        own = "accepted" if organizer == me else rng.choice(responses)
        people = [Attendee(me, own, organizer == me)]
        people += [Attendee(o, "accepted", o == organizer) for o in others if o != me]
        if series:
            stamp = start.replace(tzinfo=None).isoformat().replace("-", "").replace(":", "")
            meeting_id = f"{series}_{stamp}Z"  # Google's instance ids: series_20261110T140000Z
        else:
            meeting_id = f"{tag}w{week}{key}"
        status = "cancelled" if rng.random() < 0.04 else "confirmed"
        meetings.append(
            Meeting(
                id=meeting_id,
                start=start,
                end=start + timedelta(minutes=minutes),
                summary=summary,
                description=f"Agenda for {summary.lower()}: notes in the shared doc. "
                f"Dial-in +1 555 0100 {rng.randrange(1000, 9999)}",
                organizer=organizer,
                attendees=tuple(people),
                series_id=series,
                status=status,
            )
        )

    days = [monday + timedelta(days=i) for i in range(5)]
    for day in days:  # a daily stand-up series
        add("su", day, 9.5, 15, "Daily stand-up", team[0], team, series=f"{tag}standup")
    one_on_one_day = days[1 + short(me + "1:1").count("a") % 3]
    add("mg", one_on_one_day, 14, 30, f"1:1 {me.split('@')[0]} / manager", boss, (boss,),
        series=f"{tag}manager")  # fmt: skip
    add("ts", days[2], 11, 60, "Team sync", boss, (boss, *team), series=f"{tag}teamsync")
    if monday.isocalendar().week % 2 == 0:  # every other week: all-hands
        crowd = tuple(f"staff-{i}.{short(monday.isoformat())}@example.org" for i in range(40))
        add("ah", days[0], 16, 60, "All-hands", crowd[0], crowd)
    for n in range(rng.randint(3, 8)):
        day = rng.choice(days)
        size = rng.choice((1, 1, 2, 3, 4, 6, 9))
        others = tuple(rng.sample(team, min(size, len(team))))
        if rng.random() < 0.25:
            others += (f"guest-{rng.randrange(100)}@partner.example",)
        organizer = me if rng.random() < 0.35 else others[0]
        after_hours = rng.random() < 0.12
        hour = rng.choice((7.0, 18.0, 19.5)) if after_hours else rng.choice(
            (10.0, 10.5, 11.5, 13.0, 13.5, 15.0, 15.5, 16.5)
        )  # fmt: skip
        minutes = rng.choice((30, 30, 45, 60, 60, 90))
        add(f"m{n}", day, hour, minutes, rng.choice(TOPICS), organizer, others)
    return meetings
