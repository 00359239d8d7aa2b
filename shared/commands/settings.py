"""Organisation settings: k (the privacy threshold of every manager view), the pulse
cadence, whether everyone must log in with a second factor (TOTP), and the default language. Kept as
``OrganizationSettingsChanged`` events in the organisation's stream, so the log stays the
only truth; the current value is the stream's latest such event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from shared.commands.base import Actor, append
from shared.commands.credentials import sign_out_people
from shared.commands.second_factor import without_second_factor
from shared.domain.errors import Forbidden, InvalidInput
from shared.domain.privacy import K_FLOOR, effective_k
from shared.eventlog import EventStore, NewEvent
from shared.i18n.catalogue import LOCALES
from shared.settings import Settings

MAX_K = 100
CADENCES = (1, 2, 4)  # weeks between pulses: weekly, fortnightly, four-weekly


@dataclass(frozen=True)
class OrganisationSettings:
    """The settings in force: k, the pulse cadence in weeks, whether a second factor is
    required, and whether an admin set them."""

    k: int
    pulse_cadence_weeks: int
    changed: bool  # whether an admin ever set them (otherwise the deployment's defaults)
    require_totp: bool = False
    default_locale: str = "en"


def organisation_settings(
    conn: Connection, tenant_id: Any, defaults: Settings
) -> OrganisationSettings:
    """The organisation's settings: its latest ``OrganizationSettingsChanged``, or the
    deployment's defaults (``COMPOUND_K``, weekly).

    Parameters:
        conn: a database connection.
        tenant_id: the organisation.
        defaults: the deployment's settings.

    Returns:
        The settings in force (k never below the floor: :func:`effective_k`).
    """
    data = _latest(conn, tenant_id)
    if data is None:
        return OrganisationSettings(effective_k(defaults.k_anonymity), 1, False)
    return OrganisationSettings(
        effective_k(int(data["k"])),
        int(data["pulse_cadence_weeks"]),
        True,
        bool(data.get("require_totp", False)),
        str(data.get("default_locale") or "en"),
    )


def totp_required(conn: Connection, tenant_id: Any) -> bool:
    """Whether the organisation requires everyone to log in with a second factor.

    Parameters:
        conn: a database connection.
        tenant_id: the organisation.

    Returns:
        The ``require_totp`` of its latest settings (False when never set).
    """
    data = _latest(conn, tenant_id)
    return bool(data and data.get("require_totp", False))


def pulse_cadence(conn: Connection, tenant_id: Any) -> int:
    """Weeks between pulses in the organisation.

    Parameters:
        conn: a database connection.
        tenant_id: the organisation.

    Returns:
        1 (weekly, the default), 2 or 4.
    """
    data = _latest(conn, tenant_id)
    return 1 if data is None else int(data["pulse_cadence_weeks"])


def _latest(conn: Connection, tenant_id: Any) -> dict[str, Any] | None:
    """The data of the organisation's latest ``OrganizationSettingsChanged``, if any."""
    row = conn.execute(
        text(
            "SELECT data FROM events WHERE stream_id = :s AND type = 'OrganizationSettingsChanged' "
            "ORDER BY version DESC LIMIT 1"
        ),
        {"s": f"org-{tenant_id}"},
    ).first()
    return None if row is None else dict(row.data)


def change_settings(
    store: EventStore,
    actor: Actor,
    k: int,
    pulse_cadence_weeks: int,
    require_totp: bool | None = None,
) -> OrganisationSettings:
    """Set k, the pulse cadence and whether a second factor is required (admins only).

    Parameters:
        store: the event store.
        actor: the admin deciding.
        k: the privacy threshold of every manager view.
        pulse_cadence_weeks: weeks between pulses: 1, 2 or 4.
        require_totp: whether everyone must log in with a second factor (None: unchanged).

    Returns:
        The new settings.

    Raises:
        Forbidden: the actor is not an admin.
        InvalidInput: k below 3 (or above 100), or a cadence other than 1, 2 or 4 weeks.
    """
    changes: dict[str, Any] = {"k": k, "pulse_cadence_weeks": pulse_cadence_weeks}
    if require_totp is not None:
        changes["require_totp"] = require_totp
    return patch_settings(store, actor, None, changes)


SETTING_NAMES = ("k", "pulse_cadence_weeks", "require_totp", "default_locale")


def patch_settings(
    store: EventStore, actor: Actor, defaults: Settings | None, changes: dict[str, Any]
) -> OrganisationSettings:
    """Change some settings, alone or together; the others keep their values (admins only).

    Parameters:
        store: the event store.
        actor: the admin deciding.
        defaults: the deployment's settings (the values of settings never set; None: the
            changes must name k and the cadence when the organisation never set them).
        changes: any of ``k``, ``pulse_cadence_weeks``, ``require_totp``,
            ``default_locale`` (``en``, ``de`` or ``fr``: the language of people who chose
            none and whose browser asks for none Compound has).

    Returns:
        The new settings (an event only when something changed is not guaranteed: every
        call records one, so the audit shows who confirmed which values).

    Raises:
        Forbidden: the actor is not an admin.
        InvalidInput: k below 3 (or above 100), a cadence other than 1, 2 or 4 weeks, or
            an unknown setting.
    """
    if not actor.is_admin:
        raise Forbidden("only an admin can change the organisation's settings")
    unknown = sorted(set(changes) - set(SETTING_NAMES))
    if unknown:
        raise InvalidInput("unknown settings", {u: ["Unknown setting."] for u in unknown})
    with store.engine.begin() as conn:
        current = _latest(conn, actor.tenant_id)
        was_required = bool(current and current.get("require_totp", False))
        if current is None and defaults is not None:
            base = organisation_settings(conn, actor.tenant_id, defaults)
            current = {"k": base.k, "pulse_cadence_weeks": base.pulse_cadence_weeks}
        data = {"require_totp": False, "default_locale": "en", **(current or {}), **changes}
        _check(data)
        data = {name: data[name] for name in SETTING_NAMES}
        append(
            store,
            conn,
            actor,
            f"org-{actor.tenant_id}",
            [NewEvent("OrganizationSettingsChanged", data)],
        )
        if data["require_totp"] and not was_required:
            _sign_out_those_without_a_factor(store, conn, actor)
    return OrganisationSettings(
        int(data["k"]),
        int(data["pulse_cadence_weeks"]),
        True,
        bool(data["require_totp"]),
        str(data["default_locale"]),
    )


def _check(data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    k = data.get("k")
    if not isinstance(k, int) or isinstance(k, bool) or not K_FLOOR <= k <= MAX_K:
        errors["k"] = [f"k must be between {K_FLOOR} and {MAX_K}: smaller groups identify people."]
    if data.get("pulse_cadence_weeks") not in CADENCES:
        errors["pulse_cadence_weeks"] = ["Choose 1 (weekly), 2 or 4 weeks."]
    if not isinstance(data.get("require_totp"), bool):
        errors["require_totp"] = ["Say true or false."]
    if data.get("default_locale") not in LOCALES:
        errors["default_locale"] = [f"Choose one of {', '.join(LOCALES)}."]
    if errors:
        raise InvalidInput("invalid settings", errors)


def _sign_out_those_without_a_factor(store: EventStore, conn: Connection, actor: Actor) -> None:
    """A second factor just became required: every session and token of a person who has
    none ends, so their next login goes through enrolment. The admin deciding keeps theirs
    (they are here, and enrol at their next login)."""
    lacking = without_second_factor(conn, actor.tenant_id)
    sign_out_people(store, conn, actor, (p for p in lacking if p != actor.person_id))
