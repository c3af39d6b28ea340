"""Triage rules: `rules/triage.yaml` checked and compiled into an immutable `RuleSet`.

Owns the file's shape (version, rules), each rule's keys and actions, route resolution against
config `routes:` (never back to the conduct address), duplicate names and dead rules after a
catch-all. Every problem is raised together as one `ConfigError`; conditions are compiled by
`mailproc.triage.conditions`, evaluation is `mailproc.triage.evaluate`.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailproc.config.yamlsource import ConfigError, Loc, Problem, YamlDocument, load_yaml
from mailproc.model.parsed import normalise_email
from mailproc.triage.conditions import Always, Condition, Problems, compile_when, unknown

KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PRIORITIES = ("P1", "P2", "P3", "P4")
RULE_KEYS = ("name", "description", "when", "continue")
ACTIONS = ("route", "reply", "drop", "category", "priority", "urgent", "no_ack", "folder")
TOP_KEYS = ("version", "rules")


@dataclass(frozen=True)
class Actions:
    route: str | None = None  # resolved address
    route_name: str | None = None
    reply: bool = True
    drop: str | None = None
    category: str | None = None
    priority: str | None = None
    urgent: bool = False
    no_ack: bool = False
    folder: str | None = None

    @property
    def terminal(self) -> bool:
        return self.route is not None or self.drop is not None


@dataclass(frozen=True)
class Rule:
    name: str
    when: Condition
    actions: Actions
    cont: bool
    description: str
    line: int


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    path: Path
    version: str  # sha256 (12 hex) of the file content


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class _Target:
    """Where route: points, and who must not be routed to (the conduct mailbox itself)."""

    routes: Mapping[str, str]
    conduct: str


def _mailbox(address: str) -> str:
    """An address without its +tag: conduct+x@ and conduct@ reach the same mailbox."""
    local, _, domain = normalise_email(address).rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _route(arg: Any, loc: Loc, target: _Target, out: Problems) -> tuple[str, str | None]:
    if not isinstance(arg, str) or not arg.strip():
        out.add(loc, "expected a route name from config.yaml routes: or an email address")
        return "", None
    value = arg.strip()
    if value in target.routes:
        address, name = target.routes[value], value
    elif re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        address, name = value, None
    else:
        known = ", ".join(sorted(target.routes)) or "none are defined"
        out.add(loc, f"unknown route {value!r}: use a name from config.yaml routes: ({known}) "
                     "or an email address")
        return "", None
    if _mailbox(address) == _mailbox(target.conduct):
        out.add(loc, "routes to the conduct address itself (a mail loop): route elsewhere")
    return address, name


def _text(arg: Any, loc: Loc, out: Problems, kebab: bool = False) -> str | None:
    if not isinstance(arg, str | int) or isinstance(arg, bool) or not str(arg).strip():
        out.add(loc, "expected a non-empty text")
        return None
    text = str(arg).strip()
    if kebab and not KEBAB.match(text):
        out.add(loc, f"{text!r} must be kebab-case (lower-case words joined by -, e.g. "
                     "sexual-misconduct)")
    return text


def _flag(arg: Any, loc: Loc, out: Problems) -> bool:
    if not isinstance(arg, bool):
        out.add(loc, "expected true or false")
    return bool(arg)


def _actions(item: dict[str, Any], loc: Loc, target: _Target, out: Problems) -> Actions:
    route, route_name = (None, None)
    if "route" in item:
        route, route_name = _route(item["route"], (*loc, "route"), target, out)
    priority = item.get("priority")
    if "priority" in item:
        priority = str(priority).strip().upper()
        if priority not in PRIORITIES:
            out.add((*loc, "priority"), f"priority {item['priority']!r} is not one of "
                                        f"{', '.join(PRIORITIES)} (P1 is the most urgent)")
    return Actions(
        route=route or None,
        route_name=route_name,
        reply=_flag(item["reply"], (*loc, "reply"), out) if "reply" in item else True,
        drop=_text(item["drop"], (*loc, "drop"), out) if "drop" in item else None,
        category=_text(item["category"], (*loc, "category"), out, True)
        if "category" in item else None,
        priority=priority,
        urgent=_flag(item["urgent"], (*loc, "urgent"), out) if "urgent" in item else False,
        no_ack=_flag(item["no_ack"], (*loc, "no_ack"), out) if "no_ack" in item else False,
        folder=_text(item["folder"], (*loc, "folder"), out) if "folder" in item else None,
    )


def _consistent(item: dict[str, Any], loc: Loc, out: Problems) -> None:
    """Combinations of actions that cannot mean what the admin wrote."""
    if "route" in item and "drop" in item:
        out.add((*loc, "drop"), "a rule either routes or drops: remove route: or drop:")
    if ("route" in item or "drop" in item) and item.get("continue") is True:
        out.add((*loc, "continue"), "route and drop end evaluation: remove continue: true")
    if "reply" in item and "route" not in item:
        out.add((*loc, "reply"), "reply: only applies to a rule with route:")
    if set(item) <= set(RULE_KEYS):  # a misspelt action is reported as unknown instead
        out.add(loc, f"the rule does nothing: give at least one action ({', '.join(ACTIONS)})")


# --------------------------------------------------------------------------- rules


def _unknown_keys(item: dict[str, Any], loc: Loc, out: Problems) -> None:
    """Keys that are neither rule keys nor actions, said as whichever they resemble."""
    for key in item:
        if key not in RULE_KEYS and key not in ACTIONS:
            close = difflib.get_close_matches(str(key), RULE_KEYS + ACTIONS, n=1)
            known, kind = (RULE_KEYS, "key") if close and close[0] in RULE_KEYS else (ACTIONS,
                                                                                    "action")
            out.add((*loc, key), unknown(str(key), known, kind))


def _required(item: dict[str, Any], key: str, loc: Loc, out: Problems, hint: str) -> bool:
    if key not in item:
        out.add(loc, f"{key}: is missing ({hint})")
    return key in item


def _rule(item: Any, loc: Loc, target: _Target, out: Problems) -> Rule | None:
    if not isinstance(item, dict):
        out.add(loc, "each rule is a mapping with name:, when: and actions")
        return None
    _unknown_keys(item, loc, out)
    name, when = None, None
    if _required(item, "name", loc, out, "a kebab-case name, e.g. sponsorship"):
        name = _text(item["name"], (*loc, "name"), out, kebab=True)
    if _required(item, "when", loc, out, "conditions, or when: always for a catch-all"):
        when = compile_when(item["when"], (*loc, "when"), out)
    cont = _flag(item["continue"], (*loc, "continue"), out) if "continue" in item else False
    description = item.get("description", "")
    if not isinstance(description, str):
        out.add((*loc, "description"), "expected a text")
    _consistent(item, loc, out)
    actions = _actions(item, loc, target, out)
    if name is None or when is None:
        return None
    return Rule(name, when, actions, cont, str(description), out.doc.line_of(loc))


def _check_names(rules: list[tuple[int, Rule]], out: Problems) -> None:
    first: dict[str, int] = {}
    for index, rule in rules:
        if rule.name in first:
            out.add(("rules", index, "name"), f"duplicate rule name {rule.name!r}: "
                    f"rules[{first[rule.name]}] already uses it")
        first.setdefault(rule.name, index)


def _check_reachable(rules: list[tuple[int, Rule]], out: Problems) -> None:
    """A catch-all rule that stops evaluation makes every later rule dead."""
    stop = next(((i, r) for i, r in rules if isinstance(r.when, Always) and not r.cont), None)
    if stop is None:
        return
    for index, _ in rules:
        if index > stop[0]:
            out.add(("rules", index), f"can never fire: rule {stop[1].name!r} (rules[{stop[0]}]) "
                    "above it matches every message and stops; move this rule above it")


def _rules(doc: YamlDocument, target: _Target, out: Problems) -> list[tuple[int, Rule]]:
    data = doc.data
    if not isinstance(data, dict):
        out.add((), "expected a mapping with a rules: list at the top")
        return []
    for key in data:
        if key not in TOP_KEYS:
            out.add((key,), unknown(str(key), TOP_KEYS, "key"))
    if "version" in data and data["version"] != 1:
        out.add(("version",), "only version: 1 exists")
    items = data.get("rules")
    if "rules" not in data:
        out.add((), "rules: is missing (a list of rules, each starting with - name:)")
        return []
    if not isinstance(items, list):
        out.add(("rules",), "rules: must be a list of rules (each starting with - name:)")
        return []
    parsed = [(i, _rule(item, ("rules", i), target, out)) for i, item in enumerate(items)]
    return [(i, rule) for i, rule in parsed if rule is not None]


def load_rules(path: Path, routes: Mapping[str, str], conduct_address: str) -> RuleSet:
    """Load, check and compile a rules file; raises ConfigError listing every problem."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ConfigError([Problem(str(path), 1, "", f"cannot read file: {exc.strerror}")]) from exc
    doc = load_yaml(path)
    out = Problems(doc)
    rules = _rules(doc, _Target(routes, conduct_address), out)
    _check_names(rules, out)
    _check_reachable(rules, out)
    if out.items:
        raise ConfigError(sorted(out.items, key=lambda p: p.line))
    version = hashlib.sha256(content).hexdigest()[:12]
    return RuleSet(tuple(rule for _, rule in rules), path, version)
