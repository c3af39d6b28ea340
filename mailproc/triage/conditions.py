"""The condition language of triage rules: what `when:` may say, compiled once at load.

Fields (from, subject, text, header, size …), operators (contains_any, regex, equals, exists,
gt, lt) and combinators (all, any, not) become frozen `Condition` trees with their regexes
compiled; problems go to a `Problems` collector as `file:line: path: message`. On subject, body
and text, `unless_negated: true` next to contains_any or regex ignores a match that is negated
in its clause ("I do not feel in danger": `mailproc.triage.negation`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from typing import Any

from mailproc.config.yamlsource import Loc, Problem, YamlDocument, format_loc
from mailproc.model.parsed import normalise_email

TEXT_FIELDS = ("from", "from_domain", "to", "cc", "subject", "body", "text", "language")
FIELDS = (*TEXT_FIELDS, "header", "has_attachment", "size")
COMBINATORS = ("all", "any", "not")
TEXT_OPS = ("contains_any", "regex", "equals", "exists")
NEGATABLE_FIELDS = ("subject", "body", "text")  # prose, where "not" can deny a cue
UNLESS_NEGATED = "unless_negated"  # a modifier of contains_any and regex, not an operator
SIZE_OPS = ("gt", "lt")
# Words admins bring from Sieve, Zammad or mail clients, and what they mean here.
_ALIASES = {"sender": "from", "recipient": "to", "domain": "from_domain", "lang": "language",
            "attachment": "has_attachment", "attachments": "has_attachment", "headers": "header",
            "forward": "route", "redirect": "route", "discard": "drop", "reject": "drop",
            "fileinto": "folder", "move": "folder"}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


@dataclass(frozen=True)
class Test:
    """One operator applied to one field of the message."""

    field: str  # a name from FIELDS
    op: str  # a name from TEXT_OPS or SIZE_OPS, or "is" for has_attachment
    header: str = ""  # lower-cased header name when field == "header"
    pattern: re.Pattern[str] | None = None  # contains_any (all terms, as a trie) and regex
    terms: tuple[str, ...] = ()  # contains_any terms as written; equals values normalised
    each: tuple[re.Pattern[str], ...] = ()  # contains_any: one per term, to name the one hit
    number: int = 0
    flag: bool = False
    unless_negated: bool = False  # contains_any / regex: a negated match does not count


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


@dataclass(frozen=True)
class Always:
    pass


Condition = Test | AllOf | AnyOf | Not | Always


class Problems:
    """Every problem found in one file, each pointing at its line."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc, self.items = doc, list[Problem]()

    def add(self, loc: Loc, message: str) -> None:
        self.items.append(Problem(self.doc.file, self.doc.line_of(loc), format_loc(loc), message))


