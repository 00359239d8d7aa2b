"""Rows of a batch of invitations (a pasted list or a CSV upload: ``email,name,team,role``),
read and checked before anything is written, each row with its own messages.

Pure: the caller gives the organisation's teams and the addresses it already has
(:func:`check_rows`); the admin console previews the result and confirms the good rows
through :meth:`shared.commands.people.PeopleCommands.invite_batch`.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from marshmallow import ValidationError, validate

from shared.commands.people import Invitee
from shared.eventlog.events import ROLES
from shared.i18n import gettext, ngettext

MAX_ROWS = 10_000
COLUMNS = ("email", "name", "team", "role")
_EMAIL = validate.Email()


@dataclass
class Row:
    """One line of the list: what it says, and what is wrong with it."""

    line: int
    email: str
    name: str = ""
    team: str = ""
    role: str = ""
    team_id: uuid.UUID | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    """Messages by column (``email``, ``name``, ``team``, ``role``, ``_row``)."""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def messages(self) -> list[str]:
        return [m for ms in self.errors.values() for m in ms]

    def refuse(self, column: str, message: str) -> None:
        self.errors.setdefault(column, []).append(message)

    def invitee(self) -> Invitee:
        return Invitee(self.email, self.role or "employee", self.team_id, self.name or None)


def read_rows(text: str) -> list[Row]:
    """The rows of a pasted list or a CSV file, blank lines skipped.

    Each line is ``email[,name[,team[,role]]]``; a first line naming the columns (``email``
    among them, any case) is a header and may order them differently or leave some out.
    Quoting follows CSV.

    Parameters:
        text: the list.

    Returns:
        The rows with their line numbers (at most :data:`MAX_ROWS` + 1: the caller refuses
        more).
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    order = list(COLUMNS)
    rows: list[Row] = []
    first = True
    for cells in reader:
        line = reader.line_num
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if first and _is_header(cells):
            order = [c.lower() for c in cells]
            first = False
            continue
        first = False
        values = dict(zip(order, cells, strict=False))
        row = Row(line, values.get("email", ""), values.get("name", ""))
        row.team, row.role = values.get("team", ""), values.get("role", "").lower()
        if len(cells) > len(order):
            row.refuse(
                "_row",
                ngettext(
                    "Too many columns: give at most %(num)d (%(columns)s).",
                    "Too many columns: give at most %(num)d (%(columns)s).",
                    len(order),
                    columns=", ".join(order),
                ),
            )
        rows.append(row)
        if len(rows) > MAX_ROWS:
            break
    return rows


def _is_header(cells: list[str]) -> bool:
    names = [c.lower() for c in cells if c]
    return "email" in names and set(names) <= set(COLUMNS) and len(set(names)) == len(names)


def check_rows(
    rows: list[Row], teams: Iterable[tuple[uuid.UUID, str]], taken: Iterable[str]
) -> list[Row]:
    """Check every row, collecting its messages (nothing is refused as a whole).

    Parameters:
        rows: from :func:`read_rows`.
        teams: the organisation's teams (id, name).
        taken: the addresses the organisation already has (any case).

    Returns:
        The same rows, with ``team_id`` resolved and ``errors`` filled in.
    """
    by_name: dict[str, list[uuid.UUID]] = {}
    ids: dict[str, uuid.UUID] = {}
    for team_id, name in teams:
        by_name.setdefault(name.strip().lower(), []).append(team_id)
        ids[str(team_id)] = team_id
    known = {e.lower() for e in taken}
    seen: dict[str, int] = {}
    for row in rows:
        _check_email(row, known, seen)
        _check_team(row, by_name, ids)
        if row.role and row.role not in ROLES:
            row.refuse(
                "role",
                gettext(
                    "Unknown role %(role)s: use %(roles)s.",
                    role=repr(row.role),
                    roles=", ".join(ROLES),
                ),
            )
        if len(row.name) > 200:
            row.refuse("name", gettext("The name is longer than 200 characters."))
    return rows


def _check_email(row: Row, known: set[str], seen: dict[str, int]) -> None:
    address = row.email.lower()
    if not row.email:
        row.refuse("email", gettext("No e-mail address."))
        return
    try:
        _EMAIL(row.email)
    except ValidationError:
        row.refuse("email", gettext("%(email)s is not an e-mail address.", email=repr(row.email)))
        return
    if len(row.email) > 320:
        row.refuse("email", gettext("The e-mail address is longer than 320 characters."))
    elif address in known:
        row.refuse("email", gettext("Someone in the organisation already has this address."))
    elif address in seen:
        row.refuse("email", gettext("The same address as line %(line)d.", line=seen[address]))
    seen.setdefault(address, row.line)


def _check_team(
    row: Row, by_name: Mapping[str, list[uuid.UUID]], ids: Mapping[str, uuid.UUID]
) -> None:
    if not row.team:
        return
    if row.team in ids:
        row.team_id = ids[row.team]
        return
    matches = by_name.get(row.team.lower(), [])
    if len(matches) == 1:
        row.team_id = matches[0]
    elif matches:
        row.refuse(
            "team",
            ngettext(
                "%(num)d team is called %(team)s: give the team's id.",
                "%(num)d teams are called %(team)s: give the team's id.",
                len(matches),
                team=repr(row.team),
            ),
        )
    else:
        row.refuse("team", gettext("No team is called %(team)s.", team=repr(row.team)))
