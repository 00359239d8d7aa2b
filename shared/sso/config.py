"""An organisation's SSO connection as an admin gives it, checked before any event.

Pure: no database, no network. :func:`check` turns the admin's input into a
:class:`ConnectionInput` or raises ``InvalidInput`` with a message per field.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from shared.domain.errors import InvalidInput

CALLBACK_PATH = "/auth/oidc/callback"
"""The redirect URI's path on the public URL (registered at the provider)."""
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_DOMAINS = 50
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+[a-z]{{2,63}}$|^(?:{_LABEL}\.)+{_LABEL}$")


@dataclass(frozen=True)
class ConnectionInput:
    """A checked connection, its secret still in clear (None: keep the stored one)."""

    issuer: str
    client_id: str
    client_secret: str | None
    domains: tuple[str, ...]
    sso_required: bool = False
    jit_accounts: bool = False
    break_glass_email: str | None = None


@dataclass(frozen=True)
class Connection:
    """An organisation's connection as stored (the secret still sealed)."""

    tenant_id: uuid.UUID
    issuer: str
    client_id: str
    client_secret_sealed: str
    domains: tuple[str, ...]
    sso_required: bool
    jit_accounts: bool
    break_glass_person_id: uuid.UUID | None

    def public(self) -> dict[str, Any]:
        """What the admin API and the CLI show: everything but the secret."""
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "domains": list(self.domains),
            "sso_required": self.sso_required,
            "jit_accounts": self.jit_accounts,
            "break_glass_person_id": self.break_glass_person_id,
            "client_secret_set": bool(self.client_secret_sealed),
        }


def redirect_uri(public_url: str) -> str:
    """The redirect URI to register at the provider: :data:`CALLBACK_PATH` on the public URL."""
    return public_url.rstrip("/") + CALLBACK_PATH


def email_domain(email: str) -> str | None:
    """The lower-cased domain of an address, or None when it has none."""
    local, at, domain = email.strip().rpartition("@")
    return domain.lower() if at and local and domain else None


def issuer_errors(issuer: str) -> list[str]:
    """What is wrong with an issuer URL: https (http only on loopback), no query or fragment."""
    try:
        parts = urlsplit(issuer)
        host = parts.hostname or ""
    except ValueError:
        return ["Give the issuer's URL, e.g. https://login.example.com/realms/acme."]
    if parts.scheme not in ("https", "http") or not host:
        return ["Give the issuer's URL, e.g. https://login.example.com/realms/acme."]
    if parts.scheme == "http" and host not in LOOPBACK:
        return ["The issuer must use https (plain http only on 127.0.0.1 or localhost)."]
    if parts.query or parts.fragment or parts.username or parts.password:
        return ["The issuer URL has no query, fragment or credentials."]
    if len(issuer) > 500:
        return ["At most 500 characters."]
    return []


def normalise_domains(raw: list[str] | tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    """Lower-cased, unique domains in the given order, and the messages for bad ones."""
    domains: list[str] = []
    errors: list[str] = []
    for item in raw:
        domain = str(item).strip().lower().rstrip(".")
        if not _DOMAIN.match(domain) or len(domain) > 253:
            errors.append(f"{str(item)[:80]!r} is not an e-mail domain (such as example.com).")
        elif domain not in domains:
            domains.append(domain)
    if not domains and not errors:
        errors.append("Give at least one e-mail domain.")
    if len(domains) > MAX_DOMAINS:
        errors.append(f"At most {MAX_DOMAINS} domains.")
    return tuple(domains), errors


def check(body: dict[str, Any], secret_known: bool) -> ConnectionInput:
    """The admin's input, checked.

    Parameters:
        body: ``issuer``, ``client_id``, ``client_secret`` (optional once one is stored),
            ``domains``, ``sso_required``, ``jit_accounts``, ``break_glass_email``.
        secret_known: whether a secret is stored already (then it may be omitted).

    Raises:
        InvalidInput: with a message per field; nothing is written.
    """
    errors: dict[str, list[str]] = {}
    issuer = str(body.get("issuer") or "").strip().rstrip("/")
    if found := issuer_errors(issuer):
        errors["issuer"] = found
    client_id = str(body.get("client_id") or "").strip()
    if not client_id or len(client_id) > 500 or "\x00" in client_id:
        errors["client_id"] = ["Give the client id the provider issued (at most 500 characters)."]
    secret = body.get("client_secret")
    secret = None if secret in (None, "") else str(secret)
    if secret is None and not secret_known:
        errors["client_secret"] = ["Give the client secret the provider issued."]
    elif secret is not None and (len(secret) > 1000 or "\x00" in secret):
        errors["client_secret"] = ["At most 1000 characters, no NUL."]
    domains, domain_errors = normalise_domains(list(body.get("domains") or []))
    if domain_errors:
        errors["domains"] = domain_errors
    required = bool(body.get("sso_required", False))
    break_glass = str(body.get("break_glass_email") or "").strip() or None
    if required and break_glass is None:
        errors["break_glass_email"] = [
            "With SSO required, name a break-glass admin who may still use a password."
        ]
    if errors:
        raise InvalidInput("invalid SSO configuration", errors)
    return ConnectionInput(
        issuer,
        client_id,
        secret,
        domains,
        required,
        bool(body.get("jit_accounts", False)),
        break_glass,
    )
