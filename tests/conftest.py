"""Fixtures shared by every test folder.

Servers: ``DATABASE_URL`` / ``REDIS_URL`` when set (CI's second pass uses the machine's
PostgreSQL and Redis), otherwise embedded servers started for this test session. Either way
each test session gets a database of its own, created here and dropped at the end, so runs
never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from infra.embedded import EmbeddedPostgres, EmbeddedRedis
from infra.migrate import upgrade
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing, generate_master_key
from shared.settings import Settings, normalise_database_url

# Dramatiq messages of this test session go to a namespace of their own.
os.environ.setdefault("COMPOUND_QUEUE_NAMESPACE", f"compound-test-{uuid.uuid4().hex[:8]}")
# The suite logs many actions for its shared demo people on one day; the daily limit's own
# tests (tests/api/test_daily_limit.py) set theirs.
os.environ.setdefault("COMPOUND_DAILY_ACTION_LIMIT", "1000000")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A URL of a PostgreSQL server we may create databases on."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        yield normalise_database_url(configured)
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("embedded") / "postgres", database="postgres")
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, migrated database for this test session, dropped afterwards."""
    name = f"compound_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _libpq(postgres_server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=10)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def master_key() -> str:
    return generate_master_key()


@pytest.fixture(scope="session")
def store(engine: Engine, master_key: str) -> EventStore:
    return EventStore(engine, keyring=KeyRing([master_key]))


@pytest.fixture
def tenant() -> uuid.UUID:
    """A tenant of this test alone: the log is append-only, so tests share it by tenant."""
    return uuid.uuid4()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("REDIS_URL")
    if configured:
        yield configured
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("embedded-redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def embedded_bin_dir() -> Path:
    return EmbeddedPostgres(Path("/nonexistent")).bin_dir


# -- the gateway ---------------------------------------------------------------------------------

TEST_SECRET = "test-secret-key-" + uuid.uuid4().hex


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str, master_key: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        master_keys=(master_key,),
        secret_key=TEST_SECRET,
        log_level="WARNING",
        public_url="http://compound.test",  # the test apps' SERVER_NAME: links work there
    )


def gateway_for_tests(settings: Settings) -> Iterator[Flask]:
    """A gateway app for the Flask test client on ``settings`` (rate limits off, links at
    ``compound.test``), its resources closed when the generator ends: the body of the
    session fixtures ``app`` and those of other settings (tests/slack)."""
    from services.gateway import create_app

    app = create_app(
        {
            "COMPOUND_SETTINGS": settings,
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "compound.test",
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    )
    yield app
    app.extensions["compound"].close()


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[Flask]:
    yield from gateway_for_tests(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class DemoOrg:
    """A small organisation: an admin, two teams, a manager and employees per team."""

    tenant_id: uuid.UUID
    admin: uuid.UUID
    teams: dict[str, uuid.UUID]
    people: dict[str, uuid.UUID]
    emails: dict[str, str]
    password: str

    def token(self, client: FlaskClient, who: str) -> str:
        response = client.post(
            "/api/v1/auth/token", json={"email": self.emails[who], "password": self.password}
        )
        assert response.status_code == 200, response.get_json()
        return str(response.get_json()["access_token"])

    def headers(self, client: FlaskClient, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(client, who)}"}


def make_org(store: EventStore, people_per_team: int = 2) -> DemoOrg:
    from shared.commands import Actor, OrganizationCommands

    commands = OrganizationCommands(store)
    suffix = uuid.uuid4().hex[:8]
    password = "correct-horse-battery"
    emails = {"admin": f"admin-{suffix}@demo.test"}
    tenant, admin = commands.create_organization(
        f"Org {suffix}", emails["admin"], password, "Admin"
    )
    actor = Actor(tenant_id=tenant, person_id=admin, role="admin", source="test")
    teams = {name: commands.create_team(actor, name) for name in ("platform", "payments")}
    people = {"admin": admin}
    for team_name, team_id in teams.items():
        for i in range(people_per_team + 1):
            who = f"{team_name}-manager" if i == 0 else f"{team_name}-{i}"
            emails[who] = f"{who}-{suffix}@demo.test"
            invitation = commands.invite(actor, emails[who], "employee", team_id if i else None)
            commands.accept_invitation(tenant, invitation.person_id, who.title(), password)
            people[who] = invitation.person_id
            if i == 0:
                commands.assign_manager(actor, team_id, invitation.person_id)
    return DemoOrg(tenant, admin, teams, people, emails, password)


@pytest.fixture(scope="session")
def org(store: EventStore) -> DemoOrg:
    return make_org(store)
