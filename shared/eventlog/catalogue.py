"""The event catalogue: a marshmallow schema per event type and version, and upcasters.

On append every payload is loaded by the current schema of its type (unknown fields are
rejected) and dumped back to JSON, so what is stored is always normalised. On read, a payload
written at an older schema version is upcast, one version at a time, to the current one.
Fields whose schema field carries ``metadata={"personal": True}`` are encrypted with the data
key of the person named by the type's ``subject`` field (see ``shared.eventlog.crypto``); a
type's ``behaviour`` fields are sealed together under the same key
(``shared.eventlog.sealing``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from marshmallow import Schema, ValidationError

from shared.eventlog.errors import EventValidationError, UnknownEventType
from shared.eventlog.fastcheck import compile_schema

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
FastCheck = Callable[[Mapping[str, Any]], dict[str, Any] | None]
Rules = Callable[[dict[str, Any]], dict[str, list[str]]]
"""A type's rules over several fields, run on the normalised payload: messages per field."""


@dataclass(frozen=True)
class EventType:
    """One version of one event type."""

    name: str
    version: int
    schema: Schema
    subject: str | None = None
    description: str = ""
    personal: frozenset[str] = field(default_factory=frozenset)
    rules: Rules | None = None
    rules_text: str = ""
    behaviour: tuple[str, ...] = ()


class Catalogue:
    """Event types by name and version, with the upcasters between versions."""

    def __init__(self) -> None:
        self._types: dict[str, dict[int, EventType]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._fast: dict[tuple[str, int], FastCheck] = {}
        # Per name: the newest version, its fast checker and its rules (normalise runs once
        # per append).
        self._newest: dict[str, tuple[EventType, FastCheck | None, Rules | None]] = {}

    def register(
        self,
        name: str,
        version: int,
        schema: type[Schema],
        *,
        subject: str | None = None,
        description: str = "",
        rules: Rules | None = None,
        rules_text: str = "",
        behaviour: tuple[str, ...] = (),
    ) -> EventType:
        """Add ``version`` of event type ``name``.

        Parameters:
            name: the event type's name.
            version: its schema version (1, 2, ...).
            schema: marshmallow schema; fields with ``metadata={"personal": True}`` are encrypted.
            subject: the data field holding the person id whose key encrypts personal fields.
            description: one sentence for docs/events.md.
            rules: checks over several fields of the normalised payload (both paths).
            rules_text: those rules in words, for docs/events.md.
            behaviour: fields sealed together with the subject's key (what the person did).

        Returns:
            The registered type.

        Raises:
            ValueError: the version exists already, personal or behaviour fields have no
                subject, or a behaviour field is not one of the schema's.
        """
        instance = schema()
        personal = frozenset(
            key for key, f in instance.fields.items() if f.metadata.get("personal")
        )
        if (personal or behaviour) and subject is None:
            raise ValueError(f"{name} has personal fields {sorted(personal)} but no subject")
        if not set(behaviour) <= set(instance.fields) - {subject}:
            raise ValueError(f"{name}: behaviour {behaviour} must be fields other than the subject")
        if subject is not None and subject not in instance.fields:
            raise ValueError(f"{name} subject {subject!r} is not one of its fields")
        versions = self._types.setdefault(name, {})
        if version in versions:
            raise ValueError(f"{name} version {version} is registered already")
        event_type = EventType(
            name, version, instance, subject, description, personal, rules, rules_text, behaviour
        )
        versions[version] = event_type
        fast = compile_schema(instance)
        if fast is not None:
            self._fast[(name, version)] = fast
        newest = versions[max(versions)]
        self._newest[name] = (newest, self._fast.get((name, newest.version)), newest.rules)
        return event_type

    def upcaster(self, name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: register the function turning ``from_version`` data into the next.

        Parameters:
            name: the event type's name.
            from_version: the schema version the function reads.

        Returns:
            The decorator (it returns the function unchanged).
        """

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(name, from_version)] = fn
            return fn

        return decorate

    def current(self, name: str) -> EventType:
        """The newest version of ``name``.

        Parameters:
            name: the event type's name.

        Returns:
            Its newest registered version.

        Raises:
            UnknownEventType: no such type.
        """
        versions = self._types.get(name)
        if not versions:
            raise UnknownEventType(name)
        return versions[max(versions)]

    def get(self, name: str, version: int) -> EventType:
        """One version of ``name``.

        Parameters:
            name: the event type's name.
            version: its schema version.

        Returns:
            That version.

        Raises:
            UnknownEventType: no such type or version.
        """
        try:
            return self._types[name][version]
        except KeyError:
            raise UnknownEventType(f"{name} v{version}") from None

    def normalise(self, name: str, data: Mapping[str, Any]) -> tuple[EventType, dict[str, Any]]:
        """Validate ``data`` against the current schema of ``name``; return it as stored.

        The result is JSON-native (UUIDs and dates as strings), exactly
        ``json(schema.load(data))``; a compiled fast path (``fastcheck``) produces it for
        the common case and marshmallow for everything else, including every error. A type's
        rules over several fields run after either.

        Parameters:
            name: the event type's name.
            data: the payload.

        Returns:
            The type's newest version and the payload as stored.

        Raises:
            UnknownEventType: no such type.
            EventValidationError: the payload does not match; ``errors`` names the fields.
        """
        try:
            event_type, fast, rules = self._newest[name]
        except KeyError:
            raise UnknownEventType(name) from None
        checked = fast(data) if fast is not None else None
        if checked is None:
            if not isinstance(data, Mapping):
                raise EventValidationError(name, {"_schema": ["event data must be an object"]})
            try:
                loaded = event_type.schema.load(data)
            except ValidationError as err:
                messages = (
                    err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
                )
                raise EventValidationError(name, messages) from None
            checked = orjson.loads(orjson.dumps(loaded))
        if rules is not None:
            errors = rules(checked)
            if errors:
                raise EventValidationError(name, errors)
        return event_type, checked

    def upcast(self, name: str, version: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Bring stored ``data`` of ``version`` up to the current version of ``name``.

        Parameters:
            name: the event type's name.
            version: the schema version ``data`` follows.
            data: the stored payload (upcasters may change it in place).

        Returns:
            The current version and the upcast payload.

        Raises:
            UnknownEventType: no such type, or an upcaster is missing.
        """
        current = self.current(name).version
        while version < current:
            step = self._upcasters.get((name, version))
            if step is None:
                raise UnknownEventType(f"{name}: no upcaster from version {version}")
            data = step(data)
            version += 1
        return version, data

    def __iter__(self) -> Iterator[EventType]:
        for name in sorted(self._types):
            yield from (self._types[name][v] for v in sorted(self._types[name]))

    def __contains__(self, name: object) -> bool:
        return name in self._types
