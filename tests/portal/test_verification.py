"""Verification in the portal: naming a counterpart, a confirmer or a colleague in the
forms; the confirm page (logged in as the named person, or through the mailed link); and
each item's proof state on the owner's pages (Today, My actions, Outcomes, Feedback)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from shared.eventlog import EventStore
from tests.portal.conftest import CSRF, Member, mailbox, mailed_link

pytestmark = pytest.mark.integration
__all__ = ["mailbox"]  # the fixture, used by name

ACTION = {"minutes": "5", "audience": "team", "tactic": "relationship_deposit"}


def journal_types(store: EventStore, member: Member) -> list[str]:
    return [e.type for e in store.read_stream(f"journal-{member.id}")]


def test_a_counterpart_confirms_a_relationship_action_on_its_page(
    member: Callable[..., Member], project: Callable[[], None], store: EventStore, mailbox: list
):
    owner, colleague = member(), member()
    logged = owner.post("/actions", {**ACTION, "counterpart": str(colleague.id)})
    assert logged.status_code == 302, logged.get_data(as_text=True)
    project()
    assert "Awaiting confirmation" in owner.page("/")
    link = mailed_link(mailbox, colleague.email)
    page_path = urlsplit(link).path
    assert page_path.startswith("/confirm/actions/")
    # the owner, logged in, may not confirm their own action
    assert owner.client.get(page_path).status_code == 403
    assert "Confirm" in colleague.page(page_path)
    answered = colleague.post(page_path, {"answer": "confirm"})
    assert answered.status_code == 201, answered.get_data(as_text=True)
    assert "you confirmed it" in answered.get_data(as_text=True)
    assert "✓ Confirmed" in owner.page("/")
    assert "✓ Confirmed" in owner.page("/history")


def test_a_counterpart_is_for_relationship_actions_and_colleagues_only(
    member: Callable[..., Member], store: EventStore
):
    owner = member()
    small = owner.post(
        "/actions", {**ACTION, "tactic": "small_exposure", "counterpart": str(owner.id)}
    )
    assert small.status_code == 422
    mine = owner.post("/actions", {**ACTION, "counterpart": str(owner.id)})
    assert mine.status_code == 422 and "Name a colleague" in mine.get_data(as_text=True)
    assert journal_types(store, owner) == []


def test_an_outcome_names_an_outside_confirmer_who_declines_by_mail(
    app, member: Callable[..., Member], project: Callable[[], None], mailbox: list
):
    owner = member()
    recorded = owner.post(
        "/outcomes", {"kind": "recognition", "confirmer_email": "lead@partner.example"}
    )
    assert recorded.status_code == 302, recorded.get_data(as_text=True)
    project()
    assert "Awaiting confirmation" in owner.page("/outcomes")
    link = mailed_link(mailbox, "lead@partner.example")
    stranger = app.test_client()
    page = stranger.get(link)
    assert page.status_code == 200
    csrf = CSRF.search(page.get_data(as_text=True))
    assert csrf is not None
    token = re.search(r"t=([^&\s]+)", link)
    assert token is not None
    form = {"csrf_token": csrf.group(1), "t": token.group(1), "answer": "decline"}
    assert stranger.post(urlsplit(link).path, data=form).status_code == 201
    assert "✗ Declined" in owner.page("/outcomes")
    # without the token, an anonymous visitor is sent to log in
    anonymous = app.test_client().get(urlsplit(link).path)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_a_form_names_a_colleague_or_an_address_not_both(
    member: Callable[..., Member], store: EventStore
):
    owner, colleague = member(), member()
    both = owner.post(
        "/outcomes",
        {"kind": "assignment", "confirmer": str(colleague.id), "confirmer_email": "a@b.example"},
    )
    assert both.status_code == 422 and "not both" in both.get_data(as_text=True)
    bad = owner.post("/feedback", {"question": "Useful?", "colleague_email": "nope"})
    assert bad.status_code == 422
    assert journal_types(store, owner) == []


def test_a_named_colleague_answers_feedback_confirmed_never_the_asker(
    member: Callable[..., Member], project: Callable[[], None], mailbox: list
):
    asker, colleague = member(), member()
    asked = asker.post(
        "/feedback", {"question": "Was my demo clear?", "colleague": str(colleague.id)}
    )
    assert asked.status_code == 302, asked.get_data(as_text=True)
    link = mailed_link(mailbox, colleague.email)
    plain = link.split("?")[0]
    assert asker.client.get(plain).status_code == 403  # nobody answers their own question
    assert "Was my demo clear?" in colleague.page(plain)
    answered = colleague.post(plain, {"useful": "yes"})
    assert answered.status_code == 201, answered.get_data(as_text=True)
    project()
    assert "Confirmed by the colleague asked" in asker.page("/feedback")


def test_an_unnamed_answer_is_shown_unconfirmed(
    app, member: Callable[..., Member], project: Callable[[], None]
):
    asker = member()
    asked = asker.post("/feedback", {"question": "Was that useful?"})
    assert asked.status_code == 302
    page = asker.page(asked.headers["Location"])
    link = re.search(r'id="new-link" class="link-box" value="([^"]+)"', page)
    assert link is not None
    assert app.test_client().post(link.group(1), json={"useful": True}).status_code == 201
    project()
    assert "Unconfirmed (anonymous link)" in asker.page("/feedback")
