"""``msteams_links`` rebuilt from the log (``compound msteams rebuild``) equals the table the
commands kept: links made, ended from either side, ended with an erased person."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from shared.commands import Actor, OrganizationCommands
from shared.msteams.rebuild import rebuild
from tests.msteams.conftest import TeamsWorld

pytestmark = pytest.mark.integration


def table(world: TeamsWorld) -> set[tuple[object, ...]]:
    with world.store.engine.connect() as db:
        rows = db.exec_driver_sql(
            "SELECT aad_tenant_id, aad_object_id, tenant_id, person_id, linked_at "
            "FROM msteams_links"
        ).all()
    return {tuple(r) for r in rows}


def test_the_rebuild_equals_what_the_commands_kept(world: TeamsWorld):
    org, people = world.org, world.org.people
    kept = world.link("platform-1")
    ended = world.link("platform-2")
    erased = world.link("payments-1")
    world.say(ended, text="unlink")
    world.drain()
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    OrganizationCommands(world.store).erase(admin, people["payments-1"])

    before = table(world)
    mine = {r[:4] for r in before if r[2] == org.tenant_id}
    assert mine == {(world.aad_tenant_id, kept, org.tenant_id, people["platform-1"])}
    assert erased not in str(before)
    with world.store.engine.begin() as db:  # the read model lost: rebuilt from the log
        db.exec_driver_sql("DELETE FROM msteams_links")
    assert rebuild(world.store) == len(before)
    after = table(world)
    assert after == before  # linked_at too: the event's recorded_at is the transaction's now()


def test_the_command_rebuilds(world: TeamsWorld, tmp_path: Path):
    from services.cli import main

    world.link("platform-1")
    before = table(world)
    settings = world.resources.settings
    env = {
        "DATABASE_URL": settings.database_url or "",
        "COMPOUND_MASTER_KEYS": ",".join(settings.master_keys),
        "COMPOUND_DATA_DIR": str(tmp_path),
    }
    with world.store.engine.begin() as db:
        db.exec_driver_sql("DELETE FROM msteams_links WHERE tenant_id = %s", (world.org.tenant_id,))
    result = CliRunner().invoke(main, ["msteams", "rebuild"], env=env)
    assert result.exit_code == 0, result.output
    assert f"teams links: {len(before)}" in result.output
    assert {r[:4] for r in table(world)} == {r[:4] for r in before}
