"""Triage: one message and a `RuleSet` in, one `TriageDecision` out (pure: no I/O, no clock).

Rules run in file order. A matching rule applies its actions and stops evaluation unless it says
`continue: true`; route and drop always stop. Stacked actions: the first rule to set category or
folder wins, the most urgent priority wins, urgent and no_ack stay on once set.
The routing guard: before a route or drop applies, the message is scanned for conduct signals
(`conduct_signals`). If there are any, that rule is cancelled whole (its category described the
mail it thought it saw) and evaluation goes on: later category rules still apply, but no later
rule can route or drop the message. `why` texts quote the rules, never the message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from mailproc.model.parsed import normalise_email
from mailproc.triage import guard
from mailproc.triage.conditions import AllOf, Always, AnyOf, Condition, Not, Test
from mailproc.triage.negation import languages, negated
from mailproc.triage.rules import Rule, RuleSet, load_rules

__all__ = ["RuleSet", "RuleTrace", "TriageDecision", "TriageInput", "conduct_signals",
           "evaluate", "load_rules"]


@dataclass(frozen=True)
class TriageInput:
    """What rules can see of one message (built by the pipeline; pure data)."""

    from_email: str  # normalised, "" when missing
    to: tuple[str, ...]  # normalised addresses
    cc: tuple[str, ...]
    subject: str
    body: str  # the original text as the sender wrote it
    text: str  # the English translation when there is one, else the body
    headers: tuple[tuple[str, str], ...]
    language: str  # detected ISO code, "und" when unknown
    has_attachment: bool
    size: int  # bytes of the raw message


@dataclass(frozen=True)
class RuleTrace:
    rule: str  # kebab-case rule name
    matched: bool
    why: str  # e.g. "subject contains 'sponsor'" / "from_domain is not ['example.com']"


@dataclass(frozen=True)
class TriageDecision:
    route: str | None  # the address to forward to (resolved from config routes or literal)
    route_name: str | None  # the route's name in config, when it came from `routes:`
    reply_to_sender: bool  # send the sender the short "we passed this to …" reply
    drop: str | None  # reason when a rule drops the message
    category: str | None
    priority: str | None  # "P1".."P4"
    urgent: bool
    no_ack: bool
    folder: str | None  # a rule-chosen folder name, if any
    rule: str | None  # the rule that routed/dropped, else the last whose actions applied
    fired: tuple[str, ...]  # names of every rule that matched, in order (cancelled ones too)
    guard: tuple[str, ...]  # conduct signals that blocked a route/drop (() when none)
    trace: tuple[RuleTrace, ...]  # every rule evaluated, for --explain


def conduct_signals(msg: TriageInput) -> tuple[str, ...]:
    """The routing guard's cues found in the original subject/body and in the translation."""
    return guard.scan((msg.subject, msg.body), (msg.text,))


# --------------------------------------------------------------------------- conditions

_EMAIL_FIELDS = ("from", "to", "cc")
_VALUES: dict[str, Callable[[TriageInput], tuple[str, ...]]] = {
    "from": lambda m: (m.from_email,),
    "from_domain": lambda m: (m.from_email.rpartition("@")[2].lower(),),
    "to": lambda m: m.to,
    "cc": lambda m: m.cc,
    "subject": lambda m: (m.subject,),
    "body": lambda m: (m.body,),
    "text": lambda m: (m.text,),
    "language": lambda m: (m.language,),
}


def _few(terms: tuple[str, ...]) -> str:
    shown = ", ".join(repr(t) for t in terms[:3])
    return f"[{shown}, … +{len(terms) - 3}]" if len(terms) > 3 else f"[{shown}]"


def _other_field(test: Test, msg: TriageInput) -> tuple[bool, str]:
    if test.field == "has_attachment":
        why = "has an attachment" if msg.has_attachment else "has no attachment"
        return msg.has_attachment == test.flag, why
    sign = ">" if test.op == "gt" else "<"
    ok = msg.size > test.number if test.op == "gt" else msg.size < test.number
    return ok, f"size {msg.size} {'' if ok else 'is not '}{sign} {test.number}"


def _first(test: Test, value: str, langs: tuple[str, ...]) -> tuple[re.Match[str] | None, bool]:
    """The first match that counts (not negated, under unless_negated), and whether a
    negated one was passed over."""
    assert test.pattern is not None  # compiled at load for contains_any and regex
    if not test.unless_negated:
        return test.pattern.search(value), False
    skipped = False
    for match in test.pattern.finditer(value):
        if not negated(value, match.start(), match.end(), langs):
            return match, skipped
        skipped = True
    return None, skipped


