"""Fixtures of the API tests: a second organisation, cached bearer headers, fresh people."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from shared.commands import Actor, OrganizationCommands
from shared.eventlog import EventStore
from tests.conftest import DemoOrg, make_org

Headers = dict[str, str]


@pytest.fixture(scope="session")
def other_org(store: EventStore) -> DemoOrg:
    """A second tenant: nothing of ``org`` may be visible or changeable from here."""
    return make_org(store, people_per_team=1)


def admin_actor(org: DemoOrg) -> Actor:
    return Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")


def bearer(store: EventStore, org: DemoOrg, person_id: uuid.UUID) -> Headers:
    """Bearer headers for a person, minted directly (no password round trip): a personal
    token with every scope of their role."""
    role = "admin" if person_id == org.admin else "employee"
    actor = Actor(tenant_id=org.tenant_id, person_id=person_id, role=role, source="test")
    _, token = OrganizationCommands(store).create_token(actor, "test")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def headers_of(store: EventStore, org: DemoOrg) -> Callable[[str], Headers]:
    """``headers_of("platform-1")``: bearer headers of a person of ``org``, one token each."""
    cache: dict[str, Headers] = {}

    def headers(who: str) -> Headers:
        if who not in cache:
            cache[who] = bearer(store, org, org.people[who])
        return cache[who]

    return headers


@dataclass(frozen=True)
class Person:
    """A person created for one test, so the test may change or erase them freely."""

    id: uuid.UUID
    email: str
    password: str
    team_id: uuid.UUID | None
    headers: Headers
    tenant_id: uuid.UUID | None = None


@pytest.fixture
def new_person(store: EventStore, org: DemoOrg) -> Callable[..., Person]:
    """``new_person(team="platform")``: a person who joined ``org`` just now."""

    def create(team: str | None = "platform", joined: bool = True) -> Person:
        commands = OrganizationCommands(store)
        email = f"person-{uuid.uuid4().hex[:12]}@demo.test"
        team_id = org.teams[team] if team else None
        invitation = commands.invite(admin_actor(org), email, "employee", team_id)
        if joined:
            commands.accept_invitation(org.tenant_id, invitation.person_id, "New", org.password)
        headers = bearer(store, org, invitation.person_id) if joined else {}
        return Person(invitation.person_id, email, org.password, team_id, headers, org.tenant_id)

    return create


PROBLEM_KEYS = {"type", "title", "status", "detail"}
PROBLEM_TYPES = "https://compound.invalid/problems/"


def reads_as_sentence(text: str) -> bool:
    """Whether ``text`` reads as a sentence: no lowercase first letter (a code, a number or a
    quote may start it), a full stop (or ``?``, ``!``, ``…``) at its end."""
    return bool(text) and not text[0].islower() and text[-1] in ".!?…"


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem with ``status``, naming each of ``fields``."""
    text = response.get_data(as_text=True)[:500]
    assert response.status_code == status, text
    assert response.mimetype == "application/problem+json", text
    body = response.get_json()
    assert body.keys() >= PROBLEM_KEYS, body
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"][0].isupper(), body
    # A stable type a client matches on, never "about:blank" (docs/api.md, "Errors").
    assert body["type"].startswith(PROBLEM_TYPES) and body["type"] != PROBLEM_TYPES, body
    assert isinstance(body["detail"], str) and reads_as_sentence(body["detail"]), body
    for name in fields:
        assert name in body.get("errors", {}), body
    for messages in body.get("errors", {}).values():
        assert all(isinstance(m, str) and reads_as_sentence(m) for m in messages), body
    return dict(body)
