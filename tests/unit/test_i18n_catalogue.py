"""Languages: the shipped catalogues are complete, the reader's language is chosen in the
documented order, and weeks, dates and numbers are formatted for each language, hostile
values included."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.i18n import (
    LOCALES,
    count_weeks,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_week,
    gettext,
    select_locale,
    use_locale,
    week_label,
)
from shared.i18n.catalogue import PSEUDO, pseudo, read_catalogue
from shared.i18n.extract import check, extract
from shared.i18n.selection import negotiate


def plain(text: str) -> str:
    """CLDR's thin and no-break spaces as plain spaces."""
    spaces = text.replace("\u2009", " ").replace("\u202f", " ").replace("\xa0", " ")
    return spaces.replace("\u2013", "-")  # and the en dash between two days as a hyphen


def test_every_message_of_the_code_is_translated_in_every_shipped_language():
    problems = check()
    assert not problems, "\n".join(map(str, problems[:50])) + f"\n({len(problems)} in all)"


def test_the_extraction_finds_messages_in_templates_and_python():
    found = extract(["shared/i18n"])
    assert "Week %(number)d, %(dates)s" in found


def test_each_language_has_two_plural_forms_used_by_count():
    for locale in LOCALES[1:]:
        catalogue = read_catalogue(locale)
        assert catalogue.num_plurals == 2
    with use_locale("fr"):  # French: singular for 0 and 1
        assert [count_weeks(n) for n in (0, 1, 2)] == ["0 semaine", "1 semaine", "2 semaines"]
    with use_locale("de"):
        assert [count_weeks(n) for n in (0, 1, 2)] == ["0 Wochen", "1 Woche", "2 Wochen"]
    with use_locale("en"):
        assert [count_weeks(n) for n in (0, 1, 2)] == ["0 weeks", "1 week", "2 weeks"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-CH,fr;q=0.5", "de"),
        ("fr-FR;q=0.9, de;q=0.8", "fr"),
        ("es, fr;q=0.1", "fr"),
        ("de;q=0, fr;q=0.2", "fr"),  # q=0: refused
        ("*", None),
        ("", None),
        (None, None),
        ("de;q=2", None),  # out of range: ignored
        ("de;q=abc", None),
        ("de;foo=1", None),
        (";;;,,,", None),
        ("x" * 600, None),  # over-long: ignored
        ("ja, " * 50 + "de", None),  # only the first 20 ranges count
        ("EN-gb", "en"),
        ("de_AT", "de"),
        ("en-XA", "en"),  # the pseudo-locale only where the tests ask for it
    ],
)
def test_accept_language_is_negotiated_and_hostile_headers_are_ignored(header, expected):
    assert negotiate(header) == expected


def test_the_person_then_the_browser_then_the_organisation_then_english():
    assert select_locale("fr", "de", "en") == "fr"
    assert select_locale("", "de", "fr") == "de"
    assert select_locale(None, "es", "fr") == "fr"
    assert select_locale(None, None, None) == "en"
    assert select_locale("xx", None, "zz") == "en"  # unknown values never pass through


@pytest.mark.parametrize(
    ("locale", "week", "expected"),
    [
        ("en", "2026-W49", "Week 49, 30 Nov - 6 Dec"),
        ("de", "2026-W49", "KW 49, 30. Nov. - 6. Dez."),
        ("fr", "2026-W49", "Semaine 49, 30 nov. - 6 déc."),
        ("en", "2026-W53", "Week 53, 28 Dec - 3 Jan"),  # 2026 has 53 weeks
        ("en", "0001-W01", "Week 1, 1 - 7 Jan"),
        ("de", (9999, 52), "KW 52, 27.-31. Dez."),  # the calendar ends on a Friday
    ],
)
def test_weeks_are_named_with_their_days(locale, week, expected):
    with use_locale(locale):
        assert plain(format_week(week)) == expected


def test_a_week_across_new_year_can_carry_its_years():
    with use_locale("en"):
        assert plain(format_week("2026-W01", year=True)) == "Week 1, 29 Dec 2025 - 4 Jan 2026"
        assert week_label(date(2026, 12, 31)) == "Week 53"
    with pytest.raises(ValueError):
        format_week("2026-W54")


def test_a_week_named_once_per_language_stays_in_its_language():
    """Week names are kept per language (a page names forty): asking again in another
    language, or with the year, never returns the text made for the first."""
    texts = []
    for locale in ("en", "de", "fr", "en", "de"):
        with use_locale(locale):
            texts.append((plain(format_week("2026-W49")), plain(format_week((2026, 49)))))
    assert texts[0] == texts[3] == ("Week 49, 30 Nov - 6 Dec",) * 2
    assert texts[1] == texts[4] == ("KW 49, 30. Nov. - 6. Dez.",) * 2
    assert texts[2] == ("Semaine 49, 30 nov. - 6 déc.",) * 2
    with use_locale("en"):
        assert plain(format_week("2026-W49", year=True)) == "Week 49, 30 Nov - 6 Dec 2026"


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kathmandu", "UTC"])
def test_dates_numbers_and_percentages_follow_the_language(zone):
    moment = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    with use_locale("de"):
        assert format_decimal(1234.5) == "1.234,5"
        assert plain(format_percent(0.425)) == "42 %"
        assert format_date(date(1, 1, 1)) == "01.01.1"  # CLDR: the year unpadded
        assert "2026" in format_datetime(moment, zone=zone)
    with use_locale("fr"):
        assert plain(format_decimal(1234.5)) == "1 234,5"
        assert plain(format_percent(0.425, digits=1)) == "42,5 %"
    with use_locale("en"):
        assert format_decimal(1234.5) == "1,234.5"
        assert format_date(date(9999, 12, 31)) == "31 Dec 9999"


def test_the_pseudo_locale_marks_text_and_keeps_placeholders_and_tags():
    assert pseudo("Hello %(name)s, <b>100%%</b> &amp;") == "⟦Ĥéļļö %(name)s, <b>100%%</b> &amp;⟧"
    with use_locale(PSEUDO):
        assert gettext("Week %(number)d", number=3) == "⟦Ŵééķ 3⟧"


def test_a_locale_set_for_a_recipient_ends_with_its_block():
    with use_locale("de"):
        assert gettext("Week %(number)d", number=1) == "KW 1"
        with use_locale("fr"):
            assert gettext("Week %(number)d", number=1) == "Semaine 1"
        assert gettext("Week %(number)d", number=1) == "KW 1"
    assert gettext("Week %(number)d", number=1) == "Week 1"


def test_an_entry_no_code_says_any_more_is_listed():
    from shared.i18n.extract import _obsolete

    found = _obsolete("de", {"Week %(number)d": []})
    assert found and all(p.what.startswith("obsolete in ") for p in found)
    assert "Week %(number)d" not in {p.message for p in found}
