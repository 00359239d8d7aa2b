"""``slack_links`` and ``slack_digest_times`` rebuilt from the log (``compound slack rebuild``)
equal the tables the commands kept: links made, ended from either side, ended with their
workspace and with an erased person; the latest digest time of each person."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from shared.chat.digests import SlackDigests
from shared.chat.rebuild import rebuild
from shared.commands import Actor, OrganizationCommands
from shared.eventlog import AppendContext
from tests.slack.conftest import SlackWorld, install, link, new_team_id

pytestmark = pytest.mark.integration


def tables(world: SlackWorld) -> tuple[set[tuple], set[tuple]]:
    with world.store.engine.connect() as db:
        links = db.exec_driver_sql(
            "SELECT team_id, slack_user_id, tenant_id, person_id FROM slack_links"
        ).all()
        times = db.exec_driver_sql(
            "SELECT person_id, tenant_id, day, hour, time_zone FROM slack_digest_times"
        ).all()
    return {tuple(r) for r in links}, {tuple(r) for r in times}


def test_the_rebuild_equals_what_the_commands_kept(world: SlackWorld):
    org, people = world.org, world.org.people
    context = AppendContext(actor="test")
    kept = link(world, "platform-1")
    link(world, "platform-2")
    erased = link(world, "payments-1")
    digests = SlackDigests(world.store)
    digests.set_time(org.tenant_id, people["platform-1"], "wed", "7", context)
    digests.set_time(org.tenant_id, people["platform-1"], "fri", "16", context)  # the latest wins
    digests.set_time(org.tenant_id, people["payments-1"], "mon", "8", context)
    (ended,) = world.installations.links_of_person(people["platform-2"])
    world.installations.unlink(ended, "person", context)
    admin = Actor(tenant_id=org.tenant_id, person_id=org.admin, role="admin", source="test")
    OrganizationCommands(world.store).erase(admin, people["payments-1"])
    other_team = new_team_id()  # a second workspace, then uninstalled: its links end with it
    install(world.app, org, other_team)
    gone = world.installations.get(other_team)
    assert gone is not None
    world.installations.link(gone, "U0GONE", people["platform-1"], context)
    world.installations.uninstall(other_team, "uninstalled", context)

    before = tables(world)
    mine = {r for r in before[0] if r[2] == org.tenant_id}
    assert mine == {(world.team_id, kept, org.tenant_id, people["platform-1"])}
    assert erased not in str(before)
    with world.store.engine.begin() as db:  # the read model lost: rebuilt from the log
        db.exec_driver_sql("DELETE FROM slack_links")
        db.exec_driver_sql("DELETE FROM slack_digest_times")
    assert rebuild(world.store) == (len(before[0]), len(before[1]))
    assert tables(world) == before
    mine_times = {r for r in tables(world)[1] if r[1] == org.tenant_id}
    assert mine_times == {(people["platform-1"], org.tenant_id, 4, 16, "UTC")}


def test_the_command_rebuilds(world: SlackWorld, tmp_path):
    from services.cli import main

    link(world, "platform-1")
    before = tables(world)
    settings = world.resources.settings
    env = {
        "DATABASE_URL": settings.database_url or "",
        "COMPOUND_MASTER_KEYS": ",".join(settings.master_keys),
        "COMPOUND_DATA_DIR": str(tmp_path),
    }
    with world.store.engine.begin() as db:
        db.exec_driver_sql("DELETE FROM slack_links WHERE tenant_id = %s", (world.org.tenant_id,))
    result = CliRunner().invoke(main, ["slack", "rebuild"], env=env)
    assert result.exit_code == 0, result.output
    assert f"slack links: {len(before[0])}, digest times: {len(before[1])}" in result.output
    assert tables(world) == before
