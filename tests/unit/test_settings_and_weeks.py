from __future__ import annotations

from datetime import date

import pytest

from shared.domain.tactics import TACTICS
from shared.domain.weeks import InvalidIsoWeek, iso_week_of, parse_iso_week, week_start
from shared.settings import Settings, SettingsError, normalise_database_url


def test_defaults():
    settings = Settings.from_env({})
    assert settings.port == 8000 and settings.database_url is None
    assert settings.data_dir.name == ".data" and settings.max_event_bytes == 65536
    assert settings.demo_password == "compound-demo"


def test_database_urls_get_the_psycopg_driver():
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(SettingsError, match="PostgreSQL"):
        normalise_database_url("sqlite:///x.db")


@pytest.mark.parametrize(
    ("env", "message"),
    [({"PORT": "http"}, "PORT must be a whole number"), ({"PORT": "0"}, "PORT must be at least 1")],
)
def test_bad_settings_say_which_variable(env: dict[str, str], message: str):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_missing_database_url_explains_how_to_get_one():
    with pytest.raises(SettingsError, match="make run"):
        Settings.from_env({}).require_database_url()


def test_master_keys_are_a_comma_separated_list():
    assert Settings.from_env({"COMPOUND_MASTER_KEYS": "a, b,"}).master_keys == ("a", "b")


def test_iso_weeks():
    assert parse_iso_week("2026-W53") == (2026, 53)
    assert iso_week_of(date(2026, 12, 31)) == "2026-W53"
    assert iso_week_of(date(2027, 1, 1)) == "2026-W53"
    assert week_start("2026-W01") == date(2025, 12, 29)
    for bad in ("2025-W53", "2026-W54", "2026-W1", "W47", ""):
        with pytest.raises(InvalidIsoWeek):
            parse_iso_week(bad)


def test_seed_tactics_and_weights():
    assert set(TACTICS) == {
        "small_exposure",
        "learning_bit",
        "regular_signaling",
        "meeting_quick_win",
        "relationship_deposit",
        "network_nudge",
        "prototype_first",
    }
    assert (TACTICS["network_nudge"].visibility, TACTICS["network_nudge"].relationships) == (1, 2.5)


def test_the_statement_timeout_defaults_to_five_seconds_and_zero_turns_it_off():
    assert Settings.from_env({}).statement_timeout_ms == 5000
    assert Settings.from_env({"COMPOUND_STATEMENT_TIMEOUT_MS": "0"}).statement_timeout_ms == 0
    with pytest.raises(SettingsError, match="COMPOUND_STATEMENT_TIMEOUT_MS"):
        Settings.from_env({"COMPOUND_STATEMENT_TIMEOUT_MS": "-1"})


def test_worker_threads_default_to_four_and_are_at_least_one():
    assert Settings.from_env({}).worker_threads == 4
    assert Settings.from_env({"COMPOUND_WORKER_THREADS": "12"}).worker_threads == 12
    with pytest.raises(SettingsError, match="COMPOUND_WORKER_THREADS"):
        Settings.from_env({"COMPOUND_WORKER_THREADS": "0"})


def test_web_threads_are_read_for_the_gateway_pool():
    assert Settings.from_env({}).web_threads == 4
    assert Settings.from_env({"COMPOUND_WEB_THREADS": "32"}).web_threads == 32
