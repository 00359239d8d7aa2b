"""The calendars the provider serves: generated meetings overlaid with recorded changes, and
the listings both API shapes page through (full listings and changes since a sync token).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from services.calendar_provider.generator import Meeting, Profile
from services.calendar_provider.kinds import calendar
from services.calendar_provider.shapes import google_event
from services.calendar_provider.storage import ProviderStorage


class SyncTokenExpired(Exception):
    """The sync (or delta) token is from an older epoch, or is not one this provider issued:
    a full sync is required (410, as Google answers an invalid sync token)."""


class BadToken(ValueError):
    """A page token that this provider did not issue (or that was tampered with)."""


def encode_token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def decode_token(token: str) -> dict[str, Any]:
    """The claims of a token; :class:`BadToken` when it does not decode to an object."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError):
        raise BadToken(token) from None
    if not isinstance(payload, dict):
        raise BadToken(token)
    return payload


def _whole(value: Any, *, optional: bool = False) -> bool:
    if optional and value is None:
        return True
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _page_state(token: str) -> dict[str, Any]:
    """A page token's state, every field checked (a decodable token may still be forged)."""
    state = decode_token(token)
    window = state.get("w")
    ok = (
        _whole(state.get("e"))
        and _whole(state.get("a"), optional=True)
        and _whole(state.get("u"))
        and _whole(state.get("o"))
        and isinstance(window, list)
        and len(window) == 2
        and all(w is None or isinstance(w, str) for w in window)
        and isinstance(state.get("x", {}), dict)
    )
    if not ok or not isinstance(window, list):
        raise BadToken(token)
    try:
        aware = all(datetime.fromisoformat(w).tzinfo for w in window if w)
    except ValueError:
        raise BadToken(token) from None
    if not aware:
        raise BadToken(token)
    return state


def _sync_claims(token: str) -> dict[str, Any]:
    try:
        claims = decode_token(token)
    except BadToken:
        raise SyncTokenExpired(token) from None
    if not (_whole(claims.get("e")) and _whole(claims.get("s"))):
        raise SyncTokenExpired(token)
    if not isinstance(claims.get("x", {}), dict):
        raise SyncTokenExpired(token)
    return claims


@dataclass
class Page:
    items: list[Meeting]
    next_page: str | None
    next_sync: str | None
    full: bool
    extra: dict[str, Any]  # what the first request asked for (Graph: its $select)


@lru_cache(maxsize=512)
def _generated(profile: Profile, first_monday: date, weeks: int) -> dict[str, Meeting]:
    """An account's generated calendar, each event rendered in Google's shape now (as a
    provider stores its events): a listing only picks its fields and serialises them."""
    meetings = {m.id: m for m in calendar(profile, first_monday, weeks)}
    for meeting in meetings.values():
        google_event(meeting, profile.email)
    return meetings


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
        return self._merged(email, self.storage.account(email).profile, upto)

    def _merged(self, email: str, profile: Profile, upto: int | None) -> dict[str, Meeting]:
        merged = dict(_generated(profile, self.first_monday, self.weeks))
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
        extra: dict[str, Any] | None = None,
    ) -> Page:
        """One page of a full listing (no sync token) or of the changes since a sync token.

        Parameters:
            extra: request options that later pages and the next sync token carry along.

        Raises:
            SyncTokenExpired: the sync token is from an older epoch or not one issued here.
            BadToken: a page token this provider did not issue.
        """
        account = self.storage.account(email)
        if page_token:
            state = _page_state(page_token)
        else:
            after = None
            if sync_token:
                claims = _sync_claims(sync_token)
                if claims["e"] != account.epoch or claims["s"] > account.seq:
                    raise SyncTokenExpired(sync_token)
                after = claims["s"]
                extra = claims.get("x", extra)
            state = {
                "e": account.epoch,
                "a": after,
                "u": account.seq,
                "o": 0,
                "w": [w.isoformat() if w else None for w in window],
                "x": extra or {},
            }
        state.setdefault("x", {})
        if state["e"] != account.epoch:
            raise SyncTokenExpired(page_token or "")
        upto, offset = min(state["u"], account.seq), state["o"]
        listing: Sequence[Meeting]
        if state["a"] is None:
            window_text = (state["w"][0], state["w"][1])
            listing = _listing(self, email, account.profile, account.seq, upto, window_text)
        else:
            listing = self.storage.changes(email, state["a"], upto)
        items, full, carried = list(listing[offset : offset + size]), state["a"] is None, state["x"]
        if offset + size < len(listing):
            return Page(items, encode_token({**state, "o": offset + size}), None, full, carried)
        following = encode_token({"e": state["e"], "s": upto, "x": carried})
        return Page(items, None, following, full, carried)

    def window_start(self) -> datetime:
        return datetime.combine(self.first_monday, datetime.min.time())


@lru_cache(maxsize=128)
def _listing(
    book: CalendarBook,
    email: str,
    profile: Profile,
    seq: int,
    upto: int,
    window: tuple[str | None, str | None],
) -> tuple[Meeting, ...]:
    """A full listing in page order: the meetings in ``window`` (ISO times) that are not
    cancelled, as of change ``upto``. Made once for all its pages; ``seq``, the account's
    latest change, is part of the key: any change to the account makes a new listing."""
    lo, hi = (datetime.fromisoformat(w) if w else None for w in window)
    return tuple(
        sorted(
            (
                m
                for m in book._merged(email, profile, upto).values()
                if m.status != "cancelled"
                and (lo is None or m.end > lo)
                and (hi is None or m.start < hi)
            ),
            key=lambda m: (m.start, m.id),
        )
    )
