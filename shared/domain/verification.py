"""Who may confirm what (model 2's proof): only the person or address an item names.

An outcome names a confirmer, a feedback request a colleague, a relationship action its
counterpart: a person of the organisation (by id) or someone outside (by e-mail address).
A witness is whoever answers: a logged-in person, or the holder of a link mailed to an
address. Pure functions, no I/O.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

RELATIONSHIP_TACTICS = frozenset({"relationship_deposit", "network_nudge"})
"""The tactics whose action may name a counterpart who confirms it."""


@dataclass(frozen=True)
class Named:
    """The party an item names: a person of the organisation, or an address outside it.

    Parameters:
        person_id: a person of the item owner's organisation, or None.
        email: an e-mail address, or None (exactly one of the two is set).
    """

    person_id: uuid.UUID | None = None
    email: str | None = None


@dataclass(frozen=True)
class Witness:
    """Who answers a confirmation: a logged-in person, or a mailed link's address.

    Parameters:
        tenant_id: the organisation the witness answers in.
        person_id: the logged-in person, or None for a link's holder.
        email: the person's address, or the address the link was mailed to.
    """

    tenant_id: uuid.UUID
    person_id: uuid.UUID | None
    email: str | None


def same_address(a: str | None, b: str | None) -> bool:
    """Whether two e-mail addresses are the same, ignoring case and outer spaces.

    Parameters:
        a, b: the addresses (None never matches).

    Returns:
        True when both are given and equal once normalised.
    """
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


def names(named: Named, witness: Witness, owner: uuid.UUID) -> bool:
    """Whether ``witness`` is the party ``named`` (and never the item's owner).

    Parameters:
        named: the party the item names.
        witness: who answers.
        owner: the person whose item it is.

    Returns:
        True when the witness is the named person, or holds the named address, and is not
        the owner.
    """
    if witness.person_id is not None and witness.person_id == owner:
        return False
    if named.person_id is not None:
        return witness.person_id == named.person_id
    return same_address(named.email, witness.email)
