"""services/calendar_provider/partial.py: a compiled ``fields`` selection keeps what the
walking one keeps, for the selections Compound and the client libraries send and for any
shape of value."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.calendar_provider.partial import apply_fields, compile_fields, parse_fields
from shared.calendar.providers import GOOGLE_FIELDS

SELECTIONS = [
    GOOGLE_FIELDS,
    "items(id,attendees(self,responseStatus)),nextPageToken",
    "items/id,items/start/dateTime,nextSyncToken",
    "items(start(*),organizer/self)",
    "*",
    "items",
]
NAMES = st.sampled_from(
    ["items", "id", "etag", "start", "dateTime", "attendees", "self", "responseStatus",
     "resource", "organizer", "nextPageToken", "nextSyncToken", "email"]
)  # fmt: skip
LEAVES = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=6),
    max_leaves=30,
)


@given(st.sampled_from(SELECTIONS), VALUES)
def test_a_compiled_selection_keeps_what_the_selection_keeps(text: str, value: Any) -> None:
    tree = parse_fields(text)
    assert compile_fields(tree)(value) == apply_fields(value, tree)


def test_a_town_halls_attendees_keep_only_the_selected_members() -> None:
    crowd = [{"email": f"staff-{i}@example.org", "responseStatus": "accepted"} for i in range(200)]
    me = {"email": "me@example.org", "responseStatus": "tentative", "self": True}
    body = {"items": [{"id": "th", "summary": "Town hall", "attendees": [me, *crowd]}]}
    kept = compile_fields(parse_fields(GOOGLE_FIELDS))(body)
    attendees = kept["items"][0]["attendees"]
    assert attendees[0] == {"self": True, "responseStatus": "tentative"}
    assert attendees[1:] == [{"responseStatus": "accepted"}] * 200
    assert kept["items"][0] == {"id": "th", "attendees": attendees}
