"""Backup and restore exactly as docs/operations.md writes them: pg_dump of the event tables,
then into an empty database ``compound db upgrade``, pg_restore, and the two rebuilds.
Afterwards the read models equal the original's, personal data still decrypts, and the next
append continues after the last restored position."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from infra.migrate import upgrade
from shared.database import make_engine
from shared.eventlog import EventStore, KeyRing, NewEvent, generate_master_key
from shared.projections import runtime
from tests.conftest import make_org
from tests.deploy.compose import ROOT

pytestmark = pytest.mark.integration

OPERATIONS = ROOT / "docs" / "operations.md"


def documented_script(marker: str) -> str:
    """The ``sh`` block right after ``<!-- marker -->`` in docs/operations.md."""
    match = re.search(
        rf"<!-- {marker} -->\n```sh\n(.*?)```", OPERATIONS.read_text(), flags=re.DOTALL
    )
    assert match, f"no <!-- {marker} --> block in {OPERATIONS}"
    return match.group(1)


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def new_database(postgres_server_url: str) -> Iterator[Any]:
    """``new_database()``: an empty database, dropped at the end of the test."""
    names: list[str] = []
    admin = libpq(postgres_server_url)

    def create() -> str:
        names.append(f"compound_backup_{uuid.uuid4().hex[:10]}")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{names[-1]}"')
        return (
            make_url(postgres_server_url)
            .set(database=names[-1])
            .render_as_string(hide_password=False)
        )

    yield create
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def client_tools(server_url: str, embedded_bin_dir: Path) -> Path:
    """A folder with pg_dump and pg_restore of the server's major version (a newer pg_dump
    writes settings an older server rejects), else the embedded server's (the newest)."""
    with psycopg.connect(libpq(server_url)) as conn:
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000  # type: ignore[index]
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin"), embedded_bin_dir]
    for folder in candidates:
        tool = folder / "pg_dump"
        if tool.exists():
            version = subprocess.run([tool, "--version"], capture_output=True, text=True)
            if re.search(rf"\) {major}\.", version.stdout):
                return folder
    return embedded_bin_dir


def snapshot(store: EventStore) -> dict[str, Any]:
    with store.engine.connect() as conn:
        return {
            "head": store.head(),
            "people": conn.execute(
                text("SELECT id, email, display_name FROM people ORDER BY id")
            ).all(),
            "capital": conn.execute(text("SELECT * FROM capital_weeks ORDER BY 1, 2, 3")).all(),
            **{
                table: conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2, 3")).all()
                for table in ("capital_contributions", "plan_weeks", "plan_actions")
            },
        }


def test_backup_then_restore_and_rebuild(new_database: Any, embedded_bin_dir: Path, tmp_path: Path):
    master = generate_master_key()
    source_url = new_database()
    source = EventStore(make_engine(source_url, pool_size=2), keyring=KeyRing([master]))
    upgrade(source.engine)
    org = make_org(source, people_per_team=1)
    person = org.people["platform-1"]
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    source.append(
        org.tenant_id,
        f"journal-{person}",
        None,
        [
            NewEvent(
                "MicroActionLogged",
                {
                    "action_id": str(uuid.uuid4()),
                    "person_id": str(person),
                    "tactic": tactic,
                    "minutes": 15,
                    "audience": "team",
                    "note": f"restored note {i}",
                },
                start + timedelta(days=i),
            )
            for i, tactic in enumerate(("learning_bit", "network_nudge", "small_exposure"))
        ]
        + [
            NewEvent(
                "WeeklyPlanSet",
                {
                    "person_id": str(person),
                    "week": "2026-W45",
                    "tactics": ["learning_bit"],
                    "labels": ["read docs"],
                },
            )
        ],
    )
    rt = runtime(source)
    rt.ensure()
    for name in rt.projections:
        rt.catch_up(name)
    before = snapshot(source)
    assert before["capital"] and before["plan_actions"] and len(before["people"]) == 5

    tools = client_tools(source_url, embedded_bin_dir)
    env = {
        **os.environ,
        "PATH": os.pathsep.join((str(tools), str(Path(sys.executable).parent), os.environ["PATH"])),
        "PYTHONPATH": str(ROOT),
        "COMPOUND_MASTER_KEYS": master,
        "COMPOUND_DATA_DIR": str(tmp_path / "data"),
        "BACKUP_FILE": str(tmp_path / "compound.dump"),
    }

    def run(script: str, database_url: str) -> None:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env={**env, "DATABASE_URL": libpq(database_url)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    run(documented_script("backup"), source_url)
    source.engine.dispose()
    assert (tmp_path / "compound.dump").stat().st_size > 0

    target_url = new_database()
    run(documented_script("restore"), target_url)

    target = EventStore(make_engine(target_url, pool_size=2), keyring=KeyRing([master]))
    try:
        assert snapshot(target) == before
        notes = sorted(
            e.data["note"] for e in target.read_stream(f"journal-{person}") if "note" in e.data
        )
        assert notes == ["restored note 0", "restored note 1", "restored note 2"]
        appended = target.append(
            org.tenant_id,
            f"journal-{person}",
            None,
            [
                NewEvent(
                    "WeeklyPlanSet",
                    {
                        "person_id": str(person),
                        "week": "2026-W46",
                        "tactics": ["learning_bit"],
                        "labels": ["x"],
                    },
                )
            ],
        )
        assert appended.positions[0] > before["head"]
    finally:
        target.engine.dispose()
