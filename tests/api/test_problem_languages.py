"""Problems in the reader's language (``Accept-Language`` for the API): the same bad request
in English, German and French gives the same status, type and field names, and its title,
detail and field messages (marshmallow's own, with their numbers, and the domain's) in that
language, with each language's plural forms; the pseudo-locale shows none left out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.api.conftest import Headers, assert_problem

pytestmark = pytest.mark.integration

TYPES = "https://compound.invalid/problems/"
BAD_ACTION = {"minutes": 0, "audience": "everyone", "colour": "blue"}  # and no tactic
EXPECTED = {
    "en": {
        "title": "Unprocessable Content",
        "count": "4 fields are not valid.",
        "tactic": "Missing data for required field.",
        "minutes": "Must be greater than or equal to 1 and less than or equal to 480.",
        "audience": "Must be one of: private, team, decision_makers.",
        "colour": "Unknown field.",
    },
    "de": {
        "title": "Ungültiger Inhalt",
        "count": "4 Felder sind ungültig.",
        "tactic": "Dieses Pflichtfeld fehlt.",
        "minutes": "Muss zwischen 1 und 480 liegen (einschließlich).",
        "audience": "Muss eines davon sein: private, team, decision_makers.",
        "colour": "Unbekanntes Feld.",
    },
    "fr": {
        "title": "Contenu non traitable",
        "count": "4 champs ne sont pas valides.",
        "tactic": "Ce champ obligatoire est manquant.",
        "minutes": "Doit être compris entre 1 et 480 inclus.",
        "audience": "Doit être l'un de : private, team, decision_makers.",
        "colour": "Champ inconnu.",
    },
}


def _in(locale: str, headers: Headers) -> Headers:
    return {**headers, "Accept-Language": locale}


@pytest.fixture
def employee(headers_of: Callable[[str], Headers]) -> Headers:
    return headers_of("platform-1")


def test_the_same_bad_request_in_three_languages(client: FlaskClient, employee: Headers):
    answers = {}
    for locale, expected in EXPECTED.items():
        response = client.post("/api/v1/actions", headers=_in(locale, employee), json=BAD_ACTION)
        problem = assert_problem(response, 422, "tactic", "minutes", "audience", "colour")
        answers[locale] = problem
        assert problem["type"] == TYPES + "validation"
        assert problem["title"] == expected["title"]
        assert problem["detail"].startswith(expected["count"] + " audience: ")
        for field in ("tactic", "minutes", "audience", "colour"):
            assert problem["errors"][field] == [expected[field]], (locale, field)
    # What a client matches on is the same in every language.
    assert (
        len({(a["type"], a["status"], tuple(sorted(a["errors"]))) for a in answers.values()}) == 1
    )


def test_plural_forms_follow_the_count(client: FlaskClient, employee: Headers):
    one = {"tactic": "regular_signaling", "minutes": 10, "audience": "team", "colour": "x"}
    details = {
        locale: client.post("/api/v1/actions", headers=_in(locale, employee), json=one).get_json()[
            "detail"
        ]
        for locale in ("en", "de", "fr")
    }
    assert details["en"].startswith("1 field is not valid. ")
    assert details["de"].startswith("1 Feld ist ungültig. ")
    assert details["fr"].startswith("1 champ n'est pas valide. ")


@pytest.mark.parametrize(
    ("locale", "detail"),
    [
        ("en", "There is no such team."),
        ("de", "Dieses Team gibt es nicht."),
        ("fr", "Cette équipe n'existe pas."),
    ],
)
def test_a_refusal_of_the_domain_in_the_readers_language(
    locale: str, detail: str, client: FlaskClient, headers_of: Callable[[str], Headers]
):
    path = "/api/v1/teams/00000000-0000-4000-8000-000000000000/levers"
    problem = assert_problem(client.get(path, headers=_in(locale, headers_of("admin"))), 404)
    assert problem["type"] == TYPES + "not-found"
    assert problem["detail"] == detail
    assert (
        problem["title"] == {"en": "Not Found", "de": "Nicht gefunden", "fr": "Introuvable"}[locale]
    )


def test_a_message_with_values_keeps_them_in_every_language(client: FlaskClient, employee: Headers):
    """An ISO week that does not exist: the domain's message, its values filled in."""
    plan = {"actions": [{"tactic": "learning_bit"}]}
    expected = {
        "en": "2025-W53 does not exist: 2025 has 52 weeks.",
        "de": "2025-W53 gibt es nicht: 2025 hat 52 Wochen.",
        "fr": "2025-W53 n'existe pas : 2025 compte 52 semaines.",
    }
    for locale, message in expected.items():
        response = client.post("/api/v1/plans/2025-W53", headers=_in(locale, employee), json=plan)
        problem = assert_problem(response, 422, "isoweek")
        assert problem["errors"]["isoweek"] == [message]


def test_the_pseudo_locale_finds_no_text_outside_the_catalogue(
    app: Flask, client: FlaskClient, employee: Headers, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(app.config, "PSEUDO_LOCALE", True)
    pseudo = _in("en-XA", employee)
    answers: list[dict[str, Any]] = [
        client.post("/api/v1/actions", headers=pseudo, json=BAD_ACTION).get_json(),
        client.get("/api/v1/nowhere", headers=pseudo).get_json(),
        client.delete("/api/v1/actions", headers=pseudo).get_json(),
        client.post("/api/v1/plans/2025-W53", headers=pseudo, json={"actions": []}).get_json(),
        client.get("/api/v1/org/levers", headers=pseudo).get_json(),
    ]
    for answer in answers:
        texts = [answer["title"], *(m for ms in answer.get("errors", {}).values() for m in ms)]
        if answer["type"] != TYPES + "validation":  # a validation detail names fields
            texts.append(answer["detail"])
        for text in texts:
            assert text.startswith("⟦") and text.endswith("⟧"), answer
