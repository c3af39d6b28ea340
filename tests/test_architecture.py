"""The house: wings that import only the wings below them, no import circles, a pure core.

Every import counts, at the top of a module, inside a function or under TYPE_CHECKING: a
circle that only works because one side imports late is still a circle to a reader.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import REPO

PACKAGE = REPO / "mailproc"

# Each wing and the wings it may import (its own always). Read bottom-up: a layer points down.
ALLOWED: dict[str, set[str]] = {
    "model": set(),
    "config": {"model"},
    "mail": {"model", "config"},
    "reading": {"model", "config"},
    "triage": {"model", "config", "mail", "reading"},
    "deadlines": {"model", "config", "mail"},
    "cases": {"model", "config", "mail", "reading", "triage", "deadlines"},
    "reports": {"model", "config", "cases", "deadlines"},
    "store": {"model", "config"},
    "adapters": {"model", "config", "reading", "store"},
    "service": {"model", "config", "mail", "reading", "triage", "deadlines", "cases", "store",
                "adapters"},
    "cli": {"model", "config", "mail", "reading", "triage", "deadlines", "cases", "store",
            "adapters", "service", "reports"},
}
# reports draws with matplotlib (no I/O: PNG bytes come back; the CLI writes files).
PURE_WINGS = ("model", "mail", "reading", "triage", "deadlines", "cases", "reports")
IO_LIBRARIES = {"socket", "ssl", "imapclient", "aiosmtplib", "requests", "deep_translator",
                "tinydb", "subprocess", "asyncio", "urllib", "http", "sqlite3", "apscheduler",
                "multiprocessing"}
CLOCK = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time|time\.monotonic)\(")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> Iterator[str]:
    """Every module this file imports (mailproc's own resolved to modules, others by top name)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield full if full in known else base


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {m: {i for i in imports_of(p, known) if i in known and i != m}
            for m, p in mods.items()}


def wing(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ALLOWED) else None


def cycle_in(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the list of modules around it, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_every_module_lives_in_a_wing_that_says_what_it_owns() -> None:
    loose = [m for m in modules() if m.count(".") == 1 and wing(m) is None]
    assert loose == [], f"modules outside any wing: {loose}"
    for name in ALLOWED:
        init = PACKAGE / name / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "May import:" in doc and len(doc.splitlines()) >= 3, f"{init} says too little"


def test_no_import_circles() -> None:
    assert cycle_in(graph()) is None


def test_each_wing_imports_only_the_wings_below_it() -> None:
    wrong = sorted(f"{m} -> {i}" for m, targets in graph().items() for i in targets
                   if (a := wing(m)) is not None and (b := wing(i)) is not None
                   and a != b and b not in ALLOWED[a])
    assert wrong == []


@pytest.mark.parametrize("name", PURE_WINGS)
def test_the_pure_wings_do_no_io_and_never_read_the_clock(name: str) -> None:
    for path in sorted((PACKAGE / name).rglob("*.py")):
        outside = {i.split(".")[0] for i in imports_of(path, set())} - {"mailproc"}
        assert not outside & IO_LIBRARIES, f"{path.name} imports {outside & IO_LIBRARIES}"
        assert not CLOCK.search(path.read_text()), f"{path.name} reads the clock"


def test_the_checks_catch_what_they_are_for() -> None:
    """A circle, a forbidden wing import and a clock read are each found (so that the tests
    above can fail)."""
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": set()}) is None
    assert "store" not in ALLOWED["cases"] and "service" not in ALLOWED["cases"]
    assert "adapters" not in ALLOWED["cases"] and "mail" in ALLOWED["cases"]
    assert CLOCK.search("now = datetime.now(UTC)") and not CLOCK.search("ctx.now")
