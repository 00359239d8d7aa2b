"""Every documentation reference in the code and the README points at something that exists.

Code, comments and docstrings under shared/, services/, workers/ and infra/ (and README.md)
cite ``docs/<file>.md``, ``docs/<file>.md#<anchor>`` and ``docs/<file>.md, "<Section>"``;
the docs link each other with ``[text](<file>.md#<anchor>)``. Each file must exist, each
anchor must be a heading's GitHub slug, and each quoted section a heading of that file.
The repository paths the docs and the code cite (``shared/calendar/sync.py``) must exist
too; migrations are left out, as they describe the code of their day.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SOURCE_TREES = ("shared", "services", "workers", "infra")
SOURCE_SUFFIXES = frozenset({".py", ".html", ".js", ".css", ".yml", ".yaml", ".toml", ".txt"})
SKIPPED_PARTS = frozenset({"__pycache__", "node_modules", "vendor"})

# ``docs/levers.md``, ``docs/levers.md#nudges``; in code or in a Markdown link from the root.
CITATION = re.compile(r"docs/(?P<file>[\w./-]+?\.md)(?:#(?P<anchor>[\w-]+))?")
# A section named right after the citation: ``docs/events.md, "Positions"`` or
# ``docs/events.md ("Positions")``; the quote may start on the next comment line.
SECTION = re.compile(r'\A\)?\s*[,(]\s*(?:the\s+section\s+)?"(?P<section>[^"\n]+)"')
# A relative Markdown link between the docs: ``[text](architecture.md#projections)``.
DOC_LINK = re.compile(r"\]\((?P<file>[\w./-]+?\.md)(?:#(?P<anchor>[\w-]+))?\)")
# ``shared/calendar/sync.py``, ``shared/projections/levers/``: a path inside the repository.
REPO_PATH = re.compile(r"(?<![\w./-])(?:shared|services|workers|infra|tests|bench)/[\w./-]*[\w/]")
HISTORICAL = ("infra/migrations/",)
HEADING = re.compile(r"^(#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to
    hyphens (letters, digits, ``-`` and ``_`` stay)."""
    text = re.sub(r"`|\*\*|\*|(?<!\w)_|_(?!\w)", "", heading.strip().lower())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link keeps only its text
    kept = "".join(
        ch
        for ch in text
        if ch in " -_" or unicodedata.category(ch)[0] in "LN"  # letters, digits
    )
    return kept.replace(" ", "-")


def headings(markdown: str) -> list[str]:
    """The headings of a Markdown text (fenced code blocks skipped), in order."""
    found = []
    fenced = False
    for line in markdown.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match:
            found.append(match["text"])
    return found


@cache
def anchors(doc: Path) -> frozenset[str]:
    """The anchors GitHub gives a document's headings (a repeated one gets ``-1``, ``-2``...)."""
    seen: Counter[str] = Counter()
    result = set()
    for text in headings(doc.read_text(encoding="utf-8")):
        base = slug(text)
        result.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return frozenset(result)


def source_files() -> Iterator[Path]:
    for tree in SOURCE_TREES:
        for path in sorted((ROOT / tree).rglob("*")):
            if (
                path.is_file()
                and path.suffix in SOURCE_SUFFIXES
                and not SKIPPED_PARTS.intersection(path.parts)
            ):
                yield path
    yield ROOT / "README.md"


def section_after(text: str, end: int) -> str | None:
    """The quoted section name right after a citation, if any (comment markers between lines
    are skipped)."""
    tail = re.sub(r"\n\s*(?:#|//|\*)?\s*", " ", text[end : end + 200])
    match = SECTION.match(tail)
    return match["section"] if match else None


def citations() -> list[tuple[str, Path, str | None, str | None]]:
    """``(where, doc, anchor, section)`` for every documentation reference."""
    found = []
    for path in source_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in CITATION.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            where = f"{path.relative_to(ROOT)}:{line}"
            section = section_after(text, match.end())
            found.append((where, DOCS / match["file"], match["anchor"], section))
    for doc in sorted(DOCS.glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        for match in DOC_LINK.finditer(text):
            if "://" in match["file"]:
                continue
            line = text.count("\n", 0, match.start()) + 1
            target = (doc.parent / match["file"]).resolve()
            found.append((f"docs/{doc.name}:{line}", target, match["anchor"], None))
    return found


CITATIONS = citations()


def test_the_code_cites_the_docs():
    """The walk finds citations at all (a broken pattern would make every check vacuous)."""
    assert len(CITATIONS) > 20
    assert any(anchor for _, _, anchor, _ in CITATIONS)
    assert any(section for _, _, _, section in CITATIONS)


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Positions", "positions"),
        ("Gateway: `GET /metrics`", "gateway-get-metrics"),
        (
            "Why 4 partitions cost PostgreSQL twice the CPU",
            "why-4-partitions-cost-postgresql-twice-the-cpu",
        ),
        ("Undo: a compensating event", "undo-a-compensating-event"),
        (
            "The local provider (`compound calendar-provider`)",
            "the-local-provider-compound-calendar-provider",
        ),
        (
            "Soak: Redis growth and projection lag (benchmark, 2026-11-25)",
            "soak-redis-growth-and-projection-lag-benchmark-2026-11-25",
        ),
        ("snake_case stays", "snake_case-stays"),
    ],
)
def test_slugs_follow_github(heading, expected):
    assert slug(heading) == expected


def test_repeated_headings_get_numbered_anchors(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# A\n\n## Tests\n\n```\n# not a heading\n```\n\n## Tests\n", encoding="utf-8")
    assert anchors(doc) == {"a", "tests", "tests-1"}


def test_every_cited_doc_exists():
    missing = [
        f"{where}: {doc.relative_to(ROOT)}" for where, doc, _, _ in CITATIONS if not doc.is_file()
    ]
    assert not missing, "cited documents that do not exist:\n" + "\n".join(missing)


def test_every_cited_anchor_is_a_heading():
    broken = [
        f"{where}: {doc.relative_to(ROOT)}#{anchor}"
        for where, doc, anchor, _ in CITATIONS
        if anchor and doc.is_file() and anchor not in anchors(doc)
    ]
    assert not broken, "anchors that match no heading:\n" + "\n".join(broken)


def test_every_named_section_is_a_heading():
    broken = [
        f'{where}: {doc.relative_to(ROOT)}, "{section}"'
        for where, doc, _, section in CITATIONS
        if section and doc.is_file() and slug(section) not in anchors(doc)
    ]
    assert not broken, "named sections that are no heading:\n" + "\n".join(broken)


def cited_paths() -> list[tuple[str, str]]:
    """``(where, path)`` for every repository path cited by the docs, README.md or the code."""
    found = []
    texts = [*sorted(DOCS.glob("*.md")), *source_files()]
    for path in texts:
        where = str(path.relative_to(ROOT))
        if where.startswith(HISTORICAL):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in REPO_PATH.finditer(text):
            cited = match[0].rstrip(".")
            if "." in cited.rsplit("/", 1)[-1] or cited.endswith("/"):  # a file or a folder
                line = text.count("\n", 0, match.start()) + 1
                found.append((f"{where}:{line}", cited))
    return found


def test_every_cited_path_exists():
    paths = cited_paths()
    assert len(paths) > 20
    missing = [f"{where}: {cited}" for where, cited in paths if not (ROOT / cited).exists()]
    assert not missing, "cited paths that do not exist:\n" + "\n".join(missing)
