"""Calendar settings: the providers Compound connects to, and the local provider's own.

Read from the environment by :meth:`shared.settings.Settings.from_env` (``settings.calendar``)
and, for the stand-in provider, by ``compound calendar-provider``. Every variable is documented
in README.md and docs/calendar.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LOCAL_PROVIDER_PORT = 8010
PROVIDER_NAMES = ("google", "microsoft", "local")


class CalendarSettingsError(ValueError):
    """A calendar variable has a value Compound cannot use."""


def _number(env: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise CalendarSettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise CalendarSettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class CalendarSettings:
    """Where calendars come from, and how often and how far back they are synced.

    A provider is offered on the /calendar page when its client id is set (``local`` is
    set by ``make run``); ``providers`` narrows the list further when given.
    """

    providers: tuple[str, ...] = ()
    local_url: str = f"http://127.0.0.1:{LOCAL_PROVIDER_PORT}"
    local_protocol: str = "google"
    local_client_id: str | None = None
    local_client_secret: str | None = None
    google_client_id: str | None = None
    google_client_secret: str | None = None
    microsoft_client_id: str | None = None
    microsoft_client_secret: str | None = None
    microsoft_tenant: str = "common"
    sync_seconds: int = 300
    weeks_back: int = 12
    weeks_ahead: int = 4
    page_size: int = 250

    @classmethod
    def from_env(cls, env: dict[str, str]) -> CalendarSettings:
        providers = tuple(
            p.strip() for p in env.get("COMPOUND_CALENDAR_PROVIDERS", "").split(",") if p.strip()
        )
        unknown = [p for p in providers if p not in PROVIDER_NAMES]
        if unknown:
            raise CalendarSettingsError(
                f"COMPOUND_CALENDAR_PROVIDERS: unknown provider {unknown[0]!r} "
                f"(choose from {', '.join(PROVIDER_NAMES)})"
            )
        protocol = env.get("COMPOUND_CALENDAR_LOCAL_PROTOCOL") or "google"
        if protocol not in ("google", "graph"):
            raise CalendarSettingsError("COMPOUND_CALENDAR_LOCAL_PROTOCOL must be google or graph")
        return cls(
            providers=providers,
            local_url=(
                env.get("COMPOUND_CALENDAR_LOCAL_URL") or f"http://127.0.0.1:{LOCAL_PROVIDER_PORT}"
            ).rstrip("/"),
            local_protocol=protocol,
            local_client_id=env.get("COMPOUND_CALENDAR_LOCAL_CLIENT_ID") or None,
            local_client_secret=env.get("COMPOUND_CALENDAR_LOCAL_CLIENT_SECRET") or None,
            google_client_id=env.get("COMPOUND_GOOGLE_CLIENT_ID") or None,
            google_client_secret=env.get("COMPOUND_GOOGLE_CLIENT_SECRET") or None,
            microsoft_client_id=env.get("COMPOUND_MICROSOFT_CLIENT_ID") or None,
            microsoft_client_secret=env.get("COMPOUND_MICROSOFT_CLIENT_SECRET") or None,
            microsoft_tenant=env.get("COMPOUND_MICROSOFT_TENANT") or "common",
            sync_seconds=_number(env, "COMPOUND_CALENDAR_SYNC_SECONDS", 300),
            weeks_back=_number(env, "COMPOUND_CALENDAR_WEEKS_BACK", 12),
            weeks_ahead=_number(env, "COMPOUND_CALENDAR_WEEKS_AHEAD", 4, minimum=0),
            page_size=_number(env, "COMPOUND_CALENDAR_PAGE_SIZE", 250),
        )


@dataclass(frozen=True)
class ProviderServerSettings:
    """The stand-in provider (``compound calendar-provider``).

    One OAuth client is registered from these settings: ``client_id``, ``client_secret`` and
    the redirect URIs it may use.
    """

    database: Path = Path(".data/calendar-provider.sqlite3")
    host: str = "127.0.0.1"
    port: int = LOCAL_PROVIDER_PORT
    client_id: str = "compound"
    client_secret: str = ""
    redirect_uris: tuple[str, ...] = ()
    admin_token: str = ""
    password: str = "compound-demo"
    weeks_back: int = 26
    weeks_ahead: int = 4
    access_token_seconds: int = 3600

    @classmethod
    def from_env(cls, env: dict[str, str], data_dir: Path) -> ProviderServerSettings:
        uris = tuple(
            u.strip()
            for u in env.get("COMPOUND_CALENDAR_PROVIDER_REDIRECT_URIS", "").split(",")
            if u.strip()
        )
        if not uris:
            port = env.get("PORT") or "8000"
            uris = (f"http://127.0.0.1:{port}/calendar/callback/local",)
        return cls(
            database=Path(
                env.get("COMPOUND_CALENDAR_PROVIDER_DATABASE")
                or data_dir / "calendar-provider.sqlite3"
            ),
            host=env.get("HOST") or "127.0.0.1",  # 0.0.0.0 in a container
            port=_number(env, "COMPOUND_CALENDAR_PROVIDER_PORT", LOCAL_PROVIDER_PORT),
            client_id=env.get("COMPOUND_CALENDAR_LOCAL_CLIENT_ID") or "compound",
            client_secret=env.get("COMPOUND_CALENDAR_LOCAL_CLIENT_SECRET") or "",
            redirect_uris=uris,
            admin_token=env.get("COMPOUND_CALENDAR_PROVIDER_ADMIN_TOKEN") or "",
            password=env.get("COMPOUND_CALENDAR_PROVIDER_PASSWORD")
            or env.get("COMPOUND_DEMO_PASSWORD")
            or "compound-demo",
            weeks_back=_number(env, "COMPOUND_CALENDAR_PROVIDER_WEEKS", 26),
        )
