"""Every dashboard page and CSV through Flask's test client, on real PostgreSQL: who may see
what (403 for employees everywhere, managers of a team or a team above it, admins for the
organisation), suppression (no number of a small team anywhere in a page or a CSV), the CSV
being the page's tables cell for cell, and no link to a person."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask
from sqlalchemy import text

from services.gateway.dashboards import views
from shared.domain import levers as model
from shared.eventlog import EventStore
from shared.i18n import format_week
from shared.projections.levers import week_sums
from tests.dashboards.conftest import Dash, csv_matches_screen, login, norm, page_tables
from tests.integration.levers_world import label

pytestmark = pytest.mark.integration
K = 5
HIDDEN = f"fewer than {K} people"


def urls(dash: Dash) -> list[str]:
    eng, tiny = dash.team("Eng"), dash.team("Tiny")
    return [
        "/dashboards/",
        f"/dashboards/teams/{eng}",
        f"/dashboards/teams/{eng}/export.csv",
        f"/dashboards/teams/{tiny}/levers/psychological_safety",
        f"/dashboards/teams/{tiny}/levers/time_pressure/export.csv",
        "/dashboards/org",
        "/dashboards/org/export.csv",
        "/dashboards/org/levers/participation",
        "/dashboards/org/levers/participation/export.csv",
    ]


def get(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def test_employees_get_403_on_every_dashboard_url(app: Flask, dash: Dash):
    employee = login(app, dash.emails["employee"])
    for path in urls(dash):
        response = employee.get(path)
        assert response.status_code == 403, path
        assert response.mimetype == "application/problem+json"
    assert 'href="/dashboards' not in get(employee, "/")


def test_logged_out_visitors_are_sent_to_the_login(app: Flask, dash: Dash):
    client = app.test_client()
    for path in urls(dash):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_managers_see_their_teams_and_those_below_only(app: Flask, dash: Dash):
    platform = login(app, dash.emails["platform"])
    eng, tiny = dash.team("Eng"), dash.team("Tiny")
    get(platform, f"/dashboards/teams/{dash.team('Platform')}?week={dash.week}")
    get(platform, f"/dashboards/teams/{tiny}", 403)  # a sibling
    get(platform, f"/dashboards/teams/{eng}/export.csv", 403)  # the parent
    get(platform, "/dashboards/org", 403)  # not an admin
    get(platform, f"/dashboards/teams/{eng}/levers/time_pressure", 403)
    manager = login(app, dash.emails["eng"])
    get(manager, f"/dashboards/teams/{dash.team('Mobile')}?week={dash.week}")  # below Eng
    get(manager, f"/dashboards/teams/{tiny}?week={dash.week}", 403)  # not below Eng
    get(manager, f"/dashboards/teams/{eng}/levers/nonsense", 404)
    get(manager, "/dashboards/teams/00000000-0000-0000-0000-000000000000", 404)


def test_the_landing_page_and_the_index_lead_to_the_dashboards(app: Flask, dash: Dash):
    manager = login(app, dash.emails["eng"])
    assert 'href="/dashboards/"' in get(manager, "/")
    response = manager.get("/dashboards/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dashboards/teams/{dash.team('Eng')}")
    admin = login(app, dash.emails["admin"])
    response = admin.get("/dashboards/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboards/org")


def test_the_overview_shows_levers_nudges_and_sub_teams(app: Flask, dash: Dash):
    manager = login(app, dash.emails["eng"])
    html = get(manager, f"/dashboards/teams/{dash.team('Eng')}?week={dash.week}")
    tables = page_tables(html).tables
    assert set(tables) == {"week", "teams", "nudges", "history"}
    levers = {row[0]: row for row in tables["week"][1:]}
    assert set(levers) == {
        "Psychological safety", "Time pressure", "Clear incentives", "Ambiguous evaluation",
        "Participation"}  # fmt: skip
    # 6 + 11, everyone acted: a released value, noised, with its 90% margin
    assert re.fullmatch(r"\d+\.\d% ± \d+\.\d", levers["Participation"][1])
    assert levers["Participation"][2] == "17"
    assert levers["Psychological safety"][2] == "12"  # pulse answers
    assert len(tables["history"]) == 1 + 12
    assert tables["history"][-1][-1] == "17" and tables["history"][-2][-1] == "12"
    heat = {row[0]: row[1:] for row in tables["teams"][1:]}
    assert set(heat) == {"Platform", "Mobile"}
    # 11 people: too noisy for a reading (good, watch, concern), which needs a margin <= 20
    assert re.fullmatch(r"\d+\.\d% ± \d+\.\d", heat["Mobile"][4])
    assert html.count('class="spark"') == 5  # a sparkline per card
    # The heat-map rows open the sub-team's own dashboard.
    assert f'href="/dashboards/teams/{dash.team("Mobile")}"' in html


def _raw_numbers(store: EventStore, dash: Dash, team: str) -> set[str]:
    """Every number the read model holds for a team, unsuppressed: none may be on a page."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM lever_team_weeks WHERE team_id = :t"), {"t": dash.team(team)}
        ).all()
    found = set()
    for row in rows:
        for lever in model.levers_of(week_sums(row)).values():
            if lever.value is not None:
                found.add(f"{lever.value:.1f}")
        sums = week_sums(row)
        for item in model.ITEMS:
            value, _ = sums.item(item)
            if value is not None:
                found.add(f"{value:.1f}")
    return found


