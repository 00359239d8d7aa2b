"""The dashboards in German and French: pages, plural forms, numbers and weeks formatted for
the reader, the CSV's numbers left plain, problem+json details translated, and the manager
nudges saying in English what the read model says."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask

from services.gateway.dashboards import nudge_text, wording
from shared.domain import nudges as rules
from shared.i18n import format_week, use_locale
from tests.dashboards.conftest import Dash, login, norm, page_tables

pytestmark = pytest.mark.integration


def get(client, path: str, locale: str, status: int = 200) -> str:
    response = client.get(path, headers={"Accept-Language": locale})
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("de", ("Psychologische Sicherheit", "Zeitdruck", "Veränderung zur Vorwoche", "KW ")),
        ("fr", ("Sécurité psychologique", "Pression temporelle", "Évolution depuis", "Semaine ")),
    ],
)
def test_the_overview_reads_in_the_readers_language(
    app: Flask, dash: Dash, locale: str, words: tuple[str, ...]
):
    manager = login(app, dash.emails["eng"])
    html = get(manager, f"/dashboards/teams/{dash.team('Eng')}?week={dash.week}", locale)
    text = norm(html)
    for word in words:
        assert word in text, word
    with use_locale(locale):
        named = norm(format_week(dash.week))
    assert (
        named in text and dash.week not in text.split('<main id="main">')[1].split("<select")[0]
    )  # the page names the week; the ISO code is only a form value
    week = page_tables(html).tables["week"]
    shown = [row[1] for row in week[1:] if "±" in row[1]]
    assert shown and all(re.fullmatch(r"\d+,\d( %)? ± \d+,\d", norm(v)) for v in shown), shown
    assert "Show these numbers" not in html and "What to try" not in html


def test_a_team_under_k_is_told_in_german_with_plural_forms(app: Flask, dash: Dash):
    manager = login(app, dash.emails["tiny"])
    html = norm(get(manager, f"/dashboards/teams/{dash.team('Tiny')}?week={dash.week}", "de"))
    why = html.split('id="why-hidden"')[1].split("</section>")[0]
    assert "Warum Tiny keine Zahlen zeigt" in why
    assert "Tiny zählt 2 Personen" in why and "Es fehlen noch 3 Personen." in why
    assert "weniger als 5 Personen" in html
    french = norm(get(manager, f"/dashboards/teams/{dash.team('Tiny')}?week={dash.week}", "fr"))
    assert "Tiny compte 2 personnes" in french and "Il manque encore 3 personnes." in french


def test_each_locale_uses_its_plural_forms():
    expected = {
        "en": ("fewer than 1 person", "fewer than 5 people"),
        "de": ("weniger als 1 Person", "weniger als 5 Personen"),
        "fr": ("moins de 1 personne", "moins de 5 personnes"),
    }
    for locale, (one, five) in expected.items():
        with use_locale(locale):
            assert (wording.hidden(1), wording.hidden(5)) == (one, five)
    with use_locale("fr"):  # French: the singular for 0 and 1
        assert wording.hidden(0) == "moins de 0 personne"


def test_the_csv_speaks_german_but_keeps_plain_numbers_and_iso_weeks(app: Flask, dash: Dash):
    manager = login(app, dash.emails["eng"])
    response = manager.get(
        f"/dashboards/teams/{dash.team('Eng')}/export.csv?week={dash.week}",
        headers={"Accept-Language": "de"},
    )
    body = response.get_data(as_text=True)
    assert response.data.startswith(b"\xef\xbb\xbf")
    heading, *blocks = body.split("\r\n\r\n")
    assert f"Woche {dash.week}" in heading and "mindestens 5 Personen" in heading
    history = next(b for b in blocks if "Woche für Woche" in b)
    _title, header, *rows = list(csv.reader(io.StringIO(history)))
    assert header[:3] == ["Woche", "Psychologische Sicherheit", "Psychologische Sicherheit ±"]
    assert all(re.fullmatch(r"\d{4}-W\d{2}", row[0]) for row in rows)  # ISO codes
    numbers = [c for row in rows for c in row[1:] if re.search(r"\d", c)]
    assert numbers and all(re.fullmatch(r"-?\d+(\.\d+)?", c) for c in numbers), numbers


def test_problem_details_are_translated(app: Flask, dash: Dash):
    employee = login(app, dash.emails["employee"])
    response = employee.get("/dashboards/org", headers={"Accept-Language": "fr"})
    assert response.status_code == 403
    assert "réservés aux managers" in response.get_json()["detail"]
    manager = login(app, dash.emails["platform"])
    base = f"/dashboards/teams/{dash.team('Platform')}"
    response = manager.get(f"{base}/export.csv?week=x", headers={"Accept-Language": "de"})
    assert response.status_code == 422
    assert re.fullmatch(
        r"Geben Sie eine ISO-Woche wie \d{4}-W\d{2} an\.", response.get_json()["errors"]["week"][0]
    )
    get(manager, f"{base}/levers/nonsense", "de", 404)


def test_the_nudges_say_in_english_what_the_read_model_says():
    """The dashboards translate the manager nudges by rule: in English each reads word for
    word as shared/domain/nudges.py writes it (a changed rule text fails here)."""
    levers = {
        "time_pressure": {"suppressed": False, "value": 66.7},
        "psychological_safety": {"suppressed": False, "value": 41.2},
        "clear_incentives": {"suppressed": False, "value": 12.5},
        "ambiguous_evaluation": {"suppressed": False, "value": 70.0},
        "participation": {"suppressed": False, "value": 33.3},
    }
    found = []
    for components in ({"suppressed": False, "meeting_share": 48.5}, {"suppressed": True}):
        for one in levers:  # each rule alone (at most three nudges a week)
            for nudge in rules.manager_nudges({one: levers[one]}, components):
                found.append(nudge["rule"])
                with use_locale("en"):
                    row = nudge_text.nudge_row(nudge)
                assert row == (nudge["suggestion"], nudge["because"], nudge["step"]), row
    assert set(found) == set(nudge_text.SUGGESTIONS)
    pressure = {"time_pressure": levers["time_pressure"]}
    (nudge,) = rules.manager_nudges(pressure, {"suppressed": False, "meeting_share": 48.5})
    with use_locale("de"):
        _suggestion, because, _step = nudge_text.nudge_row(nudge)
    assert "Zeitdruck liegt bei 66,7 (Schwelle 60)" in because and "48,5" in because
