"""A person's second factor: a TOTP secret (RFC 6238, 30-second steps, 6 digits) and ten
single-use recovery codes.

The truth is the stream ``second-factor-<person id>``
(shared/eventlog/events_second_factor.py); :func:`second_factor_of` folds it. No read model
holds the secret: it stays encrypted with the person's data key in the log, and is
decrypted only here, when a code is checked.

What this module does not do: throttling and replay refusal need state shared by every
gateway process (Redis), so they live in the gateway (services/gateway/second_factor.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass

import pyotp
from sqlalchemy import Connection, text

from shared.commands.base import Actor, append
from shared.commands.organization_core import find_person, require_admin
from shared.directory.callers import active_people
from shared.domain.errors import Conflict, InvalidInput, Text
from shared.eventlog import ERASED, ConcurrencyError, EventStore, NewEvent
from shared.eventlog.events_second_factor import RECOVERY_CODES

STEP_SECONDS = 30
DRIFT_STEPS = 1  # a code of the step before or after is accepted too (clock drift)
ISSUER = "Compound"
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud, typed by hand


@dataclass(frozen=True)
class SecondFactor:
    """A person's enrolled second factor, as the stream stands.

    Attributes:
        secret: the TOTP secret (base32).
        unused_codes: SHA-256 digests of the recovery codes not yet used.
        version: the stream's version these were read at (appends expect it).
    """

    secret: str
    unused_codes: frozenset[str]
    version: int


def stream_of(person_id: uuid.UUID) -> str:
    return f"second-factor-{person_id}"


def without_second_factor(conn: Connection, tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """The organisation's active people who have no second factor now (none enrolled, or
    removed since): one index look-up per person's factor stream.

    Parameters:
        conn: a connection (the caller's transaction).
        tenant_id: the organisation.
    """
    people = active_people(conn, tenant_id)
    streams = {stream_of(p): p for p in people}
    latest = conn.execute(
        text(
            "SELECT DISTINCT ON (stream_id) stream_id, type FROM events "
            "WHERE stream_id = ANY(:s) AND type IN ('SecondFactorEnrolled', 'SecondFactorRemoved') "
            "ORDER BY stream_id, version DESC"
        ),
        {"s": list(streams)},
    )
    enrolled = {streams[row.stream_id] for row in latest if row.type == "SecondFactorEnrolled"}
    return [p for p in people if p not in enrolled]


def second_factor_of(store: EventStore, person_id: uuid.UUID) -> SecondFactor | None:
    """The person's second factor, or None when they have none (or were erased).

    Parameters:
        store: the event store.
        person_id: the person.

    Returns:
        The secret and unused recovery codes of the latest enrolment, unless removed since.
    """
    factor: SecondFactor | None = None
    version = 0
    for event in store.read_stream(stream_of(person_id)):
        version = event.version
        if event.type == "SecondFactorEnrolled":
            codes = frozenset(event.data["recovery_code_hashes"])
            factor = SecondFactor(event.data["secret"], codes, version)
        elif event.type == "RecoveryCodeUsed" and factor is not None:
            factor = SecondFactor(
                factor.secret, factor.unused_codes - {event.data["code_hash"]}, version
            )
        elif event.type == "SecondFactorRemoved":
            factor = None
    if factor is None or factor.secret == ERASED:
        return None
    return SecondFactor(factor.secret, factor.unused_codes, version)


def new_secret() -> str:
    """A new random TOTP secret (160 bits, base32), not yet enrolled."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def code_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The 30-second step whose TOTP code ``code`` is (one step of drift either way).

    Parameters:
        secret: the TOTP secret.
        code: what the person typed (spaces ignored).
        now: the time (default: the clock).

    Returns:
        The step (seconds since the epoch // 30), or None when the code is none of them.
        The caller refuses a step it has seen before: a code is good once.
    """
    code = code.replace(" ", "")
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    step = int((time.time() if now is None else now) // STEP_SECONDS)
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(candidate * STEP_SECONDS), code):
            return candidate
    return None


def recovery_digest(code: str) -> str:
    """The stored form of a recovery code (dashes, spaces and case ignored)."""
    normal = "".join(c for c in code.lower() if c.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()


def new_recovery_codes() -> list[str]:
    """Ten new recovery codes, ``xxxx-xxxx-xxxx-xxxx`` (16 characters of 31: 79 bits)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def enrol(store: EventStore, actor: Actor, secret: str, code: str) -> list[str]:
    """Enrol ``secret`` once the person proved their app has it.

    Parameters:
        store: the event store.
        actor: the person enrolling (their own factor only).
        secret: the secret shown to them (see :func:`new_secret`).
        code: the code their app shows now.

    Returns:
        The ten recovery codes, in clear: shown once, stored only as digests.

    Raises:
        InvalidInput: the code does not match the secret (``code`` field).
        Conflict: the person has a second factor already.
    """
    assert actor.person_id is not None
    if code_step(secret, code) is None:
        raise InvalidInput(
            Text("The code is wrong."),
            {"code": [Text("That code is not right: try the next one.")]},
        )
    if second_factor_of(store, actor.person_id) is not None:
        raise Conflict(Text("You have a second factor already: remove it first."))
    codes = new_recovery_codes()
    event = NewEvent(
        "SecondFactorEnrolled",
        {
            "person_id": str(actor.person_id),
            "secret": secret,
            "recovery_code_hashes": [recovery_digest(c) for c in codes],
        },
    )
    _append(store, actor, event)
    return codes


def use_recovery_code(store: EventStore, actor: Actor, code: str) -> bool:
    """Spend one of the person's recovery codes.

    Parameters:
        store: the event store.
        actor: the person (logging in, or removing their factor).
        code: the recovery code typed.

    Returns:
        Whether it was an unused code of theirs (now spent). Two requests racing with one
        code: one wins, the other's append finds the stream moved and answers False.
    """
    assert actor.person_id is not None
    factor = second_factor_of(store, actor.person_id)
    digest = recovery_digest(code)
    if factor is None or digest not in factor.unused_codes:
        return False
    event = NewEvent("RecoveryCodeUsed", {"person_id": str(actor.person_id), "code_hash": digest})
    try:
        _append(store, actor, event, expected_version=factor.version)
    except ConcurrencyError:
        return False
    return True


def remove(store: EventStore, actor: Actor) -> None:
    """Turn the person's second factor off (the caller checked their password or a code).

    Raises:
        Conflict: the person has no second factor.
    """
    assert actor.person_id is not None
    if second_factor_of(store, actor.person_id) is None:
        raise Conflict(Text("You have no second factor."))
    _append(store, actor, NewEvent("SecondFactorRemoved", {"person_id": str(actor.person_id)}))


def remove_for(store: EventStore, actor: Actor, person_id: uuid.UUID) -> bool:
    """An admin turns off a person's second factor: they lost their phone and their
    recovery codes, and could not log in otherwise. Nothing to remove is not an error (a
    retried request answers alike).

    Returns:
        Whether a factor was removed.

    Raises:
        Forbidden: the actor is not an admin. NotFound: no such person in the organisation.
    """
    require_admin(actor)
    with store.engine.connect() as conn:
        find_person(conn, actor.tenant_id, person_id)
    if second_factor_of(store, person_id) is None:
        return False
    with store.engine.begin() as conn:
        append(
            store,
            conn,
            actor,
            stream_of(person_id),
            [NewEvent("SecondFactorRemoved", {"person_id": str(person_id)})],
        )
    return True


def _append(
    store: EventStore, actor: Actor, event: NewEvent, expected_version: int | None = None
) -> None:
    assert actor.person_id is not None
    with store.engine.begin() as conn:
        append(
            store,
            conn,
            actor,
            stream_of(actor.person_id),
            [event],
            expected_version=expected_version,
        )
