"""The "link your account" links the Teams bot sends a user it does not know.

A link token names the Teams user (Azure AD tenant and object id) and the e-mail address the
Connector gave for them (``TeamsChannelAccount.email``, from the organisation's directory),
signed with ``COMPOUND_SECRET_KEY`` and valid for an hour. The portal links only when that
address is the logged-in person's and they confirm (services/gateway/msteams/accounts.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from shared.domain.errors import Gone, NotFound
from shared.i18n import gettext

LINK_MAX_AGE = 3600
SALT = "msteams-link"


@dataclass(frozen=True)
class LinkRequest:
    """Who asked to be linked, as the Connector described them."""

    aad_tenant_id: str
    aad_object_id: str
    email: str
    name: str


def link_token(secret_key: str, request: LinkRequest) -> str:
    """The signed token of a "link your account" link."""
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps(
        {
            "tenant": request.aad_tenant_id,
            "object": request.aad_object_id,
            "email": request.email,
            "name": request.name,
        }
    )


def read_link_token(secret_key: str, token: str) -> LinkRequest:
    """The request a link token carries.

    Raises:
        Gone: the link is older than :data:`LINK_MAX_AGE`.
        NotFound: the token was not made here, or was changed.
    """
    try:
        data: dict[str, Any] = URLSafeTimedSerializer(secret_key, salt=SALT).loads(
            token, max_age=LINK_MAX_AGE
        )
    except SignatureExpired:
        raise Gone(
            gettext("This link has expired: write to Compound in Teams for a new one.")
        ) from None
    except BadSignature:
        raise NotFound(gettext("This link is not valid.")) from None
    return LinkRequest(
        str(data["tenant"]), str(data["object"]), str(data["email"]), str(data["name"])
    )
