"""Who may confirm what (shared/domain/verification.py): the named party only, never the
owner; addresses compared without case or outer spaces."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from shared.commands.verification import named_in, split_party
from shared.domain.verification import Named, Witness, names, same_address

TENANT, OWNER, COLLEAGUE, OTHER = (uuid.uuid4() for _ in range(4))


def witness(person: uuid.UUID | None, email: str | None = None) -> Witness:
    return Witness(TENANT, person, email)


def test_a_named_person_is_the_only_witness():
    named = Named(person_id=COLLEAGUE)
    assert names(named, witness(COLLEAGUE), OWNER)
    assert not names(named, witness(OTHER), OWNER)
    assert not names(named, witness(None, "colleague@x.test"), OWNER)


def test_the_owner_never_confirms_even_when_named():
    assert not names(Named(person_id=OWNER), witness(OWNER), OWNER)
    assert not names(Named(email="me@x.test"), witness(OWNER, "me@x.test"), OWNER)


def test_a_named_address_matches_its_holder_and_a_person_with_it():
    named = Named(email="Mentor@Partner.example")
    assert names(named, witness(None, " mentor@partner.example "), OWNER)
    assert names(named, witness(COLLEAGUE, "MENTOR@partner.example"), OWNER)
    assert not names(named, witness(None, "mentor@partner.example.evil"), OWNER)
    assert not names(named, witness(None, None), OWNER)


@given(st.emails(), st.emails())
def test_addresses_match_exactly_when_equal_ignoring_case(a: str, b: str):
    assert same_address(a, a.upper())
    assert same_address(a, b) == (a.casefold() == b.casefold())
    assert not same_address(a, None) and not same_address(None, None)


def test_an_item_names_by_id_before_address_and_nobody_when_empty():
    assert named_in("outcome", {"confirmer_id": str(COLLEAGUE)}) == Named(person_id=COLLEAGUE)
    assert named_in("outcome", {"confirmer_email": "a@b.example"}) == Named(email="a@b.example")
    assert named_in("action", {"counterpart_id": str(COLLEAGUE)}) == Named(person_id=COLLEAGUE)
    assert named_in("feedback", {"colleague_id": None, "colleague_email": None}) is None
    assert named_in("action", {"tactic": "relationship_deposit"}) is None


def test_a_party_splits_into_a_person_or_an_address():
    assert split_party(COLLEAGUE) == (COLLEAGUE, None)
    assert split_party("a@b.example") == (None, "a@b.example")
    assert split_party(None) == (None, None)
