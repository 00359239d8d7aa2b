"""A small organisation for the dashboard tests, with weeks of history just behind today.

Eng leads Platform (6 people with calendars and pulses) and Mobile (6, and 5 newcomers who
joined the week before the last, so count from the last: a team-size change large enough
to be shown); Tiny stands alone with 2 people
(every cell of Tiny is under k = 5). The last complete week is the one the
pages are asked for, so the tests do not depend on the weekday they run on; every week up to
it is released.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.commands import Actor, OrganizationCommands
from shared.directory.projector import apply as apply_directory
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.projections.capital import week_index
from shared.releases.publish import publish_tenant
from shared.settings import Settings
from tests.integration.levers_world import MONDAY, SAFE, World, at, label, make_world

PASSWORD = "correct-horse-battery"
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')
TINY_ANSWERS = {**SAFE, "ps4_safe_to_take_risk": 1, "ps2_raise_problems": 1, "workload": 7}


@dataclass
class Dash:
    world: World
    base: int  # the last complete week, as a levers_world week number
    emails: dict[str, str]
    people: dict[str, uuid.UUID]

    @property
    def week(self) -> str:
        return label(self.base)

    def team(self, name: str) -> uuid.UUID:
        return self.world.teams[name]


def login(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True))
    assert token
    response = client.post(
        "/login", data={"csrf_token": token.group(1), "email": email, "password": PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def _person(
    store: EventStore, world: World, role: str, manages: str | None
) -> tuple[str, uuid.UUID]:
    commands = OrganizationCommands(store)
    admin = Actor(tenant_id=world.tenant, person_id=None, role="admin", source="test")
    email = f"dash-{uuid.uuid4().hex[:10]}@levers.test"
    invitation = commands.invite(admin, email, role, None)
    commands.accept_invitation(world.tenant, invitation.person_id, "Dash", PASSWORD)
    if manages:
        commands.assign_manager(admin, world.teams[manages], invitation.person_id)
    return email, invitation.person_id


def build(store: EventStore) -> Dash:
    world = make_world(store, {"Eng": None, "Platform": "Eng", "Mobile": "Eng", "Tiny": None})
    this_monday = datetime.now(UTC).date() - timedelta(days=datetime.now(UTC).weekday())
    base = week_index(this_monday) - week_index(MONDAY) - 1
    platform = world.hire("Platform", 6, week=base - 5)
    mobile = world.hire("Mobile", 6, week=base - 5)
    tiny = world.hire("Tiny", 2, week=base - 5)
    newcomers = world.hire("Mobile", 5, week=base - 1)  # eligible from the last week on
    for week in range(base - 3, base + 1):
        for i, person in enumerate(platform):
            world.act(person, week, "small_exposure" if i % 2 else "regular_signaling")
            world.pulse("Platform", week, SAFE)
            world.meeting(person, at(week, 1, 9), 1.5)
            world.meeting(person, at(week, 1, 10, 30), 1.0)
            world.meeting(person, at(week, 2, 18), 1.0)
        for person in mobile:
            world.act(person, week, "relationship_deposit")
            world.pulse("Mobile", week, SAFE)
        for person in tiny:
            world.act(person, week, "small_exposure")
            world.pulse("Tiny", week, TINY_ANSWERS)
    for person in newcomers:
        world.act(person, base, "learning_bit")
    world.outcome(platform[0], "recognition", at(base, 3))
    world.project()
    # The world writes its people's events to the log directly: the directory (who is in
    # which team, as Admin → Teams counts them) applies them here, as the commands would.
    with store.engine.begin() as conn:
        for hired in world.people.values():
            for person in hired:
                apply_directory(conn, store.read_stream(f"person-{person}"))
    # Every week up to the last complete one released (no grace: whatever the weekday).
    publish_tenant(store, Settings(release_grace_hours=0), world.tenant, datetime.now(UTC))
    runtime(store).ensure()
    runtime(store).catch_up("releases")
    emails, people = {}, {}
    for who, role, manages in (
        ("eng", "manager", "Eng"),
        ("platform", "manager", "Platform"),
        ("tiny", "manager", "Tiny"),
        ("employee", "employee", None),
        ("admin", "admin", None),
    ):
        emails[who], people[who] = _person(store, world, role, manages)
    people["member"] = platform[0]
    return Dash(world, base, emails, people)


@pytest.fixture(scope="session")
def dash(store: EventStore) -> Dash:
    return build(store)


class Tables(HTMLParser):
    """The text of every ``table[data-export]`` of a page, cell by cell (what the CSV holds)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.captions: dict[str, str] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._caption: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and "data-export" in dict(attrs):
            self._table = str(dict(attrs)["data-export"])
            self.tables[self._table] = []
        elif self._table and tag == "tr":
            self.tables[self._table].append([])
        elif self._table and tag in ("td", "th"):
            self._cell = []
        elif self._table and tag == "caption":
            self._caption = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif self._table and tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif self._table and tag == "caption" and self._caption is not None:
            self.captions[self._table] = " ".join("".join(self._caption).split())
            self._caption = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self._caption is not None:
            self._caption.append(data)


def page_tables(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    return parser


NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
"""A number as a page (62.3, 62,3) or a CSV (62.3) writes it."""


def _numbers(cells: list[str]) -> list[float]:
    return [float(n.replace(",", ".")) for c in cells for n in NUMBER.findall(c)]


def csv_matches_screen(header: list[str], rows: list[list[str]], screen: list[list[str]]) -> None:
    """A CSV table holds what its table on screen shows, row for row: the same row headers,
    the screen's columns among its own (a figure's split into value, margin and so on), the
    same numbers in the same order (a change's sign aside: the screen draws it as ▲/▼) and
    every word of a cell (a reason, a direction, a reading) in the screen's row."""
    columns, *shown = screen
    it = iter(norm(name) for name in header)
    assert all(norm(name) in it for name in columns), (header, columns)  # a subsequence
    assert len(rows) == len(shown), (len(rows), len(shown))
    for row, cells in zip(rows, shown, strict=True):
        assert len(row) == len(header), row
        week = WEEK.fullmatch(row[0])
        if week:  # the CSV keeps the ISO code of the week the screen names by its number
            assert re.search(rf"\b{int(row[0][-2:])}\b", cells[0]), (row, cells)
            assert not WEEK.search(cells[0]), cells
        else:
            assert norm(row[0]) == norm(cells[0]), (row, cells)
        assert [abs(n) for n in _numbers(row[1:])] == _numbers(cells[1:]), (row, cells)
        words = [norm(c) for c in row[1:] if c and not NUMBER.fullmatch(c.lstrip("-"))]
        assert all(word in norm(" ".join(cells[1:])) for word in words), (row, cells)


WEEK = re.compile(r"\d{4}-W\d{2}")


def norm(text: str) -> str:
    """Whitespace collapsed, CLDR's thin and no-break spaces included (as the page's text)."""
    return " ".join(text.split())
