"""The shape the code keeps (issue #16): small modules and functions, one-way imports.

Checked over the AST of every module in shared/, services/ and workers/ (not migrations):

* no module over :data:`MAX_MODULE_LINES` lines;
* no function over :data:`MAX_FUNCTION_LINES` lines or :data:`MAX_BRANCHES` branches
  (each if, loop, with, try, except, comprehension, conditional expression and match, and
  each extra operand of ``and`` / ``or``);
* no import of another module's private (underscore) name, ours or a library's;
* no import cycle among our modules, package ``__init__`` modules included.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TREES = ("shared", "services", "workers")
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80
MAX_BRANCHES = 20
_BRANCHING = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.ExceptHandler,
    ast.IfExp,
    ast.comprehension,
    ast.Match,
)


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    lines: int
    imports: set[str] = field(default_factory=set)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Module]:
    found = {}
    for top in TREES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            source = path.read_text(encoding="utf-8")
            name = _module_name(path)
            found[name] = Module(name, path, ast.parse(source), len(source.splitlines()))
    return found


MODULES = _modules()


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.name.split(".")
    if module.path.name != "__init__.py":
        package = package[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def _imported(module: Module) -> Iterator[tuple[str, str | None]]:
    """(module imported from, name imported) for every import statement."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            for alias in node.names:
                yield source, alias.name


def _branches(function: ast.AST) -> int:
    count = 0
    for node in ast.walk(function):
        if isinstance(node, _BRANCHING):
            count += 1
        elif isinstance(node, ast.BoolOp):
            count += len(node.values) - 1
    return count


def test_the_checks_see_the_whole_tree() -> None:
    assert "shared.eventlog" in MODULES
    assert "services.gateway.app" in MODULES
    assert any(name.startswith("workers") for name in MODULES)


def test_no_module_is_too_long() -> None:
    long = {m.name: m.lines for m in MODULES.values() if m.lines > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_is_too_long_or_too_branchy() -> None:
    offenders = {}
    for module in MODULES.values():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                branches = _branches(node)
                if lines > MAX_FUNCTION_LINES or branches > MAX_BRANCHES:
                    where = f"{module.name}.{node.name}:{node.lineno}"
                    offenders[where] = f"{lines} lines, {branches} branches"
    assert offenders == {}


def test_no_module_imports_a_private_name() -> None:
    private = [
        f"{module.name} imports {name} from {source}"
        for module in MODULES.values()
        for source, name in _imported(module)
        if name is not None and name.startswith("_") and not name.startswith("__")
    ]
    assert private == []


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for module in MODULES.values():
        for source, name in _imported(module):
            if name is not None and f"{source}.{name}" in MODULES:
                graph[module.name].add(f"{source}.{name}")
            elif source in MODULES:
                graph[module.name].add(source)
        graph[module.name].discard(module.name)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [("def f():\n    if a and b or c:\n        pass\n", 3), ("def f():\n    return 1\n", 0)],
)
def test_branches_are_counted(source: str, expected: int) -> None:
    assert _branches(ast.parse(source).body[0]) == expected
