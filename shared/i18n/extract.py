"""The messages of the code, and the catalogue files kept in step with them.

``python -m shared.i18n update AREA PATH...`` adds to ``locales/<de|fr>/AREA.po`` every
message found under the paths that no catalogue file of that locale has yet (untranslated,
to fill in); ``python -m shared.i18n check`` lists what is missing, fuzzy, untranslated or
has other placeholders than its English text, for every shipped locale (the test
``tests/unit/test_i18n_catalogue.py`` runs the same check).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po, write_po

from shared.i18n.catalogue import LOCALE_DIR, LOCALES, plural_rules, po_files, read_catalogue

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("services/gateway", "shared", "workers")
"""Where user-facing text lives (the stand-ins under infra/ and services/calendar_provider
play other companies' services: English only)."""
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_": None,
    "N_": None,
    "lazy_gettext": None,
    # The domain's messages (shared/domain/errors.py: translated where they are made).
    "Text": None,
    "plural_text": (1, 2),
}

MessageId = str | tuple[str, ...]


def extract(paths: Iterable[str] = SOURCES) -> dict[MessageId, list[str]]:
    """Every message under ``paths`` (files or folders, relative to the repository): id ->
    where it is. A template is any ``.html``/``.txt`` under a ``templates`` folder, whatever
    folder the path names (``services/gateway/templates/portal`` included)."""
    found: dict[MessageId, list[str]] = {}
    for path in paths:
        start = ROOT / path
        files = [start] if start.is_file() else sorted(start.rglob("*"))
        for file in files:
            for where, lineno, message in _extract_file(file):
                key: MessageId = message if isinstance(message, str) else tuple(message[:2])
                if not key or (isinstance(key, tuple) and not key[0]):
                    continue
                found.setdefault(key, []).append(f"{where}:{lineno}")
    return found


def _method(path: Path) -> str | None:
    relative = path.relative_to(ROOT)
    if "__pycache__" in relative.parts or not path.is_file():
        return None
    if path.suffix == ".py":
        return "python"
    if path.suffix in (".html", ".txt") and "templates" in relative.parts:
        return "jinja2.ext:babel_extract"
    return None


def _extract_file(path: Path) -> Iterable[tuple[str, int, MessageId]]:
    method = _method(path)
    if method is None:
        return
    options = {"extensions": "jinja2.ext.i18n"} if method != "python" else {}
    for lineno, message, _comments, _context in extract_from_file(
        method, str(path), KEYWORDS, options=options, strip_comment_tags=True
    ):
        yield str(path.relative_to(ROOT)), lineno, message


def update(area: str, paths: Iterable[str]) -> dict[str, int]:
    """Add the messages under ``paths`` that no file of a locale has to that locale's
    ``AREA.po``; returns how many each locale's file gained."""
    messages = extract(paths)
    added: dict[str, int] = {}
    for locale in LOCALES[1:]:
        known = {m.id for m in read_catalogue(locale) if m.id}
        known = {k if isinstance(k, str) else tuple(k) for k in known}
        target = LOCALE_DIR / locale / f"{area}.po"
        catalogue = _read(target, locale)
        count = 0
        for key in messages:
            if key in known:
                continue
            catalogue.add(key, ("", "") if isinstance(key, tuple) else "")
            count += 1
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            write_po(handle, catalogue, width=100, no_location=True, sort_output=True)
        added[locale] = count
    return added


def _read(path: Path, locale: str) -> Catalog:
    if path.exists():
        with path.open("rb") as handle:
            return plural_rules(read_po(handle, locale=locale), locale)
    return plural_rules(
        Catalog(
            locale=locale,
            project="Compound",
            version="",
            copyright_holder="Compound",
            charset="utf-8",
            fuzzy=False,
            header_comment=f"# {locale} messages of Compound, area {path.stem}: see shared/i18n",
            creation_date=datetime(2026, 12, 7, tzinfo=UTC),
            revision_date=datetime(2026, 12, 7, tzinfo=UTC),
            last_translator="Compound",
            language_team="Compound",
        ),
        locale,
    )


def fill(locale: str, area: str, table: dict[str, str | list[str]]) -> int:
    """Write translations into ``locales/LOCALE/AREA.po``: ``{English text: translation}``
    (a plural message: its singular text -> ``[singular, plural]``); returns how many."""
    target = LOCALE_DIR / locale / f"{area}.po"
    catalogue = _read(target, locale)
    count = 0
    for message in catalogue:
        key = message.id if isinstance(message.id, str) else (message.id or ("",))[0]
        if message.id and key in table:
            value = table[key]
            message.string = tuple(value) if isinstance(value, list) else value
            message.flags.discard("fuzzy")
            count += 1
    with target.open("wb") as handle:
        write_po(handle, catalogue, width=100, no_location=True, sort_output=True)
    return count


_PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[sdif]|%[sdif]")


@dataclass(frozen=True)
class Problem:
    locale: str
    message: MessageId
    what: str  # missing, fuzzy, untranslated, placeholders, plural, obsolete (in no code)

    def __str__(self) -> str:
        return f"{self.locale}: {self.what}: {self.message!r}"


def check(paths: Iterable[str] = SOURCES) -> list[Problem]:
    """What keeps the shipped catalogues complete and tidy (empty: nothing): a message of
    the code missing, fuzzy, untranslated or with other placeholders in a language, or an
    entry of a catalogue file that no code says any more."""
    paths = tuple(paths)
    messages = extract(paths)
    problems: list[Problem] = []
    for locale in LOCALES[1:]:
        catalogue = read_catalogue(locale)
        for key in messages:
            what = _problem(key, catalogue.get(key if isinstance(key, str) else key[0]))
            if what:
                problems.append(Problem(locale, key, what))
        if paths == SOURCES:  # obsolete entries only when every source was read
            problems.extend(_obsolete(locale, messages))
    return problems


def _problem(key: MessageId, entry: Message | None) -> str | None:
    """What is wrong with the catalogue's ``entry`` for the code's message ``key``."""
    if entry is None:
        return "missing"
    strings = entry.string if isinstance(entry.string, tuple | list) else (entry.string,)
    if entry.fuzzy:
        return "fuzzy"
    if not all(strings):
        return "untranslated"
    if isinstance(key, tuple) != isinstance(entry.id, tuple | list):
        return "plural"
    ids = key if isinstance(key, tuple) else (key,)
    wanted = {p for i in ids for p in _PLACEHOLDER.findall(str(i))}
    for string in strings:
        have = set(_PLACEHOLDER.findall(string or ""))
        if not have <= wanted or not (wanted - {"%(num)d"}) <= have:
            return "placeholders"
    return None


def _obsolete(locale: str, messages: dict[MessageId, list[str]]) -> list[Problem]:
    found = set(messages) | {k[0] for k in messages if isinstance(k, tuple)}
    problems = []
    for path in po_files(locale):
        with path.open("rb") as handle:
            for entry in read_po(handle, locale=locale):
                key = entry.id if isinstance(entry.id, str) else (entry.id or ("",))[0]
                if key and key not in found:
                    problems.append(Problem(locale, key, f"obsolete in {path.name}"))
    return problems
