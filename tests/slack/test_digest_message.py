"""When a digest is due in Slack, and its Block Kit message: pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.chat.digest_message import DigestTime, digest_message, due_at, is_due
from shared.domain.nudges import MAX_NUDGES


def nudge(n: int, text: str = "Send a thank-you note") -> dict[str, object]:
    return {
        "rule": "relationship_deposit",
        "because": f"reason {n}",
        "value": n,
        "suggestion": f"{text} {n}",
        "step": "Relationship deposits.",
    }


@pytest.mark.parametrize(
    ("week", "when", "expected"),
    [
        ("2026-W49", DigestTime(), datetime(2026, 12, 7, 9, tzinfo=UTC)),
        # Kiritimati (UTC+14): Monday 00:00 there is Sunday 10:00 UTC
        ("2026-W49", DigestTime(0, 0, "Pacific/Kiritimati"), datetime(2026, 12, 6, 10, tzinfo=UTC)),
        # UTC-12: Sunday 23:00 there is Monday 11:00 UTC, two weeks after the digest's Monday
        ("2026-W49", DigestTime(6, 23, "Etc/GMT+12"), datetime(2026, 12, 14, 11, tzinfo=UTC)),
        # a week with 53 weeks in its year, and the first ISO week of year 1
        ("2026-W53", DigestTime(), datetime(2027, 1, 4, 9, tzinfo=UTC)),
        ("0001-W01", DigestTime(), datetime(1, 1, 8, 9, tzinfo=UTC)),
        # 02:30 does not exist in Berlin on 2027-03-28 (DST starts): read with the offset before
        ("2027-W11", DigestTime(6, 2, "Europe/Berlin"), datetime(2027, 3, 28, 1, tzinfo=UTC)),
    ],
)
def test_due_at_is_the_chosen_wall_clock_of_the_week_after(week, when, expected):
    assert due_at(week, when) == expected


def test_a_digest_is_due_for_a_week_and_never_again_after():
    when = DigestTime(2, 17, "America/Los_Angeles")
    moment = due_at("2026-W49", when)
    assert not is_due("2026-W49", when, moment - timedelta(seconds=1))
    assert is_due("2026-W49", when, moment)
    assert is_due("2026-W49", when, moment + timedelta(days=6, hours=23))
    assert not is_due("2026-W49", when, moment + timedelta(days=7))


def test_the_calendars_last_week_is_due_within_it_and_a_far_east_zone_does_not_overflow():
    when = DigestTime(6, 23, "Etc/GMT+12")
    assert is_due("9998-W52", DigestTime(), datetime(9999, 1, 1, 12, tzinfo=UTC))
    assert due_at("9998-W52", when) == datetime(9999, 1, 4, 11, tzinfo=UTC)


def test_the_message_holds_at_most_the_weekly_limit_and_escapes_slack_markup():
    digest = {
        "week": "2026-W49",
        "nudges": [nudge(n, "Thank <@U0BOSS> & <!channel>") for n in range(5)],
        "teams": [],
    }
    text, blocks = digest_message(digest, "https://compound.example", pulse=False)
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) == MAX_NUDGES
    body = " ".join(b["text"]["text"] for b in sections)
    assert "<@U0BOSS>" not in body and "<!channel>" not in body
    assert "&lt;@U0BOSS&gt; &amp; &lt;!channel&gt;" in body
    assert text.startswith("Your week in Compound (Week 49, 30 Nov\u2009\u2013\u20096 Dec): ")
    assert "pulse" not in str(blocks)


def test_the_pulse_reminder_links_to_the_portal_and_team_nudges_are_apart():
    digest = {
        "week": "2026-W49",
        "nudges": [],
        "teams": [{"team_id": "t", "name": "Platform <b>", "nudges": [nudge(1)]}],
    }
    _, blocks = digest_message(digest, "https://compound.example", pulse=True)
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert texts[0] == "No nudge this week."
    assert "*Team Platform &lt;b&gt;*" in texts
    assert any("<https://compound.example/pulse|answer it on the portal>" in t for t in texts)