def _digits_in_attributes(html: str) -> list[str]:
    """Attribute values with a digit, other than links, ids and the page's static assets."""
    values = re.findall(r'\s(?!charset|href|src|id|aria-labelledby|aria-describedby|value|content|'
                        r'viewBox|width|height|x1|x2|y1|y2|points|cx|cy|r|stroke-dasharray|'
                        r'hx-headers)[\w-]+="([^"]*\d[^"]*)"', html)  # fmt: skip
    fixed = re.compile(rf"{HIDDEN}|\b(12|26) weeks|0 to 100")  # the page's own words
    return [v for v in values if re.search(r"\d", fixed.sub("", v))]


def csv_tables(body: str) -> dict[str, list[list[str]]]:
    """A dashboard CSV's tables by title: header row, then rows (the heading block left out)."""
    tables = {}
    for block in body.split("\r\n\r\n")[1:]:
        if block.strip():
            title, *rows = list(csv.reader(io.StringIO(block)))
            tables[norm(title[0])] = rows
    return tables


def test_a_small_team_shows_no_number_in_page_or_csv(app: Flask, store: EventStore, dash: Dash):
    manager = login(app, dash.emails["tiny"])
    secret = _raw_numbers(store, dash, "Tiny")
    assert secret, "the read model holds Tiny's numbers (they exist, only hidden)"
    base = f"/dashboards/teams/{dash.team('Tiny')}"
    pages = [f"{base}?week={dash.week}", f"{base}/export.csv?week={dash.week}"]
    for lever in ("psychological_safety", "time_pressure", "participation"):
        pages += [f"{base}/levers/{lever}?week={dash.week}",
                  f"{base}/levers/{lever}/export.csv?week={dash.week}"]  # fmt: skip
    for path in pages:
        body = get(manager, path)
        leaked = {s for s in secret if re.search(rf"(?<![\d.]){re.escape(s)}(?![\d])", body)}
        assert not leaked, path
        if "export.csv?" in path:
            cells = [cell for rows in csv_tables(body).values() for row in rows[1:]
                     for cell in row[1:]]  # fmt: skip
            assert cells and all(c == HIDDEN or not re.search(r"\d", c) for c in cells), path
        else:
            assert _digits_in_attributes(body) == [], path
            assert '"values": [null' in body or "lever-data" not in body
    html = get(manager, pages[0])
    # the cards and every week of the table: too few people, or (before hiring) nothing
    reasons = (HIDDEN, "no data yet", "week not released yet")
    assert sum(html.count(reason) for reason in reasons) >= 5 + 5 * 12
    assert html.count(HIDDEN) >= 5 + 5 * 4
    assert "polyline" not in html  # no sparkline: every week is hidden


def test_the_csv_is_the_page_cell_for_cell(app: Flask, dash: Dash):
    manager = login(app, dash.emails["eng"])
    admin = login(app, dash.emails["admin"])
    eng = dash.team("Eng")
    for client, page in (
        (manager, f"/dashboards/teams/{dash.team('Platform')}"),
        (manager, f"/dashboards/teams/{eng}"),
        (manager, f"/dashboards/teams/{eng}/levers/psychological_safety"),
        (manager, f"/dashboards/teams/{eng}/levers/time_pressure"),
        (admin, "/dashboards/org"),
    ):
        html = get(client, f"{page}?week={dash.week}")
        shown = page_tables(html)
        response = client.get(f"{page}/export.csv?week={dash.week}")
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        blocks = response.get_data(as_text=True).split("\r\n\r\n")
        heading, tables = blocks[0], [b for b in blocks[1:] if b.strip()]
        assert dash.week in heading and HIDDEN in heading
        assert len(tables) == len(shown.tables), page
        for block, (key, rows) in zip(tables, shown.tables.items(), strict=True):
            title, header, *csv_rows = list(csv.reader(io.StringIO(block)))
            assert [norm(title[0])] == [shown.captions[key]], page
            csv_matches_screen(header, csv_rows, rows)


