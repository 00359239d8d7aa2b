"""Nudges in the reader's language: each carries its message and values, and
``in_language`` translates them with the catalogue's gettext and the language's numbers."""

from __future__ import annotations

from shared.domain.nudges import employee_nudges, in_language, manager_nudges
from shared.i18n import format_number, gettext, use_locale


def test_an_employee_nudge_reads_in_german_and_french_with_its_numbers():
    capital = {
        "weeks_since_relationship_deposit": 3,
        "flags": ["all_signal_no_substance"],
        "signal_vs_substance": {"ratio": 2.5},
    }
    nudges = {n["rule"]: n for n in employee_nudges(capital)}
    signal = nudges["all_signal_no_substance"]
    assert (
        signal["because"] == "visibility is 2.5x the capability colleagues confirmed over 4 weeks"
    )
    with use_locale("de"):
        german = in_language(signal, gettext, format_number)
    assert "2,5-Fache" in german["because"] and german["suggestion"].startswith("Wechseln Sie")
    with use_locale("fr"):
        french = in_language(nudges["relationship_deposit"], gettext, format_number)
    assert french["because"] == "votre dernier dépôt relationnel date d'il y a 3 semaines"
    with use_locale("en"):
        assert in_language(signal, gettext, format_number)["because"] == signal["because"]


def test_a_manager_nudge_keeps_its_english_text_and_translates():
    levers = {"time_pressure": {"value": 72.5, "suppressed": False}}
    components = {"suppressed": False, "meeting_share": 62.5}
    (focus,) = manager_nudges(levers, components)
    assert focus["because"] == (
        "time pressure is 72.5 (threshold 60); meetings fill 62.5% of working hours"
    )
    with use_locale("fr"):
        french = in_language(focus, gettext, format_number)["because"]
    assert french.replace("\u202f", " ").replace("\xa0", " ") == (
        "la pression temporelle est à 72,5 (seuil 60) ; les réunions occupent 62,5 % "
        "des heures de travail"
    )
    old = {k: v for k, v in focus.items() if not k.startswith("because_")}  # stored before
    with use_locale("de"):
        assert in_language(old, gettext)["because"] == focus["because"]  # English, not lost
