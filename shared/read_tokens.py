"""Opaque read-your-writes tokens: a log position sealed for one tenant.

Log positions are global: a raw position handed to a tenant would tell it how many events
every other tenant wrote in between. The API hands out tokens instead, and takes them back
as ``min_position``:

* a token is ``p1.`` + base64url(nonce + AES-GCM(position)), with the tenant's id as
  associated data, so a token cannot be read, forged or used by another tenant;
* the nonce is derived from tenant and position (a synthetic IV), so the same position gives
  the same token: a read's ``as_of_position`` does not change while the tenant writes nothing;
* a read's ``as_of_position`` seals the tenant's own last event the projection has reached
  (:func:`own_position`), never the projection's global position, so it moves only when
  the tenant writes.

The key is derived from ``COMPOUND_SECRET_KEY``; rotating that key invalidates outstanding
tokens (a client then gets a 422 and reads without waiting).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.database import as_psycopg
from shared.eventlog.crypto import DB

TOKEN_PREFIX = "p1."
_NONCE = 12


class InvalidPositionToken(ValueError):
    """The text is not a token this deployment sealed for this tenant."""


class PositionTokens:
    """Seals and opens position tokens.

    Parameters:
        secret: the deployment's secret key (``COMPOUND_SECRET_KEY``).
    """

    def __init__(self, secret: str):
        root = secret.encode()
        self._aead = AESGCM(hmac.new(root, b"position-token:key", hashlib.sha256).digest())
        self._iv_key = hmac.new(root, b"position-token:iv", hashlib.sha256).digest()

    def seal(self, tenant_id: uuid.UUID, position: int) -> str:
        """The token of ``position`` for ``tenant_id``.

        Parameters:
            tenant_id: the tenant the token is for (and only for).
            position: a log position (0 for "nothing yet").

        Returns:
            ``p1.`` and 48 URL-safe characters; always the same for the same arguments.
        """
        plain = max(0, position).to_bytes(8, "big")
        tenant = tenant_id.bytes
        nonce = hmac.digest(self._iv_key, tenant + plain, "sha256")[:_NONCE]
        sealed = self._aead.encrypt(nonce, plain, tenant)
        return TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, tenant_id: uuid.UUID, token: str) -> int:
        """The position ``token`` seals for ``tenant_id``.

        Parameters:
            tenant_id: the tenant presenting the token.
            token: a token from :meth:`seal`.

        Returns:
            The position.

        Raises:
            InvalidPositionToken: a raw integer, another tenant's token, a tampered or
                truncated token, or one sealed under another secret key.
        """
        if not token.startswith(TOKEN_PREFIX):
            raise InvalidPositionToken(token)
        try:
            raw = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :].encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise InvalidPositionToken(token) from None
        if len(raw) != _NONCE + 8 + 16:
            raise InvalidPositionToken(token)
        try:
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], tenant_id.bytes)
        except InvalidTag:
            raise InvalidPositionToken(token) from None
        return int.from_bytes(plain, "big")


def own_position(conn: DB, tenant_id: uuid.UUID, reached: int) -> int:
    """The tenant's last event at or before ``reached`` (0 if none).

    Walks the partition index (tenant slot, position) backwards from ``reached``: a few rows
    for an active tenant; at worst the slot's events since the tenant's last write.

    Parameters:
        conn: a connection.
        tenant_id: the tenant.
        reached: a position a projection has reached.

    Returns:
        The position of the tenant's last event no later than ``reached``.
    """
    if reached <= 0:
        return 0
    row = (
        as_psycopg(conn)
        .execute(
            "SELECT position FROM events WHERE (get_byte(uuid_send(tenant_id), 15) %% 64) = %s "
            "AND position <= %s AND tenant_id = %s ORDER BY position DESC LIMIT 1",
            (tenant_id.bytes[15] % 64, reached, tenant_id),
        )
        .fetchone()
    )
    return int(row[0]) if row else 0
