"""The calendars the provider serves: generated meetings overlaid with recorded changes, and
the listings both API shapes page through (full listings and changes since a sync token).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from services.calendar_provider.generator import Meeting, Profile, calendar
from services.calendar_provider.storage import ProviderStorage


class SyncTokenExpired(Exception):
    """The sync (or delta) token is from an older epoch: a full sync is required (410)."""


class BadToken(ValueError):
    """A page or sync token that this provider did not issue."""


def encode_token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_token(token: str) -> dict[str, Any]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError):
        raise BadToken(token) from None
    if not isinstance(payload, dict):
        raise BadToken(token)
    return payload


@dataclass
class Page:
    items: list[Meeting]
    next_page: str | None
    next_sync: str | None
    full: bool


@lru_cache(maxsize=512)
def _generated(profile: Profile, first_monday: date, weeks: int) -> dict[str, Meeting]:
    return {m.id: m for m in calendar(profile, first_monday, weeks)}


class CalendarBook:
    """Every account's calendar over a fixed window of ISO weeks.

    Parameters:
        storage: where changes, profiles and epochs are kept.
        first_monday: the Monday of the window's first week.
        weeks: how many weeks the generated calendars span.
    """

    def __init__(self, storage: ProviderStorage, first_monday: date, weeks: int):
        self.storage = storage
        self.first_monday = first_monday
        self.weeks = weeks

    def meetings(self, email: str, upto: int | None = None) -> dict[str, Meeting]:
        """The account's meetings (cancelled ones too) as of change ``upto``."""
        account = self.storage.account(email)
        merged = dict(_generated(account.profile, self.first_monday, self.weeks))
        for change in self.storage.changes(email, 0, upto):
            merged[change.id] = change
        return merged

    def meeting(self, email: str, meeting_id: str) -> Meeting | None:
        return self.storage.change(email, meeting_id) or self.meetings(email).get(meeting_id)

    def page(
        self,
        email: str,
        *,
        sync_token: str | None,
        page_token: str | None,
        size: int,
        window: tuple[datetime | None, datetime | None] = (None, None),
    ) -> Page:
        """One page of a full listing (no sync token) or of the changes since a sync token.

        Raises:
            SyncTokenExpired: the sync token is from an older epoch.
            BadToken: a token this provider did not issue.
        """
        account = self.storage.account(email)
        if page_token:
            state = decode_token(page_token)
        else:
            after = None
            if sync_token:
                claims = decode_token(sync_token)
                if claims.get("e") != account.epoch:
                    raise SyncTokenExpired(sync_token)
                after = int(claims["s"])
            state = {
                "e": account.epoch,
                "a": after,
                "u": account.seq,
                "o": 0,
                "w": [w.isoformat() if w else None for w in window],
            }
        if state.get("e") != account.epoch:
            raise SyncTokenExpired(page_token or "")
        upto, offset = int(state["u"]), int(state["o"])
        if state.get("a") is None:
            lo, hi = (
                datetime.fromisoformat(w) if w else None for w in state.get("w", [None, None])
            )
            listing = sorted(
                (
                    m
                    for m in self.meetings(email, upto).values()
                    if m.status != "cancelled"
                    and (lo is None or m.end > lo)
                    and (hi is None or m.start < hi)
                ),
                key=lambda m: (m.start, m.id),
            )
        else:
            listing = self.storage.changes(email, int(state["a"]), upto)
        items = listing[offset : offset + size]
        if offset + size < len(listing):
            return Page(
                items, encode_token({**state, "o": offset + size}), None, state["a"] is None
            )
        return Page(items, None, encode_token({"e": state["e"], "s": upto}), state["a"] is None)

    def window_start(self) -> datetime:
        return datetime.combine(self.first_monday, datetime.min.time())
