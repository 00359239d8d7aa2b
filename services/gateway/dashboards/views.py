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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.gateway.dashboards.wording import (
    NO_DATA,
    TOO_NOISY,
    why,
    with_margin,
)
from shared.domain import levers as model
from shared.domain.nudges import (
    AMBIGUITY_HIGH,
    INCENTIVES_LOW,
    PARTICIPATION_LOW,
    SAFETY_LOW,
    TIME_PRESSURE_HIGH,
)
from shared.releases.reads import NUDGE_MAX_MARGIN


@dataclass(frozen=True)
class LeverInfo:
    key: str
    label: str
    short: str
    higher_is_better: bool
    concern: float  # the manager nudge's threshold
    good: float  # comfortably on the right side of it
    seed: str  # the seed article's sentence on this lever
    measure: str
    raises: tuple[str, ...]
    lowers: tuple[str, ...]
    unit: str = ""


LEVERS: dict[str, LeverInfo] = {
    info.key: info
    for info in (
        LeverInfo(
            "psychological_safety",
            "Psychological safety",
            "Safety",
            True,
            SAFETY_LOW,
            70.0,
            "People are likelier to try small stretch moves if mistakes won't be punished.",
            "Edmondson's 7-item pulse scale (70%) and the share of members who tried a small "
            "stretch task (not one its counterpart declined) or asked for feedback that week "
            "(30%), 0-100.",
            (
                "Celebrating incremental contributions in public",
                "Safe feedback loops: one specific observation, never a verdict",
                "Treating a failed small experiment as information",
            ),
            ("Penalising failure", "Valuing only headline outcomes"),
        ),
        LeverInfo(
            "time_pressure",
            "Time pressure",
            "Pressure",
            False,
            TIME_PRESSURE_HIGH,
            45.0,
            "Chronic overload reduces the bandwidth for deliberate micro-investments.",
            "Calendar load (meeting share, missing focus blocks, after-hours and back-to-back "
            "meetings; 60%) and the workload pulse item (40%), 0-100: higher means more pressure.",
            ("Meeting-heavy weeks", "Meetings after hours", "Back-to-back meetings"),
            ("Protected focus blocks of two hours or more", "Meeting norms that free time"),
        ),
        LeverInfo(
            "clear_incentives",
            "Clear incentives",
            "Incentives",
            True,
            INCENTIVES_LOW,
            60.0,
            "When teams reward short, visible contributions (public praise, meeting invites) "
            "micro-advancements increase.",
            "The share of visible micro-actions followed within 14 days by recognition or an "
            "invitation (one naming a confirmer counts once they confirm it; 50%) and the "
            'pulse item "Small, visible contributions are noticed" (50%), 0-100.',
            ("Public praise for small visible contributions", "Invitations to the next meeting"),
            ("Rewarding only headline outcomes", "Contributions that go unanswered"),
        ),
        LeverInfo(
            "ambiguous_evaluation",
            "Ambiguous evaluation",
            "Ambiguity",
            False,
            AMBIGUITY_HIGH,
            40.0,
            "When performance metrics emphasize outputs only, subtle reputation-building "
            "behaviors can be ignored.",
            'The pulse item "I understand how my work is evaluated", reversed (50%), and the '
            "share of feedback asked on outputs only (50%), 0-100: higher means more ambiguous.",
            ("Saying how work is evaluated beyond outputs", "Feedback on how, not only on what"),
            ("Metrics on outputs only", "Reviews nobody can explain"),
        ),
        LeverInfo(
            "participation",
            "Participation",
            "Participation",
            True,
            PARTICIPATION_LOW,
            75.0,
            "The goal is steady accumulation, not theatrical displays.",
            "The share of members who logged at least one micro-action in the week.",
            ("Manageable commitments: 1-2 micro-actions a week", "A manager who shares theirs"),
            ("Overload", "Cultures that penalise failure: people withdraw"),
            "%",
        ),
    )
}
SHOWN = tuple(LEVERS)  # the four levers and participation, in the seed's order


def members_cell(week: Mapping[str, Any], k: int) -> Cell:
    """The team size of a week, shown with its participation cell (hidden, with its reason)."""
    if week["members"] is None:
        return Cell(why(week["levers"]["participation"], k), True)
    return Cell(str(week["members"]))


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