def unknown(word: str, known: tuple[str, ...], what: str, where: str = "") -> str:
    """An 'unknown X' message that suggests the closest known word."""
    alias = _ALIASES.get(word)
    close = [alias] if alias in known else difflib.get_close_matches(word, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"use one of {', '.join(known)}"
    return f"unknown {what} {word!r}{where} ({hint})"


# --------------------------------------------------------------------------- conditions


def _units(term: str) -> list[str]:
    """A word or phrase as regex pieces: any whitespace between words, `*` ends a prefix."""
    units: list[str] = []
    for i, word in enumerate(term.rstrip("*").lower().split()):
        units += [r"\s+"] if i else []
        units += ["['’]" if ch in "'’" else re.escape(ch) for ch in word]
    return units + ([r"\w*"] if term.endswith("*") else [])


def _trie(terms: list[list[str]]) -> str:
    """One alternation with shared prefixes factored out: a word start tries few branches."""
    children: dict[str, list[list[str]]] = {}
    ends = False
    for units in terms:
        if units:
            children.setdefault(units[0], []).append(units[1:])
        else:
            ends = True
    if not children:
        return ""
    branches = [unit + _trie(rest) for unit, rest in children.items()]
    group = branches[0] if len(branches) == 1 and not ends else f"(?:{'|'.join(branches)})"
    return f"{group}?" if ends else group


def _whole_words(body: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def _contains_any(arg: Any, loc: Loc, out: Problems) -> Test:
    terms = [arg] if isinstance(arg, str) else arg
    if not isinstance(terms, list) or not terms:
        out.add(loc, "expected a list of words or phrases, e.g. [sponsor, sponsorship]")
        return Test("", "contains_any", pattern=re.compile("(?!)"))
    good: list[str] = []
    for i, term in enumerate(terms):
        if not isinstance(term, str | int) or not str(term).rstrip("*").strip():
            out.add((*loc, i) if isinstance(arg, list) else loc, "expected a word or phrase")
        else:
            good.append(str(term).strip())
    units = [_units(t) for t in good]
    each = tuple(_whole_words("".join(u)) for u in units)
    return Test("", "contains_any", pattern=_whole_words(_trie(units) or "(?!)"),
                terms=tuple(good), each=each)


def _regex(arg: Any, loc: Loc, out: Problems) -> re.Pattern[str] | None:
    if not isinstance(arg, str) or not arg:
        out.add(loc, "expected a regular expression in quotes, e.g. '^re: sponsor'")
        return None
    try:
        return re.compile(arg, re.IGNORECASE | re.MULTILINE)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        out.add(loc, f"invalid regular expression{where}: {exc.msg}")
        return None


def _equals(field: str, arg: Any, loc: Loc, out: Problems) -> tuple[str, ...]:
    values = arg if isinstance(arg, list) else [arg]
    if not values or not all(isinstance(v, str | int) and str(v).strip() for v in values):
        out.add(loc, "expected a value or a list of values, e.g. example.com or [en, es]")
        return ()
    norm = normalise_email if field in ("from", "to", "cc") else str.casefold
    return tuple(norm(str(v).strip()) for v in values)


def _size(arg: Any, loc: Loc, out: Problems) -> int:
    if isinstance(arg, int) and not isinstance(arg, bool) and arg >= 0:
        return arg
    match = _SIZE.match(arg) if isinstance(arg, str) else None
    if match is None:
        out.add(loc, "expected a size in bytes or with a unit, e.g. 1048576 or 1MB")
        return 0
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _operator(field: str, header: str, op: str, arg: Any, loc: Loc, out: Problems) -> Test | None:
    if op == "contains_any":
        found = _contains_any(arg, loc, out)
        return Test(field, op, header, found.pattern, found.terms, found.each)
    if op == "regex":
        rx = _regex(arg, loc, out)
        return Test(field, op, header, rx) if rx else None
    if op == "equals":
        return Test(field, op, header, terms=_equals(field, arg, loc, out))
    if op in ("exists", "is"):
        if not isinstance(arg, bool):
            out.add(loc, "expected true or false")
        return Test(field, op, header, flag=bool(arg))
    return Test(field, op, header, number=_size(arg, loc, out))


def _header_name(arg: dict[str, Any], loc: Loc, out: Problems) -> str:
    name = arg.get("name")
    if not isinstance(name, str) or not name.strip():
        out.add(loc, "header needs name: (e.g. name: X-Spam-Flag) and an operator")
        return ""
    return name.strip().lower()


def _field(field: str, arg: Any, loc: Loc, out: Problems) -> Condition | None:
    """One field's operators (several must all hold), e.g. size: {gt: 1KB, lt: 1MB}."""
    if field == "has_attachment":
        return _operator(field, "", "is", arg, loc, out)
    ops = SIZE_OPS if field == "size" else TEXT_OPS
    if not isinstance(arg, dict) or not (set(arg) - {"name", UNLESS_NEGATED}):
        example = "{gt: 1MB}" if field == "size" else "{contains_any: [word, another]}"
        out.add(loc, f"expected operators for {field}, e.g. {example}")
        return None
    header = _header_name(arg, loc, out) if field == "header" else ""
    negation = _unless_negated(field, arg, loc, out)
    tests: list[Test] = []
    for op, op_arg in arg.items():
        if (op == "name" and field == "header") or op == UNLESS_NEGATED:
            continue
        if op not in ops:
            out.add((*loc, op), unknown(str(op), ops, "operator", f" for {field}"))
        elif (test := _operator(field, header, op, op_arg, (*loc, op), out)) is not None:
            negatable = negation and op in ("contains_any", "regex")
            tests.append(replace(test, unless_negated=True) if negatable else test)
    return tests[0] if len(tests) == 1 else AllOf(tuple(tests))


def _unless_negated(field: str, arg: dict[str, Any], loc: Loc, out: Problems) -> bool:
    """The `unless_negated:` modifier of one field's mapping (False when absent or wrong)."""
    if UNLESS_NEGATED not in arg:
        return False
    value, where = arg[UNLESS_NEGATED], (*loc, UNLESS_NEGATED)
    if not isinstance(value, bool):
        out.add(where, "expected true or false")
    elif field not in NEGATABLE_FIELDS:
        out.add(where, f"unless_negated applies to {', '.join(NEGATABLE_FIELDS)}, not {field}")
    elif not {"contains_any", "regex"} & set(arg):
        out.add(where, "unless_negated needs contains_any or regex next to it")
    else:
        return value
    return False


def _combine(key: str, arg: Any, loc: Loc, out: Problems) -> Condition | None:
    if key == "not":
        inner = _condition(arg, loc, out)
        return Not(inner) if inner is not None else None
    if not isinstance(arg, list) or not arg:
        out.add(loc, f"{key}: needs a non-empty list of conditions")
        return None
    parts = [_condition(item, (*loc, i), out) for i, item in enumerate(arg)]
    kept = tuple(p for p in parts if p is not None)
    return AllOf(kept) if key == "all" else AnyOf(kept)


def _condition(value: Any, loc: Loc, out: Problems) -> Condition | None:
    """A mapping of conditions, all of which must hold."""
    if not isinstance(value, dict) or not value:
        what = "empty conditions" if not value else "expected a mapping of conditions"
        out.add(loc, f"{what}: give at least one, e.g. {{subject: {{contains_any: [sponsor]}}}}"
                     " (or when: always for a catch-all)")
        return None
    parts: list[Condition | None] = []
    for key, arg in value.items():
        sub = (*loc, key)
        if key in COMBINATORS:
            parts.append(_combine(key, arg, sub, out))
        elif key in FIELDS:
            parts.append(_field(key, arg, sub, out))
        else:
            out.add(sub, unknown(str(key), FIELDS + COMBINATORS, "condition"))
    kept = tuple(p for p in parts if p is not None)
    return kept[0] if len(kept) == 1 else AllOf(kept)


def compile_when(value: Any, loc: Loc, out: Problems) -> Condition | None:
    """A rule's when: as a condition tree (None after a problem); `always`/true is a catch-all."""
    if value is True or (isinstance(value, str) and value.strip().lower() == "always"):
        return Always()
    return _condition(value, loc, out)
