"""Personal fields are encrypted per person; erasure leaves no plaintext anywhere."""

from __future__ import annotations

import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.fernet import InvalidToken
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from shared.eventlog import (
    ERASED,
    AppendContext,
    EventStore,
    KeyRing,
    MissingMasterKey,
    NewEvent,
    SubjectErased,
    generate_master_key,
)

pytestmark = pytest.mark.integration


def note_event(person: uuid.UUID, note: str) -> NewEvent:
    return NewEvent(
        "MicroActionLogged",
        {
            "action_id": str(uuid.uuid4()),
            "person_id": str(person),
            "tactic": "network_nudge",
            "minutes": 5,
            "audience": "team",
            "note": note,
        },
    )


def invited(person: uuid.UUID, email: str) -> NewEvent:
    return NewEvent("PersonInvited", {"person_id": str(person), "email": email, "role": "employee"})


def dump_database(engine: Engine, bin_dir: Path) -> str:
    url = make_url(engine.url.render_as_string(hide_password=False))
    result = subprocess.run(
        [
            str(bin_dir / "pg_dump"),
            "--no-owner",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            url.database or "",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_personal_fields_are_stored_encrypted(store: EventStore, tenant: uuid.UUID):
    person = uuid.uuid4()
    store.append(tenant, f"journal-{person}", 0, [note_event(person, "coffee with Lin")])
    with store.engine.connect() as conn:
        raw = conn.execute(
            text("SELECT data::text FROM events WHERE stream_id = :s"), {"s": f"journal-{person}"}
        ).scalar_one()
    assert "coffee with Lin" not in raw and '"note": "v1:' in raw  # AES-GCM sealed
    assert store.read_stream(f"journal-{person}")[0].data["note"] == "coffee with Lin"


def test_erasure_leaves_no_plaintext_in_a_full_dump(
    store: EventStore, tenant: uuid.UUID, embedded_bin_dir: Path
):
    ada, bob = uuid.uuid4(), uuid.uuid4()
    secret, email = f"ada-secret-{uuid.uuid4().hex}", f"ada-{uuid.uuid4().hex[:6]}@demo.test"
    store.append(tenant, f"person-{ada}", 0, [invited(ada, email)])
    store.append(tenant, f"journal-{ada}", 0, [note_event(ada, secret), note_event(ada, "x")])
    store.append(tenant, f"journal-{bob}", 0, [note_event(bob, "bob's own note")])

    store.erase(tenant, ada, AppendContext(actor="admin", source="test"))

    journal = store.read_stream(f"journal-{ada}")
    assert [e.data["note"] for e in journal] == [ERASED, ERASED]
    assert journal[0].erased and "tactic" not in journal[0].data  # behaviour went with the key
    assert journal[0].data["action_id"]  # the ids the store looks events up by stay
    assert store.read_stream(f"person-{ada}")[0].data["email"] == ERASED
    assert store.read_stream(f"person-{ada}")[-1].type == "PersonErased"
    assert store.read_stream(f"journal-{bob}")[0].data["note"] == "bob's own note"
    with pytest.raises(SubjectErased):
        store.append(tenant, f"journal-{ada}", None, [note_event(ada, "after erasure")])

    dump = dump_database(store.engine, embedded_bin_dir)
    assert "CREATE TABLE public.events" in dump  # the dump is the whole database
    assert secret not in dump and email not in dump
    with store.engine.connect() as conn:
        wrapped = conn.execute(
            text("SELECT wrapped_key FROM data_keys WHERE subject_id = :s"), {"s": ada}
        ).scalar_one()
    assert wrapped is None


def test_master_key_rotation_keeps_data_readable(
    engine: Engine, tenant: uuid.UUID, master_key: str
):
    person = uuid.uuid4()
    EventStore(engine, keyring=KeyRing([master_key])).append(
        tenant, f"journal-{person}", 0, [note_event(person, "before rotation")]
    )
    new = generate_master_key()
    try:
        with engine.begin() as conn:
            assert KeyRing([new, master_key]).rotate(conn) >= 1
        only_new = EventStore(engine, keyring=KeyRing([new]))
        assert only_new.read_stream(f"journal-{person}")[0].data["note"] == "before rotation"
        with pytest.raises(InvalidToken):  # a wrong master key is an error, not "erased"
            EventStore(engine, keyring=KeyRing([master_key])).read_stream(f"journal-{person}")
    finally:  # the other tests of this session use the session's master key
        with engine.begin() as conn:
            KeyRing([master_key, new]).rotate(conn)


def test_personal_data_without_master_key_is_refused(engine: Engine, tenant: uuid.UUID):
    person = uuid.uuid4()
    with pytest.raises(MissingMasterKey, match="COMPOUND_MASTER_KEYS"):
        EventStore(engine).append(tenant, "s", None, [note_event(person, "n")])


def test_a_sealed_value_cannot_be_moved_to_another_person(store: EventStore, tenant: uuid.UUID):
    ada, bob = uuid.uuid4(), uuid.uuid4()
    store.append(tenant, f"journal-{ada}", 0, [note_event(ada, "ada only")])
    store.append(tenant, f"journal-{bob}", 0, [note_event(bob, "bob")])
    with store.engine.connect() as conn:
        sealed = conn.execute(
            text("SELECT data->>'note' FROM events WHERE stream_id = :s"), {"s": f"journal-{ada}"}
        ).scalar_one()
        key = store.keyring.data_keys_for_read(conn, [bob])[bob]
    with pytest.raises(InvalidTag):
        KeyRing.decrypt_value(key, bob, sealed)


def test_data_keys_for_many_subjects_are_each_ones_own(store: EventStore, tenant: uuid.UUID):
    """The bulk lookup (a batch of invitations) gives each subject the key the one-by-one
    lookup gives, creates the missing ones, and refuses an erased subject."""
    known, fresh, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ctx = AppendContext(actor="test")
    store.append(tenant, f"person-{known}", 0, [invited(known, "k@example.com")], ctx)
    store.append(tenant, f"person-{gone}", 0, [invited(gone, "g@example.com")], ctx)
    store.erase(tenant, gone, ctx)
    ring = KeyRing([generate_master_key()])
    ring._master = store.keyring._master  # the same master keys, an empty cache
    with store.engine.begin() as conn:
        keys = ring.data_keys_for_write(conn, tenant, [known, fresh])
        one_by_one = {s: store.keyring.data_key_for_write(conn, tenant, s) for s in (known, fresh)}
        for subject in (known, fresh):
            sealed = KeyRing.encrypt_value(keys[subject], subject, "x")
            assert KeyRing.decrypt_value(one_by_one[subject], subject, sealed) == "x"
        with pytest.raises(SubjectErased):
            ring.data_keys_for_write(conn, tenant, [known, gone])


def test_a_sealed_time_reads_back_as_the_text_it_was_sealed_as(
    store: EventStore, tenant: uuid.UUID
):
    """The exact time comes out of the seal as its own ``isoformat()`` text, which a rebuild
    writes instead of formatting the parsed time again; an event without a seal formats it."""
    person = uuid.uuid4()
    moment = datetime(2026, 3, 4, 17, 5, 6, 789, tzinfo=timezone(timedelta(hours=2)))
    logged = note_event(person, "a walk")
    store.append(tenant, f"journal-{person}", 0, [NewEvent(logged.type, logged.data, moment)])
    store.append(tenant, f"person-{person}", 0, [invited(person, "a@example.org")])

    (action,) = store.read_stream(f"journal-{person}")
    (invitation,) = store.read_stream(f"person-{person}")

    assert action.occurred_at == moment
    assert action.sealed_at_text == moment.isoformat() == action.occurred_at_text
    assert invitation.sealed_at_text is None
    assert invitation.occurred_at_text == invitation.occurred_at.isoformat()


@pytest.mark.parametrize("together", [False, True], ids=["one event", "two events"])
def test_the_append_refuses_a_subject_erased_after_its_key_was_cached(
    engine: Engine, store: EventStore, tenant: uuid.UUID, master_key: str, together: bool
):
    """The append's own check (compound_append_one() and compound_append(), their subjects
    sent as one joined string): a process whose key cache still holds an erased person's key
    cannot write their data, alone or next to another person's."""
    ada, bob = uuid.uuid4(), uuid.uuid4()
    stale = EventStore(engine, keyring=KeyRing([master_key]))
    stale.append(tenant, f"journal-{ada}", 0, [note_event(ada, "a"), note_event(bob, "b")])
    store.erase(tenant, bob, AppendContext(actor="admin", source="test"))
    events = [note_event(ada, "still here"), note_event(bob, "after erasure")]
    with pytest.raises(SubjectErased):
        stale.append(tenant, f"journal-{ada}", None, events if together else events[1:])
    stale.append(tenant, f"journal-{ada}", None, [note_event(ada, "c"), note_event(ada, "d")])
    notes = [e.data["note"] for e in store.read_stream(f"journal-{ada}")]
    assert notes == ["a", ERASED, "c", "d"]
