"""The account page's leave form: an absence declared (one ``AbsenceDeclared`` on the
person's journal), listed once projected, withdrawn; bad days re-rendered with 422 and the
messages beside their fields, nothing written; the capital page marks the leave."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from shared.eventlog import EventStore
from shared.i18n import format_date
from tests.portal.conftest import Member

pytestmark = pytest.mark.integration
TODAY = datetime.now(UTC).date()


def declared(store: EventStore, m: Member) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM events WHERE stream_id = :s "
                    "AND type IN ('AbsenceDeclared', 'AbsenceWithdrawn')"
                ),
                {"s": f"journal-{m.id}"},
            ).scalar_one()
        )


def test_declare_see_and_withdraw_leave(
    member: Callable[..., Member], store: EventStore, project: Callable[[], None]
):
    m = member()
    assert "Declare leave" in m.page("/account")
    first, last = TODAY - timedelta(days=3), TODAY + timedelta(days=10)
    response = m.post(
        "/account/absences", {"starts_on": first.isoformat(), "ends_on": last.isoformat()}
    )
    assert response.status_code == 302 and "away=1" in response.headers["Location"]
    project()
    page = m.page("/account?away=1")
    assert "Leave declared" in page
    assert f"{format_date(first)} to {format_date(last)}" in page  # "4 Dec 2026 to ..."
    capital = m.page("/capital")
    assert "On leave" in capital and format_date(first) in capital
    with store.engine.connect() as conn:
        absence = conn.execute(
            text("SELECT absence_id FROM capital_absences WHERE person_id = :p"), {"p": m.id}
        ).scalar_one()
    response = m.post(f"/account/absences/{absence}/withdraw")
    assert response.status_code == 302 and "back=1" in response.headers["Location"]
    project()
    assert f"{format_date(first)} to" not in m.page("/account")
    assert declared(store, m) == 2


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"starts_on": TODAY.isoformat(), "ends_on": (TODAY - timedelta(days=1)).isoformat()},
         "ends_on"),
        ({"starts_on": "0001-01-01", "ends_on": TODAY.isoformat()}, "starts_on"),
        ({"starts_on": TODAY.isoformat(), "ends_on": "9999-12-31"}, "ends_on"),
        ({"starts_on": "2026-02-30", "ends_on": TODAY.isoformat()}, "starts_on"),
        ({"ends_on": TODAY.isoformat()}, "starts_on"),
    ],
)  # fmt: skip
def test_bad_days_re_render_with_422(
    member: Callable[..., Member], store: EventStore, form: dict[str, str], field: str
):
    m = member()
    response = m.post("/account/absences", form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}"' in page and 'aria-invalid="true"' in page
    assert declared(store, m) == 0


def test_the_capital_page_explains_model_2(
    member: Callable[..., Member], store: EventStore, project: Callable[[], None]
):
    m = member()
    for minutes in range(1, 13):  # twelve contributions: ten listed, two as "others"
        m.post(
            "/actions", {"tactic": "small_exposure", "minutes": str(minutes), "audience": "team"}
        )
    project()
    page = m.page("/capital")
    assert "model 2" in page
    assert 'data-parts="capability"><strong>0.0</strong> confirmed by colleagues' in page
    assert "What would raise it most this week" in page and 'data-next="relationships"' in page
    assert "2 other contributions" in page
    assert "no confirmed capability" in page