TOO_NOISY = "too few people for its noise"


def test_lever_details_break_the_levers_down(app: Flask, dash: Dash):
    manager = login(app, dash.emails["platform"])
    base = f"/dashboards/teams/{dash.team('Platform')}/levers"
    safety = page_tables(get(manager, f"{base}/psychological_safety?week={dash.week}")).tables
    assert len(safety["lever"]) == 1 + 26
    assert len(safety["pulse_items"]) == 1 + 7
    # 6 answers a week: a safety item over 6 people is noisier than half its scale, hidden as
    # such (docs/privacy.md, "Accuracy"), not as fewer than k
    assert all(row[1] == TOO_NOISY for row in safety["pulse_items"][1:])
    assert "sizes" not in safety  # Platform's size did not change
    pressure = page_tables(get(manager, f"{base}/time_pressure?week={dash.week}")).tables
    last = pressure["calendar"][-1]
    # six people with calendars: each calendar component is too noisy to publish
    assert last[0] == named(dash.week) and last[-1] == TOO_NOISY
    assert not [cell for cell in last if " ± " in cell]
    incentives = page_tables(get(manager, f"{base}/clear_incentives?week={dash.week}")).tables
    assert incentives["rewards"][0][1] == "Rewarded actions with a confirmed reward (%)"
    assert incentives["rewards"][-1] == [named(dash.week), HIDDEN, HIDDEN]  # one person rewarded
    eng = login(app, dash.emails["eng"])
    mobile = get(
        eng, f"/dashboards/teams/{dash.team('Mobile')}/levers/participation?week={dash.week}"
    )
    # Mobile grew from 6 to 11: its weeks of 6 were too noisy to publish, so no change of
    # size is marked (a size is shown only with a figure)
    assert "sizes" not in page_tables(mobile).tables and '"markers": []' in mobile


def test_nudges_cite_their_number_and_the_seeds_step(app: Flask, dash: Dash):
    manager = login(app, dash.emails["eng"])
    html = get(manager, f"/dashboards/teams/{dash.team('Mobile')}?week={dash.week}")
    nudges = page_tables(html).tables["nudges"][1:]
    for _, because, step in nudges:
        assert re.search(r"\d", because), because
        assert step
    # Whether a nudge shows depends on the noise (a noisy figure nudges no one): the rule is
    # tested on its own in tests/unit/test_releases.py.


def test_a_bad_week_is_reported_next_to_the_field(app: Flask, dash: Dash):
    manager = login(app, dash.emails["platform"])
    base = f"/dashboards/teams/{dash.team('Platform')}"
    for week, message in (("2026-W99", "ISO week"), ("2019-W01", "last 26 weeks"), ("x", "ISO")):
        response = manager.get(f"{base}?week={week}")
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert 'aria-invalid="true"' in html and 'id="week-error"' in html
        assert message in html.split('id="week-error"')[1][:200]
        response = manager.get(f"{base}/export.csv?week={week}")
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
        assert message in response.get_json()["errors"]["week"][0]


def test_no_dashboard_link_leads_to_a_person(app: Flask, dash: Dash):
    admin = login(app, dash.emails["admin"])
    manager = login(app, dash.emails["eng"])
    pages = [(admin, "/dashboards/org"), (manager, f"/dashboards/teams/{dash.team('Eng')}")]
    for lever in ("psychological_safety", "time_pressure", "clear_incentives"):
        pages.append((manager, f"/dashboards/teams/{dash.team('Eng')}/levers/{lever}"))
    people = {str(p) for team in dash.world.people.values() for p in team}
    for client, path in pages:
        html = get(client, f"{path}?week={dash.week}")
        main = html.split('<main id="main">')[1]
        links = re.findall(r'href="([^"]+)"', main)
        assert links and all(link.startswith("/dashboards/") for link in links), links
        assert not any(person in html for person in people)