def trend_text(lever: str, trend: float | None) -> str:
    if trend is None:
        return "no comparison"
    if trend == 0:
        return "no change"
    better = (trend > 0) == LEVERS[lever].higher_is_better
    arrow = "▲" if trend > 0 else "▼"
    return f"{arrow} {abs(trend):.1f} ({'better' if better else 'worse'})"


@dataclass
class Cell:
    text: str
    suppressed: bool = False
    band: str | None = None
    header: bool = False
    ref: str | None = None  # a team's id: the heat map links each row to its overview


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def lever_cell(cell: Mapping[str, Any], lever: str, k: int, with_band: bool = False) -> Cell:
    if cell["suppressed"]:
        return Cell(why(cell, k), suppressed=True)
    shown = with_margin(cell, LEVERS[lever].unit)
    read = reading(lever, cell) if with_band else None
    return Cell(f"{shown} · {read}" if read else shown, band=read)


def week_table(week: Mapping[str, Any], k: int) -> Table:
    """The selected week's levers: what the cards show."""
    table = Table(
        "week",
        f"Levers, {week['week']}",
        ["Lever", "Value (0-100)", "People (n)", "Change since the week before", "Reading"],
    )
    for lever in SHOWN:
        cell = week["levers"][lever]
        value = lever_cell(cell, lever, k)
        row = [Cell(LEVERS[lever].label, header=True), value]
        if cell["suppressed"]:
            row += [Cell(why(cell, k), True) for _ in range(3)]
        else:
            read = reading(lever, cell)
            row += [
                Cell(str(cell["n"])),
                Cell(trend_text(lever, cell["trend"])),
                Cell(read or TOO_NOISY, band=read),
            ]
        table.rows.append(row)
    return table


def history_table(weeks: Sequence[Mapping[str, Any]], k: int) -> Table:
    """Every lever week by week: the sparklines' text alternative."""
    table = Table(
        "history",
        f"Levers week by week, {weeks[0]['week']} to {weeks[-1]['week']}",
        ["Week", *(LEVERS[lever].label for lever in SHOWN), "Members"],
    )
    for week in weeks:
        table.rows.append(
            [
                Cell(week["week"], header=True),
                *(lever_cell(week["levers"][lever], lever, k) for lever in SHOWN),
                members_cell(week, k),
            ]
        )
    return table


def heat_table(
    key: str, title: str, first: str, teams: Sequence[Mapping[str, Any]], at: int, k: int
) -> Table:
    """Teams side by side for one week (``at``: index into each team's weeks)."""
    table = Table(key, title, [first, *(LEVERS[lever].label for lever in SHOWN)])
    for team in teams:
        week = team["weeks"][at]
        table.rows.append(
            [
                Cell(team["name"] or "(unnamed)", header=True, ref=team["team_id"]),
                *(lever_cell(week["levers"][lever], lever, k, with_band=True) for lever in SHOWN),
            ]
        )
    return table


def nudges_table(week: Mapping[str, Any]) -> Table:
    table = Table(
        "nudges",
        f"Nudges, {week['week']}",
        ["Suggestion", "Triggered by", "The seed's practical step"],
    )
    for nudge in week["nudges"]:
        table.rows.append(
            [Cell(nudge["suggestion"], header=True), Cell(nudge["because"]), Cell(nudge["step"])]
        )
    return table


def lever_history_table(lever: str, weeks: Sequence[Mapping[str, Any]], k: int) -> Table:
    info = LEVERS[lever]
    table = Table(
        "lever",
        f"{info.label} week by week, {weeks[0]['week']} to {weeks[-1]['week']}",
        ["Week", "Value (0-100)", "People (n)", "Change since the week before", "Members"],
    )
    for week in weeks:
        cell = week["levers"][lever]
        row = [Cell(week["week"], header=True), lever_cell(cell, lever, k)]
        if cell["suppressed"]:
            row += [Cell(why(cell, k), True), Cell(why(cell, k), True)]
        else:
            row += [Cell(str(cell["n"])), Cell(trend_text(lever, cell["trend"]))]
        row.append(members_cell(week, k))
        table.rows.append(row)
    return table


