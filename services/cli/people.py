"""People and teams of an organisation: ``compound users`` and ``compound teams``."""

from __future__ import annotations

import click

from services.cli.context import cli_settings, open_store, org_actor


@click.group()
def users() -> None:
    """People of an organisation."""


@users.command("list")
@click.option("--org", "tenant", help="Organisation name or id.")
def users_list(tenant: str | None) -> None:
    from sqlalchemy import select

    from shared.directory import Person

    store = open_store(cli_settings())
    actor = org_actor(store, tenant)
    with store.engine.connect() as conn:
        for p in conn.execute(
            select(Person).where(Person.tenant_id == actor.tenant_id).order_by(Person.email)
        ).all():
            click.echo(
                f"{p.id}  {p.role:8s} {p.status:8s} {p.email or '-'}  {p.display_name or ''}"
            )
    store.engine.dispose()


@users.command("invite")
@click.argument("email")
@click.option("--role", type=click.Choice(["employee", "manager", "admin"]), default="employee")
@click.option("--team", "team_id", help="Team id to join.")
@click.option("--org", "tenant", help="Organisation name or id.")
def users_invite(email: str, role: str, team_id: str | None, tenant: str | None) -> None:
    """Invite someone: mails them the invitation link and prints it (COMPOUND_PUBLIC_URL)."""
    import dataclasses
    import uuid

    from infra.supervisor import secret_key_for
    from shared.commands import OrganizationCommands
    from shared.invitations import mail_invitation
    from shared.notify import mailer_for

    settings = cli_settings()
    settings = dataclasses.replace(settings, secret_key=secret_key_for(settings))
    store = open_store(settings)
    actor = org_actor(store, tenant)
    invited = OrganizationCommands(store).invite(
        actor, email, role, uuid.UUID(team_id) if team_id else None
    )
    mailer = mailer_for(settings)
    answer = mail_invitation(settings, mailer, actor.tenant_id, invited, store.engine)
    store.engine.dispose()
    click.echo(f"invited {email} ({answer['person_id']}): {answer['link']}")
    click.echo(
        {
            "sent": "invitation mail sent",
            "logged": "invitation mail logged, not sent (no COMPOUND_SMTP_HOST): give the link",
            "failed": "invitation mail NOT sent (the mail server failed): give the link yourself",
        }[answer["mail"]]
    )


@users.command("erase")
@click.argument("person_id")
@click.option("--org", "tenant", help="Organisation name or id.")
@click.confirmation_option(prompt="Erase this person's personal data for good?")
def users_erase(person_id: str, tenant: str | None) -> None:
    """Crypto-shred a person."""
    import uuid

    from shared.commands import OrganizationCommands

    store = open_store(cli_settings())
    OrganizationCommands(store).erase(org_actor(store, tenant), uuid.UUID(person_id))
    click.echo(f"erased {person_id}")
    click.echo(
        "read models still hold their behaviour until rebuilt: "
        "`compound projections rebuild --all` (docs/privacy.md, Erasure)"
    )
    store.engine.dispose()


@click.group()
def teams() -> None:
    """Teams of an organisation."""


@teams.command("list")
@click.option("--org", "tenant", help="Organisation name or id.")
def teams_list(tenant: str | None) -> None:
    from sqlalchemy import select

    from shared.directory import Team

    store = open_store(cli_settings())
    actor = org_actor(store, tenant)
    with store.engine.connect() as conn:
        for t in conn.execute(
            select(Team).where(Team.tenant_id == actor.tenant_id).order_by(Team.name)
        ).all():
            click.echo(
                f"{t.id}  {t.name}" + (f"  (in {t.parent_team_id})" if t.parent_team_id else "")
            )
    store.engine.dispose()


@teams.command("create")
@click.argument("name")
@click.option("--parent", "parent_id", help="Parent team id.")
@click.option("--org", "tenant", help="Organisation name or id.")
def teams_create(name: str, parent_id: str | None, tenant: str | None) -> None:
    import uuid

    from shared.commands import OrganizationCommands

    store = open_store(cli_settings())
    team_id = OrganizationCommands(store).create_team(
        org_actor(store, tenant), name, uuid.UUID(parent_id) if parent_id else None
    )
    click.echo(f"created team {name}: {team_id}")
    store.engine.dispose()


@teams.command("add-manager")
@click.argument("team_id")
@click.argument("person_id")
@click.option("--org", "tenant", help="Organisation name or id.")
def teams_add_manager(team_id: str, person_id: str, tenant: str | None) -> None:
    import uuid

    from shared.commands import OrganizationCommands

    store = open_store(cli_settings())
    OrganizationCommands(store).assign_manager(
        org_actor(store, tenant), uuid.UUID(team_id), uuid.UUID(person_id)
    )
    click.echo("done")
    store.engine.dispose()