def test_every_hidden_figure_says_why_on_the_page_and_in_the_csv(app: Flask, dash: Dash):
    manager = login(app, dash.emails["eng"])
    eng = f"/dashboards/teams/{dash.team('Eng')}"
    this_week = label(dash.base + 1)  # open: never released
    html = get(manager, f"{eng}?week={this_week}")
    cards = page_tables(html).tables["week"][1:]
    assert all(row[1] == "week not released yet" for row in cards)
    assert "Figures are released once the week has closed." in html
    body = get(manager, f"{eng}/export.csv?week={this_week}")
    heading = body.split("\r\n\r\n")[0]
    assert "at least 5 people" in heading  # the organisation's actual k
    for reason in ("no data yet", HIDDEN, "hidden to protect a smaller group",
                   "week not released yet"):  # fmt: skip
        assert reason in heading
    rows = csv_tables(body)[f"Levers, {named(this_week)}"][1:]
    assert rows and all(row[1] == "week not released yet" for row in rows)


def test_the_page_names_the_week_it_shows(app: Flask, dash: Dash):
    manager = login(app, dash.emails["eng"])
    eng = f"/dashboards/teams/{dash.team('Eng')}"
    shown = named(dash.week)
    html = norm(get(manager, f"{eng}?week={dash.week}"))
    head = html.split('class="week-shown"')[1].split("</p>")[0]
    assert f">{shown}: the latest week released." in head
    nudges = html.split('id="nudges-title">')[1].split("</h2>")[0]
    assert nudges == f"What to try next ({shown})"
    assert re.search(rf'<option value="{dash.week}" selected>{shown}', html)
    # The default week: the latest due for release (the one before on a Monday, in the grace
    # hours), named as such in the chooser and in the heading.
    default = norm(get(manager, eng))
    chosen = re.search(r'<option value="([^"]+)" selected>([^<]+)</option>', default)
    assert chosen and chosen.group(2) == f"{named(chosen.group(1))} (latest release)"
    assert named(chosen.group(1)) in default.split('id="nudges-title">')[1][:80]
    assert "this week" not in default.split('id="nudges-title">')[1][:80]
    this_week = label(dash.base + 1)
    html = norm(get(manager, f"{eng}?week={this_week}"))
    head = html.split('class="week-shown"')[1].split("</p>")[0]
    assert named(this_week) in head and "this week, still open" in head
    earlier = norm(get(manager, f"{eng}?week={label(dash.base - 2)}"))
    assert "an earlier week" in earlier.split('class="week-shown"')[1].split("</p>")[0]


def test_a_team_under_k_is_told_once_what_to_do(app: Flask, dash: Dash):
    manager = login(app, dash.emails["tiny"])
    html = get(manager, f"/dashboards/teams/{dash.team('Tiny')}?week={dash.week}")
    why = html.split('id="why-hidden"')[1].split("</section>")[0]
    assert "Why Tiny shows no figures" in why
    assert "Tiny counts 2 people" in why and "3 more people are needed" in why  # k = 5
    assert "Admin → Invite" in why and "Admin → Teams" in why
    assert html.count('id="why-hidden"') == 1
    assert "Shown when at least" not in html  # no longer on every card
    assert [c for c in page_tables(html).tables["week"][1:] if c[1] != HIDDEN] == []
    # A team big enough, its figures all shown: no explanation.
    platform = login(app, dash.emails["platform"])
    html = get(platform, f"/dashboards/teams/{dash.team('Platform')}?week={dash.week}")
    assert 'id="why-hidden"' not in html or "more people are needed" not in html


def test_the_csv_writes_figures_as_numbers(app: Flask, dash: Dash):
    manager = login(app, dash.emails["eng"])
    response = manager.get(f"/dashboards/teams/{dash.team('Eng')}/export.csv?week={dash.week}")
    assert response.data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark, for Excel
    body = response.get_data(as_text=True)
    assert dash.week in body.split("\r\n\r\n")[0]  # the ISO week code stays in the CSV
    header, *rows = csv_tables(body)[f"Levers, {named(dash.week)}"]
    assert header == ["Lever", "Value (0-100)", "± (90% margin)", "People (n)",
                      "Change since the week before", "Direction", "Reading"]  # fmt: skip
    directions = {"better", "worse", "about the same", "no change", "no comparison"}
    for row in rows:
        lever = row[0]
        if row[1] == HIDDEN:
            continue
        float(row[1]), float(row[2]), int(row[3])  # plain numbers, no unit
        assert row[5] in directions, row
        if row[5] != "no comparison":
            assert views.direction(model_key(lever), float(row[4])) == row[5]
    history = csv_tables(body)[next(t for t in csv_tables(body) if "week by week" in t)]
    assert history[0][1:3] == ["Psychological safety", "Psychological safety ±"]


def named(code: str) -> str:
    """An ISO week as the pages name it (in English), whitespace collapsed."""
    return norm(format_week(code))


def model_key(label: str) -> str:
    return next(key for key, info in views.LEVERS.items() if info.label == label)