def items_table(week: Mapping[str, Any], k: int) -> Table:
    """The psychological-safety pulse items of one week (reverse-scored items reversed)."""
    table = Table(
        "pulse_items",
        f"Psychological safety pulse items, {week['week']}",
        ["Statement", "Score (0-100, higher is safer)", "Answers (n)"],
    )
    for item in model.SAFETY_ITEMS:
        cell = week["pulse_items"][item]
        statement = model.PULSE_QUESTIONS[item]
        if item in model.REVERSED:
            statement += " (reverse-scored)"
        if cell["suppressed"]:
            table.rows.append(
                [Cell(statement, header=True), Cell(why(cell, k), True), Cell(why(cell, k), True)]
            )
        else:
            table.rows.append(
                [Cell(statement, header=True), Cell(with_margin(cell)), Cell(str(cell["n"]))]
            )
    return table


CALENDAR = (
    ("meeting_share", "Meeting share of working hours", "%"),
    ("focus_hours_per_person", "Focus hours per person (blocks of 2 h or more)", ""),
    ("after_hours_per_person", "After-hours meeting hours per person", ""),
    ("back_to_back_per_person", "Back-to-back meetings per person", ""),
    ("people", "People with a connected calendar", ""),
)


def calendar_table(weeks: Sequence[Mapping[str, Any]], k: int) -> Table:
    table = Table(
        "calendar",
        f"Time-pressure components, {weeks[0]['week']} to {weeks[-1]['week']}",
        ["Week", *(label for _, label, _ in CALENDAR)],
    )
    for week in weeks:
        parts = week["time_pressure_components"]
        row = [Cell(week["week"], header=True)]
        for key, _, unit in CALENDAR:
            if parts["suppressed"]:
                row.append(Cell(why(parts, k), True))
            elif key == "people":
                row.append(Cell(str(parts[key])))
            else:
                value, margin = parts[key], parts.get(f"{key}_margin")
                text = NO_DATA if value is None else f"{value:g}{unit}"
                row.append(
                    Cell(text if value is None or margin is None else f"{text} ± {margin:g}")
                )
        table.rows.append(row)
    return table


def rewards_table(weeks: Sequence[Mapping[str, Any]], k: int) -> Table:
    """How many of the rewarded actions a confirmed reward rewarded, week by week (the rest:
    recognition or invitations the person reported themselves)."""
    table = Table(
        "rewards",
        f"Confirmed rewards, {weeks[0]['week']} to {weeks[-1]['week']}",
        ["Week", "Rewarded actions with a confirmed reward (%)", "People (n)"],
    )
    for week in weeks:
        cell = week.get("reward_confirmation") or {"suppressed": True, "reason": "no_data"}
        row = [Cell(week["week"], header=True)]
        if cell["suppressed"]:
            row += [Cell(why(cell, k), True), Cell(why(cell, k), True)]
        else:
            row += [Cell(with_margin(cell)), Cell(str(cell["n"]))]
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
    table = Table("sizes", "Team-size changes", ["Week", "Members before", "Members after"])
    for change in changes:
        table.rows.append(
            [
                Cell(change["week"], header=True),
                Cell(str(change["before"])),
                Cell(str(change["after"])),
            ]
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
        "label": LEVERS[lever].label,
        "labels": [w["week"] for w in weeks],
        "values": [
            None if w["levers"][lever]["suppressed"] else w["levers"][lever]["value"] for w in weeks
        ],
        "markers": [
            {"index": c["index"], "text": f"{c['before']} → {c['after']}"}
            for c in size_changes(weeks)
        ],
        "concern": LEVERS[lever].concern,
    }


def as_csv(heading: Sequence[str], tables: Sequence[Table]) -> str:
    """The page's tables as CSV: the heading lines, then per table its title, its header row
    and its rows, a blank line between tables. Text starting like a formula is quoted with a
    leading apostrophe, so a spreadsheet shows it instead of running it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for line in heading:
        writer.writerow([safe(line)])
    for table in tables:
        writer.writerow([])
        writer.writerow([safe(table.title)])
        writer.writerow([safe(c) for c in table.columns])
        for row in table.rows:
            writer.writerow([safe(c.text) for c in row])
    return out.getvalue()


def safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
