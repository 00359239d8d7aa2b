"""The portal's capital, remembered per person and projection position
(shared/projections/capital/memo.py): Today and My capital show a new action, its removal
and a colleague's erasure on the next request after the projection caught up, and one
person's remembered capital never answers for another; the page's freshness token
(remembered per organisation and position) follows the next event."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import text

from services.gateway.portal import forms
from shared.eventlog import EventStore
from shared.projections import runtime
from shared.projections.capital import memo, read_capital
from shared.read_tokens import PositionTokens
from tests.conftest import TEST_SECRET, DemoOrg
from tests.portal.conftest import Member

pytestmark = pytest.mark.integration

Project = Callable[[], None]


def scores(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-score="(\w+)">([^<]*)<', page))


@pytest.fixture(autouse=True)
def _fresh_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    memo.forget_all()
    monkeypatch.setattr(forms, "_OWN_POSITIONS", {})


def test_a_new_action_and_its_removal_show_on_the_next_request(
    member: Callable[..., Member], project: Project
) -> None:
    m = member()
    before, today_before = m.page("/capital"), m.page("/")
    assert m.page("/capital") == before and m.page("/") == today_before  # kept: the same
    m.post("/actions", {"tactic": "meeting_quick_win", "minutes": "10", "audience": "team"})
    project()
    after = m.page("/capital")
    assert "Your capital starts at zero" in before and "Your capital starts at zero" not in after
    assert float(scores(after)["visibility"]) > float(scores(before)["visibility"])
    assert m.page("/") != today_before
    action = re.search(r'id="action-([0-9a-f-]{36})"', m.page("/history"))
    assert action
    assert m.post(f"/history/{action.group(1)}/remove").status_code == 302
    project()
    assert scores(m.page("/capital")) == scores(before)


def test_a_colleagues_erasure_shows_on_the_next_request(
    member: Callable[..., Member], project: Project, store: EventStore, org: DemoOrg
) -> None:
    ada, bo = member(), member()
    ada.post("/actions", {"tactic": "relationship_deposit", "minutes": "20", "audience": "team",
                          "counterpart": str(bo.id)})  # fmt: skip
    bo.post("/actions", {"tactic": "relationship_deposit", "minutes": "20", "audience": "team",
                         "counterpart": str(ada.id)})  # fmt: skip
    project()
    today, rt = datetime.now(UTC).date(), runtime(store)

    def relationships(position: int) -> float:
        with store.engine.connect() as conn:
            found = memo.read_capital_seen(conn, org.tenant_id, ada.id, today, position)
        return float(found["scores"]["relationships"]["value"])

    before = rt.wait_for("capital", 0, 0.0)
    reciprocated = relationships(before)
    assert ada.page("/")  # Today keeps Ada's capital at this position
    assert bo.post("/data/erase", {"confirm": "erase my data"}).status_code == 302
    project()
    after = rt.wait_for("capital", 0, 0.0)
    assert after > before
    assert relationships(before) == reciprocated  # the old position: the answer kept
    assert relationships(after) < reciprocated  # the next request's: read afresh, one-way
    assert float(scores(ada.page("/capital"))["relationships"]) < reciprocated


def test_one_persons_capital_never_answers_for_another(
    member: Callable[..., Member], project: Project, store: EventStore, org: DemoOrg
) -> None:
    ada, bo = member(), member()
    ada.post("/actions", {"tactic": "meeting_quick_win", "minutes": "10", "audience": "team"})
    project()
    assert "Your capital starts at zero" not in ada.page("/capital")  # kept under Ada's key
    position, today = runtime(store).wait_for("capital", 0, 0.0), datetime.now(UTC).date()
    with store.engine.connect() as conn:
        mine = memo.read_capital_seen(conn, org.tenant_id, ada.id, today, position)
        theirs = memo.read_capital_seen(conn, org.tenant_id, bo.id, today, position)
    assert mine["scores"]["visibility"]["value"] > 0 == theirs["scores"]["visibility"]["value"]
    assert "Your capital starts at zero" in bo.page("/capital")


def test_my_capital_scores_anew_when_its_rows_change_at_the_same_position(
    member: Callable[..., Member], project: Project, store: EventStore, org: DemoOrg
) -> None:
    """My capital reads its rows on every request and keeps their scoring under a digest
    of their values: a row changed with no position moved (here by hand) is scored again."""
    ada = member()
    ada.post("/actions", {"tactic": "meeting_quick_win", "minutes": "10", "audience": "team"})
    project()
    position, today = runtime(store).wait_for("capital", 0, 0.0), datetime.now(UTC).date()

    def visibility() -> float:
        with store.engine.connect() as conn:
            found = memo.read_capital_seen(conn, org.tenant_id, ada.id, today, position, True)
            assert found == read_capital(conn, org.tenant_id, ada.id, today)
        return float(found["scores"]["visibility"]["value"])

    before = visibility()
    assert visibility() == before
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE capital_contributions SET audience = 'private' "
                          "WHERE person_id = :p"), {"p": ada.id})  # fmt: skip
    assert visibility() < before


def test_each_caller_gets_its_own_copy_and_the_memo_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[tuple[object, ...]] = []
    scorings: list[object] = []

    class Rows:
        def __init__(self, person: object) -> None:
            self.person = person

        def digest(self) -> bytes:
            return repr(self.person).encode()

    def read(conn: object, tenant: object, person: object, as_of: object) -> Rows:
        reads.append((tenant, person, as_of))
        return Rows(person)

    def score(rows: Rows, as_of: object) -> dict[str, object]:
        scorings.append(rows.person)
        return {"history": [{"week": "2026-W49", "person": rows.person}]}

    monkeypatch.setattr(memo, "capital_rows", read)
    monkeypatch.setattr(memo, "score_capital", score)
    monkeypatch.setattr(memo, "SIZE", 2)
    first = memo.read_capital_seen(None, "t", "p", "d", 7)  # type: ignore[arg-type]
    first["history"].append("changed by its caller")
    again = memo.read_capital_seen(None, "t", "p", "d", 7)  # type: ignore[arg-type]
    assert again == {"history": [{"week": "2026-W49", "person": "p"}]} and len(reads) == 1
    again["history"].clear()
    assert memo.read_capital_seen(None, "t", "p", "d", 7)["history"]  # type: ignore[arg-type]
    # another position: the rows read again, their scoring kept (the same rows)
    memo.read_capital_seen(None, "t", "p", "d", 8)  # type: ignore[arg-type]
    assert len(reads) == 2 and scorings == ["p"]
    memo.read_capital_seen(None, "t", "q", "d", 8)  # type: ignore[arg-type]
    memo.read_capital_seen(None, "t", "p", "d", 7)  # type: ignore[arg-type]  # dropped: read
    assert len(reads) == 4 and scorings == ["p", "q", "p"] and len(memo._kept) == 2
    fresh = memo.read_capital_seen(None, "t", "p", "d", 7, fresh=True)  # type: ignore[arg-type]
    assert fresh["history"] and len(reads) == 5 and scorings == ["p", "q", "p"]


def test_the_capital_pages_freshness_follows_the_next_event(
    member: Callable[..., Member], project: Project, org: DemoOrg
) -> None:
    """``data-as-of``: the organisation's last event the projection reached, remembered per
    organisation and position (services/gateway/portal/forms.py, own_position_reached)."""
    tokens, m = PositionTokens(TEST_SECRET), member()
    project()

    def shown() -> int:
        [token] = re.findall(r'data-as-of="([^"]*)"', m.page("/capital"))
        return tokens.open(org.tenant_id, token)

    first = shown()
    assert shown() == first > 0
    logged = m.post("/actions", {"tactic": "learning_bit", "minutes": "10", "audience": "team"})
    [after] = parse_qs(urlsplit(logged.headers["Location"]).query)["after"]
    project()
    assert shown() == tokens.open(org.tenant_id, after) > first


def test_a_remembered_own_position_is_the_organisations_own(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[object, int]] = []

    def own_position(conn: object, tenant_id: object, reached: int) -> int:
        asked.append((tenant_id, reached))
        return reached - len(str(tenant_id))

    monkeypatch.setattr(forms, "own_position", own_position)
    with app.app_context():
        assert forms.own_position_reached("t1", 50) == 48
        assert forms.own_position_reached("t1", 50) == 48
        assert forms.own_position_reached("tenant2", 50) == 43
        assert forms.own_position_reached("t1", 51) == 49
    assert asked == [("t1", 50), ("tenant2", 50), ("t1", 51)]
