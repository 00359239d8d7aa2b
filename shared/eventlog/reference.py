"""The event catalogue as Markdown, for docs/events.md (``compound events reference``)."""

from __future__ import annotations

from marshmallow import fields
from marshmallow.validate import Length, OneOf, Range

from shared.eventlog.catalogue import Catalogue


def _kind(field: fields.Field) -> str:
    if isinstance(field, fields.List):
        return f"list of {_kind(field.inner)}"
    if isinstance(field, fields.Dict):
        return "object"
    names = {
        fields.UUID: "uuid",
        fields.AwareDateTime: "timestamp with offset",
        fields.Date: "date",
        fields.Boolean: "boolean",
        fields.Integer: "integer",
        fields.String: "string",
    }
    for cls, name in names.items():
        if isinstance(field, cls):
            return name
    return type(field).__name__.lower()


def _rules(field: fields.Field) -> str:
    rules = []
    own = getattr(field, "rule_text", None)  # the catalogue's own fields (time_fields.py)
    if own:
        rules.append(own)
    for rule in field.validators:
        if isinstance(rule, OneOf):
            rules.append("one of " + ", ".join(f"`{c}`" for c in rule.choices))
        elif isinstance(rule, Range):
            rules.append(f"{rule.min} to {rule.max}" if rule.max is not None else f">= {rule.min}")
        elif isinstance(rule, Length):
            if rule.equal is not None:
                rules.append(f"length {rule.equal}")
            elif rule.max is not None:
                rules.append(
                    f"at most {rule.max}"
                    + (" characters" if _kind(field) == "string" else " items")
                )
    if isinstance(field, fields.List):
        rules.extend(_rules(field.inner).split("; ") if _rules(field.inner) else [])
    if isinstance(field, fields.Dict) and field.key_field is not None:
        rules.append("keys: " + _rules(field.key_field))
    return "; ".join(r for r in rules if r)


def catalogue_markdown(catalogue: Catalogue) -> str:
    """One section per event type and version, with a table of its fields.

    Parameters:
        catalogue: the event types.

    Returns:
        The Markdown of docs/events.md's "Catalogue" entries.
    """
    out = []
    for event_type in catalogue:
        out.append(f"### {event_type.name} v{event_type.version}\n")
        out.append(event_type.description + "\n")
        if event_type.subject:
            out.append(
                f"Subject (whose data key encrypts personal fields): `{event_type.subject}`.\n"
            )
        out.append("| field | type | required | rules | personal |")
        out.append("| --- | --- | --- | --- | --- |")
        for name, field in event_type.schema.fields.items():
            required = "yes" if field.required else "no"
            personal = "encrypted" if field.metadata.get("personal") else ""
            if name in event_type.behaviour:
                personal = "sealed (behaviour)"
            out.append(f"| `{name}` | {_kind(field)} | {required} | {_rules(field)} | {personal} |")
        if event_type.behaviour:
            out.append(
                "\nBehaviour fields and the exact `occurred_at` are sealed together with the "
                "subject's data key; the stored `occurred_at` is the Monday of its UTC week "
                "([privacy.md](privacy.md#erasure))."
            )
        if event_type.rules_text:
            out.append(f"\nAlso: {event_type.rules_text}")
        out.append("")
    return "\n".join(out)
