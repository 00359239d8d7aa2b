"""The reader's language on the employee's own pages (real PostgreSQL): the account page's
setting (a ``LanguageChosen`` event, the next page already in it, automatic again), a bad
choice refused beside its field, the colleague's feedback link in the colleague's browser
language, and counts in each language's plural forms."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from shared.eventlog import EventStore
from tests.portal.conftest import Member

pytestmark = pytest.mark.integration


def chosen(store: EventStore, m: Member) -> list[str]:
    return [e.data["locale"] for e in store.read_stream(f"preferences-{m.id}")]


def test_the_language_is_chosen_on_the_account_page(
    member: Callable[..., Member], store: EventStore
):
    m = member()
    assert 'lang="en"' in m.page("/account")
    saved = m.post("/account/language", {"locale": "de"})
    assert saved.status_code == 302 and saved.headers["Location"] == "/account?language=1"
    page = m.page("/account?language=1")
    assert 'lang="de"' in page and "Sprache gespeichert." in page
    assert '<option value="de" lang="de" selected>Deutsch</option>' in page
    assert "Mein Karrierekapital" in m.page("/capital")
    french = m.client.get("/pulse", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Wöchentliche Puls-Umfrage" in french  # the person's choice over the browser's
    assert m.post("/account/language", {"locale": ""}).status_code == 302
    french = m.client.get("/pulse", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Sondage de la semaine" in french  # automatic: the browser's language again
    refused = m.post("/account/language", {"locale": "xx"})
    assert refused.status_code == 422
    assert re.search(r'<p class="error" id="locale-error">[^<]+</p>', refused.get_data(True))
    assert chosen(store, m) == ["de", ""]  # the refused choice wrote nothing


def test_counts_use_each_language_s_plural_forms(
    member: Callable[..., Member], project: Callable[[], None]
):
    m = member()
    m.post("/feedback", {"question": "Was that clear?", "expires_in_days": "7"})
    project()
    pages = {
        lang: m.client.get("/feedback", headers={"Accept-Language": lang}).get_data(True)
        for lang in ("en", "de", "fr")
    }
    assert "of 1 request answered" in pages["en"]
    assert "von 1 Anfrage beantwortet" in pages["de"]
    assert "sur 1 demande avec réponse" in pages["fr"]
    m.post("/feedback", {"question": "And that one?", "expires_in_days": "7"})
    project()
    assert "of 2 requests answered" in m.page("/feedback")


def test_the_feedback_link_speaks_the_colleague_s_language(
    app, member: Callable[..., Member], store: EventStore
):
    m = member()  # "Robin", reading English
    asked = m.post("/feedback", {"question": "Was my update clear?", "expires_in_days": "7"})
    link = re.search(r'value="([^"]+/f/[^"]+)"', m.page(asked.headers["Location"]))
    assert link
    path = "/f/" + link.group(1).split("/f/")[1]
    colleague = app.test_client()
    german = colleague.get(path, headers={"Accept-Language": "de-AT,en;q=0.5"})
    assert 'lang="de"' in german.get_data(as_text=True)
    assert "Robin fragt Sie:" in german.get_data(as_text=True)
    french = colleague.get(path, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Robin vous demande :" in french and "Oui, utile" in french
