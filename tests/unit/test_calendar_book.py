"""services/calendar_provider/book.py: a full listing is made once for its pages, and a
change to the account (a moved meeting, another profile) shows in the next listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.calendar_provider import first_monday
from services.calendar_provider.book import CalendarBook, Page
from services.calendar_provider.storage import ProviderStorage

EMAIL = "ada@example.org"


def listing(book: CalendarBook, size: int = 40) -> list[Page]:
    now = datetime.now(UTC)
    pages, token = [], None
    while True:
        page = book.page(
            EMAIL,
            sync_token=None,
            page_token=token,
            size=size,
            window=(now - timedelta(weeks=4), now),
        )
        pages.append(page)
        if not page.next_page:
            return pages
        token = page.next_page


def test_a_listings_pages_cover_it_once_in_order(tmp_path: Path) -> None:
    book = CalendarBook(ProviderStorage(tmp_path / "p.sqlite3"), first_monday(4), 5)
    items = [m for page in listing(book) for m in page.items]
    assert len(pages := listing(book)) > 1 and sum(len(p.items) for p in pages) == len(items)
    assert len({m.id for m in items}) == len(items)
    assert [(m.start, m.id) for m in items] == sorted((m.start, m.id) for m in items)
    assert all(m.status != "cancelled" for m in items)


def test_a_change_shows_in_the_next_listing(tmp_path: Path) -> None:
    storage = ProviderStorage(tmp_path / "p.sqlite3")
    book = CalendarBook(storage, first_monday(4), 5)
    before = {m.id: m for page in listing(book) for m in page.items}
    moved, cancelled = list(before.values())[len(before) // 2 : len(before) // 2 + 2]
    storage.record_change(EMAIL, moved.moved(moved.end, moved.end + timedelta(hours=1)))
    storage.record_change(EMAIL, cancelled.cancelled())
    after = {m.id: m for page in listing(book) for m in page.items}
    assert after[moved.id].start == moved.end and cancelled.id not in after
    storage.set_profile(EMAIL, "boss@example.org", ["colleague@example.org"])
    again = [m for page in listing(book) for m in page.items]
    assert any("boss@example.org" in (a.email for a in m.attendees) for m in again)
    assert not any("boss@example.org" in (a.email for a in m.attendees) for m in after.values())