def _search(test: Test, label: str, values: tuple[str, ...], language: str) -> tuple[bool, str]:
    assert test.pattern is not None  # compiled at load for contains_any and regex
    langs, denied = languages(language), False
    for value in values:
        match, skipped = _first(test, value, langs)
        denied = denied or skipped
        if match is None:
            continue
        if test.op == "regex":
            return True, f"{label} matches /{test.pattern.pattern}/"
        hit = next((t for t, rx in zip(test.terms, test.each, strict=True)
                    if rx.fullmatch(match.group(0))), test.terms[0])
        return True, f"{label} contains {hit!r}"
    only = " except where negated" if denied else ""
    if test.op == "regex":
        return False, f"{label} does not match /{test.pattern.pattern}/{only}"
    return False, f"{label} contains none of {_few(test.terms)}{only}"


def _test(test: Test, msg: TriageInput) -> tuple[bool, str]:
    if test.field in ("has_attachment", "size"):
        return _other_field(test, msg)
    if test.field == "header":
        label = f"header {test.header}"
        values = tuple(v for k, v in msg.headers if k.lower() == test.header)
    else:
        label, values = test.field, _VALUES[test.field](msg)
    if test.op == "exists":
        present = any(v.strip() for v in values)
        return present == test.flag, f"{label} {'exists' if present else 'is missing'}"
    if test.op == "equals":
        norm = normalise_email if test.field in _EMAIL_FIELDS else str.casefold
        hit = next((n for v in values if (n := norm(v.strip())) in test.terms), None)
        return (True, f"{label} is {hit!r}") if hit else (False, f"{label} is not "
                                                                 f"{_few(test.terms)}")
    return _search(test, label, values, msg.language)


def check(cond: Condition, msg: TriageInput) -> tuple[bool, str]:
    """Whether a condition holds for a message, and why (in the rule's words)."""
    if isinstance(cond, Test):
        return _test(cond, msg)
    if isinstance(cond, Always):
        return True, "always"
    if isinstance(cond, Not):
        matched, why = check(cond.part, msg)
        return not matched, why  # the inner reason already reads as the negation's reason
    whys: list[str] = []
    for part in cond.parts:
        matched, why = check(part, msg)
        if isinstance(cond, AnyOf) and matched:
            return True, why
        if isinstance(cond, AllOf) and not matched:
            return False, why
        whys.append(why)
    return isinstance(cond, AllOf), (" and " if isinstance(cond, AllOf) else "; ").join(whys)


# --------------------------------------------------------------------------- evaluation


@dataclass
class _Outcome:
    """The decision being built while the rules of one evaluation run (never shared)."""

    msg: TriageInput
    trace: list[RuleTrace] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)
    signals: tuple[str, ...] | None = None  # scanned lazily: only a route/drop needs it
    blocked: bool = False
    applied: list[Rule] = field(default_factory=list)

    def guarded(self) -> bool:
        if self.signals is None:
            self.signals = conduct_signals(self.msg)
        return bool(self.signals)

    def first(self, attr: str) -> str | None:
        return next((getattr(r.actions, attr) for r in self.applied
                     if getattr(r.actions, attr) is not None), None)

    def decision(self) -> TriageDecision:
        last = self.applied[-1] if self.applied else None
        end = last.actions if last is not None and last.actions.terminal else None
        priorities = [r.actions.priority for r in self.applied if r.actions.priority]
        return TriageDecision(
            route=end.route if end else None, route_name=end.route_name if end else None,
            reply_to_sender=bool(end and end.route and end.reply),
            drop=end.drop if end else None, category=self.first("category"),
            priority=min(priorities) if priorities else None,  # "P1" < "P2": most urgent
            urgent=any(r.actions.urgent for r in self.applied),
            no_ack=any(r.actions.no_ack for r in self.applied), folder=self.first("folder"),
            rule=last.name if last else None, fired=tuple(self.fired),
            guard=(self.signals or ()) if self.blocked else (), trace=tuple(self.trace))


def evaluate(rules: RuleSet, msg: TriageInput) -> TriageDecision:
    """Run the rules over one message: the decision plus the trace of every rule evaluated."""
    out = _Outcome(msg)
    for rule in rules.rules:
        matched, why = check(rule.when, msg)
        if not matched:
            out.trace.append(RuleTrace(rule.name, False, why))
            continue
        out.fired.append(rule.name)
        if rule.actions.terminal and out.guarded():
            out.blocked = True
            verb = "route" if rule.actions.route else "drop"
            signals = ", ".join(out.signals or ())
            out.trace.append(RuleTrace(rule.name, True, f"{why}; {verb} blocked by the "
                                                        f"conduct guard ({signals})"))
            continue
        out.applied.append(rule)
        out.trace.append(RuleTrace(rule.name, True, why))
        if rule.actions.terminal or not rule.cont:
            break
    return out.decision()
