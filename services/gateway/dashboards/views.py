"""What a dashboard page shows, built from the suppressed lever read model (pure functions).

Every number a page prints is formatted here once, into :class:`Table` cells, and the page
and its CSV export both render those same tables: the CSV is what is on screen, cell for
cell. Figures come from weekly releases (shared/releases): each shown value carries the
half-width of its 90% interval ("62.3 ± 9.1"); a hidden cell only ever becomes the text of
its reason (:func:`why`), its value, n and trend already ``None``, so there is no number to
leak.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.gateway.dashboards.lever_info import LEVERS, SHOWN, direction, label, trend_text
from services.gateway.dashboards.nudge_text import nudge_row
from services.gateway.dashboards.wording import (
    NO_DATA,
    TOO_NOISY,
    band_word,
    loose,
    plain,
    why,
    with_margin,
)
from shared.domain import levers as model
from shared.i18n import N_, format_number, format_week, gettext, week_label
from shared.releases.reads import NUDGE_MAX_MARGIN


def members_cell(week: Mapping[str, Any], k: int) -> Cell:
    """The team size of a week, shown with its participation cell (hidden, with its reason)."""
    if week["members"] is None:
        return Cell(why(week["levers"]["participation"], k), True)
    return Cell(format_number(week["members"]), data=(str(week["members"]),))


def reading(lever: str, cell: Mapping[str, Any]) -> str | None:
    """A shown cell's band, or None when its noise is too wide to read it (the nudges' rule)."""
    margin = cell.get("margin")
    return None if margin is not None and margin > NUDGE_MAX_MARGIN else band(lever, cell["value"])


def band(lever: str, value: float | None) -> str | None:
    """ "good", "watch" or "concern" against the manager nudges' thresholds."""
    if value is None:
        return None
    info = LEVERS[lever]
    if info.higher_is_better:
        return "concern" if value < info.concern else "good" if value >= info.good else "watch"
    return "concern" if value >= info.concern else "good" if value < info.good else "watch"


def trend_cell(lever: str, trend: float | None) -> Cell:
    """The change cell: its text on the page, its number and direction in the CSV."""
    return Cell(trend_text(lever, trend), data=(plain(trend), gettext(direction(lever, trend))))


def week_cell(code: str) -> Cell:
    """A row's week: "Week 49, 30 Nov - 6 Dec" on the page, its ISO code in the CSV."""
    return Cell(format_week(code), header=True, data=(code,))


def count_cell(n: int) -> Cell:
    return Cell(format_number(n), data=(str(n),))


@dataclass
class Cell:
    text: str
    suppressed: bool = False
    band: str | None = None
    header: bool = False
    ref: str | None = None  # a team's id: the heat map links each row to its overview
    data: tuple[str, ...] | None = None
    """The cell's CSV cells when they differ from its text: a figure's value and margin as
    numbers (and its reading), a change as a signed number and its direction."""

    def csv(self, width: int) -> list[str]:
        """The cell's ``width`` CSV cells (a hidden cell: its reason, then blanks)."""
        cells = [self.text] if self.data is None else list(self.data)
        assert len(cells) <= width, (self.text, width)
        return cells + [""] * (width - len(cells))


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    split: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """A column shown as one cell but written to the CSV as several numeric columns: its
    index and the CSV's column names."""

    def csv_columns(self) -> list[tuple[str, ...]]:
        """Each screen column's CSV column names."""
        return [self.split.get(i, (name,)) for i, name in enumerate(self.columns)]


def figure_data(cell: Mapping[str, Any], k: int) -> tuple[str, ...]:
    """A figure's CSV cells: its value and its margin as plain numbers (no unit), or the
    reason it is hidden."""
    if cell["suppressed"]:
        return (why(cell, k),)
    if cell["value"] is None:
        return (gettext(NO_DATA),)
    return (plain(cell["value"]), plain(cell.get("margin")))


def figure_cell(cell: Mapping[str, Any], k: int, unit: str = "") -> Cell:
    """A figure with its margin ("62.3 ± 9.1"), or why it is hidden."""
    if cell["suppressed"]:
        return Cell(why(cell, k), suppressed=True)
    return Cell(with_margin(cell, unit), data=figure_data(cell, k))


