"""New event ids: version 7 UUIDs, increasing within a bulk append."""

from __future__ import annotations

import uuid

from shared.eventlog.ids import EVENT_ID_NAMESPACE, derive_event_id, new_event_id, new_event_id_ints


def test_bulk_ids_are_version_7_and_count_up():
    ids = [uuid.UUID(int=value) for value in new_event_id_ints(10_000)]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)
    assert [u.int for u in ids] == sorted({u.int for u in ids})  # increasing, no repeats
    assert len({u.int >> 80 for u in ids}) == 1  # one millisecond for the whole batch


def test_ids_of_separate_calls_do_not_collide():
    batches = [set(new_event_id_ints(1_000)) for _ in range(50)]
    assert len(set().union(*batches)) == 50_000
    singles = {new_event_id() for _ in range(10_000)}
    assert len(singles) == 10_000
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in singles)
    assert all(uuid.UUID(str(u)) == u and hash(uuid.UUID(str(u))) == hash(u) for u in singles)


def test_derived_ids_are_uuid5s_of_tenant_actor_key_and_index():
    tenant = uuid.uuid4()
    for actor, key in ((None, "k"), ("calendar-x", "calendar:" + "ab" * 32), ("ä", "é|1")):
        for index in (0, 1, 17, 10**9):
            derived = derive_event_id(tenant, actor, key, index)
            expected = uuid.uuid5(EVENT_ID_NAMESPACE, f"{tenant}|{actor or '-'}|{key}|{index}")
            assert derived == expected and hash(derived) == hash(expected)
            assert str(derived) == str(expected) and derived.version == 5
            assert derived.is_safe == expected.is_safe