def lever_cell(cell: Mapping[str, Any], lever: str, k: int, with_band: bool = False) -> Cell:
    if cell["suppressed"]:
        return Cell(why(cell, k), suppressed=True)
    shown = with_margin(cell, LEVERS[lever].unit)
    if not with_band:
        return Cell(shown, data=figure_data(cell, k))
    read = reading(lever, cell)
    word = band_word(read) if read else ""
    return Cell(
        f"{shown} · {word}" if read else shown, band=read, data=(*figure_data(cell, k), word)
    )


VALUE = N_("Value (0-100)")
MARGIN = N_("± (90% margin)")
CHANGE = N_("Change since the week before")
DIRECTION = N_("Direction")
PEOPLE = N_("People (n)")


def _figure_columns(name: str, reading: bool = False) -> tuple[str, ...]:
    read = (gettext("%(figure)s: reading", figure=name),) if reading else ()
    return (name, f"{name} ±", *read)


def _span(weeks: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {"first": format_week(weeks[0]["week"]), "last": format_week(weeks[-1]["week"])}


def week_table(week: Mapping[str, Any], k: int) -> Table:
    """The selected week's levers: what the cards show."""
    table = Table(
        "week",
        gettext("Levers, %(week)s", week=format_week(week["week"])),
        [gettext("Lever"), gettext(VALUE), gettext(PEOPLE), gettext(CHANGE), gettext("Reading")],
        split={
            1: (gettext(VALUE), gettext(MARGIN)),
            3: (gettext(CHANGE), gettext(DIRECTION)),
        },
    )
    for lever in SHOWN:
        cell = week["levers"][lever]
        value = lever_cell(cell, lever, k)
        row = [Cell(label(lever), header=True), value]
        if cell["suppressed"]:
            row += [Cell(why(cell, k), True) for _ in range(3)]
        else:
            read = reading(lever, cell)
            row += [
                count_cell(cell["n"]),
                trend_cell(lever, cell["trend"]),
                Cell(band_word(read) if read else gettext(TOO_NOISY), band=read),
            ]
        table.rows.append(row)
    return table


def history_table(weeks: Sequence[Mapping[str, Any]], k: int) -> Table:
    """Every lever week by week: the sparklines' text alternative."""
    table = Table(
        "history",
        gettext("Levers week by week, %(first)s to %(last)s", **_span(weeks)),
        [gettext("Week"), *(label(lever) for lever in SHOWN), gettext("Members")],
        split={i: _figure_columns(label(lever)) for i, lever in enumerate(SHOWN, 1)},
    )
    for week in weeks:
        table.rows.append(
            [
                week_cell(week["week"]),
                *(lever_cell(week["levers"][lever], lever, k) for lever in SHOWN),
                members_cell(week, k),
            ]
        )
    return table


def heat_table(
    key: str, title: str, first: str, teams: Sequence[Mapping[str, Any]], at: int, k: int
) -> Table:
    """Teams side by side for one week (``at``: index into each team's weeks)."""
    table = Table(
        key,
        title,
        [first, *(label(lever) for lever in SHOWN)],
        split={i: _figure_columns(label(lever), True) for i, lever in enumerate(SHOWN, 1)},
    )
    for team in teams:
        week = team["weeks"][at]
        table.rows.append(
            [
                Cell(team["name"] or gettext("(unnamed)"), header=True, ref=team["team_id"]),
                *(lever_cell(week["levers"][lever], lever, k, with_band=True) for lever in SHOWN),
            ]
        )
    return table


def nudges_table(week: Mapping[str, Any]) -> Table:
    table = Table(
        "nudges",
        gettext("Nudges, %(week)s", week=format_week(week["week"])),
        [gettext("Suggestion"), gettext("Triggered by"), gettext("The seed's practical step")],
    )
    for nudge in week["nudges"]:
        suggestion, because, step = nudge_row(nudge)
        table.rows.append([Cell(suggestion, header=True), Cell(because), Cell(step)])
    return table


def lever_history_table(lever: str, weeks: Sequence[Mapping[str, Any]], k: int) -> Table:
    table = Table(
        "lever",
        gettext(
            "%(lever)s week by week, %(first)s to %(last)s", lever=label(lever), **_span(weeks)
        ),
        [gettext("Week"), gettext(VALUE), gettext(PEOPLE), gettext(CHANGE), gettext("Members")],
        split={
            1: (gettext(VALUE), gettext(MARGIN)),
            3: (gettext(CHANGE), gettext(DIRECTION)),
        },
    )
    for week in weeks:
        cell = week["levers"][lever]
        row = [week_cell(week["week"]), lever_cell(cell, lever, k)]
        if cell["suppressed"]:
            row += [Cell(why(cell, k), True), Cell(why(cell, k), True)]
        else:
            row += [count_cell(cell["n"]), trend_cell(lever, cell["trend"])]
        row.append(members_cell(week, k))
        table.rows.append(row)
    return table


def items_table(week: Mapping[str, Any], k: int) -> Table:
    """The psychological-safety pulse items of one week (reverse-scored items reversed)."""
    table = Table(
        "pulse_items",
        gettext("Psychological safety pulse items, %(week)s", week=format_week(week["week"])),
        [gettext("Statement"), gettext(SCORE), gettext("Answers (n)")],
        split={1: (gettext(SCORE), gettext(MARGIN))},
    )
    for item in model.SAFETY_ITEMS:
        cell = week["pulse_items"][item]
        statement = gettext(model.PULSE_QUESTIONS[item])
        if item in model.REVERSED:
            statement = gettext("%(statement)s (reverse-scored)", statement=statement)
        if cell["suppressed"]:
            table.rows.append(
                [Cell(statement, header=True), Cell(why(cell, k), True), Cell(why(cell, k), True)]
            )
        else:
            table.rows.append(
                [Cell(statement, header=True), figure_cell(cell, k), count_cell(cell["n"])]
            )
    return table


SCORE = N_("Score (0-100, higher is safer)")
CALENDAR = (
    ("meeting_share", N_("Meeting share of working hours"), "%"),
    ("focus_hours_per_person", N_("Focus hours per person (blocks of 2 h or more)"), ""),
    ("after_hours_per_person", N_("After-hours meeting hours per person"), ""),
    ("back_to_back_per_person", N_("Back-to-back meetings per person"), ""),
    ("people", N_("People with a connected calendar"), ""),
)


def calendar_table(weeks: Sequence[Mapping[str, Any]], k: int) -> Table:
    table = Table(
        "calendar",
        gettext("Time-pressure components, %(first)s to %(last)s", **_span(weeks)),
        [gettext("Week"), *(gettext(name) for _, name, _ in CALENDAR)],
        split={
            i: _figure_columns(gettext(name))
            for i, (key, name, _) in enumerate(CALENDAR, 1)
            if key != "people"
        },
    )
    for week in weeks:
        parts = week["time_pressure_components"]
        row = [week_cell(week["week"])]
        for key, _, unit in CALENDAR:
            if parts["suppressed"]:
                row.append(Cell(why(parts, k), True))
            elif key == "people":
                row.append(count_cell(parts[key]))
            elif parts[key] is None:
                row.append(Cell(gettext(NO_DATA)))
            else:
                value, margin = parts[key], parts.get(f"{key}_margin")
                text = loose(value, unit)
                if margin is not None:
                    text = f"{text} ± {loose(margin)}"
                row.append(Cell(text, data=(f"{value:g}", "" if margin is None else f"{margin:g}")))
        table.rows.append(row)
    return table


REWARDED = N_("Rewarded actions with a confirmed reward (%)")


def rewards_table(weeks: Sequence[Mapping[str, Any]], k: int) -> Table:
    """How many of the rewarded actions a confirmed reward rewarded, week by week (the rest:
    recognition or invitations the person reported themselves)."""
    table = Table(
        "rewards",
        gettext("Confirmed rewards, %(first)s to %(last)s", **_span(weeks)),
        [gettext("Week"), gettext(REWARDED), gettext(PEOPLE)],
        split={1: (gettext(REWARDED), gettext(MARGIN))},
    )
    for week in weeks:
        cell = week.get("reward_confirmation") or {"suppressed": True, "reason": "no_data"}
        row = [week_cell(week["week"])]
        if cell["suppressed"]:
            row += [Cell(why(cell, k), True), Cell(why(cell, k), True)]
        else:
            row += [figure_cell(cell, k), count_cell(cell["n"])]
        table.rows.append(row)
    return table


def size_changes(weeks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Weeks where the team's size changed, between two weeks whose sizes are both shown."""
    changes = []
    for i in range(1, len(weeks)):
        before, after = weeks[i - 1]["members"], weeks[i]["members"]
        if before is not None and after is not None and before != after:
            changes.append({"index": i, "week": weeks[i]["week"], "before": before, "after": after})
    return changes


def changes_table(changes: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(
        "sizes",
        gettext("Team-size changes"),
        [gettext("Week"), gettext("Members before"), gettext("Members after")],
    )
    for change in changes:
        table.rows.append(
            [week_cell(change["week"]), count_cell(change["before"]), count_cell(change["after"])]
        )
    return table


def sparkline(
    weeks: Sequence[Mapping[str, Any]], lever: str, width: int = 160, height: int = 40
) -> dict[str, Any]:
    """An SVG sparkline's segments (0-100 scale); a suppressed or empty week is a gap."""
    step = width / max(1, len(weeks) - 1)
    segments: list[list[tuple[float, float]]] = [[]]
    for i, week in enumerate(weeks):
        cell = week["levers"][lever]
        if cell["suppressed"] or cell["value"] is None:
            if segments[-1]:
                segments.append([])
            continue
        y = height - 3 - (height - 6) * max(0.0, min(100.0, cell["value"])) / 100.0
        segments[-1].append((round(i * step, 1), round(y, 1)))
    segments = [s for s in segments if s]
    last = segments[-1][-1] if segments else None
    return {
        "width": width,
        "height": height,
        "paths": [" ".join(f"{x},{y}" for x, y in s) for s in segments],
        "dots": [s[0] for s in segments if len(s) == 1],
        "last": last,
    }


def chart_data(lever: str, weeks: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The detail chart's data for dashboards.js: suppressed weeks are null, nothing else."""
    return {
        "label": label(lever),
        "labels": [week_label(w["week"]) for w in weeks],
        "values": [
            None if w["levers"][lever]["suppressed"] else w["levers"][lever]["value"] for w in weeks
        ],
        "markers": [
            {
                "index": c["index"],
                "text": f"{format_number(c['before'])} → {format_number(c['after'])}",
            }
            for c in size_changes(weeks)
        ],
        "concern": LEVERS[lever].concern,
        "threshold": gettext("Nudge threshold"),
    }


BOM = "\ufeff"
"""The UTF-8 byte-order mark a CSV starts with, so Excel reads it as UTF-8 (▲, ±, é)."""


def as_csv(heading: Sequence[str], tables: Sequence[Table]) -> str:
    """The page's tables as CSV, after a byte-order mark: the heading lines, then per table
    its title, its header row and its rows, a blank line between tables. A figure is written
    as numbers (value, margin; a change and its direction) in columns of their own
    (:attr:`Table.split`), everything else as on the page. Text starting like a formula is
    quoted with a leading apostrophe, so a spreadsheet shows it instead of running it; a
    plain number (``-5.3``) stays a number."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    for line in heading:
        writer.writerow([safe(line)])
    for table in tables:
        columns = table.csv_columns()
        writer.writerow([])
        writer.writerow([safe(table.title)])
        writer.writerow([safe(name) for names in columns for name in names])
        for row in table.rows:
            writer.writerow(
                [
                    safe(c)
                    for cell, names in zip(row, columns, strict=True)
                    for c in cell.csv(len(names))
                ]
            )
    return out.getvalue()


NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe(text: str) -> str:
    if NUMBER.fullmatch(text):
        return text
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
